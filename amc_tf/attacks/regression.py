"""Cell-based white-box attacks on the per-cell power regressors (massive MIMO, design D4).

Threat model (Manoj, Sadeghi & Larsson, "Adversarial attacks on deep learning based power
allocation in a massive MIMO network", ICC 2021, Algorithms 1–2): the attacker perturbs the
reported UE positions (the model input, metres) within an L∞ ball of radius ``eps`` metres to
maximise the total power the DNN of cell j asks for, ``Σ_k ρ̂_jk`` (the model's sum output), so
that the allocation becomes infeasible (``Σ_k ρ̂_jk > Pmax``). The paper keeps eps < 0.5 m, within
GPS error.

* :class:`FGSM` — one step ``x + eps·sign(∇)``;
* :class:`PGDM` — ``Q`` steps of size α (0.01 m, Q = 40 in the paper), each projected onto the ball;
* :class:`MIFGSM` — PGD with momentum (Dong et al. 2018): ``g ← μ g + ∇/‖∇‖₁``, step eps/I
  along ``sign(g)``, μ = 0.1 and I = 10 in the paper;
* :class:`RandomSign` — ``x + eps·s`` with uniformly random signs s: same L∞ size, no gradient
  (the baseline that shows the attacks are more than noise).

ART cannot do this: its regressors are graph-mode only and, given no target, attack the MSE to the
model's own output, whose gradient is zero (references §10). Positions have no box constraint:
only the ball is enforced. Every output is audited (``‖x_adv − x‖∞ ≤ eps`` up to 0.1 mm of
float32 rounding at ~500 m, no NaN).

Success of an attack on one (cell, setup): the clean prediction is feasible and the adversarial
one is not; the success rate over a test set counts successes over L·N (all cells, all setups).
"""

from __future__ import annotations

import abc
import math
import weakref
from typing import Any, ClassVar

import numpy as np

from amc_tf.config.mimo import Attack, MimoAttackConfig
from amc_tf.errors import AttackError, ModelError
from amc_tf.runtime import keras, tf

#: Float32 rounding of x + δ at coordinates up to ~1 km (metres).
AUDIT_TOL_M = 1e-4

# One compiled forward and gradient function per model, shared by every attack object: sweeps
# build many attacks on the same model, and retracing a tf.function costs ~0.3 s each time.
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


def check_eps(eps: Any) -> float:
    """A finite budget ``eps >= 0`` in metres, or :class:`AttackError`."""
    try:
        value = float(eps)
    except (TypeError, ValueError):
        raise AttackError(f"eps must be a number of metres, got {eps!r}") from None
    if not math.isfinite(value) or value < 0:
        raise AttackError(f"eps must be finite and >= 0 metres, got {eps!r}")
    return value


class CellAttack(abc.ABC):
    """Contract of every cell attack: validate at construction, ``generate(x) -> x_adv``.

    Args:
        model: A per-cell regressor (:mod:`amc_tf.models.mimo_dnn`).
        eps: L∞ budget in metres (>= 0).
        batch_size: Examples per compiled call.
        seed: Seed of the random attacks.
    """

    name: ClassVar[str]
    uses_gradients: ClassVar[bool] = True

    def __init__(self, model: Any, *, eps: float, batch_size: int = 4096, seed: int = 0):
        self.n_features, _ = check_regressor(model)
        self.model = model
        self.eps = check_eps(eps)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise AttackError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        _, self._grad = _compiled(model)

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
                f"{self.name} produced an invalid perturbation (max |δ| = {gap:.6g} m > eps = {self.eps} m or non-finite)"
            )
        return out

    @abc.abstractmethod
    def _perturb(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Attack one batch ``float32 [n, F]``."""

    def gradient(self, x: np.ndarray) -> np.ndarray:
        return self._grad(tf.convert_to_tensor(x, tf.float32)).numpy()


class FGSM(CellAttack):
    """One signed-gradient step of size eps (the paper's Algorithm 1)."""

    name = "FGSM"

    def _perturb(self, x, rng):
        return x + self.eps * np.sign(self.gradient(x))


class PGDM(CellAttack):
    """Projected gradient method (the paper's Algorithm 2): Q signed steps of size α, projected.

    Args:
        step: α in metres (0.01 in the paper).
        iterations: Q (40 in the paper).
        random_start: Start from a uniform point of the ball (the paper starts at x).
    """

    name = "PGDM"

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
        self.step = check_eps(step)
        if self.step == 0:
            raise AttackError("step must be > 0 metres")
        if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 1:
            raise AttackError(f"iterations must be a positive integer, got {iterations!r}")
        self.iterations = int(iterations)
        self.random_start = bool(random_start)

    def _perturb(self, x, rng):
        delta = (
            rng.uniform(-self.eps, self.eps, size=x.shape).astype(np.float32) if self.random_start else np.zeros_like(x)
        )
        for _ in range(self.iterations):
            delta = np.clip(delta + self.step * np.sign(self.gradient(x + delta)), -self.eps, self.eps)
        return x + delta


class MIFGSM(CellAttack):
    """Momentum iterative FGSM: I steps of eps/I along ``sign(g)``, ``g ← μ g + ∇/‖∇‖₁``.

    Args:
        mu: Momentum decay μ (0.1 in the paper; 1.0 in Dong et al.).
        iterations: I (10).
    """

    name = "MIFGSM"

    def __init__(self, model: Any, *, eps: float, mu: float = 0.1, iterations: int = 10, **kwargs: Any):
        super().__init__(model, eps=eps, **kwargs)
        self.mu = check_eps(mu)
        if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 1:
            raise AttackError(f"iterations must be a positive integer, got {iterations!r}")
        self.iterations = int(iterations)

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


class RandomSign(CellAttack):
    """``x + eps·s`` with i.i.d. uniform random signs (no gradient; same L∞ size)."""

    name = "RANDOM"
    uses_gradients = False

    def _perturb(self, x, rng):
        return x + self.eps * rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=x.shape)


ATTACKS: dict[Attack, type[CellAttack]] = {
    Attack.FGSM: FGSM,
    Attack.PGDM: PGDM,
    Attack.MIFGSM: MIFGSM,
    Attack.RANDOM: RandomSign,
}


def build_attack(
    name: Attack | str, model: Any, eps: float, settings: MimoAttackConfig | None = None, *, seed: int = 0
) -> CellAttack:
    """The attack ``name`` with the paper's settings (or those of ``settings``).

    Raises:
        AttackError: unknown attack name or bad settings.
    """
    try:
        kind = Attack(name)
    except ValueError:
        raise AttackError(f"unknown cell attack {name!r}; known: {[a.value for a in Attack]}") from None
    s = settings or MimoAttackConfig()
    if kind is Attack.PGDM:
        return PGDM(model, eps=eps, step=s.pgd_step_m, iterations=s.pgd_iters, seed=seed)
    if kind is Attack.MIFGSM:
        return MIFGSM(model, eps=eps, mu=s.mifgsm_mu, iterations=s.mifgsm_iters, seed=seed)
    return ATTACKS[kind](model, eps=eps, seed=seed)


def predicted_total(model: Any, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """The cell's predicted total power ``Σ_k ρ̂_jk`` in mW, ``float64 [N]`` (the sum output)."""
    return predict(model, x, batch_size)[:, -1].astype(np.float64)


def predict(model: Any, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Model outputs ``float32 [N, K + 1]`` through the cached compiled forward pass."""
    check_regressor(model)
    forward, _ = _compiled(model)
    x = np.asarray(x, dtype=np.float32)
    if not len(x):
        return np.zeros((0, model.output_shape[1]), dtype=np.float32)
    return np.concatenate([forward(tf.constant(x[i : i + batch_size])).numpy() for i in range(0, len(x), batch_size)])


def success(model: Any, x_clean: np.ndarray, x_adv: np.ndarray, pmax: float) -> np.ndarray:
    """Per-example success: clean prediction feasible and adversarial one infeasible, ``bool [N]``."""
    if not (math.isfinite(pmax) and pmax > 0):
        raise AttackError(f"pmax must be a positive number of mW, got {pmax}")
    return (predicted_total(model, x_clean) <= pmax) & (predicted_total(model, x_adv) > pmax)
