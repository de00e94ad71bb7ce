"""Black-box transfer: examples crafted on one architecture attack the other.

For each precoder, positions perturbed against M1's cell-j model are fed to M2's cell-j model and
the reverse (Manoj et al.; the DAE repository's "black-box = transfer from the other model").
The result is a source × target matrix of success rates per attack and eps whose diagonal is the
white-box rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from amc_tf.config.mimo import Attack, MimoAttackConfig
from amc_tf.mimo.robustness import CellSet, craft, success_rate


def transfer_matrix(
    sets: dict[str, CellSet],
    x: np.ndarray,
    attacks: tuple[Attack, ...],
    eps_grid: tuple[float, ...],
    pmax: float,
    settings: MimoAttackConfig | None = None,
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """Success rate of examples crafted on each source set, evaluated on every target set.

    Args:
        sets: ``{name: {cell: model}}``, e.g. ``{"M1": …, "M2": …}`` for one precoder.
        x: ``float32 [N, F]`` clean test positions (metres).
        attacks: Gradient attacks to transfer.
        eps_grid: Budgets in metres.
        pmax: mW.
        settings: Attack settings.
        seed: Seed of the attacks.

    Returns:
        ``{"names": [...], "eps_m": [...], "success": {attack: {source: {target: [rate per eps]}}}}``.
    """
    names = sorted(sets)
    out: dict[str, Any] = {"names": names, "eps_m": [float(e) for e in eps_grid], "success": {}}
    for attack in attacks:
        table = {src: {dst: [] for dst in names} for src in names}
        for eps in eps_grid:
            for src in names:
                x_adv = craft(sets[src], x, attack, eps, settings, seed=seed)
                for dst in names:
                    table[src][dst].append(success_rate(sets[dst], x, x_adv, pmax)["success"])
        out["success"][Attack(attack).value] = table
    return out
