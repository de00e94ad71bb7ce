"""Black-box transfer: examples crafted on one architecture attack the other.

For each precoder, positions perturbed against M1's cell-j model are fed to M2's cell-j model and
the reverse (Manoj et al.; the DAE repository's "black-box = transfer from the other model").
The result is a source × target matrix of success rates per attack and eps whose diagonal is the
white-box rate.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from amc_tf.config.mimo import CellAttackName, MimoAttackConfig
from amc_tf.mimo.robustness import CellSet, craft, success_rate
from amc_tf.results import Result


@dataclasses.dataclass(frozen=True)
class TransferMatrix(Result):
    """Source × target success rates of transferred examples (one precoder).

    Attributes:
        names: The model sets, sorted (rows = crafted on, columns = evaluated on).
        eps_m: Budgets, in the attack settings' ``eps_unit``.
        success: ``{attack: {source: {target: [rate per eps]}}}``; the diagonal is white-box.
        eps_unit: ``metres`` or ``normalized``.
    """

    names: tuple[str, ...]
    eps_m: tuple[float, ...]
    success: dict[str, dict[str, dict[str, list[float]]]]
    eps_unit: str = "metres"

    def metrics(self) -> dict[str, float]:
        """``<attack>_<source>_to_<target>_success`` at the largest eps."""
        return {
            f"{attack}_{src}_to_{dst}_success": rates[-1]
            for attack, table in self.success.items()
            for src, row in table.items()
            for dst, rates in row.items()
        }


def transfer_matrix(
    sets: dict[str, CellSet],
    x: np.ndarray,
    attacks: tuple[CellAttackName | str, ...],
    eps_grid: tuple[float, ...],
    pmax: float,
    settings: MimoAttackConfig | None = None,
    *,
    seed: int = 0,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> TransferMatrix:
    """Success rate of examples crafted on each source set, evaluated on every target set.

    Args:
        sets: ``{name: {cell: model}}``, e.g. ``{"M1": …, "M2": …}`` for one precoder.
        x: ``float32 [N, F]`` clean test positions (metres).
        attacks: Gradient attacks to transfer.
        eps_grid: Budgets (in ``settings.eps_unit``; in ``normalized`` each source model's own
            standardisation defines its ball).
        pmax: mW.
        settings: Attack settings.
        seed: Seed of the attacks.
        bounds: The data domain (:func:`~amc_tf.mimo.attack_space.cell_bounds`).

    Returns:
        The :class:`TransferMatrix`.
    """
    names = sorted(sets)
    success: dict[str, dict[str, dict[str, list[float]]]] = {}
    for attack in attacks:
        table = {src: {dst: [] for dst in names} for src in names}
        for eps in eps_grid:
            for src in names:
                x_adv = craft(sets[src], x, attack, eps, settings, seed=seed, bounds=bounds)
                for dst in names:
                    table[src][dst].append(success_rate(sets[dst], x, x_adv, pmax)["success"])
        success[CellAttackName(attack).value] = table
    unit = (settings or MimoAttackConfig()).eps_unit.value
    return TransferMatrix(tuple(names), tuple(float(e) for e in eps_grid), success, unit)
