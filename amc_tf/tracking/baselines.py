"""The nightly's memory: the last passing nightly of a registered model under a suite version,
found by the tags every nightly child run carries (``nightly_model``, ``suite_version``,
``regression``) and read back from its ``nightly_result.json``."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from amc_tf.evaluation.regression import SuiteResult

#: Artifact of each per-model nightly run that later nights read as their baseline.
RESULT_ARTIFACT = "nightly_result.json"
PASSED, FAILED = "passed", "failed"


def tags_of(model: str, version: int, suite_version: str, digest: str) -> dict[str, str]:
    """The tags by which :func:`last_passing` finds a per-model nightly run (``regression`` is set
    when the verdict is known)."""
    return {
        "nightly_model": model,
        "model_version": str(version),
        "suite_version": suite_version,
        "suite_digest": digest,
    }


def last_passing(client, experiment_id: str, model: str, suite_version: str) -> tuple[str, SuiteResult] | None:
    """(run id, result) of the newest finished nightly of ``model`` under ``suite_version`` that
    passed, or None when there is none yet."""
    found = client.search_runs(
        [experiment_id],
        filter_string=(
            f"tags.nightly_model = '{model}' and tags.suite_version = '{suite_version}' "
            f"and tags.regression = '{PASSED}' and attributes.status = 'FINISHED'"
        ),
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not found:
        return None
    run_id = found[0].info.run_id
    with tempfile.TemporaryDirectory(prefix="amc-tf-baseline-") as tmp:
        path = client.download_artifacts(run_id, RESULT_ARTIFACT, tmp)
        return run_id, SuiteResult.from_json(json.loads(Path(path).read_text()))
