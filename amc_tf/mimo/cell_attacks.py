"""Cell-based white-box attacks on the per-cell power regressors (massive MIMO, design D4).

Threat model (Manoj, Sadeghi & Larsson, ICC 2021, Algorithms 1–2): the attacker perturbs the
reported UE positions within an L∞ ball of radius ``eps`` to maximise the total power the DNN of
cell j asks for, ``Σ_k ρ̂_jk`` (its sum output), so that the allocation becomes infeasible
(``> Pmax``); ``objective="regression_loss"`` maximises the squared error to given optimal powers
instead (:mod:`amc_tf.mimo.attack_objectives`). The ball, the steps and the projection live in
the coordinates of ``unit`` (:mod:`amc_tf.mimo.attack_space`): metres (the paper's text) or the model's normalised input
(what its numbers were produced with); with ``bounds`` positions stay in the data domain.
:class:`CellFGSM` takes one step ``eps·sign(∇)``; :class:`CellPGDM` Q signed steps of size α, each
projected; :class:`CellMIFGSM` is PGD with momentum (Dong et al. 2018, ``g ← μ g + ∇/‖∇‖₁``, step
eps/I); :class:`CellRandomSign` adds ``eps·s`` with random signs, the no-gradient baseline. ART
cannot do this (its regressors are graph-mode only and, given no target, attack the MSE to the
model's own output, whose gradient is zero; references §10). Every output is audited (within
the ball up to float32 rounding, inside the bounds, no NaN). Success on one (cell, setup): the
clean prediction is feasible and the adversarial one is not. Each attack declares its
:class:`~amc_tf.config.mimo.CellAttackName` once; :data:`CELL_ATTACKS` is derived from the classes.
"""

from __future__ import annotations

import abc
import math
from typing import Any, ClassVar

import numpy as np

from amc_tf.config.mimo import AttackObjective, CellAttackName, EpsUnit, MimoAttackConfig
from amc_tf.errors import AttackError, ModelError
from amc_tf.mimo.attack_objectives import attack_objective, compiled
from amc_tf.mimo.attack_space import InputSpace
from amc_tf.models.inference import predict_batched
from amc_tf.runtime import keras, tf

#: Float32 rounding of x + δ at coordinates up to ~1 km (metres); relative in normalised units.
AUDIT_TOL_M, _AUDIT_TOL_REL = 1e-4, 1e-5


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
        raise ModelError(f"cell attacks need outputs [None, K + 1] (powers, sum); {model.name!r} gives {out_shape}")
    return int(in_shape[1]), int(out_shape[1])


def check_eps(eps: Any, what: str = "eps") -> float:
    """A finite ``value >= 0`` (in the attack's unit), or :class:`AttackError` naming ``what``."""
    try:
        value = float(eps)
    except (TypeError, ValueError):
        raise AttackError(f"{what} must be a number, got {eps!r}") from None
    if not math.isfinite(value) or value < 0:
        raise AttackError(f"{what} must be finite and >= 0, got {eps!r}")
    return value


def _check_count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise AttackError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


class CellAttack(abc.ABC):
    """Contract of every cell attack: validate at construction, ``generate(x) -> x_adv``.

    Args:
        model: A per-cell regressor (:mod:`amc_tf.models.mimo_dnn`).
        eps: L∞ budget (>= 0) in ``unit``.
        unit: ``metres`` or ``normalized`` (the model's standardised input).
        bounds: ``(lo, hi)`` per-feature box in metres that adversarial positions must stay in
            (:func:`~amc_tf.mimo.attack_space.cell_bounds`), or None for no box.
        objective: ``total_power`` (the paper's Algorithms 1–2) or ``regression_loss`` (needs the
            optimal powers ``y`` in :meth:`generate`).
        batch_size: Examples per compiled call.
        seed: Seed of the random attacks.
    """

    name: ClassVar[CellAttackName]
    uses_gradients: ClassVar[bool] = True

    def __init__(
        self,
        model: Any,
        *,
        eps: float,
        unit: EpsUnit | str = EpsUnit.METRES,
        bounds: tuple[np.ndarray, np.ndarray] | None = None,
        objective: AttackObjective | str = AttackObjective.TOTAL_POWER,
        batch_size: int = 4096,
        seed: int = 0,
    ):
        self.n_features, n_out = check_regressor(model)
        self.n_users = n_out - 1
        self.objective = attack_objective(objective)
        self.model = model
        self.eps = check_eps(eps)
        self.space = InputSpace.of(model, unit)
        self.batch_size = _check_count(batch_size, "batch_size")
        self.seed = int(seed)
        self._lo = self._hi = None
        if bounds is not None:
            lo, hi = (np.asarray(b, dtype=np.float32).reshape(-1) for b in bounds)
            if lo.shape != (self.n_features,) or hi.shape != lo.shape or not (lo < hi).all():
                raise AttackError(f"bounds must be two arrays of {self.n_features} values with lo < hi")
            self._lo, self._hi = self.space.bounds(lo, hi)
        _, self._grad = compiled(model, self.space, self.objective)

    @classmethod
    def from_settings(
        cls, model: Any, eps: float, settings: MimoAttackConfig, *, seed=0, bounds=None, **kw
    ) -> CellAttack:
        """This attack with the unit, steps and iterations of ``settings`` (``kw``: the objective)."""
        return cls(model, eps=eps, seed=seed, **cls._common(settings, bounds), **kw)

    @staticmethod
    def _common(settings: MimoAttackConfig, bounds) -> dict[str, Any]:
        return {"unit": settings.eps_unit, "bounds": bounds if settings.clip_to_cells else None}

    def generate(self, x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        """Adversarial positions.

        Args:
            x: ``float32 [N, F]`` clean positions in metres.
            y: ``[N, K]`` optimal powers in mW (``regression_loss`` only).

        Returns:
            ``float32 [N, F]`` metres, within the eps-ball of ``x`` in the attack coordinates (and
            inside the bounds, if any).
        """
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise AttackError(f"x must have shape [N, {self.n_features}], got {list(x.shape)}")
        if not np.isfinite(x).all():
            raise AttackError("x holds non-finite positions")
        y = self._targets(y, len(x))
        c = self.space.encode(x)
        if self._lo is not None:
            c = np.clip(c, self._lo, self._hi)  # clean data sits in the domain up to rounding
        rng = np.random.default_rng(self.seed)
        batches = [slice(i, i + self.batch_size) for i in range(0, len(c), self.batch_size)]
        out = np.concatenate([self._perturb(c[b], y[b], rng) for b in batches]) if len(c) else c.copy()
        gap = np.abs(out - c).max() if len(c) else 0.0
        tol = AUDIT_TOL_M if self.space.unit is EpsUnit.METRES else _AUDIT_TOL_REL * (1.0 + np.abs(c).max(initial=0))
        outside = self._lo is not None and ((out < self._lo) | (out > self._hi)).any()
        if not np.isfinite(out).all() or gap > self.eps + tol or outside:
            raise AttackError(
                f"{self.name.value} produced an invalid perturbation (max |δ| = {gap:.6g} > eps = {self.eps} "
                f"{self.space.unit.value}, outside the bounds or non-finite)"
            )
        return self.space.decode(out)

    def _targets(self, y: np.ndarray | None, n: int) -> np.ndarray:
        """``float32 [n, K]`` targets of the objective (zeros, unused, for ``total_power``)."""
        if self.objective is AttackObjective.TOTAL_POWER:
            return np.zeros((n, self.n_users), dtype=np.float32)
        if y is None or np.shape(y) != (n, self.n_users) or not np.isfinite(y).all():
            raise AttackError(
                f"objective 'regression_loss' needs finite optimal powers y of shape [{n}, {self.n_users}]"
            )
        return np.asarray(y, dtype=np.float32)

    @abc.abstractmethod
    def _perturb(self, c: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Attack one batch ``float32 [n, F]`` of attack coordinates (``y``: its targets)."""

    def _project(self, c0: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Onto the eps-ball around ``c0``, then into the bounds."""
        c = np.clip(c, c0 - self.eps, c0 + self.eps)
        return c if self._lo is None else np.clip(c, self._lo, self._hi)

    def gradient(self, c: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        """``∇_c`` of the objective per example in the attack coordinates, ``float32 [n, F]``
        (``Σ_k ρ̂_jk``: mW per metre in ``metres``)."""
        y = self._targets(y, len(c)) if y is None or self.objective is AttackObjective.TOTAL_POWER else y
        return self._grad(tf.convert_to_tensor(c, tf.float32), tf.convert_to_tensor(y, tf.float32)).numpy()


class CellFGSM(CellAttack):
    """One signed-gradient step of size eps (the paper's Algorithm 1)."""

    name = CellAttackName.FGSM

    def _perturb(self, c, y, rng):
        return self._project(c, c + self.eps * np.sign(self.gradient(c, y)))


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
            raise AttackError("step must be > 0")
        self.iterations = _check_count(iterations, "iterations")
        self.random_start = bool(random_start)

    @classmethod
    def from_settings(cls, model, eps, settings, *, seed=0, bounds=None, **kw):
        common = cls._common(settings, bounds)
        return cls(model, eps=eps, step=settings.pgd_step_m, iterations=settings.pgd_iters, seed=seed, **common, **kw)

    def _perturb(self, c, y, rng):
        start = rng.uniform(-self.eps, self.eps, size=c.shape).astype(np.float32) if self.random_start else 0.0
        adv = self._project(c, c + start)
        for _ in range(self.iterations):
            adv = self._project(c, adv + self.step * np.sign(self.gradient(adv, y)))
        return adv


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
    def from_settings(cls, model, eps, settings, *, seed=0, bounds=None, **kw):
        common = cls._common(settings, bounds)
        return cls(model, eps=eps, mu=settings.mifgsm_mu, iterations=settings.mifgsm_iters, seed=seed, **common, **kw)

    def _perturb(self, c, y, rng):
        adv = c.copy()
        g = np.zeros_like(c)
        step = self.eps / self.iterations
        for _ in range(self.iterations):
            grad = self.gradient(adv, y)
            l1 = np.abs(grad).sum(axis=1, keepdims=True)
            g = self.mu * g + grad / np.where(l1 > 0, l1, 1.0)
            adv = self._project(c, adv + step * np.sign(g))
        return adv


class CellRandomSign(CellAttack):
    """``x + eps·s`` with i.i.d. uniform random signs (no gradient; same L∞ size)."""

    name = CellAttackName.RANDOM
    uses_gradients = False

    def _perturb(self, c, y, rng):
        return self._project(c, c + self.eps * rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=c.shape))


#: Every cell attack class; the registry below is derived from their declared names.
CELL_ATTACK_CLASSES: tuple[type[CellAttack], ...] = (CellFGSM, CellPGDM, CellMIFGSM, CellRandomSign)
CELL_ATTACKS: dict[CellAttackName, type[CellAttack]] = {cls.name: cls for cls in CELL_ATTACK_CLASSES}


def build_cell_attack(
    name: CellAttackName | str,
    model: Any,
    eps: float,
    settings: MimoAttackConfig | None = None,
    *,
    seed: int = 0,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    objective: AttackObjective | str = AttackObjective.TOTAL_POWER,
) -> CellAttack:
    """The attack ``name`` with the paper's settings (or those of ``settings``); ``bounds`` is the
    data domain (used when ``settings.clip_to_cells``); ``objective`` what it maximises.

    Raises:
        AttackError: unknown attack name or bad settings.
    """
    try:
        kind = CellAttackName(name)
    except ValueError:
        raise AttackError(f"unknown cell attack {name!r}; known: {[a.value for a in CellAttackName]}") from None
    settings = settings or MimoAttackConfig()
    return CELL_ATTACKS[kind].from_settings(model, eps, settings, seed=seed, bounds=bounds, objective=objective)


def predict_powers(model: Any, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Model outputs ``float32 [N, K + 1]`` (powers in mW, then their sum) via the compiled forward pass."""
    _, n_out = check_regressor(model)
    forward, _ = compiled(model)
    return predict_batched(forward, np.asarray(x, dtype=np.float32), batch_size, out_width=n_out)


def predicted_total(model: Any, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """The cell's predicted total power ``Σ_k ρ̂_jk`` in mW, ``float64 [N]`` (the sum output)."""
    return predict_powers(model, x, batch_size)[:, -1].astype(np.float64)


def attack_success(model: Any, x_clean: np.ndarray, x_adv: np.ndarray, pmax: float) -> np.ndarray:
    """Per-example success: clean prediction feasible and adversarial one infeasible, ``bool [N]``."""
    if not (math.isfinite(pmax) and pmax > 0):
        raise AttackError(f"pmax must be a positive number of mW, got {pmax}")
    return (predicted_total(model, x_clean) <= pmax) & (predicted_total(model, x_adv) > pmax)
