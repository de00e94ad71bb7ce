"""Thin Prefect flows (design D6). ``amc-tf run CONFIG`` reads the YAML's ``kind`` and runs the
registered flow in Prefect's ephemeral mode (no server needed).

Each flow module defines ``CONFIG`` (its typed pipeline config, with a ``kind`` field) and a
Prefect ``@flow`` function that takes that config and returns at least
``{"run_id": <parent MLflow run>, "experiment": <name>}``.
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

FLOWS: dict[str, str] = {
    "evaluate_robustness": "flows.evaluate_robustness:evaluate_robustness",
    "train_classifier": "flows.train_classifier:train_classifier",
    "compress": "flows.compress:compress",
    "mimo": "flows.mimo:mimo",
}


def load_flow(kind: str) -> tuple[Any, type]:
    """Return ``(flow_function, config_class)`` for a pipeline kind."""
    from amc_tf.errors import ConfigError

    try:
        target = FLOWS[kind]
    except KeyError:
        raise ConfigError(f"unknown pipeline kind {kind!r}; known kinds: {sorted(FLOWS)}") from None
    module_name, func_name = target.split(":")
    module = importlib.import_module(module_name)
    return getattr(module, func_name), module.CONFIG


def read_kind(path: str | Path) -> str:
    """The ``kind`` field of a pipeline YAML (ConfigError if missing)."""
    import yaml

    from amc_tf.errors import ConfigError

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from None
    if not isinstance(data, dict) or "kind" not in data:
        raise ConfigError(f"config {path}: missing top-level 'kind' (one of {sorted(FLOWS)})")
    return str(data["kind"])


def run_config_file(path: str | Path) -> dict[str, Any]:
    """Validate the YAML at ``path`` and run its flow; returns the flow's result dict."""
    from amc_tf.config.base import load_config

    flow_fn, config_cls = load_flow(read_kind(path))
    config = load_config(path, config_cls)
    return flow_fn(config)
