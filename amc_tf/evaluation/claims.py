"""The claims report: every headline claim of the five papers beside our number, the config and
MLflow run that measured it, and a verdict.

A claim is measured by one pipeline kind. Its *evidence* is the flat metrics of the latest
finished run of that kind (parent-run metrics, plus those of its ``report`` and ``claims`` child
runs, where the per-claim evidence lives); :func:`evaluate_claims` turns evidence into rows, and
:func:`collect_evidence` reads it from an MLflow store. Verdicts:

* ``holds`` / ``does not hold`` — the claim's rule applied to our number. A rule checks the
  paper's *direction* (KD raises accuracy, AT raises robustness, CAT beats LS-GNA…), not the
  paper's exact number: the papers measured RML2016.10a and the public power-allocation models,
  our default runs measure synthetic data at reduced scale, so numbers differ and the row shows
  both.
* ``not measured`` — no finished run of the kind in the store, or the run lacks the metric.

Claims of MCformer-style attention distillation are listed as not measured until that pipeline
exists. Paper numbers are those of ``docs/references`` and the modules that reproduce them
(:mod:`amc_tf.defenses.defend_table`, :mod:`amc_tf.defenses.hybrid`).
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Mapping
from typing import Any

from amc_tf.results import Result

Evidence = Mapping[str, float]

HOLDS, FAILS, UNMEASURED = "holds", "does not hold", "not measured"


@dataclasses.dataclass(frozen=True)
class Claim:
    """One headline claim.

    Attributes:
        key: Stable identifier (the metric names of the report use it).
        paper: Which paper.
        statement: The claim, as the paper makes it.
        paper_value: The paper's number, as text.
        kinds: Pipeline kinds whose runs measure it (the first with a run is used).
        unit: Unit of our number.
        ours: Our number from a run's evidence (None when the evidence lacks it).
        rule: When our number supports the claim (text, shown in the report).
        holds: The rule.
    """

    key: str
    paper: str
    statement: str
    paper_value: str
    kinds: tuple[str, ...]
    unit: str
    ours: Callable[[Evidence], float | None]
    rule: str
    holds: Callable[[float], bool]


def _metric(name: str, scale: float = 1.0) -> Callable[[Evidence], float | None]:
    return lambda ev: None if name not in ev else scale * float(ev[name])


def _diff(a: str, b: str, scale: float = 100.0) -> Callable[[Evidence], float | None]:
    return lambda ev: None if a not in ev or b not in ev else scale * (float(ev[a]) - float(ev[b]))


def _best(suffix: str, prefix_part: str = "") -> Callable[[Evidence], float | None]:
    """The largest metric ending in ``suffix`` (and containing ``prefix_part``), in percent."""

    def measure(ev: Evidence) -> float | None:
        values = [float(v) for k, v in ev.items() if k.endswith(suffix) and prefix_part in k]
        return 100.0 * max(values) if values else None

    return measure


def _pair_gap(standard: str, adversarial: str, suffix: str) -> Callable[[Evidence], float | None]:
    """Largest (standard − adversarially trained) gap over the MIMO model sets, in points."""

    def measure(ev: Evidence) -> float | None:
        gaps = [
            100.0 * (float(v) - float(ev[k.replace(standard, adversarial)]))
            for k, v in ev.items()
            if k.endswith(suffix) and f"_{standard}_" in k and k.replace(standard, adversarial) in ev
        ]
        return max(gaps) if gaps else None

    return measure


AMC = "AMC compression + adversarial training (KD, Net-Trim, AT)"
HYB = "Hybrid training and rejection (CAT, LS-GNA, neural rejection)"
MIMO = "Adversarial attacks on massive-MIMO power allocation"
UAP = "PCA-based universal perturbations (Sadeghi & Larsson 2019)"
ATT = "Attention-based adversarial robust distillation (MCformer)"
_CLASSIFIER_KINDS = ("pipeline", "defend")
#: (rule, holds) pairs shared by several claims.
_POSITIVE = ("ours > 0", lambda v: v > 0.0)
_NON_NEGATIVE = ("ours ≥ 0", lambda v: v >= 0.0)
_TRUE = ("true", lambda v: v > 0.5)

CLAIMS: tuple[Claim, ...] = (
    Claim(
        "kd_raises_clean",
        AMC,
        "Hinton KD raises the student's clean accuracy (f_D over f_S, 10 dB)",
        "+4.66 pt (77.97 vs 73.31 %)",
        _CLASSIFIER_KINDS,
        "pt",
        _diff("clean_f_D", "clean_f_S", 1.0),
        *_POSITIVE,
    ),
    Claim(
        "nettrim_keeps_accuracy",
        AMC,
        "Net-Trim keeps the distilled student's accuracy (f_P vs f_D, 10 dB)",
        "−0.90 pt (77.07 vs 77.97 %)",
        _CLASSIFIER_KINDS,
        "pt",
        _diff("clean_f_P", "clean_f_D", 1.0),
        "ours ≥ −2 pt",
        lambda v: v >= -2.0,
    ),
    Claim(
        "at_clean_drop_least_f_D",
        AMC,
        "Adversarial training costs f_D the least clean accuracy",
        "2.36 pt (f_P 3.66, f_S 6.33)",
        _CLASSIFIER_KINDS,
        "bool",
        _metric("direction_clean_drop_least_f_D"),
        *_TRUE,
    ),
    Claim(
        "at_raises_pgd_f_S",
        AMC,
        "Adversarial training raises f_S's accuracy under PGD",
        "Fig. 3",
        _CLASSIFIER_KINDS,
        "bool",
        _metric("direction_at_raises_pgd_linf_f_S"),
        *_TRUE,
    ),
    Claim(
        "pgd_gain_f_D_adv",
        AMC,
        "Under PGD at 0 dB PNR, f_D^adv is above f_S^adv",
        "≈ +20 pt",
        _CLASSIFIER_KINDS,
        "pt",
        _metric("pgd_gain_f_D_adv"),
        *_POSITIVE,
    ),
    Claim(
        "pgd_gain_f_P_adv",
        AMC,
        "Under PGD at 0 dB PNR, f_P^adv is above f_S^adv",
        "≈ +20 pt",
        _CLASSIFIER_KINDS,
        "pt",
        _metric("pgd_gain_f_P_adv"),
        *_POSITIVE,
    ),
    Claim(
        "fgm_gain_f_D_adv",
        AMC,
        "Under FGM (mean over the PNR grid), f_D^adv is above f_S^adv",
        "≈ +12 pt",
        _CLASSIFIER_KINDS,
        "pt",
        _metric("fgm_gain_f_D_adv"),
        *_POSITIVE,
    ),
    Claim(
        "compression_ratio",
        AMC,
        "Net-Trim + gzip makes f_P much smaller than f_S",
        "(sparsity, not a ratio, in the paper)",
        ("pipeline", "compress"),
        "×",
        _metric("gzip_ratio_fP_over_fS"),
        "ours < 1",
        lambda v: v < 1.0,
    ),
    Claim(
        "uap_beats_noise",
        UAP,
        "The SVD universal perturbation lowers accuracy more than noise of the same power",
        "Fig. 3 (PSR −20…0 dB)",
        _CLASSIFIER_KINDS,
        "pt",
        _metric("uap_minus_noise_f_S"),
        *_POSITIVE,
    ),
    Claim(
        "cat_over_ls_gna",
        HYB,
        "CAT is more robust than LS-GNA (adaptive PGD, −10 dB PNR)",
        "+17 pt",
        ("hybrid",),
        "pt",
        _diff("cat.robust.pnr-10", "ls_gna.robust.pnr-10"),
        *_NON_NEGATIVE,
    ),
    Claim(
        "htrd_over_ls_gna_nr",
        HYB,
        "HTRD is more robust than LS-GNA + neural rejection (−10 dB PNR)",
        "+12 pt",
        ("hybrid",),
        "pt",
        _diff("htrd.robust.pnr-10", "ls_gna_nr.robust.pnr-10"),
        *_NON_NEGATIVE,
    ),
    Claim(
        "htrd_over_two_fold",
        HYB,
        "HTRD is more robust than the two-fold (auto-encoder) defence (−10 dB PNR)",
        "+30 pt",
        ("hybrid",),
        "pt",
        _diff("htrd.robust.pnr-10", "two_fold.robust.pnr-10"),
        *_NON_NEGATIVE,
    ),
    Claim(
        "htrd_clean",
        HYB,
        "HTRD keeps the clean accuracy of LS-GNA + NR",
        "78.7 vs 75.5 %",
        ("hybrid",),
        "pt",
        _diff("htrd.clean_accuracy", "ls_gna_nr.clean_accuracy"),
        "ours ≥ −2 pt",
        lambda v: v >= -2.0,
    ),
    Claim(
        "mimo_fgsm_success",
        MIMO,
        "FGSM on the UE positions makes the predicted allocation infeasible",
        "58–91 % of setups",
        ("mimo",),
        "%",
        _best("_fgsm_success", "_standard_"),
        "ours ≥ 58 %",
        lambda v: v >= 58.0,
    ),
    Claim(
        "mimo_at_lowers_success",
        MIMO,
        "Adversarial training lowers FGSM's success",
        "Fig. 6",
        ("mimo",),
        "pt",
        _pair_gap("standard", "adversarial", "_fgsm_success"),
        *_POSITIVE,
    ),
    Claim(
        "mcformer_att_distill",
        ATT,
        "The attention-distilled compact transformer beats plain KD under PGD",
        "(abstract only)",
        ("attention_distill",),
        "pt",
        _metric("att_over_kd_pgd"),
        *_POSITIVE,
    ),
)


@dataclasses.dataclass(frozen=True)
class RunEvidence:
    """The metrics of one run and where they come from."""

    kind: str
    run_id: str
    config: str
    metrics: dict[str, float]


@dataclasses.dataclass(frozen=True)
class ClaimsReport(Result):
    """Rows ``{key, paper, claim, paper_value, ours, unit, rule, verdict, kind, config, run_id}``."""

    rows: list[dict[str, Any]]

    def metrics(self) -> dict[str, float]:
        out = {f"claim_{r['key']}": r["ours"] for r in self.rows if r["ours"] is not None}
        out["claims_measured"] = float(sum(r["verdict"] != UNMEASURED for r in self.rows))
        out["claims_held"] = float(sum(r["verdict"] == HOLDS for r in self.rows))
        return out

    @property
    def markdown(self) -> str:
        head = "| paper | claim | paper's number | ours | rule | verdict | config | run |\n" + "|---" * 8 + "|\n"
        body = "".join(
            f"| {r['paper']} | {r['claim']} | {r['paper_value']} | {_fmt(r)} | {r['rule']} | {r['verdict']} | "
            f"{r['config'] or '—'} | {(r['run_id'] or '—')[:12]} |\n"
            for r in self.rows
        )
        return f"# Claims report\n\n{self.summary()}\n\n{head}{body}"

    @property
    def html(self) -> str:
        cells = ("paper", "claim", "paper_value", "ours", "rule", "verdict", "config", "run_id")
        rows = "".join(
            f'<tr class="{r["verdict"].replace(" ", "-")}">'
            + "".join(f"<td>{html.escape(_fmt(r) if c == 'ours' else str(r[c] or '—'))}</td>" for c in cells)
            + "</tr>\n"
            for r in self.rows
        )
        head = "".join(f"<th>{c.replace('_', ' ')}</th>" for c in cells)
        style = (
            "table{border-collapse:collapse;font-family:sans-serif;font-size:13px}td,th{border:1px solid #ccc;"
            "padding:4px}.holds td:nth-child(6){color:#070}.does-not-hold td:nth-child(6){color:#b00}"
            ".not-measured{color:#888}"
        )
        return (
            f"<!doctype html><html><head><meta charset='utf-8'><title>amc-tf claims report</title>"
            f"<style>{style}</style></head><body><h1>Claims report</h1><p>{html.escape(self.summary())}</p>"
            f"<table><tr>{head}</tr>\n{rows}</table></body></html>\n"
        )

    def summary(self) -> str:
        m = self.metrics()
        return f"{int(m['claims_held'])} of {int(m['claims_measured'])} measured claims hold ({len(self.rows)} listed)."


def _fmt(row: dict[str, Any]) -> str:
    value = row["ours"]
    if value is None:
        return "—"
    if row["unit"] == "bool":
        return "yes" if value > 0.5 else "no"
    return f"{value:+.2f} {row['unit']}" if row["unit"] == "pt" else f"{value:.3g} {row['unit']}"


def evaluate_claims(evidence: Mapping[str, RunEvidence], claims: tuple[Claim, ...] = CLAIMS) -> ClaimsReport:
    """Rows of ``claims`` from ``evidence`` (``{kind: RunEvidence}``); a claim reads the first of
    its kinds that has evidence."""
    rows = []
    for claim in claims:
        source = next((evidence[k] for k in claim.kinds if k in evidence), None)
        ours = claim.ours(source.metrics) if source is not None else None
        verdict = UNMEASURED if ours is None else (HOLDS if claim.holds(ours) else FAILS)
        rows.append(
            {
                "key": claim.key,
                "paper": claim.paper,
                "claim": claim.statement,
                "paper_value": claim.paper_value,
                "ours": ours,
                "unit": claim.unit,
                "rule": claim.rule,
                "verdict": verdict,
                "kind": source.kind if source else None,
                "config": source.config if source else None,
                "run_id": source.run_id if source else None,
            }
        )
    return ClaimsReport(rows)


#: Child runs whose metrics join their parent's as evidence.
EVIDENCE_CHILDREN = ("report", "claims")


def collect_evidence(client: Any, experiment_ids: list[str] | None = None) -> dict[str, RunEvidence]:
    """The latest finished parent run of every pipeline kind in the store (``client``: an
    ``MlflowClient``), with the metrics of its evidence children merged in."""
    if experiment_ids is None:
        experiment_ids = [e.experiment_id for e in client.search_experiments()]
    if not experiment_ids:
        return {}
    runs = client.search_runs(
        experiment_ids, filter_string="attributes.status = 'FINISHED'", order_by=["attributes.start_time DESC"]
    )
    out: dict[str, RunEvidence] = {}
    for run in runs:
        tags = run.data.tags
        kind = tags.get("pipeline_kind")
        if "mlflow.parentRunId" in tags or kind is None or kind in out:
            continue
        metrics = dict(run.data.metrics)
        children = client.search_runs(
            [run.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'"
        )
        for child in children:
            if child.data.tags.get("stage") in EVIDENCE_CHILDREN:
                metrics.update(child.data.metrics)
        out[kind] = RunEvidence(kind, run.info.run_id, run.info.run_name or "", metrics)
    return out


__all__ = ["CLAIMS", "Claim", "ClaimsReport", "RunEvidence", "collect_evidence", "evaluate_claims"]
