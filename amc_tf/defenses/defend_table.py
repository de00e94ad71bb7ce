"""The ``defend`` pipeline's summary: our numbers beside the AMC compression paper's, and the
paper's qualitative claims (directions) checked on ours.

Paper numbers (RML2016.10a, VT-CNN2 students, 10 dB): clean accuracy before adversarial training
f_D 77.97 %, f_P 77.07 %, f_S 73.31 %; after it f_D^adv 75.61 %, f_P^adv 73.41 %, f_S^adv 66.98 %;
under PGD at PNR 0 dB f_D^adv and f_P^adv are about 20 points above f_S^adv, and under FGM about
12 points above it on average over the PNR grid (read off the paper's Fig. 3, hence "≈").

Directions checked (each a mean over PNR points, so one noisy point does not decide it):

* ``at_raises_<attack>_<model>``: adversarial training raises the model's accuracy under the
  attack, over PNR ≥ ``direction_min_pnr_db``;
* ``f_D_adv_ge_f_S_adv_<attack>`` (and f_P): under PGD and FGM, over the whole grid;
* ``reference_ge_<method>``: the ``adversarial`` mix on f_S is at least as robust under PGD as each
  Fig. 4 method;
* ``clean_drop_least_f_D``: adversarial training costs f_D the least clean accuracy of the three
  (paper: 2.36 points, against 3.66 for f_P and 6.33 for f_S; a rise is a negative drop).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from amc_tf.attacks import CONTROLS
from amc_tf.config.defend import DefendReportConfig
from amc_tf.evaluation.robustness_report import RobustnessReport
from amc_tf.results import Result

#: The paper's numbers, in percent / percentage points.
PAPER_CLEAN_10DB = {"f_S": 73.31, "f_D": 77.97, "f_P": 77.07, "f_S_adv": 66.98, "f_D_adv": 75.61, "f_P_adv": 73.41}
PAPER_PGD_GAIN_PT = 20.0
PAPER_FGM_GAIN_PT = 12.0


def _pt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _curve(report: RobustnessReport, attack: str) -> np.ndarray:
    return np.asarray(report.curve(attack).accuracy, dtype=float)


def gain_pt(reports: dict[str, RobustnessReport], model: str, attack: str, base: str = "f_S_adv") -> np.ndarray:
    """Accuracy of ``model`` minus that of ``base`` under ``attack`` at each PNR, in points."""
    return 100.0 * (_curve(reports[model], attack) - _curve(reports[base], attack))


@dataclasses.dataclass(frozen=True)
class DefendTable(Result):
    """Paper vs ours.

    Attributes:
        rows: ``{"quantity", "model", "paper", "ours"}`` (percent or points; paper None when the
            paper gives no number).
        directions: The checked claims (module docstring), each True/False.
        snr_db: SNR (dB) of the evaluated windows.
        n_examples: Windows evaluated per model.
        markdown: The table as Markdown.
    """

    rows: list[dict[str, Any]]
    directions: dict[str, bool]
    snr_db: int
    n_examples: int
    markdown: str

    def metrics(self) -> dict[str, float]:
        out = {}
        for row in self.rows:
            key = row["quantity"].split(" ")[0]
            out[f"{key}_{row['model']}"] = float(row["ours"])
        out.update({f"direction_{k}": float(v) for k, v in self.directions.items()})
        out["directions_held"] = float(all(self.directions.values())) if self.directions else 1.0
        return out


def directions(
    reports: dict[str, RobustnessReport],
    settings: DefendReportConfig,
    methods: dict[str, RobustnessReport] | None = None,
) -> dict[str, bool]:
    """The paper's claims checked on ours (module docstring)."""
    out: dict[str, bool] = {}
    grid = np.asarray(reports["f_S"].pnr_db, dtype=float)
    upper = grid >= settings.direction_min_pnr_db
    attacks = [c.attack for c in reports["f_S"].curves if c.library == "native" and c.attack not in CONTROLS]
    for attack in attacks:
        for source in ("f_S", "f_D", "f_P"):
            before, after = _curve(reports[source], attack), _curve(reports[f"{source}_adv"], attack)
            out[f"at_raises_{attack}_{source}"] = bool(after[upper].mean() >= before[upper].mean())
    for attack in (settings.pgd_attack, settings.fgm_attack):
        for model in ("f_D_adv", "f_P_adv"):
            out[f"{model}_ge_f_S_adv_{attack}"] = bool(gain_pt(reports, model, attack).mean() >= 0)
    drop = {m: reports[m].clean_accuracy - reports[f"{m}_adv"].clean_accuracy for m in ("f_S", "f_D", "f_P")}
    out["clean_drop_least_f_D"] = bool(drop["f_D"] <= min(drop["f_S"], drop["f_P"]))
    reference = _curve(reports["f_S_adv"], settings.pgd_attack).mean()
    for name, report in (methods or {}).items():
        out[f"reference_ge_{name}"] = bool(reference >= _curve(report, settings.pgd_attack).mean())
    return out


def paper_table(
    reports: dict[str, RobustnessReport],
    settings: DefendReportConfig,
    methods: dict[str, RobustnessReport] | None = None,
) -> DefendTable:
    """The table of clean accuracy, PGD gain at ``settings.pgd_pnr_db`` and mean FGM gain, paper
    beside ours, plus the checked directions."""
    snr = reports["f_S"].snr_db
    rows: list[dict[str, Any]] = []
    for model in ("f_D", "f_P", "f_S", "f_D_adv", "f_P_adv", "f_S_adv"):
        rows.append(
            {
                "quantity": f"clean accuracy at {snr} dB (%)",
                "model": model,
                "paper": PAPER_CLEAN_10DB[model] if snr == 10 else None,
                "ours": 100.0 * reports[model].clean_accuracy,
            }
        )
    at = list(reports["f_S"].pnr_db).index(settings.pgd_pnr_db)
    for model in ("f_D_adv", "f_P_adv"):
        rows.append(
            {
                "quantity": f"pgd_gain over f_S_adv, {settings.pgd_attack} at {settings.pgd_pnr_db:g} dB (pt)",
                "model": model,
                "paper": PAPER_PGD_GAIN_PT,
                "ours": float(gain_pt(reports, model, settings.pgd_attack)[at]),
            }
        )
    for model in ("f_D_adv", "f_P_adv"):
        rows.append(
            {
                "quantity": f"fgm_gain over f_S_adv, {settings.fgm_attack} mean over the grid (pt)",
                "model": model,
                "paper": PAPER_FGM_GAIN_PT,
                "ours": float(gain_pt(reports, model, settings.fgm_attack).mean()),
            }
        )
    checked = directions(reports, settings, methods)
    lines = ["| quantity | model | paper | ours |", "| --- | --- | ---: | ---: |"]
    lines += [f"| {r['quantity']} | {r['model']} | {_pt(r['paper'])} | {_pt(r['ours'])} |" for r in rows]
    lines += ["", "| direction (paper's claim) | holds |", "| --- | --- |"]
    lines += [f"| {name} | {'yes' if ok else 'NO'} |" for name, ok in checked.items()]
    return DefendTable(rows, checked, snr, reports["f_S"].n_examples, "\n".join(lines) + "\n")


__all__ = ["PAPER_CLEAN_10DB", "PAPER_FGM_GAIN_PT", "PAPER_PGD_GAIN_PT", "DefendTable", "directions", "paper_table"]
