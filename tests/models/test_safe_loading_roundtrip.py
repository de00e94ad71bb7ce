"""Every model the project builds round-trips through save → safe load with identical outputs, and
MLflow-logged models carry a sha256 that the loader checks (D9)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from amc_tf.errors import ModelError
from amc_tf.models import loading
from amc_tf.models.registry import MODELS, build_model
from amc_tf.runtime import keras, set_seed
from amc_tf.tracking import models as tracked

#: Small but valid shapes per registry builder (IBCNN pools the class axis twice: >= 4 classes).
SMALL = {
    "vtcnn2": {"n_classes": 4, "window": 16},
    "inception": {"n_classes": 4, "window": 16, "dense_units": 8},
    "sbcnn": {"n_classes": 4, "window": 16},
    "sbcnn_small": {"n_classes": 4, "window": 16},
    "ibcnn": {"n_classes": 4, "window": 16},
    "mcformer": {"n_classes": 4, "window": 16, "d_model": 8, "ffn": 16, "layers": 1},
    "mcformer_small": {"n_classes": 4, "window": 16, "layers": 1},
}


def _same_outputs(model: keras.Model, path: Path) -> keras.Model:
    again = loading.load_model(path)
    x = np.random.default_rng(0).normal(size=(5, *model.input_shape[1:])).astype(np.float32)
    np.testing.assert_array_equal(model(x, training=False).numpy(), again(x, training=False).numpy())
    return again


def test_every_registry_classifier_is_covered():
    assert set(SMALL) == set(MODELS)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_registry_classifiers_round_trip(name, tmp_path):
    set_seed(0)
    model = build_model(name, input_scale=3.0, **SMALL[name])
    model.save(tmp_path / f"{name}.keras")
    _same_outputs(model, tmp_path / f"{name}.keras")


def test_compiled_mimo_regressor_round_trips(tmp_path):
    """M1 uses the project's layers and is saved compiled with a project loss function (dropped
    unread, as ``compile=False`` drops it)."""
    from amc_tf.models.mimo_dnn import build_power_model, relative_mse

    rng = np.random.default_rng(1)
    model = build_power_model("M1", rng.normal(size=40), rng.uniform(1, 2, size=40), input_transform="db")
    model.compile(keras.optimizers.Adam(1e-3), loss=relative_mse)
    model.save(tmp_path / "m1.keras")
    _same_outputs(model, tmp_path / "m1.keras")


def test_tiny_model_and_pruned_copies_round_trip(tiny_model, tiny_data, tmp_path):
    from amc_tf.prune.apply import nettrim_dense
    from amc_tf.prune.tfmot import prune_magnitude

    tiny_model.save(tmp_path / "tiny.keras")
    _same_outputs(tiny_model, tmp_path / "tiny.keras")

    set_seed(0)
    vtcnn2 = build_model("vtcnn2", n_classes=4, window=tiny_data.window, input_scale=100.0)
    trimmed, _ = nettrim_dense(vtcnn2, "dense1", tiny_data.x[:64], max_iter=3)
    trimmed.save(tmp_path / "nettrim.keras")
    _same_outputs(trimmed, tmp_path / "nettrim.keras")

    copy = keras.models.clone_model(tiny_model)
    copy.set_weights(tiny_model.get_weights())
    pruned = prune_magnitude(copy, tiny_data.x[:128], tiny_data.y[:128], target_sparsity=0.5, layers=None, epochs=1)
    pruned.save(tmp_path / "tfmot.keras")
    _same_outputs(pruned, tmp_path / "tfmot.keras")


def test_unstripped_tfmot_wrappers_are_refused(tiny_model, tmp_path):
    import tensorflow_model_optimization as tfmot

    def wrap(layer):
        return tfmot.sparsity.keras.prune_low_magnitude(layer) if isinstance(layer, keras.layers.Dense) else layer

    wrapped = keras.models.clone_model(tiny_model, clone_function=wrap)
    wrapped.save(tmp_path / "wrapped.keras")
    with pytest.raises(ModelError, match="PruneLowMagnitude"):
        loading.load_model(tmp_path / "wrapped.keras")


def _logged(tiny_model, name: str = "model") -> tuple[str, str]:
    import mlflow

    from amc_tf.tracking.store import ensure_experiment

    with mlflow.start_run(experiment_id=ensure_experiment("safe-loading")) as run:  # no global active experiment
        uri = tracked.log_keras_model(tiny_model, name)
    return uri, run.info.run_id


def _artifact_dir(uri: str) -> Path:
    import mlflow

    location = mlflow.get_logged_model(uri.removeprefix("models:/")).artifact_location
    return Path(location.removeprefix("file://"))


def test_logged_model_has_no_pickle_and_loads_by_every_uri(mlflow_store, tiny_model, tiny_data):
    import mlflow

    uri, run_id = _logged(tiny_model)
    folder = _artifact_dir(uri)
    assert not [p for p in folder.rglob("*") if p.suffix in (".pkl", ".pickle", ".cloudpickle")]
    recorded = mlflow.get_logged_model(uri.removeprefix("models:/")).tags[tracked.SHA256_TAG]
    assert recorded == hashlib.sha256((folder / loading.MLFLOW_ARCHIVE).read_bytes()).hexdigest()
    tracked.register_model(uri, "safe-tiny", alias="candidate")
    x = tiny_data.x[:16]
    for ref in (uri, run_id, f"runs:/{run_id}/model", "models:/safe-tiny@candidate", "models:/safe-tiny/1"):
        np.testing.assert_array_equal(tracked.load_keras_model(ref)(x).numpy(), tiny_model(x).numpy())


def test_tampered_archive_is_refused(mlflow_store, tiny_model, tmp_path):
    uri, _ = _logged(tiny_model)
    archive = _artifact_dir(uri) / loading.MLFLOW_ARCHIVE
    other = keras.models.clone_model(tiny_model)  # same architecture, fresh weights
    other.save(tmp_path / "other.keras")
    archive.write_bytes((tmp_path / "other.keras").read_bytes())
    with pytest.raises(ModelError, match="sha256 .* differs from the one recorded"):
        tracked.load_keras_model(uri)


def test_model_without_a_recorded_sha256_is_refused(mlflow_store, tiny_model):
    from mlflow import MlflowClient

    uri, _ = _logged(tiny_model)
    MlflowClient().delete_logged_model_tag(uri.removeprefix("models:/"), tracked.SHA256_TAG)
    with pytest.raises(ModelError, match="no sha256 was recorded"):
        tracked.load_keras_model(uri)
