"""Every pipeline config as one discriminated union over ``kind``, and the one function that
loads a pipeline YAML into it.

A pipeline kind is added by writing its config (a :class:`~amc_tf.config.base.PipelineBase`
subclass with ``kind: Literal["..."]``), adding it to :data:`PipelineConfig`, and mounting its flow
in ``flows/__init__.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Union

from pydantic import Field

from amc_tf.config.base import read_yaml, validate_config
from amc_tf.config.chain import ChainConfig
from amc_tf.config.classifier import EvaluateRobustnessConfig, TrainClassifierConfig
from amc_tf.config.compress import CompressConfig
from amc_tf.config.defend import DefendConfig
from amc_tf.config.hybrid import HybridConfig
from amc_tf.config.mimo import MimoPipelineConfig
from amc_tf.config.nightly import NightlyConfig
from amc_tf.config.robust_distill import RobustDistillConfig
from amc_tf.errors import ConfigError

PIPELINES = (
    TrainClassifierConfig,
    EvaluateRobustnessConfig,
    CompressConfig,
    DefendConfig,
    HybridConfig,
    MimoPipelineConfig,
    ChainConfig,
    NightlyConfig,
    RobustDistillConfig,
)
#: Config class of each pipeline kind.
KINDS: dict[str, type] = {cls.model_fields["kind"].default: cls for cls in PIPELINES}

#: Any pipeline config (for type hints and pydantic fields that hold one).
PipelineConfig = Annotated[Union[PIPELINES], Field(discriminator="kind")]  # noqa: UP007


def config_class(kind: str) -> type:
    """The config class of ``kind`` (:class:`ConfigError` for an unknown kind)."""
    try:
        return KINDS[kind]
    except KeyError:
        raise ConfigError(f"unknown pipeline kind {kind!r}; known kinds: {sorted(KINDS)}") from None


def load_pipeline(path: str | Path, overrides: list[str] | None = None, *, kind: str | None = None):
    """Read a pipeline YAML (its ``kind`` picks the config class), apply ``overrides``
    (``section.field=value``) and validate it.

    Args:
        path: The YAML file.
        overrides: ``--set`` style overrides.
        kind: Require this kind (e.g. ``evaluate_robustness`` for ``amc-tf attack``).

    Raises:
        ConfigError: missing file, bad YAML, no or unknown ``kind``, a different kind than
            required, or any invalid field (named with its dotted path).
    """
    data, source = read_yaml(path, overrides)
    if not isinstance(data, dict) or "kind" not in data:
        raise ConfigError(f"config {path}: missing top-level 'kind' (one of {sorted(KINDS)})")
    cls = config_class(str(data["kind"]))
    if kind is not None and cls.model_fields["kind"].default != kind:
        raise ConfigError(f"config {path} is of kind {data['kind']!r}, but {kind!r} is needed here")
    return validate_config(cls, data, source)


def pipeline_from_dict(data: dict):
    """Validate a mapping with a ``kind`` into its pipeline config."""
    if not isinstance(data, dict) or "kind" not in data:
        raise ConfigError(f"a pipeline config needs a top-level 'kind' (one of {sorted(KINDS)})")
    return validate_config(config_class(str(data["kind"])), data)


__all__ = ["KINDS", "PIPELINES", "PipelineConfig", "config_class", "load_pipeline", "pipeline_from_dict"]
