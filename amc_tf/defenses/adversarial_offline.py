"""Offline crafting (the AMC compression paper's §IV): N1 + N2 + … adversarial training windows.

N = ``adversarial_fraction`` × the training-set size windows are drawn without replacement and
split among the attacks of the mix in their proportions (N1 = N2 with the default PGD + FGSM
mix); each share is crafted against the current model with the registry attack
(:func:`amc_tf.attacks.registry.build_attack`, true labels), so any registry attack works,
universal ones included (fitted per SNR label, since a universal PNR radius needs data at one SNR).

A PNR range is drawn per example. The registry budgets take one PNR, so an example drawn at
``p_i`` is crafted under ``Budget.pnr(hi)`` with an equivalent SNR label ``snr'`` chosen so that
``hi / (snr' + 1) = p_i / (snr + 1)`` (linear units): the radius is exactly ``sqrt(p_i·||x||²/(snr+1))``
and ``snr' > 0`` for every ``p_i <= hi``. Universal attacks draw one PNR per SNR group instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from amc_tf.attacks.budgets import Budget
from amc_tf.attacks.registry import attack_class, build_attack
from amc_tf.config.defense import AdversarialTrainingConfig, TrainingBudget
from amc_tf.data.dataset import IQDataset
from amc_tf.defenses.adversarial_results import audit_crafted
from amc_tf.runtime import keras, rng


@dataclass(frozen=True)
class Crafted:
    """One round's adversarial windows (labels and SNR labels of their clean originals).

    Attributes:
        data: The adversarial windows as a dataset (``x`` ``float32 [N, 2, L]``).
        counts: Windows per attack of the mix (keys ``<i>:<name>``).
        audit: Per attack, :func:`~amc_tf.defenses.adversarial_results.audit_crafted` of a sample.
    """

    data: IQDataset
    counts: dict[str, int]
    audit: dict[str, dict]


def share_sizes(n: int, fractions: list[float]) -> list[int]:
    """Sizes of the mix's shares of ``n`` windows (rounded cumulative bounds, summing to ``n``)."""
    bounds = [0, *(int(round(n * float(np.sum(fractions[: i + 1])))) for i in range(len(fractions) - 1)), n]
    return [bounds[i + 1] - bounds[i] for i in range(len(fractions))]


def _budget(budget: TrainingBudget, pnr_db: float | None = None) -> Budget:
    if budget.eps is not None:
        return Budget.absolute(budget.eps)
    value = budget.pnr_db if pnr_db is None else pnr_db
    return Budget.pnr(value, budget.linf_convention)


def equivalent_snr_db(snr_db: np.ndarray, pnr_db: np.ndarray, reference_db: float) -> np.ndarray:
    """SNR labels under which ``Budget.pnr(reference_db)`` gives each example the radius of ``pnr_db``."""
    snr_lin = 10.0 ** (np.asarray(snr_db, np.float64) / 10.0)
    return 10.0 * np.log10((snr_lin + 1.0) * 10.0 ** ((reference_db - np.asarray(pnr_db, np.float64)) / 10.0) - 1.0)


def craft_round(
    model: keras.Model, train: IQDataset, config: AdversarialTrainingConfig, *, seed: int, round_index: int
) -> Crafted:
    """Craft one round's adversarial windows from ``train`` against ``model`` (module docstring)."""
    generator = rng([seed, round_index])
    n = int(round(config.adversarial_fraction * len(train)))
    order = generator.permutation(len(train))[:n]
    sizes = share_sizes(n, [entry.fraction for entry in config.mix])
    parts, counts, audits, start = [], {}, {}, 0
    k = config.pgd_steps_at(round_index)
    for i, (entry, size) in enumerate(zip(config.mix, sizes)):
        idx, start = order[start : start + size], start + size
        spec = entry.attack
        if k is not None and spec.name.startswith("pgd"):
            spec = spec.model_copy(update={"steps": k})
        key = f"{i}:{spec.name}"
        counts[key] = int(size)
        if size == 0:
            continue
        x, y, snr = train.x[idx], train.y[idx], train.snr[idx]
        x_adv, radius, requested, norm = _run(model, spec, x, y, snr, config, seed=seed + round_index, g=generator)
        parts.append(IQDataset(x_adv, y, snr, train.classes, {"attack": spec.name}))
        m = min(config.audit_examples, size)
        audits[key] = audit_crafted(
            x[:m], x_adv[:m], radius[:m], norm, snr[:m].astype(np.float64), None if requested is None else requested[:m]
        )
    x = np.concatenate([p.x for p in parts]) if parts else train.x[:0]
    y = np.concatenate([p.y for p in parts]) if parts else train.y[:0]
    snr = np.concatenate([p.snr for p in parts]) if parts else train.snr[:0]
    return Crafted(IQDataset(x, y, snr, train.classes, {"crafted_round": round_index}), counts, audits)


def _run(model, spec, x, y, snr, config: AdversarialTrainingConfig, *, seed: int, g: np.random.Generator):
    """``(x_adv, radius [N], requested PNR dB [N] or None, norm)`` of one attack on one share."""
    budget = config.budget
    options = {"batch_size": config.attack_batch_size, "seed": seed}
    if attack_class(spec.name).universal:
        x_adv, radius, requested = np.empty_like(x), np.zeros(len(x), np.float32), np.zeros(len(x))
        norm = None
        for value in np.unique(snr):
            rows = snr == value
            pnr = None if budget.pnr_db_range is None else float(g.uniform(*budget.pnr_db_range))
            attack = build_attack(spec, model, budget=_budget(budget, pnr), **options)
            attack.fit(x[rows], y[rows], snr=int(value))
            x_adv[rows] = attack.generate(x[rows], y[rows], snr=int(value))
            radius[rows], norm = attack.radius, attack.norm
            requested[rows] = budget.pnr_db if pnr is None else pnr
        return x_adv, radius, None if budget.eps is not None else requested, norm
    reference = None if budget.pnr_db_range is None else budget.pnr_db_range[1]
    attack = build_attack(spec, model, budget=_budget(budget, reference), **options)
    if budget.pnr_db_range is None:
        snr_used = snr
        requested = None if budget.eps is not None else np.full(len(x), budget.pnr_db)
    else:
        requested = g.uniform(*budget.pnr_db_range, size=len(x))
        snr_used = equivalent_snr_db(snr, requested, budget.pnr_db_range[1])
    radius = attack.resolve_radius(x, snr_used)
    return attack.generate(x, y, snr=snr_used), radius, requested, attack.norm


__all__ = ["Crafted", "craft_round", "equivalent_snr_db", "share_sizes"]
