"""Apply Net-Trim to one ReLU ``Dense`` layer of a Keras model (references §5; paper: f_D → f_P).

The layer's inputs ``A`` and outputs ``Y = relu(Aᵀ W + b)`` are recorded on a sample of windows
(inference mode: dropout off), the solver in :mod:`amc_tf.prune.nettrim` finds sparse weights
whose ReLU outputs stay within ε on the active outputs and stay off where the neuron was off, and
a copy of the model receives the new kernel and bias. ε is ``eta · ‖Y‖_F`` (``tolerance="relative"``,
the Net-Trim authors' gain) or ``eta`` itself in the layer's output units (``"absolute"``, the AMC
compression paper's η = 0.8); for a given η the absolute radius shrinks relative to ‖Y‖_F as the
sample count P grows. The report states the ADMM residuals and whether the constraints hold on
the recorded samples, measured on the returned weights. The original model is left untouched. No
fine-tuning happens here: the paper reports accuracy before any retraining.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from amc_tf.errors import ConfigError, ModelError
from amc_tf.prune.nettrim import Tolerance, epsilon_for, feasibility, net_trim
from amc_tf.results import Result
from amc_tf.runtime import keras, tf


@dataclass(frozen=True)
class NetTrimReport(Result):
    """What pruning one layer did.

    Attributes:
        layer: Name of the pruned Dense layer.
        samples: Number of windows P the solver saw.
        eta: η as configured.
        tolerance: ``relative`` (ε = η · ‖Y‖_F) or ``absolute`` (ε = η).
        epsilon: The radius ε (layer output units).
        output_norm: ‖Y‖_F on the samples, so ``epsilon / output_norm`` is the relative radius.
        rho: ADMM penalty used.
        iterations: ADMM iterations run; ``converged`` if the residual criterion fired (else
            ``max_iter`` stopped it).
        primal_residual, dual_residual: ADMM residuals at the last iteration (solver units).
        primal_tolerance, dual_tolerance: Their thresholds in the stop rule.
        output_error: ‖(ŴᵀX − Y)_Ω‖_F of the returned weights (≤ ε when the constraint holds).
        inactive_violation: ‖max(ŴᵀX, 0)_Ωᶜ‖_F (0 when every off neuron stays off).
        constraint_satisfied: ``output_error ≤ (1 + feasibility_rtol) ε`` and
            ``inactive_violation ≤ feasibility_rtol · ε``.
        feasibility_rtol: The slack of that check, a fraction of ε.
        seconds: Solver wall-clock time (s), excluding recording the activations.
        weights: Kernel entries of the layer (bias excluded), e.g. 10,560 × 256 = 2,703,360.
        nonzero: Non-zero kernel entries after pruning.
        sparsity: ``1 − nonzero / weights``.
        relative_output_error: ``‖relu(W_newᵀ X) − Y‖_F / ‖Y‖_F`` on the solver's samples.
    """

    layer: str
    samples: int
    eta: float
    tolerance: str
    epsilon: float
    output_norm: float
    rho: float
    iterations: int
    converged: bool
    primal_residual: float
    dual_residual: float
    primal_tolerance: float
    dual_tolerance: float
    output_error: float
    inactive_violation: float
    constraint_satisfied: bool
    feasibility_rtol: float
    seconds: float
    weights: int
    nonzero: int
    sparsity: float
    relative_output_error: float

    def to_dict(self) -> dict:
        return asdict(self)


def copy_model(model: keras.Model) -> keras.Model:
    """A new model with the same architecture and (copied) weights; layers are not shared."""
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


def relu_dense(model: keras.Model, layer_name: str) -> keras.layers.Dense:
    """The ``Dense`` layer ``layer_name`` of ``model``, checked to have a ReLU activation."""
    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        raise ConfigError(f"model {model.name!r} has no layer {layer_name!r}") from None
    if not isinstance(layer, keras.layers.Dense):
        raise ModelError(f"layer {layer_name!r} is a {type(layer).__name__}, Net-Trim here prunes Dense layers")
    if layer.activation is not keras.activations.relu:
        raise ModelError(f"layer {layer_name!r} must have a ReLU activation for the Net-Trim constraints")
    if not layer.use_bias:
        raise ModelError(f"layer {layer_name!r} has no bias; Net-Trim here expects one (the row of ones)")
    return layer


def layer_io(
    model: keras.Model, layer_name: str, x: np.ndarray, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Record a layer's input and output on ``x`` in inference mode.

    Returns:
        ``(A, Y)``: ``float32 [P, n_in]`` inputs and ``float32 [P, n_out]`` post-ReLU outputs.
    """
    layer = relu_dense(model, layer_name)
    probe = keras.Model(model.inputs, [layer.input, layer.output])
    fn = tf.function(lambda t: probe(t, training=False), reduce_retracing=True)
    ins, outs = [], []
    for i in range(0, len(x), batch_size):
        a, y = fn(tf.convert_to_tensor(x[i : i + batch_size]))
        ins.append(a.numpy())
        outs.append(y.numpy())
    return np.concatenate(ins).astype(np.float32), np.concatenate(outs).astype(np.float32)


def nettrim_dense(
    model: keras.Model,
    layer_name: str,
    x: np.ndarray,
    *,
    eta: float = 0.06,
    tolerance: Tolerance = "relative",
    rho: float | None = None,
    warm_start: bool = True,
    max_iter: int = 2000,
    abs_tol: float = 1e-7,
    rel_tol: float = 1e-3,
    feasibility_rtol: float = 1e-2,
    progress: bool = False,
    batch_size: int = 256,
) -> tuple[keras.Model, NetTrimReport]:
    """Prune the ReLU Dense layer ``layer_name`` of a copy of ``model`` with Net-Trim.

    Args:
        model: Trained logits model (left unchanged).
        layer_name: The Dense ReLU layer to prune (``dense1`` in VT-CNN2: 10,560 × 256).
        x: ``float32 [P, 2, L]`` windows whose activations define the constraints (a few thousand
            training windows at mixed SNRs; P trades time for fidelity).
        eta: η: ε = η · ‖Y‖_F (``relative``) or ε = η (``absolute``); larger → sparser.
        tolerance: ``relative`` or ``absolute`` (module docstring).
        rho: ADMM penalty; None = ``1 / (3 · mean |W|)`` of the layer's kernel (see below).
        warm_start: Start the ADMM primal at the layer's current weights (default) instead of 0.
        max_iter: Safety cap on ADMM iterations (each ≈ 4·N·P·M flops); the normal stop is the
            residual criterion of :func:`~amc_tf.prune.nettrim.net_trim`.
        abs_tol, rel_tol: That criterion's absolute and relative tolerances.
        feasibility_rtol: Slack (fraction of ε) of the report's ``constraint_satisfied``; ADMM
            also keeps going until the returned weights meet it (or ``max_iter``).
        progress: Print solver progress to stderr.
        batch_size: Batch size for recording activations.

    Returns:
        ``(pruned_model, report)``.

    Why the defaults: the soft threshold of the ℓ1 step is 1/ρ in weight units. The reference's
    ρ = 1 is ~60× VT-CNN2's mean |w| (0.017), so from a zero start every weight stays pruned until
    the duals have grown for tens of iterations. With ρ = 1 / (3 · mean |W|) and a warm start, the
    first iterate is a magnitude pruning at three mean magnitudes (~98 % zeros) and ADMM then
    restores the weights the constraints need. ρ changes the path, not the converged solution.
    """
    if len(x) < 2:
        raise ConfigError(f"Net-Trim needs at least 2 sample windows, got {len(x)}")
    layer = relu_dense(model, layer_name)
    A, Y = layer_io(model, layer_name, x, batch_size)
    X = np.vstack([A.T, np.ones((1, A.shape[0]), np.float32)])  # [N, P] with the bias row
    Yt = np.ascontiguousarray(Y.T)  # [M, P]
    eps = epsilon_for(Yt, eta, tolerance)
    kernel0, bias0 = layer.get_weights()
    if rho is None:
        rho = 1.0 / (3.0 * max(float(np.mean(np.abs(kernel0))), 1e-12))
    W0 = np.vstack([kernel0, bias0[None, :]]) if warm_start else None
    result = net_trim(
        X,
        Yt,
        eps,
        rho=rho,
        W0=W0,
        max_iter=max_iter,
        abs_tol=abs_tol,
        rel_tol=rel_tol,
        feasibility_rtol=feasibility_rtol,
        progress=progress,
    )
    kernel, bias = result.W[:-1], result.W[-1]
    pruned = copy_model(model)
    pruned.get_layer(layer_name).set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    check = feasibility(result.W, X, Yt, eps, rtol=feasibility_rtol)
    y_norm = float(np.linalg.norm(Yt.astype(np.float64)))
    rel = check["relu_error"] / max(y_norm, 1e-30)
    nonzero = int(np.count_nonzero(kernel))
    weights = int(kernel.size)
    report = NetTrimReport(
        layer=layer.name,
        samples=int(len(x)),
        eta=float(eta),
        tolerance=tolerance,
        epsilon=eps,
        output_norm=y_norm,
        rho=float(rho),
        iterations=result.iterations,
        converged=result.converged,
        primal_residual=result.primal_residual,
        dual_residual=result.dual_residual,
        primal_tolerance=result.primal_tolerance,
        dual_tolerance=result.dual_tolerance,
        output_error=check["output_error"],
        inactive_violation=check["inactive_violation"],
        constraint_satisfied=check["satisfied"],
        feasibility_rtol=float(feasibility_rtol),
        seconds=result.seconds,
        weights=weights,
        nonzero=nonzero,
        sparsity=1.0 - nonzero / weights,
        relative_output_error=rel,
    )
    return pruned, report


def sample_windows(n_total: int, n: int, seed: int) -> np.ndarray:
    """Sorted indices of ``min(n, n_total)`` windows drawn without replacement (seeded)."""
    if n < 1:
        raise ConfigError(f"number of Net-Trim samples must be >= 1, got {n}")
    gen = np.random.default_rng(seed)
    return np.sort(gen.choice(n_total, size=min(n, n_total), replace=False))
