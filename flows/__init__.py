"""Thin Prefect flows (design D6): each task is a child MLflow run, one stage call of the library
and the logging of its typed result. ``amc-tf run CONFIG`` validates the YAML into its pipeline
config (:func:`amc_tf.config.pipelines.load_pipeline`) and runs the flow of its ``kind`` in
Prefect's ephemeral mode (no server needed).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

# Prefect without a server: no telemetry (no network here), no API logging outside flows, and a
# generous start-up timeout for the temporary server on a loaded 2-core machine (design §4).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")

#: The flow of each pipeline kind (``module:function``).
FLOWS: dict[str, str] = {
    "train_classifier": "flows.train_classifier:train_classifier",
    "evaluate_robustness": "flows.evaluate_robustness:evaluate_robustness",
    "compress": "flows.compress:compress",
    "defend": "flows.defend:defend",
    "hybrid": "flows.hybrid:hybrid",
    "mimo": "flows.mimo:mimo",
    "pipeline": "flows.pipeline:pipeline",
    "nightly": "flows.nightly:nightly",
    "robust_distill": "flows.robust_distill:robust_distill",
}


def flow_for(kind: str) -> Any:
    """The Prefect flow of pipeline ``kind``."""
    from amc_tf.errors import ConfigError

    try:
        module_name, func_name = FLOWS[kind].split(":")
    except KeyError:
        raise ConfigError(f"unknown pipeline kind {kind!r}; known kinds: {sorted(FLOWS)}") from None
    return getattr(importlib.import_module(module_name), func_name)


def configured(flow: Any, config: Any, **options: Any) -> Any:
    """``flow`` with Prefect ``options``, and the task runner of ``config.scale_out`` when the config
    has one (its parallel tasks then run where the config says)."""
    scale_out = getattr(config, "scale_out", None)
    if scale_out is not None:
        options["task_runner"] = scale_out.task_runner_object()
    return flow.with_options(**options) if options else flow


def run_pipeline(config: Any) -> Any:
    """Run the flow of a validated pipeline config; returns its :class:`~amc_tf.results.PipelineResult`."""
    return configured(flow_for(config.kind), config)(config)


def run_config_file(path: str | Path, overrides: list[str] | None = None) -> Any:
    """Validate the YAML at ``path`` and run its flow."""
    from amc_tf.config.pipelines import load_pipeline

    return run_pipeline(load_pipeline(path, overrides))
