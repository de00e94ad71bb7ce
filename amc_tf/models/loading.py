"""The one way to load a model: check what the file would make Keras import or run, then load (D9).

Models are code. A ``.keras`` archive's ``config.json`` can name any importable module, class or
function (Keras imports the module to find it); a legacy ``.h5`` file's ``Lambda`` layers carry
Python bytecode and the legacy loader ignores ``safe_mode``; an MLflow model folder can carry
pickles, a ``code:`` folder and a loader module of its own. :func:`load_model` therefore accepts
only a ``.keras`` archive, given directly or as ``data/model.keras`` of an MLflow model folder
written by :func:`amc_tf.tracking.models.log_keras_model`. It reads the archive once, walks every
object of its ``config.json`` and refuses (:class:`~amc_tf.errors.ModelError`, nothing imported or
run) anything but Keras built-in layers, models, initializers, regularizers, constraints,
optimizers, losses and metrics, activations by name, and the project's registered classes
(:data:`PROJECT_CLASSES`). Only then does Keras build the model, from a private copy of the
checked bytes, with ``compile=False`` and ``safe_mode=True``.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from amc_tf.errors import ModelError

if TYPE_CHECKING:  # TensorFlow is imported only once an archive has passed the checks that need none
    from amc_tf.runtime import keras

#: The project's registered Keras classes (``register_keras_serializable(package="amc_tf")``):
#: registered name -> the module defining it, imported before loading so that Keras finds the
#: class in its registry instead of importing whatever module a config names.
PROJECT_CLASSES: dict[str, str] = {
    "amc_tf>Standardize": "amc_tf.models.mimo_dnn",
    "amc_tf>ToDecibel": "amc_tf.models.mimo_dnn",
    "amc_tf>AppendSum": "amc_tf.models.mimo_dnn",
    "amc_tf>LogitImage": "amc_tf.models.sbcnn",
    "amc_tf>Distiller": "amc_tf.distill.hinton",
    "amc_tf>ResponseDistiller": "amc_tf.distill.response",
}

#: Built-in layers that hold or look up Python functions: refused wherever they appear.
CODE_LAYERS = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda"})
#: Special Keras objects that are plain data (a tensor, an array, bytes).
_DATA_OBJECTS = frozenset({"__tensor__", "__numpy__", "__bytes__"})
#: Members a ``.keras`` archive may hold (plus files under ``assets/``).
_ARCHIVE_MEMBERS = frozenset({"config.json", "metadata.json", "model.weights.h5", "model.weights.npz"})
_MAX_CONFIG_BYTES = 64 * 2**20
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: Inside an MLflow model folder: the archive, and what the project's logger writes.
MLFLOW_ARCHIVE = "data/model.keras"
_MLFLOW_FLAVORS = frozenset({"tensorflow", "python_function"})
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".cloudpickle", ".joblib", ".dill")
_KERAS_MODULE_NAMES = frozenset({"tensorflow.keras", "tf_keras", "keras"})


def load_model(path: str | Path, *, expected_sha256: str | None = None) -> keras.Model:
    """Check and load a ``.keras`` archive or the one inside an MLflow model folder (uncompiled).

    A plain ``.keras`` file given by path has no record of what it should contain: only its
    content is checked. The sha256 recorded when a model was logged is checked by
    :func:`amc_tf.tracking.models.load_keras_model`, which passes it here as ``expected_sha256``.

    Args:
        path: A ``.keras`` archive, or a local MLflow model folder (the one holding ``MLmodel``).
        expected_sha256: Hex sha256 the archive's bytes must have (None = no record to check).

    Returns:
        The uncompiled ``keras.Model``.

    Raises:
        ModelError: the file is not a checkable ``.keras`` archive (legacy HDF5, SavedModel,
            MLflow folder with pickles or code), its sha256 differs from ``expected_sha256``, its
            config names anything outside the allow-list, or Keras cannot build it.
    """
    archive = _archive_path(Path(path))
    data = _read_archive(archive)
    if expected_sha256 is not None and hashlib.sha256(data).hexdigest() != expected_sha256.lower():
        raise ModelError(
            f"refusing {archive}: its sha256 {hashlib.sha256(data).hexdigest()} differs from the one recorded "
            f"when it was logged ({expected_sha256}); the file was changed after logging"
        )
    config = archive_config(data, str(archive))
    for name in sorted(_project_names(config)):
        importlib.import_module(PROJECT_CLASSES[name])  # registers the class: Keras imports nothing itself
    with tempfile.TemporaryDirectory(prefix="amc-tf-model-") as tmp:
        private = Path(tmp) / "model.keras"  # the checked bytes, so the file cannot change under us
        private.write_bytes(data)
        try:
            from amc_tf.runtime import keras

            return keras.models.load_model(private, compile=False, safe_mode=True)
        except Exception as err:  # ValueError, TypeError, OSError from Keras and h5py
            raise ModelError(f"cannot build the model in {archive}: {err}") from None


def archive_sha256(path: str | Path) -> str:
    """Hex sha256 of the ``.keras`` archive at ``path`` (or of an MLflow folder's archive)."""
    return hashlib.sha256(_read_archive(_archive_path(Path(path)))).hexdigest()


def check_mlflow_model(folder: str | Path) -> Path:
    """Check an MLflow model folder; return the path of its ``.keras`` archive.

    Accepted: what ``mlflow.tensorflow`` writes for a tf_keras model without pickles, i.e. the
    ``tensorflow`` flavor (``model_type: keras``, no ``code``) and its ``python_function`` view
    (``loader_module: mlflow.tensorflow``). ``MLmodel`` is read with ``yaml.safe_load``.

    Raises:
        ModelError: other flavors or loader modules, a ``code`` entry, pickle files or a
            ``code`` folder, a legacy format, or no ``data/model.keras``.
    """
    import yaml

    root = Path(folder)
    where = f"MLflow model {root}"
    try:
        spec = yaml.safe_load((root / "MLmodel").read_text())
    except (OSError, ValueError, yaml.YAMLError) as err:
        raise ModelError(f"refusing {where}: cannot read its MLmodel file: {err}") from None
    flavors = spec.get("flavors") if isinstance(spec, dict) else None
    if not isinstance(flavors, dict) or "tensorflow" not in flavors:
        raise ModelError(f"refusing {where}: MLmodel has no tensorflow flavor")
    problems = [f"flavor {name!r}" for name in sorted(set(flavors) - _MLFLOW_FLAVORS)]
    problems += [f"'code: {value}' in {key}" for key, value in _code_entries(spec)]
    tf_flavor, pyfunc = flavors["tensorflow"], flavors.get("python_function") or {}
    if not isinstance(tf_flavor, dict) or not isinstance(pyfunc, dict):
        raise ModelError(f"refusing {where}: its MLmodel flavors are not mappings")
    if tf_flavor.get("model_type") != "keras" or tf_flavor.get("save_format") == "h5":
        problems.append(f"tensorflow flavor {tf_flavor.get('model_type')}/{tf_flavor.get('save_format')} (not .keras)")
    if pyfunc and pyfunc.get("loader_module") != "mlflow.tensorflow":
        problems.append(f"loader module {pyfunc.get('loader_module')!r}")
    if "python_model" in pyfunc or "cloudpickle_version" in pyfunc:
        problems.append("a pickled python_model")
    for file in sorted(root.rglob("*")):
        rel = file.relative_to(root).as_posix()
        if file.is_file() and file.name.lower().endswith(_PICKLE_SUFFIXES):
            problems.append(f"pickle file {rel}")
        elif file.is_dir() and file.name == "code":
            problems.append(f"code folder {rel}/")
        elif file.name == "saved_model.pb":
            problems.append(f"SavedModel {rel}")
    module_file = root / "data" / "keras_module.txt"
    if module_file.is_file() and module_file.read_text().strip() not in _KERAS_MODULE_NAMES:
        problems.append(f"keras module {module_file.read_text().strip()!r}")
    if problems:
        raise ModelError(f"refusing {where}: it carries {', '.join(problems)}")
    archive = root / MLFLOW_ARCHIVE
    if not archive.is_file() or not archive.resolve().is_relative_to(root.resolve()):
        raise ModelError(f"refusing {where}: no {MLFLOW_ARCHIVE} inside it")
    return archive


def archive_config(data: bytes, where: str = "the archive") -> dict[str, Any]:
    """The checked ``config.json`` of a ``.keras`` archive's bytes.

    Raises:
        ModelError: not a zip of the Keras format, or its config names anything outside the
            allow-list (the message lists what was found).
    """
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelError(f"refusing {where}: not a .keras archive (zip)")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            name = PurePosixPath(info.filename)
            inside = not name.is_absolute() and ".." not in name.parts and "\\" not in info.filename
            if not inside or (info.filename not in _ARCHIVE_MEMBERS and name.parts[0] != "assets"):
                raise ModelError(f"refusing {where}: unexpected archive member {info.filename!r}")
        if "config.json" not in zf.namelist() or zf.getinfo("config.json").file_size > _MAX_CONFIG_BYTES:
            raise ModelError(f"refusing {where}: no config.json of a sane size")
        try:
            config = json.loads(zf.read("config.json"))
        except (ValueError, RecursionError) as err:
            raise ModelError(f"refusing {where}: config.json is not JSON: {err}") from None
    if not isinstance(config, dict):
        raise ModelError(f"refusing {where}: config.json is not a Keras object")
    problems: list[str] = []
    # Keras drops the top-level compile_config unread when compile=False (always passed here).
    top = {key: value for key, value in config.items() if key != "compile_config"}
    try:
        _walk(top, problems)
    except RecursionError:
        raise ModelError(f"refusing {where}: config.json is nested too deeply") from None
    if problems:
        found = list(dict.fromkeys(problems))
        more = f" and {len(found) - 8} more" if len(found) > 8 else ""
        raise ModelError(f"refusing {where}: its config.json names {'; '.join(found[:8])}{more}")
    return config


def _archive_path(path: Path) -> Path:
    if path.is_dir():
        if (path / "MLmodel").is_file():
            return check_mlflow_model(path)
        if (path / "saved_model.pb").is_file():
            raise ModelError(f"refusing {path}: a TensorFlow SavedModel directory (only .keras archives are loaded)")
        raise ModelError(f"refusing {path}: a directory that is neither an MLflow model nor a .keras archive")
    if not path.is_file():
        raise ModelError(f"no model file at {path}")
    return path


def _read_archive(path: Path) -> bytes:
    data = path.read_bytes()
    offsets = [0] + [512 * 2**k for k in range(32) if 512 * 2**k < len(data)]
    if path.suffix.lower() in (".h5", ".hdf5") or any(data[o : o + 8] == _HDF5_SIGNATURE for o in offsets):
        raise ModelError(f"refusing {path}: a legacy HDF5 model (its Lambda layers carry bytecode); save as .keras")
    return data


def _code_entries(node: Any, key: str = "MLmodel"):
    """``(key, value)`` of every non-empty ``code`` entry of an ``MLmodel`` mapping."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "code" and v:
                yield key, v
            yield from _code_entries(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from _code_entries(v, key)


def _walk(node: Any, problems: list[str]) -> None:
    if isinstance(node, list):
        for value in node:
            _walk(value, problems)
    elif isinstance(node, dict):
        if {"class_name", "module", "registered_name"} & node.keys():
            problem = _refusal(node)
            if problem:
                problems.append(problem)
        for value in node.values():
            _walk(value, problems)


def _refusal(obj: dict) -> str | None:
    """Why the serialised Keras object ``obj`` is refused, or None if it is allowed."""
    class_name, module = obj.get("class_name"), obj.get("module")
    registered = obj.get("registered_name", class_name)
    inner = obj.get("config")
    label = f" {inner['name']!r}" if isinstance(inner, dict) and isinstance(inner.get("name"), str) else ""
    if not isinstance(class_name, str) or not isinstance(module, (str, type(None))):
        return f"a malformed object {json.dumps(obj)[:120]}"
    if class_name in CODE_LAYERS or registered in CODE_LAYERS:
        return f"a {class_name} layer{label} (Python code)"
    if class_name in _DATA_OBJECTS:
        return None
    if class_name == "__lambda__":
        return "a lambda (Python bytecode)"
    if class_name == "function":
        return f"the function {module}.{inner} (functions by module and name are not loaded)"
    if class_name.startswith("__"):
        return f"the special object {class_name} from module {module!r}"
    if registered in PROJECT_CLASSES:
        if module == PROJECT_CLASSES[registered]:
            return None
        return f"the project class {registered} from module {module!r} (defined in {PROJECT_CLASSES[registered]})"
    if registered not in (None, class_name):
        return f"the registered class {registered!r} (not a Keras built-in or a project class)"
    if module is None or not (module in ("keras", "tf_keras") or module.startswith(("keras.", "tf_keras."))):
        return f"the class {class_name}{label} from module {module!r} (not a Keras built-in or a project class)"
    if not _is_keras_builtin(module, class_name):
        return f"{module}.{class_name} (not a Keras layer, model, initializer, regularizer, constraint or loss)"
    return None


def _is_keras_builtin(module: str, name: str) -> bool:
    """Whether ``module.name`` is a tf_keras built-in class of an allowed kind, found the way Keras
    finds it (its export table, then the already-imported module) without importing anything."""
    from tensorflow.python.util import tf_export

    from amc_tf.runtime import keras

    obj = tf_export.get_symbol_from_name(f"{module}.{name}")
    if obj is None:
        loaded = sys.modules.get("tf_" + module if module.startswith("keras") else module)
        obj = vars(loaded).get(name) if loaded is not None else None
    bases = (
        keras.layers.Layer,
        keras.initializers.Initializer,
        keras.regularizers.Regularizer,
        keras.constraints.Constraint,
        keras.optimizers.Optimizer,
        keras.optimizers.legacy.Optimizer,
        keras.optimizers.schedules.LearningRateSchedule,
        keras.losses.Loss,
        keras.metrics.Metric,
    )
    return (
        isinstance(obj, type)
        and issubclass(obj, bases)
        and obj.__module__.startswith("tf_keras.")
        and obj.__name__ not in CODE_LAYERS
    )


def _project_names(config: Any) -> set[str]:
    """Registered names of the project classes a (checked) config uses."""
    found: set[str] = set()
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("registered_name") in PROJECT_CLASSES:
                found.add(node["registered_name"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


__all__ = [
    "CODE_LAYERS",
    "MLFLOW_ARCHIVE",
    "PROJECT_CLASSES",
    "archive_config",
    "archive_sha256",
    "check_mlflow_model",
    "load_model",
]
