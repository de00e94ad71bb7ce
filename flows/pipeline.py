"""Flow ``pipeline``: the whole chain in one MLflow parent run (:mod:`amc_tf.config.chain`).

data → teacher and f_S → Hinton KD (f_D) → Net-Trim (f_P) → TF-MOT (f_T) → TFLite size table →
clean comparison (the compress flow's stages) → adversarial training of f_S, f_D, f_P → robustness
of the six models (ART's twins on ``art_models``) → Fig. 4 and certification when configured → the
defence paper table (the defend flow's stages) → the claims report of this run. A child run per
stage, every stage through the stage cache: a rerun after a change re-executes only what the
change touches.
"""

from __future__ import annotations

import numpy as np
from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

from amc_tf.config.chain import ChainConfig
from amc_tf.evaluation.claims import ClaimsReport, RunEvidence, evaluate_claims
from amc_tf.evaluation.robustness_report import RobustnessReport
from amc_tf.results import PipelineResult
from amc_tf.tracking import runs
from flows.compress import CompressStages, compress_stages
from flows.defend import DefendStages, defend_stages

CONFIG = ChainConfig


def uap_minus_noise(report: RobustnessReport, uap: str = "uap_svd") -> float | None:
    """Mean over the PNR grid of (accuracy under the strongest noise control − accuracy under
    ``uap``), in points; None when the report lacks the UAP or a noise control."""
    names = {c.attack for c in report.curves if c.library == "native"}
    noises = sorted(n for n in names if n.startswith("noise_"))
    if uap not in names or not noises:
        return None
    noise = np.min([report.curve(n).accuracy for n in noises], axis=0)
    return float(100.0 * np.mean(noise - np.asarray(report.curve(uap).accuracy)))


@task(name="claims")
def claims_task(
    config: ChainConfig, compressed: CompressStages, defended: DefendStages, pid: str, out: str
) -> ClaimsReport:
    """The claims report from this run's own numbers (other papers' claims: not measured here)."""
    gap = uap_minus_noise(defended.reports["f_S"])
    extra = {} if gap is None else {"uap_minus_noise_f_S": gap}
    evidence = {**defended.table.metrics(), **compressed.headline(), **extra}
    with runs.child_run("claims", parent_run_id=pid):
        report = evaluate_claims({config.kind: RunEvidence(config.kind, pid, config.name, evidence)})
        runs.log_metrics({**extra, **report.metrics()})
        runs.log_text(report.markdown, "claims.md", local_dir=out)
        runs.log_text(report.html, "claims.html", local_dir=out)
        return report


@flow(name="pipeline", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=1))
def pipeline(config: ChainConfig) -> PipelineResult:
    """Run the whole chain for ``config``; return the parent run, headline numbers and models."""
    with runs.flow_run(config) as run:
        pid, out = run.run_id, str(run.output_dir)
        compressed = compress_stages(config.compress_config(), pid, out)
        sources = {role: compressed.models[role] for role in ("f_S", "f_D", "f_P")}
        defended = defend_stages(config, compressed.data, sources, pid, out, config.robustness_of)
        claims = claims_task(config, compressed, defended, pid, out)
        runs.log_text(claims.markdown, "claims.md")
        headline = {**compressed.headline(), **defended.headline(), **claims.metrics()}
        runs.log_metrics(headline)
    details = {
        "compress": compressed.details(),
        "defend": defended.details(config),
        "claims": claims.to_json(),
    }
    outputs = {**compressed.models, **defended.outputs()}
    return run.result(config.kind, headline, outputs=outputs, details=details)
