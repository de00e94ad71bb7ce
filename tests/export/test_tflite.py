"""TFLite export round trip, gzip size of a pruned model, latency, the size table."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.errors import ModelError
from amc_tf.export.table import count_nonzero, format_table, size_row
from amc_tf.export.tflite import TFLiteModel, export_tflite, gzip_size
from amc_tf.models.vtcnn2 import build_vtcnn2
from amc_tf.runtime import set_seed


@pytest.fixture(scope="module")
def small_vtcnn2():
    set_seed(0)
    return build_vtcnn2(n_classes=4, window=16)


def test_round_trip_predictions_match(small_vtcnn2, tmp_path):
    x = np.random.default_rng(0).normal(size=(10, 2, 16)).astype("float32")
    path = export_tflite(small_vtcnn2, tmp_path / "m.tflite")
    lite = TFLiteModel(path)
    np.testing.assert_allclose(lite.predict(x, batch_size=4), small_vtcnn2.predict(x, verbose=0), atol=1e-4, rtol=1e-4)
    assert lite.latency(x, repeats=5, warmup=1) > 0
    with pytest.raises(ModelError, match="input shape"):
        lite.predict(np.zeros((1, 2, 8), np.float32))


def test_pruned_weights_shrink_only_after_gzip(small_vtcnn2, tmp_path):
    dense = export_tflite(small_vtcnn2, tmp_path / "dense.tflite")
    from amc_tf.prune.apply import copy_model

    sparse_model = copy_model(small_vtcnn2)
    layer = sparse_model.get_layer("dense1")
    k, b = layer.get_weights()
    k[np.abs(k) < np.quantile(np.abs(k), 0.95)] = 0.0
    layer.set_weights([k, b])
    sparse = export_tflite(sparse_model, tmp_path / "sparse.tflite")
    assert abs(sparse.stat().st_size - dense.stat().st_size) < 0.01 * dense.stat().st_size  # stored densely
    assert gzip_size(sparse) < 0.5 * gzip_size(dense)
    assert count_nonzero(sparse_model) < count_nonzero(small_vtcnn2)


def test_size_row_and_table(small_vtcnn2, tmp_path):
    gen = np.random.default_rng(1)
    x = gen.normal(size=(8, 2, 16)).astype("float32")
    y = small_vtcnn2.predict(x, verbose=0).argmax(1)
    row = size_row("f_S", small_vtcnn2, tmp_path / "f_S.tflite", x, y, repeats=3)
    assert row.accuracy == 1.0  # the TFLite model reproduces the Keras predictions
    assert row.parameters == small_vtcnn2.count_params()
    assert row.gzip_bytes < row.tflite_bytes
    table = format_table([row])
    assert "| f_S |" in table and "100.00 %" in table


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        TFLiteModel(tmp_path / "none.tflite")


def test_input_scale_is_exported(tmp_path):
    """A model that scales its own input gives the same logits in TFLite on raw-scale windows."""
    model = build_vtcnn2(n_classes=4, window=16, input_scale=150.0)
    x = (5e-3 * np.random.default_rng(2).normal(size=(6, 2, 16))).astype("float32")
    lite = TFLiteModel(export_tflite(model, tmp_path / "scaled.tflite"))
    np.testing.assert_allclose(lite.predict(x), model.predict(x, verbose=0), atol=1e-4, rtol=1e-4)
