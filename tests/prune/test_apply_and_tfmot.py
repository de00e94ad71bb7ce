"""Net-Trim on a Keras Dense layer and TF-MOT magnitude pruning on a tiny trained model."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.errors import ConfigError, ModelError
from amc_tf.prune.apply import layer_io, nettrim_dense
from amc_tf.runtime import keras, set_seed


def _tiny_model() -> keras.Model:
    inp = keras.Input(shape=(2, 8), name="iq")
    h = keras.layers.Flatten()(inp)
    h = keras.layers.Dense(32, activation="relu", name="dense1")(h)
    out = keras.layers.Dense(3, name="dense2")(h)
    return keras.Model(inp, out, name="tiny")


@pytest.fixture(scope="module")
def trained():
    set_seed(0)
    gen = np.random.default_rng(0)
    y = gen.integers(0, 3, size=600)
    x = gen.normal(size=(600, 2, 8)).astype("float32") * 0.5
    x[:, 0, :] += (y[:, None] - 1).astype("float32")  # class shifts the I row: separable
    model = _tiny_model()
    model.compile(
        keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True), ["accuracy"]
    )
    model.fit(x, y, batch_size=64, epochs=5, verbose=0)
    return model, x, y.astype(np.int64)


def _accuracy(model, x, y):
    return float(np.mean(model.predict(x, verbose=0).argmax(1) == y))


def test_nettrim_dense_prunes_a_copy_within_its_error_budget(trained):
    model, x, y = trained
    before = [w.copy() for w in model.get_weights()]
    pruned, report = nettrim_dense(model, "dense1", x[:200], eta=0.2, max_iter=1000)
    assert report.converged and report.iterations < 1000 and report.tolerance == "relative"
    assert report.epsilon == pytest.approx(0.2 * report.output_norm)
    assert report.constraint_satisfied and report.output_error <= 1.01 * report.epsilon
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # original untouched
    kernel = pruned.get_layer("dense1").get_weights()[0]
    assert report.weights == kernel.size == 16 * 32
    assert report.nonzero == np.count_nonzero(kernel)
    assert report.sparsity == 1 - report.nonzero / report.weights
    assert report.sparsity > 0.3
    assert report.relative_output_error <= 0.2 * 1.01  # ε = eta ‖Y‖ and the off-constraints hold
    _, y_new = layer_io(pruned, "dense1", x[:200])
    _, y_old = layer_io(model, "dense1", x[:200])
    assert np.linalg.norm(y_new - y_old) / np.linalg.norm(y_old) == pytest.approx(
        report.relative_output_error, rel=1e-3, abs=1e-4
    )
    assert _accuracy(pruned, x, y) >= _accuracy(model, x, y) - 0.03


def test_nettrim_dense_absolute_eta_bounds_the_output_error_and_reports_it(trained):
    """The paper's absolute η: ‖Y − Ŷ‖_F ≤ η (+ ADMM slack) on the solver's samples, and the report's
    residuals, output error and ``constraint_satisfied`` match a direct computation."""
    model, x, _ = trained
    _, y_old = layer_io(model, "dense1", x[:200])
    eta = 0.05 * float(np.linalg.norm(y_old))  # an absolute radius, 5 % of this layer's ‖Y‖_F
    pruned, report = nettrim_dense(model, "dense1", x[:200], eta=eta, tolerance="absolute")
    assert report.tolerance == "absolute" and report.epsilon == eta
    assert report.converged and report.primal_residual <= report.primal_tolerance
    assert report.dual_residual <= report.dual_tolerance
    a_in, y_new = layer_io(pruned, "dense1", x[:200])
    error = float(np.linalg.norm(y_new.astype(np.float64) - y_old))
    assert error <= eta * (1 + report.feasibility_rtol)
    kernel, bias = pruned.get_layer("dense1").get_weights()
    z = a_in.astype(np.float64) @ kernel + bias
    on = y_old > 1e-6
    output_error = float(np.linalg.norm((z - y_old)[on]))
    inactive = float(np.linalg.norm(np.maximum(z, 0)[~on]))
    assert report.output_error == pytest.approx(output_error, rel=1e-4)
    assert report.inactive_violation == pytest.approx(inactive, rel=1e-3, abs=1e-6)
    direct = output_error <= 1.01 * eta and inactive <= 0.01 * eta
    assert report.constraint_satisfied is direct is True
    capped, short = nettrim_dense(model, "dense1", x[:200], eta=eta, tolerance="absolute", max_iter=2)
    assert not short.converged and short.iterations == 2
    assert short.constraint_satisfied == (short.output_error <= 1.01 * eta and short.inactive_violation <= 0.01 * eta)
    assert report.to_json()["constraint_satisfied"] is True


def test_nettrim_dense_rejects_non_relu_or_unknown_layers(trained):
    model, x, _ = trained
    with pytest.raises(ModelError, match="ReLU"):
        nettrim_dense(model, "dense2", x[:50])
    with pytest.raises(ConfigError, match="no layer"):
        nettrim_dense(model, "nope", x[:50])


def test_tfmot_reaches_target_sparsity_on_a_copy(trained):
    from amc_tf.prune.tfmot import kernel_sparsity, prune_magnitude

    model, x, y = trained
    before = [w.copy() for w in model.get_weights()]
    pruned = prune_magnitude(model, x, y, target_sparsity=0.8, layers=["dense1"], epochs=2, batch_size=64)
    assert kernel_sparsity(pruned, "dense1") == pytest.approx(0.8, abs=0.01)
    assert kernel_sparsity(pruned, "dense2") == 0.0  # only the named layer is pruned
    assert not any("prune" in layer.name for layer in pruned.layers)  # wrappers stripped
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert _accuracy(pruned, x, y) > 0.8


def test_tfmot_rejects_bad_settings(trained):
    from amc_tf.prune.tfmot import prune_magnitude

    model, x, y = trained
    with pytest.raises(ConfigError):
        prune_magnitude(model, x, y, target_sparsity=1.0)
    with pytest.raises(ConfigError, match="no layer"):
        prune_magnitude(model, x, y, target_sparsity=0.5, layers=["missing"])


def test_pruning_keeps_the_input_scale_of_a_raw_scale_vtcnn2():
    """Net-Trim and TF-MOT on a model that scales its own input: the gain survives, windows stay raw."""
    from amc_tf.models.input_scale import input_scale_of
    from amc_tf.models.registry import build_model, input_scale_for
    from amc_tf.prune.tfmot import kernel_sparsity, prune_magnitude

    set_seed(0)
    gen = np.random.default_rng(4)
    x = (5e-3 * gen.normal(size=(128, 2, 8))).astype("float32")  # RML2016's raw scale
    y = gen.integers(0, 3, size=128).astype(np.int64)
    model = build_model("vtcnn2", 3, 8, input_scale=input_scale_for(x))
    scale = input_scale_of(model)
    assert scale > 100
    pruned, report = nettrim_dense(model, "dense1", x[:64], eta=0.2, max_iter=50)
    assert report.layer == "dense1" and report.sparsity > 0
    assert input_scale_of(pruned) == scale
    (_, y_new), (_, y_old) = layer_io(pruned, "dense1", x[:64]), layer_io(model, "dense1", x[:64])
    assert np.linalg.norm(y_old) > 0
    assert np.linalg.norm(y_new - y_old) / np.linalg.norm(y_old) == pytest.approx(
        report.relative_output_error, rel=1e-3, abs=1e-4
    )
    tuned = prune_magnitude(model, x, y, target_sparsity=0.5, layers=["dense1"], epochs=1, batch_size=32)
    assert input_scale_of(tuned) == scale
    assert kernel_sparsity(tuned, "dense1") == pytest.approx(0.5, abs=0.01)
