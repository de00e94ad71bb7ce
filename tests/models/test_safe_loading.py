"""Hostile model files are refused by the one model loader, and nothing they carry runs (D9).

Each hostile file, if deserialised by a plain Keras or MLflow loader, would import a module or call
a function that writes a marker file; every test asserts the refusal names what it found and that
the marker does not exist afterwards. The loaders tried are the safe loader itself and every call
site that loads a model file (``stages.load``, the MIMO ``load_models``, ``bench nettrim --model``
and ``tracking.models.load_keras_model``), so going back to ``keras.models.load_model`` fails.
"""

from __future__ import annotations

import importlib
import json
import pickle
import sys
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from amc_tf.classifier import stages
from amc_tf.errors import ModelError
from amc_tf.models import loading
from amc_tf.runtime import keras
from amc_tf.tracking import models as tracked


@pytest.fixture()
def hostile(tmp_path, monkeypatch):
    """Two importable modules on ``sys.path``: ``on_import`` writes the marker when imported,
    ``on_call`` (already imported) writes it when its ``touch`` function or ``Evil`` class is used."""
    marker = tmp_path / "PWNED"
    root = tmp_path / "hostile"
    root.mkdir()
    tag = uuid.uuid4().hex[:8]
    on_import, on_call = f"amc_hostile_import_{tag}", f"amc_hostile_call_{tag}"
    (root / f"{on_import}.py").write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('import')\n")
    (root / f"{on_call}.py").write_text(
        "import pathlib\n"
        f"MARKER = pathlib.Path({str(marker)!r})\n"
        "def touch(*args, **kwargs):\n    MARKER.write_text('call')\n    return args[0] if args else None\n"
        "class Evil:\n    @classmethod\n    def from_config(cls, config):\n        MARKER.write_text('class')\n"
    )
    monkeypatch.syspath_prepend(str(root))
    importlib.import_module(on_call)
    yield SimpleNamespace(marker=marker, on_import=on_import, on_call=on_call, root=root)
    assert on_import not in sys.modules


def _base_archive(path: Path) -> Path:
    inp = keras.Input((4,), name="x")
    h = keras.layers.Dense(3, activation="relu", name="hidden")(inp)
    keras.Model(inp, keras.layers.Dense(2, name="logits")(h), name="base").save(path)
    return path


def _rewrite(src: Path, dst: Path, edit=None, extra: dict[str, bytes] | None = None) -> Path:
    """Copy the archive ``src`` to ``dst`` with ``edit(config)`` applied and ``extra`` members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json" and edit is not None:
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            zout.writestr(item, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def _layer(config: dict, name: str) -> dict:
    return next(layer for layer in config["config"]["layers"] if layer["name"] == name)


def _edits(h):
    """``{case: (edit of config.json, what the refusal must name)}``."""

    def top_module(c):
        c.update(module=h.on_import, class_name="Evil", registered_name=None)

    def layer_module(c):
        _layer(c, "hidden").update(module=h.on_import, class_name="Evil", registered_name=None)

    def layer_class(c):
        _layer(c, "hidden").update(module=h.on_call, class_name="Evil", registered_name=None)

    def activation_function(c):
        fn = {"module": h.on_call, "class_name": "function", "config": "touch", "registered_name": "function"}
        _layer(c, "hidden")["config"]["activation"] = fn

    def os_function(c):
        fn = {"module": "os", "class_name": "function", "config": "system", "registered_name": "function"}
        _layer(c, "hidden")["config"]["activation"] = fn

    def lambda_by_hand(c):
        _layer(c, "hidden").update(module="keras.layers", class_name="Lambda")

    def serialized_lambda(c):
        _layer(c, "hidden")["config"]["activation"] = {"class_name": "__lambda__", "config": {"value": "e30="}}

    def foreign_registered(c):
        _layer(c, "hidden")["registered_name"] = "evil>Dense"

    def keras_non_layer(c):
        _layer(c, "hidden").update(module="keras.utils", class_name="get_file")

    def project_class_elsewhere(c):
        _layer(c, "hidden").update(module=h.on_import, class_name="Standardize", registered_name="amc_tf>Standardize")

    return {
        "top-level module": (top_module, h.on_import),
        "layer module": (layer_module, h.on_import),
        "layer class": (layer_class, f"Evil 'hidden' from module '{h.on_call}'"),
        "activation function": (activation_function, f"function {h.on_call}.touch"),
        "os function": (os_function, "function os.system"),
        "Lambda by hand": (lambda_by_hand, "Lambda layer 'hidden'"),
        "serialised lambda": (serialized_lambda, "lambda"),
        "foreign registered name": (foreign_registered, "evil>Dense"),
        "keras non-layer": (keras_non_layer, "keras.utils.get_file"),
        "project class elsewhere": (project_class_elsewhere, "amc_tf>Standardize"),
    }


CASES = list(_edits(SimpleNamespace(on_import="m", on_call="m")))
LOADERS = {
    "safe loader": loading.load_model,
    "stages.load": stages.load,
    "tracking.load_keras_model": lambda path: tracked.load_keras_model(str(path)),
}


@pytest.mark.parametrize("loader", sorted(LOADERS))
@pytest.mark.parametrize("case", CASES)
def test_hostile_config_is_refused_before_anything_runs(hostile, tmp_path, case, loader):
    edit, named = _edits(hostile)[case]
    path = _rewrite(_base_archive(tmp_path / "base.keras"), tmp_path / "hostile.keras", edit)
    with pytest.raises(ModelError, match="refusing") as err:
        LOADERS[loader](path)
    assert named in str(err.value)
    assert not hostile.marker.exists()


def test_unexpected_archive_members_are_refused(tmp_path):
    base = _base_archive(tmp_path / "base.keras")
    for name in ("../evil.py", "/abs.json", "extra.py"):
        path = _rewrite(base, tmp_path / "odd.keras", extra={name: b"print('x')"})
        with pytest.raises(ModelError, match="unexpected archive member"):
            loading.load_model(path)


def _lambda_model(marker: Path) -> keras.Model:
    """A Lambda (nested in a Sequential) whose body writes ``marker`` when Keras runs it."""
    target = str(marker)
    inner = keras.Sequential([keras.layers.Lambda(lambda x: (open(target, "w").close(), x)[1], name="evil")])
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(2)(inner(inp)))
    marker.unlink()  # building the model ran the body once
    return model


def test_lambda_layer_in_a_nested_model_is_refused(tmp_path):
    marker = tmp_path / "PWNED"
    _lambda_model(marker).save(tmp_path / "lambda.keras")
    with pytest.raises(ModelError, match="Lambda layer 'evil'"):
        stages.load(tmp_path / "lambda.keras")
    assert not marker.exists()


def test_legacy_h5_is_refused_even_renamed(tmp_path):
    marker = tmp_path / "PWNED"
    _lambda_model(marker).save(tmp_path / "lambda.h5")  # the legacy loader would run its bytecode
    (tmp_path / "renamed.keras").write_bytes((tmp_path / "lambda.h5").read_bytes())
    for path in (tmp_path / "lambda.h5", tmp_path / "renamed.keras"):
        with pytest.raises(ModelError, match="legacy HDF5"):
            stages.load(path)
    assert not marker.exists()


def test_savedmodel_directory_is_refused(tmp_path):
    inp = keras.Input((4,))
    keras.Model(inp, keras.layers.Dense(2)(inp)).save(tmp_path / "saved", save_format="tf")
    with pytest.raises(ModelError, match="SavedModel directory"):
        loading.load_model(tmp_path / "saved")


def test_bench_nettrim_and_mimo_sets_refuse_hostile_files(hostile, tmp_path):
    from amc_tf.benchmarks.nettrim import run_nettrim_benchmark
    from amc_tf.mimo.model_sets import load_models

    edit, _ = _edits(hostile)["layer module"]
    path = _rewrite(_base_archive(tmp_path / "base.keras"), tmp_path / "M1-MR-cell0.keras", edit)
    with pytest.raises(ModelError, match=hostile.on_import):
        run_nettrim_benchmark(model_path=str(path), windows_per_key=4, snrs=(10,), eval_snr=10, cache_dir=str(tmp_path))
    (tmp_path / "index.json").write_text(json.dumps({"models": ["M1-MR-cell0"], "info": {}}))
    with pytest.raises(ModelError, match=hostile.on_import):
        load_models(tmp_path)
    assert not hostile.marker.exists()


def test_mlflow_pickle_deserialisation_is_off():
    import os

    assert os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] == "false"


def test_project_classes_are_exactly_the_registered_ones():
    root = Path(loading.__file__).resolve().parents[1]
    import re

    found = {}
    for path in root.rglob("*.py"):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        for name in re.findall(r'register_keras_serializable\(package="amc_tf"\)\s*\nclass (\w+)', path.read_text()):
            found[f"amc_tf>{name}"] = module
    assert found == loading.PROJECT_CLASSES


def _pickle_bomb(marker: Path) -> bytes:
    class Bomb:
        def __reduce__(self):
            return exec, (f"import pathlib; pathlib.Path({str(marker)!r}).write_text('pickle')",)

    return pickle.dumps(Bomb())


def test_mlflow_folder_with_a_pickle_is_refused_and_mlflow_refuses_it_too(hostile, tmp_path):
    import mlflow.tensorflow

    folder = _mlflow_folder(tmp_path / "mlmodel")
    (folder / "data" / "global_custom_objects.cloudpickle").write_bytes(_pickle_bomb(hostile.marker))
    with pytest.raises(ModelError, match="pickle file data/global_custom_objects.cloudpickle"):
        tracked.load_keras_model(str(folder))
    with pytest.raises(Exception, match="MLFLOW_ALLOW_PICKLE_DESERIALIZATION"):
        mlflow.tensorflow.load_model(str(folder))  # MLflow's own loader, with the runtime's switch
    assert not hostile.marker.exists()


def _mlflow_folder(path: Path) -> Path:
    import mlflow.tensorflow

    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Dense(2)(inp))
    mlflow.tensorflow.save_model(model, str(path), pip_requirements=tracked.MODEL_PIP_REQUIREMENTS)
    for pickled in path.rglob("*.cloudpickle"):
        pickled.unlink()
    return path


def _mlmodel_edit(folder: Path, edit) -> None:
    import yaml

    spec = yaml.safe_load((folder / "MLmodel").read_text())
    edit(spec)
    (folder / "MLmodel").write_text(yaml.safe_dump(spec))


def test_mlflow_folders_with_code_other_flavors_or_loaders_are_refused(hostile, tmp_path):
    clean = _mlflow_folder(tmp_path / "clean")
    assert loading.load_model(clean).count_params() == 10
    cases = {
        "code": (lambda s: s["flavors"]["tensorflow"].update(code="code"), "'code: code'"),
        "loader": (lambda s: s["flavors"]["python_function"].update(loader_module=hostile.on_import), "loader module"),
        "pickle": (lambda s: s["flavors"]["python_function"].update(python_model="p.pkl"), "pickled python_model"),
        "flavor": (lambda s: s["flavors"].update(sklearn={"pickled_model": "model.pkl"}), "flavor 'sklearn'"),
        "h5": (lambda s: s["flavors"]["tensorflow"].update(save_format="h5"), "(not .keras)"),
    }
    for case, (edit, named) in cases.items():
        folder = _mlflow_folder(tmp_path / case)
        _mlmodel_edit(folder, edit)
        with pytest.raises(ModelError, match="refusing MLflow model") as err:
            loading.load_model(folder)
        assert named in str(err.value), case
    code = _mlflow_folder(tmp_path / "code-dir")
    (code / "code").mkdir()
    (code / "code" / f"{hostile.on_import}.py").write_text((hostile.root / f"{hostile.on_import}.py").read_text())
    (code / "data" / "keras_module.txt").write_text(hostile.on_import)
    with pytest.raises(ModelError, match=f"code folder code/.*keras module '{hostile.on_import}'"):
        loading.load_model(code)
    assert not hostile.marker.exists()
