"""Accuracy under a run-time rejector, and its sweep over a PNR grid (design D10).

Counting rule: an adversarial window is *defended* when it is rejected or classified correctly;
on clean windows (PNR = -inf, eps = 0) a rejection is an error. :func:`evaluate_rejector` attacks
a fitted defence at each PNR with the adaptive attack through it
(:class:`~amc_tf.attacks.adaptive.RejectionPGD` for a scored rejector,
:class:`~amc_tf.attacks.adaptive.DetectorAwarePGD` for a detector) and with the non-adaptive one
(PGD-L2 on the classifier's logits), side by side, and audits every perturbation. A detector is
attacked with both objectives of the detector-aware attack (``alternate`` and ``joint``), and a
window counts as broken by the adaptive attack if either breaks it. The headline is the
*worst case* per window (``worst_accuracy``): defended only if it survives every attack run on it,
adaptive and non-adaptive, which is at most the lower of the two curves (robust accuracy under
an ensemble of attacks, as in AutoAttack). Defences are duck-typed (``predict_with_rejection``,
``classifier``, ``tf_scores`` or ``tf_reconstruction_error``), since the evaluation package sits below the defences.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from amc_tf.attacks.adaptive import DetectorAwarePGD, RejectionPGD, non_adaptive_attack
from amc_tf.attacks.adaptive_settings import REJECT, AdaptiveAttackConfig
from amc_tf.attacks.budgets import Budget, Norm, audit
from amc_tf.io import write_json

#: Slack of the budget audit in dB of measured PNR.
PNR_SLACK_DB = 1e-3


def defended_accuracy(pred: np.ndarray, y: np.ndarray, *, clean: bool) -> float:
    """Fraction defended: correct, or (adversarial only) rejected. ``pred`` holds classes or REJECT."""
    pred, y = np.asarray(pred), np.asarray(y)
    if pred.shape != y.shape:
        raise ValueError(f"pred {pred.shape} and y {y.shape} must have the same shape")
    if pred.size == 0:
        return float("nan")
    return float(np.mean(pred == y if clean else _defended(pred, y)))


def _defended(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per adversarial window: rejected or correctly classified."""
    return (pred == y) | (pred == REJECT)


def rejected_fraction(pred: np.ndarray) -> float:
    """Fraction of ``pred`` equal to REJECT."""
    return float(np.mean(np.asarray(pred) == REJECT)) if np.size(pred) else float("nan")


@dataclass
class RejectionCurve:
    """One defence over a PNR grid, adaptive and non-adaptive.

    Attributes:
        defence: Its name; ``attack``/``non_adaptive``: the attacks' names.
        pnr_db: The grid (dB). ``n_examples``: windows attacked.
        clean_accuracy: Accuracy with rejections counted as errors; ``clean_rejected``: fraction rejected.
        adaptive_accuracy, non_adaptive_accuracy: Defended fraction per PNR (rejected or correct).
        adaptive_rejected, non_adaptive_rejected: Fraction of adversarial windows rejected per PNR.
        worst_accuracy: Per PNR, the fraction defended against every attack (per-window worst case).
        adaptive_variants: Per adaptive variant (detectors: ``alternate``, ``joint``), its own
            defended fraction per PNR; ``adaptive_accuracy`` is their per-window worst case.
        audit: Per PNR ``{"adaptive": BudgetAudit, "non_adaptive": BudgetAudit}`` as dicts.
        seconds: Wall time of the sweep. ``defence_info``: the defence's ``describe()``.
    """

    defence: str
    attack: str
    non_adaptive: str
    pnr_db: list[float]
    n_examples: int
    clean_accuracy: float
    clean_rejected: float
    adaptive_accuracy: list[float]
    non_adaptive_accuracy: list[float]
    adaptive_rejected: list[float]
    non_adaptive_rejected: list[float]
    worst_accuracy: list[float]
    adaptive_variants: dict[str, list[float]]
    audit: list[dict]
    seconds: float
    config: dict = field(default_factory=dict)
    defence_info: dict = field(default_factory=dict)

    @property
    def audit_ok(self) -> bool:
        return all(a[k]["ok"] and a[k]["pnr_ok"] for a in self.audit for k in ("adaptive", "non_adaptive"))


@dataclass
class RejectionReport:
    """Curves of several defences; ``to_json()`` is one JSON document, ``metrics()`` flat scalars."""

    curves: list[RejectionCurve]

    def to_json(self) -> dict:
        out = asdict(self)
        for c, src in zip(out["curves"], self.curves):
            c["audit_ok"] = src.audit_ok
        return out

    def save(self, path: str | Path) -> Path:
        return write_json(path, self.to_json())

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for c in self.curves:
            out[f"{c.defence}.clean_accuracy"] = c.clean_accuracy
            out[f"{c.defence}.clean_rejected"] = c.clean_rejected
            for p, a, n in zip(c.pnr_db, c.adaptive_accuracy, c.non_adaptive_accuracy):
                out[f"{c.defence}.adaptive.acc.pnr{p:g}"] = a
                out[f"{c.defence}.non_adaptive.acc.pnr{p:g}"] = n
            for p, w in zip(c.pnr_db, c.worst_accuracy):
                out[f"{c.defence}.worst.acc.pnr{p:g}"] = w
        return out


def adaptive_attack_for(defence: Any, budget: Budget, config: AdaptiveAttackConfig, batch_size: int = 256):
    """The adaptive attack that fits ``defence``: through its scores, or through its detector."""
    if hasattr(defence, "tf_scores"):
        return RejectionPGD(defence, budget=budget, config=config, batch_size=batch_size)
    if hasattr(defence, "tf_reconstruction_error"):
        return DetectorAwarePGD(defence, budget=budget, config=config, batch_size=batch_size)
    raise TypeError(f"no adaptive attack for {type(defence).__name__}: needs tf_scores or tf_reconstruction_error")


def adaptive_variants(defence: Any, config: AdaptiveAttackConfig) -> dict[str, AdaptiveAttackConfig]:
    """The adaptive attack configs run on ``defence``: a detector gets both detector objectives."""
    if hasattr(defence, "tf_scores") or not hasattr(defence, "tf_reconstruction_error"):
        return {"adaptive": config}
    other = "joint" if config.detector_objective == "alternate" else "alternate"
    return {
        config.detector_objective: config,
        other: config.model_copy(update={"detector_objective": other}),
    }


def _audit(x, x_adv, snr, budget: Budget) -> dict:
    radius = budget.radius(x, snr, Norm.L2)
    result = audit(x, x_adv, radius, Norm.L2, snr).to_json()
    top = result["pnr_db_max"]
    result["pnr_ok"] = top is None or budget.kind.value != "pnr_db" or top <= budget.value + PNR_SLACK_DB
    return result


def evaluate_rejector(
    defence: Any,
    x: np.ndarray,
    y: np.ndarray,
    snr: np.ndarray | int,
    pnr_db: list[float],
    config: AdaptiveAttackConfig | None = None,
    name: str = "defence",
    batch_size: int = 256,
) -> RejectionCurve:
    """Defended accuracy of a fitted defence over ``pnr_db``, adaptive and non-adaptive.

    Args:
        defence: A fitted rejector (neural rejection or auto-encoder detector).
        x: Clean windows ``float32 [N, 2, L]``; ``y``: true labels ``int [N]``; ``snr``: dB labels.
        pnr_db: The PNR grid (dB); the clean point is reported separately (``clean_accuracy``).
        config: The attacks' steps, step fraction and stop tolerance.
        name: The defence's name in reports and plots.
    """
    config = config or AdaptiveAttackConfig()
    start = time.perf_counter()
    y = np.asarray(y, np.int64)
    clean = defence.predict_with_rejection(x)
    variants = adaptive_variants(defence, config)
    rows: dict[str, list] = {k: [] for k in ("aa", "na", "ar", "nr", "worst", "audit")}
    per_variant: dict[str, list[float]] = {k: [] for k in variants}
    attack_name = non_name = ""
    for pnr in pnr_db:
        budget = Budget.pnr(pnr)
        plain = non_adaptive_attack(defence.classifier, budget, config, batch_size)
        non_name = plain.name
        x_n = plain.generate(x, y, snr=snr)
        pred_n = defence.predict_with_rejection(x_n)
        # Per window, the first variant that breaks it supplies its adversarial example.
        x_a, pred_a, held = None, None, None
        for key, cfg in variants.items():
            attack = adaptive_attack_for(defence, budget, cfg, batch_size)
            attack_name = attack.name
            x_v = attack.generate(x, y, snr=snr)
            pred_v = defence.predict_with_rejection(x_v)
            ok_v = _defended(pred_v, y)
            per_variant[key].append(float(np.mean(ok_v)))
            if x_a is None:
                x_a, pred_a, held = x_v, pred_v, ok_v
            else:
                newly = held & ~ok_v
                x_a[newly], pred_a[newly], held = x_v[newly], pred_v[newly], held & ok_v
        rows["aa"].append(defended_accuracy(pred_a, y, clean=False))
        rows["na"].append(defended_accuracy(pred_n, y, clean=False))
        rows["worst"].append(float(np.mean(held & _defended(pred_n, y))) if y.size else float("nan"))
        rows["ar"].append(rejected_fraction(pred_a))
        rows["nr"].append(rejected_fraction(pred_n))
        rows["audit"].append({"adaptive": _audit(x, x_a, snr, budget), "non_adaptive": _audit(x, x_n, snr, budget)})
    describe = getattr(defence, "describe", None)
    return RejectionCurve(
        defence=name,
        attack=attack_name,
        non_adaptive=non_name,
        pnr_db=[float(p) for p in pnr_db],
        n_examples=int(x.shape[0]),
        clean_accuracy=defended_accuracy(clean, y, clean=True),
        clean_rejected=rejected_fraction(clean),
        adaptive_accuracy=rows["aa"],
        non_adaptive_accuracy=rows["na"],
        adaptive_rejected=rows["ar"],
        non_adaptive_rejected=rows["nr"],
        worst_accuracy=rows["worst"],
        adaptive_variants=per_variant,
        audit=rows["audit"],
        seconds=time.perf_counter() - start,
        config=config.model_dump(),
        defence_info=describe() if describe else {},
    )
