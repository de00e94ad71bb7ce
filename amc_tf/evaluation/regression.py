"""The nightly robustness regression's judgement (issue 16 item 2): tonight's suite result of one
registered model against (a) the last passing nightly of the same model and suite version and
(b) ART's twin attacks on the same examples, with the config's tolerances.

A :class:`SuiteResult` is what a nightly records per model (``nightly_result.json``) and what it
reads back as the baseline. :func:`compare` lists every :class:`Finding` (each names the check,
the attack or curve, the PNR, tonight's and the reference's number and the tolerance); a model
passes when there is none. :func:`regression_markdown` and :func:`regression_figure` are the
report.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from amc_tf.evaluation.robustness_report import RobustnessReport

#: Name of the cascade worst-case curve in findings and figures.
WORST = "worst_case"


@dataclass(frozen=True)
class SuiteResult:
    """One model's numbers under one suite.

    Attributes:
        model: Registered model name.
        version: Registered version evaluated.
        suite_version: The suite's name.
        suite_digest: Hash of everything that decides the numbers (:meth:`NightlyConfig.suite_digest`).
        n_examples: Examples evaluated.
        clean_accuracy: Accuracy on them without attack.
        pnr_db: The PNR grid.
        curves: Native robust accuracy per attack over the grid (cumulative in a survivors sweep).
        worst_case: The cascade's worst case over the grid.
        art: Per ART baseline: ``{"native": twin, "pnr_db": [...], "art": [...], "ours": [...], "n": m}``.
        data_fingerprint: sha256 of the evaluated dataset.
        sweep: ``survivors`` (each curve is cumulative: after its attack and every one before it)
            or ``full`` (each attack alone).
    """

    model: str
    version: int
    suite_version: str
    suite_digest: str
    n_examples: int
    clean_accuracy: float
    pnr_db: list[float]
    curves: dict[str, list[float]]
    worst_case: list[float]
    art: dict[str, dict[str, Any]] = field(default_factory=dict)
    data_fingerprint: str = ""
    sweep: str = "full"

    @classmethod
    def from_report(
        cls, report: RobustnessReport, *, model: str, version: int, suite_version: str, suite_digest: str, **kw
    ) -> SuiteResult:
        art = {
            c.art: {
                "native": c.native,
                "pnr_db": list(c.pnr_db),
                "art": list(c.art_accuracy),
                "ours": list(c.native_accuracy),
                "n": c.n_examples,
            }
            for c in report.comparisons
        }
        curves = {c.attack: list(c.accuracy) for c in report.curves if c.library == "native"}
        return cls(
            model=model,
            version=version,
            suite_version=suite_version,
            suite_digest=suite_digest,
            n_examples=report.n_examples,
            clean_accuracy=report.clean_accuracy,
            pnr_db=list(report.pnr_db),
            curves=curves,
            worst_case=list(report.worst_case),
            art=art,
            sweep=report.sweep,
            **kw,
        )

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SuiteResult:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def all_curves(self) -> dict[str, list[float]]:
        """The cascade worst case (first) and every attack's curve, by name."""
        return {WORST: self.worst_case, **self.curves}

    def metrics(self) -> dict[str, float]:
        """Flat MLflow metrics: clean accuracy, worst case and each curve per PNR."""
        out = {"clean_accuracy": self.clean_accuracy}
        for name, values in self.all_curves().items():
            for pnr, acc in zip(self.pnr_db, values):
                out[f"{name}.pnr{pnr:g}"] = acc
        return out


@dataclass(frozen=True)
class Finding:
    """One comparison outside its tolerance.

    ``check`` is ``baseline`` (less robust than the last passing nightly), ``attack_strength``
    (same model version, our attack found fewer adversarial examples than last time), ``art``
    (ours weaker than ART's twin on the same examples) or ``suite`` (the suite changed under the
    same version; no number is compared).
    """

    check: str
    curve: str
    pnr_db: float | None
    tonight: float
    reference: float
    tolerance: float
    note: str = ""

    def sentence(self) -> str:
        if self.check == "suite":
            return self.note
        at = f" at {self.pnr_db:g} dB PNR" if self.pnr_db is not None else ""
        delta = self.tonight - self.reference
        what = {
            "baseline": "robust accuracy fell below the last passing nightly",
            "attack_strength": "our attack got weaker on the same model version",
            "art": f"ours is weaker than ART's {self.note}",
        }[self.check]
        if self.curve == "clean":
            what = "clean accuracy fell below the last passing nightly"
        return (
            f"{self.curve}{at}: {what} ({self.tonight:.3f} vs {self.reference:.3f}, "
            f"{delta:+.3f}, tolerance {self.tolerance:.3f})"
        )


def _points(tonight: SuiteResult, baseline: SuiteResult):
    """(curve, pnr, tonight, baseline) over the curves and PNRs both results have."""
    base = baseline.all_curves()
    for name, values in tonight.all_curves().items():
        if name not in base:
            continue
        ref = dict(zip(baseline.pnr_db, base[name]))
        for pnr, acc in zip(tonight.pnr_db, values):
            if pnr in ref:
                yield name, pnr, acc, ref[pnr]


def compare(tonight: SuiteResult, baseline: SuiteResult | None, tolerances: Any) -> list[Finding]:
    """Every finding of ``tonight`` against ``baseline`` (None: the first nightly, ART only) and
    against ART; ``tolerances`` is a :class:`~amc_tf.config.nightly.Tolerances`."""
    findings: list[Finding] = []
    if baseline is not None and baseline.suite_digest != tonight.suite_digest:
        note = (
            f"the suite changed under version {tonight.suite_version!r} (digest {baseline.suite_digest} "
            f"-> {tonight.suite_digest}); bump suite_version to start a new baseline"
        )
        findings.append(Finding("suite", "suite", None, 0.0, 0.0, 0.0, note))
    elif baseline is not None:
        tol = tolerances.clean_accuracy
        if tonight.clean_accuracy < baseline.clean_accuracy - tol:
            findings.append(Finding("baseline", "clean", None, tonight.clean_accuracy, baseline.clean_accuracy, tol))
        same_version = tonight.version == baseline.version
        for name, pnr, acc, ref in _points(tonight, baseline):
            if acc < ref - tolerances.robust_accuracy:
                findings.append(Finding("baseline", name, pnr, acc, ref, tolerances.robust_accuracy))
            elif same_version and acc > ref + tolerances.attack_strength:
                findings.append(Finding("attack_strength", name, pnr, acc, ref, tolerances.attack_strength))
    for art_name, side in tonight.art.items():
        for pnr, theirs, ours in zip(side["pnr_db"], side["art"], side["ours"]):
            if ours > theirs + tolerances.art_margin:
                note = f"{art_name} on the same {side['n']} examples"
                findings.append(Finding("art", side["native"], pnr, ours, theirs, tolerances.art_margin, note))
    return findings


@dataclass(frozen=True)
class Verdict:
    """One model's nightly: tonight, the baseline it was compared with, and the findings."""

    tonight: SuiteResult
    baseline: SuiteResult | None
    baseline_run_id: str | None
    findings: list[Finding]
    run_id: str | None = None

    @property
    def passed(self) -> bool:
        return not self.findings


def regression_markdown(verdicts: list[Verdict], *, suite_version: str, alias: str) -> str:
    """The nightly report: one section per model, what regressed first."""
    failed = [v for v in verdicts if not v.passed]
    lines = [
        f"# Nightly robustness regression — suite {suite_version}, alias `{alias}`",
        "",
        f"**{'FAILED' if failed else 'PASSED'}**: {len(verdicts) - len(failed)} of {len(verdicts)} models pass.",
        "",
    ]
    for v in verdicts:
        t = v.tonight
        status = "passed" if v.passed else "**REGRESSED**"
        lines.append(f"## {t.model} v{t.version} — {status}")
        lines.append("")
        if v.baseline is None:
            lines.append("No passing nightly of this model and suite yet: tonight becomes the baseline.")
        else:
            lines.append(f"Baseline: v{v.baseline.version}, run `{v.baseline_run_id}`.")
        lines.append("")
        for f in v.findings:
            lines.append(f"- {f.sentence()}")
        if v.findings:
            lines.append("")
        header = ["curve", *(f"{p:g} dB" for p in t.pnr_db)]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        base = {} if v.baseline is None else v.baseline.all_curves()
        for name, values in t.all_curves().items():
            ref = base.get(name)
            cells = [
                f"{a:.3f}" + ("" if ref is None or i >= len(ref) else f" ({a - ref[i]:+.3f})")
                for i, a in enumerate(values)
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append(
            f"Clean accuracy {t.clean_accuracy:.3f} on {t.n_examples} examples; (±) is the change from the baseline."
        )
        lines.append("")
    return "\n".join(lines)


def regression_figure(verdicts: list[Verdict]):
    """One panel per model: tonight's curves (solid) over the baseline's (dashed); ART's baselines
    (x) beside our twin attack run alone on the same examples (+); regressed points circled in red."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(verdicts), figsize=(5.2 * len(verdicts), 4.2), squeeze=False)
    for ax, v in zip(axes[0], verdicts):
        t = v.tonight
        for i, (name, values) in enumerate(t.all_curves().items()):
            color = f"C{i}"
            ax.plot(t.pnr_db, values, "-", color=color, lw=2.2 if name == WORST else 1.4, label=name)
            if v.baseline is not None:
                ref = v.baseline.all_curves().get(name)
                if ref is not None:
                    ax.plot(v.baseline.pnr_db, ref, "--", color=color, lw=1.0, alpha=0.8)
        for j, (art_name, side) in enumerate(t.art.items()):
            color = f"C{j + 5}"
            ax.plot(side["pnr_db"], side["art"], "x", ms=7, color=color, label=f"ART {art_name} (alone)")
            ax.plot(side["pnr_db"], side["ours"], "+", ms=9, color=color, label=f"ours {side['native']} (alone)")
        for f in v.findings:
            if f.pnr_db is not None:
                ax.plot([f.pnr_db], [f.tonight], "o", ms=13, mfc="none", mec="red", mew=2)
        title = f"{t.model} v{t.version}: {'pass' if v.passed else 'REGRESSED'}"
        ax.set_title(title, color="black" if v.passed else "red")
        ax.set_xlabel("PNR (dB)")
        ax.set_ylabel("robust accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    fig.suptitle("Nightly robustness: tonight (solid) vs last passing nightly (dashed)")
    fig.tight_layout()
    return fig
