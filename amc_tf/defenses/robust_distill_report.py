"""The ``robust_distill`` pipeline's summary: the student methods side by side, the paper's claim
checked, and the attention-map picture.

The paper (references §4.2) reports the attention-distilled compact transformer beating the state of
the art under white-box FGM and PGD by more than 15 points; its exact baselines are not public, so
"state of the art" is read here as the stronger of adversarial training alone (``at``) and ARD
(``ard``) on the same compact model. Directions checked, each as a mean over the PNR points
≥ ``min_pnr_db`` (one noisy point does not decide it):

* ``attention_ge_at_<attack>`` and ``attention_ge_ard_<attack>`` under PGD and FGM;
* ``clean_within_tolerance``: the attention student loses at most ``clean_tolerance`` of clean
  accuracy against the best other student.

``margin_pt_<attack>`` is the attention student's mean lead in points over the stronger baseline
(the number to hold against the paper's "> 15").
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from amc_tf.evaluation.robustness_report import RobustnessReport
from amc_tf.results import Result
from amc_tf.runtime import keras

#: The paper's claimed lead of the attention-distilled student, in points.
PAPER_MARGIN_PT = 15.0


@dataclasses.dataclass(frozen=True)
class DistillTable(Result):
    """Clean and robust accuracy of every model, and the directions.

    Attributes:
        pnr_db: The PNR grid.
        rows: Per role: ``clean`` and ``<attack>`` curves (accuracy per PNR), in [0, 1].
        margins: ``margin_pt_<attack>``: attention minus the stronger of at/ard, mean over
            PNR ≥ ``min_pnr_db``, in points.
        directions: The checks of the module docstring.
        markdown: The table as Markdown.
    """

    pnr_db: list[float]
    rows: dict[str, dict[str, Any]]
    margins: dict[str, float]
    directions: dict[str, bool]
    markdown: str

    def metrics(self) -> dict[str, float]:
        out = {f"{k}": v for k, v in self.margins.items()}
        out.update({f"direction_{k}": float(v) for k, v in self.directions.items()})
        for role, row in self.rows.items():
            out[f"{role}_clean"] = row["clean"]
            for attack, values in row["curves"].items():
                out.update({f"{role}_{attack}_pnr{p:g}": a for p, a in zip(self.pnr_db, values)})
        return out


def distill_table(
    reports: dict[str, RobustnessReport],
    attacks: tuple[str, ...] = ("pgd_linf", "fgm"),
    *,
    min_pnr_db: float = -10.0,
    clean_tolerance: float = 0.05,
) -> DistillTable:
    """The summary of the ``robust_distill`` reports (by role; the students are ``student_<method>``).

    Args:
        reports: Robustness report of every role.
        attacks: The attacks of the table and the directions (PGD first).
        min_pnr_db: The directions average over PNR points at or above this (dB).
        clean_tolerance: Allowed clean-accuracy loss of the attention student (fraction).
    """
    first = next(iter(reports.values()))
    grid = list(first.pnr_db)
    rows = {
        role: {"clean": r.clean_accuracy, "curves": {a: list(r.curve(a).accuracy) for a in attacks}}
        for role, r in reports.items()
    }
    mask = np.array([p >= min_pnr_db for p in grid])
    margins: dict[str, float] = {}
    directions: dict[str, bool] = {}
    ours = rows.get("student_attention")
    baselines = [b for b in ("student_at", "student_ard") if b in rows]
    if ours is not None and baselines:
        for attack in attacks:
            mine = float(np.mean(np.array(ours["curves"][attack])[mask]))
            means = {b: float(np.mean(np.array(rows[b]["curves"][attack])[mask])) for b in baselines}
            for b, value in means.items():
                directions[f"attention_ge_{b.removeprefix('student_')}_{attack}"] = mine >= value
            margins[f"margin_pt_{attack}"] = 100 * (mine - max(means.values()))
        others = [row["clean"] for role, row in rows.items() if role.startswith("student_") and row is not ours]
        if others:
            directions["clean_within_tolerance"] = ours["clean"] >= max(others) - clean_tolerance
    return DistillTable(grid, rows, margins, directions, _markdown(grid, rows, attacks, margins, directions))


def _markdown(grid, rows, attacks, margins, directions) -> str:
    head = "| model | clean | " + " | ".join(f"{a} {p:g} dB" for a in attacks for p in grid) + " |"
    lines = [head, "|---|" + "---:|" * (1 + len(attacks) * len(grid))]
    for role, row in rows.items():
        cells = [f"{100 * row['clean']:.1f}"] + [f"{100 * v:.1f}" for a in attacks for v in row["curves"][a]]
        lines.append(f"| {role} | " + " | ".join(cells) + " |")
    lines.append("")
    for key, value in margins.items():
        lines.append(f"- {key}: {value:+.1f} points (paper: > {PAPER_MARGIN_PT:g})")
    for key, value in directions.items():
        lines.append(f"- {key}: {'holds' if value else 'does not hold'}")
    return "\n".join(lines) + "\n"


def attention_figure(models: dict[str, keras.Model], x: np.ndarray, x_adv: np.ndarray, *, layer: int = -1):
    """Head-averaged attention maps of ``models`` (rows) on one clean window and its adversarial
    version (columns), for encoder ``layer`` (Python index over the encoders; -1 = the last).

    Args:
        models: Transformers by label (e.g. robust teacher, attention student, AT student).
        x: One clean window ``float32 [2, L]``.
        x_adv: The same window attacked ``float32 [2, L]`` (e.g. crafted against the student).
        layer: Which encoder.

    Returns:
        A matplotlib figure.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from amc_tf.models.mcformer import attention_model

    batch = np.stack([x, x_adv]).astype(np.float32)
    fig, axes = plt.subplots(len(models), 2, figsize=(6.4, 3.0 * len(models)), squeeze=False)
    for i, (label, model) in enumerate(models.items()):
        maps = attention_model(model)(batch, training=False)[1:]
        mean = np.asarray(maps[layer]).mean(axis=1)
        for j, title in enumerate(("clean", "adversarial")):
            ax = axes[i, j]
            ax.imshow(mean[j], cmap="viridis", aspect="auto")
            ax.set_title(f"{label}: {title}", fontsize=9)
            ax.set_xlabel("key token", fontsize=8)
            ax.set_ylabel("query token", fontsize=8)
    fig.suptitle(f"Head-averaged attention maps, encoder {layer if layer >= 0 else len(maps) + layer + 1}")
    fig.tight_layout()
    return fig


__all__ = ["PAPER_MARGIN_PT", "DistillTable", "attention_figure", "distill_table"]
