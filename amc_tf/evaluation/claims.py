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
from collections.abc import Mapping
from typing import Any

from amc_tf.evaluation.claims_catalogue import CLAIMS, FAILS, HOLDS, UNMEASURED, Claim
from amc_tf.results import Result


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


__all__ = [
    "CLAIMS",
    "FAILS",
    "HOLDS",
    "UNMEASURED",
    "Claim",
    "ClaimsReport",
    "RunEvidence",
    "collect_evidence",
    "evaluate_claims",
]
