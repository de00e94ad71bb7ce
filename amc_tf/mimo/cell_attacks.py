"""Cell-based white-box attacks on the per-cell power regressors (massive MIMO, design D4).

Threat model (Manoj, Sadeghi & Larsson, "Adversarial attacks on deep learning based power
allocation in a massive MIMO network", ICC 2021, Algorithms 1–2): the attacker perturbs the
reported UE positions (the model input, metres) within an L∞ ball of radius ``eps`` metres to
maximise the total power the DNN of cell j asks for, ``Σ_k ρ̂_jk`` (the model's sum output), so
that the allocation becomes infeasible (``Σ_k ρ̂_jk > Pmax``); the paper keeps eps < 0.5 m, within
GPS error. :class:`CellFGSM` takes one step ``x + eps·sign(∇)``; :class:`CellPGDM` takes ``Q``
signed steps of size α, each projected onto the ball; :class:`CellMIFGSM` is PGD with momentum
(Dong et al. 2018, ``g ← μ g + ∇/‖∇‖₁``, step eps/I along ``sign(g)``); :class:`CellRandomSign`
adds ``eps·s`` with uniformly random signs, the no-gradient baseline of the same L∞ size. ART
cannot do this (its regressors are graph-mode only and, given no target, attack the MSE to the
model's own output, whose gradient is zero; references §10). Positions have no box: only the
ball is enforced, and every output is audited (``‖x_adv − x‖∞ ≤ eps`` up to float32 rounding at
~500 m, no NaN). Success on one (cell, setup): the clean prediction is feasible and the
adversarial one is not. Each attack declares its :class:`~amc_tf.config.mimo.CellAttackName`
once; :data:`CELL_ATTACKS` is derived from the classes.
"""

from __future__ import annotations

import abc
import math
import weakref
from typing import Any, ClassVar

import numpy as np

from amc_tf.config.mimo import CellAttackName, MimoAttackConfig
from amc_tf.errors import AttackError, ModelError
from amc_tf.models.inference import predict_batched
from amc_tf.runtime import keras, tf

#: Float32 rounding of x + δ at coordinates up to ~1 km (metres).
AUDIT_TOL_M = 1e-4

# One compiled forward and gradient function per model, shared by every attack object: sweeps
# build many attacks on the same model, and retracing a tf.function for each would dominate.
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled(model: Any) -> tuple[Any, Any]:
    """``(forward, total_power_gradient)`` tf.functions of ``model`` (cached per model)."""
    if model not in _COMPILED:

        def forward(x):
            return model(x, training=False)

        def gradient(x):
            """∇ₓ Σ_batch Σ_k ρ̂_jk — the gradient of the cell's predicted total (last output)."""
            with tf.GradientTape() as tape:
                tape.watch(x)
                total = tf.reduce_sum(model(x, training=False)[:, -1])
            return tape.gradient(total, x)

        spec = [tf.TensorSpec([None, model.input_shape[1]], tf.float32)]
        _COMPILED[model] = (tf.function(forward, input_signature=spec), tf.function(gradient, input_signature=spec))
    return _COMPILED[model]


def check_regressor(model: Any) -> tuple[int, int]:
    """Refuse anything that is not a power regressor ``[None, F]`` → ``[None, K + 1]``.

    Returns:
        ``(n_features, n_outputs)``.
    """
    if not isinstance(model, keras.Model):
        raise ModelError(f"cell attacks need a Keras (tf_keras) model, got {type(model).__name__}")
    in_shape, out_shape = model.input_shape, model.output_shape
    if not (isinstance(in_shape, tuple) and len(in_shape) == 2 and in_shape[1]):
        raise ModelError(f"cell attacks need a regressor on positions [None, F]; model {model.name!r} takes {in_shape}")
    if not (isinstance(out_shape, tuple) and len(out_shape) == 2 and out_shape[1] and out_shape[1] >= 2):
        raise ModelError(
            f"cell attacks need outputs [None, K + 1] (powers then their sum); model {model.name!r} gives {out_shape}"
        )
    return int(in_shape[1]), int(out_shape[1])


def check_eps(eps: Any, what: str = "eps") -> float:
    """A finite ``value >= 0`` in metres, or :class:`AttackError` naming ``what``."""
    try:
        value = float(eps)
    except (TypeError, ValueError):
        raise AttackError(f"{what} must be a number of metres, got {eps!r}") from None
    if not math.isfinite(value) or value < 0:
        raise AttackError(f"{what} must be finite and >= 0 metres, got {eps!r}")
    return value


def _check_count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise AttackError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


class CellAttack(abc.ABC):
    """Contract of every cell attack: validate at construction, ``generate(x) -> x_adv``.

    Args:
        model: A per-cell regressor (:mod:`amc_tf.models.mimo_dnn`).
        eps: L∞ budget in metres (>= 0).
        batch_size: Examples per compiled call.
        seed: Seed of the random attacks.
    """

    name: ClassVar[CellAttackName]
    uses_gradients: ClassVar[bool] = True

    def __init__(self, model: Any, *, eps: float, batch_size: int = 4096, seed: int = 0):
        self.n_features, _ = check_regressor(model)
        self.model = model
        self.eps = check_eps(eps)
        self.batch_size = _check_count(batch_size, "batch_size")
        self.seed = int(seed)
        _, self._grad = _compiled(model)

    @classmethod
    def from_settings(cls, model: Any, eps: float, settings: MimoAttackConfig, *, seed: int = 0) -> CellAttack:
        """This attack with the step sizes and iterations of ``settings`` (the paper's by default)."""
        return cls(model, eps=eps, seed=seed)

    def generate(self, x: np.ndarray) -> np.ndarray:
        """Adversarial positions.

        Args:
            x: ``float32 [N, F]`` clean positions in metres.

        Returns:
            ``float32 [N, F]`` with ``‖x_adv − x‖∞ ≤ eps`` per example.
        """
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise AttackError(f"x must have shape [N, {self.n_features}], got {list(x.shape)}")
        if not np.isfinite(x).all():
            raise AttackError("x holds non-finite positions")
        rng = np.random.default_rng(self.seed)
        out = (
            np.concatenate([self._perturb(x[i : i + self.batch_size], rng) for i in range(0, len(x), self.batch_size)])
            if len(x)
            else x.copy()
        )
        gap = np.abs(out - x).max() if len(x) else 0.0
        if not np.isfinite(out).all() or gap > self.eps + AUDIT_TOL_M:
            raise AttackError(
                f"{self.name.value} produced an invalid perturbation "
                f"(max |δ| = {gap:.6g} m > eps = {self.eps} m or non-finite)"
            )
        return out

    @abc.abstractmethod
    def _perturb(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Attack one batch ``float32 [n, F]``."""

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """``∇ₓ Σ_k ρ̂_jk`` per example, ``float32 [n, F]`` in mW per metre."""
        return self._grad(tf.convert_to_tensor(x, tf.float32)).numpy()


class CellFGSM(CellAttack):
    """One signed-gradient step of size eps (the paper's Algorithm 1)."""

    name = CellAttackName.FGSM

    def _perturb(self, x, rng):
        return x + self.eps * np.sign(self.gradient(x))


class CellPGDM(CellAttack):
    """Projected gradient method (the paper's Algorithm 2): Q signed steps of size α, projected.

    Args:
        step: α in metres (0.01 in the paper).
        iterations: Q (40 in the paper).
        random_start: Start from a uniform point of the ball (the paper starts at x).
    """

    name = CellAttackName.PGDM

    def __init__(
        self,
        model: Any,
        *,
        eps: float,
        step: float = 0.01,
        iterations: int = 40,
        random_start: bool = False,
        **kwargs: Any,
    ):
        super().__init__(model, eps=eps, **kwargs)
        self.step = check_eps(step, "step")
        if self.step == 0:
            raise AttackError("step must be > 0 metres")
        self.iterations = _check_count(iterations, "iterations")
        self.random_start = bool(random_start)

    @classmethod
    def from_settings(cls, model, eps, settings, *, seed=0):
        return cls(model, eps=eps, step=settings.pgd_step_m, iterations=settings.pgd_iters, seed=seed)

    def _perturb(self, x, rng):
        delta = (
            rng.uniform(-self.eps, self.eps, size=x.shape).astype(np.float32) if self.random_start else np.zeros_like(x)
        )
        for _ in range(self.iterations):
            delta = np.clip(delta + self.step * np.sign(self.gradient(x + delta)), -self.eps, self.eps)
        return x + delta


class CellMIFGSM(CellAttack):
    """Momentum iterative FGSM: I steps of eps/I along ``sign(g)``, ``g ← μ g + ∇/‖∇‖₁``.

    Args:
        mu: Momentum decay μ (0.1 in the paper; 1.0 in Dong et al.).
        iterations: I (10).
    """

    name = CellAttackName.MIFGSM

    def __init__(self, model: Any, *, eps: float, mu: float = 0.1, iterations: int = 10, **kwargs: Any):
        super().__init__(model, eps=eps, **kwargs)
        self.mu = check_eps(mu, "mu")
        self.iterations = _check_count(iterations, "iterations")

    @classmethod
    def from_settings(cls, model, eps, settings, *, seed=0):
        return cls(model, eps=eps, mu=settings.mifgsm_mu, iterations=settings.mifgsm_iters, seed=seed)

    def _perturb(self, x, rng):
        delta = np.zeros_like(x)
        g = np.zeros_like(x)
        step = self.eps / self.iterations
        for _ in range(self.iterations):
            grad = self.gradient(x + delta)
            l1 = np.abs(grad).sum(axis=1, keepdims=True)
            g = self.mu * g + grad / np.where(l1 > 0, l1, 1.0)
            delta = np.clip(delta + step * np.sign(g), -self.eps, self.eps)
        return x + delta


class CellRandomSign(CellAttack):
    """``x + eps·s`` with i.i.d. uniform random signs (no gradient; same L∞ size)."""

    name = CellAttackName.RANDOM
    uses_gradients = False

    def _perturb(self, x, rng):
        return x + self.eps * rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=x.shape)


#: Every cell attack class; the registry below is derived from their declared names.
CELL_ATTACK_CLASSES: tuple[type[CellAttack], ...] = (CellFGSM, CellPGDM, CellMIFGSM, CellRandomSign)
CELL_ATTACKS: dict[CellAttackName, type[CellAttack]] = {cls.name: cls for cls in CELL_ATTACK_CLASSES}


def build_cell_attack(
    name: CellAttackName | str, model: Any, eps: float, settings: MimoAttackConfig | None = None, *, seed: int = 0
) -> CellAttack:
    """The attack ``name`` with the paper's settings (or those of ``settings``).

    Raises:
        AttackError: unknown attack name or bad settings.
    """
    try:
        kind = CellAttackName(name)
    except ValueError:
        raise AttackError(f"unknown cell attack {name!r}; known: {[a.value for a in CellAttackName]}") from None
    return CELL_ATTACKS[kind].from_settings(model, eps, settings or MimoAttackConfig(), seed=seed)


def predict_powers(model: Any, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Model outputs ``float32 [N, K + 1]`` (powers in mW, then their sum) via the compiled forward pass."""
    _, n_out = check_regressor(model)
    forward, _ = _compiled(model)
    return predict_batched(forward, np.asarray(x, dtype=np.float32), batch_size, out_width=n_out)


def predicted_total(model: Any, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """The cell's predicted total power ``Σ_k ρ̂_jk`` in mW, ``float64 [N]`` (the sum output)."""
    return predict_powers(model, x, batch_size)[:, -1].astype(np.float64)


def attack_success(model: Any, x_clean: np.ndarray, x_adv: np.ndarray, pmax: float) -> np.ndarray:
    """Per-example success: clean prediction feasible and adversarial one infeasible, ``bool [N]``."""
    if not (math.isfinite(pmax) and pmax > 0):
        raise AttackError(f"pmax must be a positive number of mW, got {pmax}")
    return (predicted_total(model, x_clean) <= pmax) & (predicted_total(model, x_adv) > pmax)
