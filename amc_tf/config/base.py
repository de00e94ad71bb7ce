"""The pipeline base config, the tracking config and the YAML boundary (style habit 5).

YAML files only supply values; every field is declared on a pydantic model with
``extra="forbid"`` and ``frozen=True``. :func:`load_config` turns any validation problem into one
:class:`~amc_tf.errors.ConfigError` that names the file and the dotted field path, before any work
starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, Field, ValidationError

from amc_tf.errors import ConfigError
from amc_tf.schema import Frozen


class TrackingConfig(Frozen):
    """Where and how a flow records itself in MLflow (design D5).

    Attributes:
        experiment: MLflow experiment name (None = the pipeline kind).
        uri: Tracking URI. None = ``$MLFLOW_TRACKING_URI`` if set, else the embedded
            ``sqlite:///mlruns/mlflow.db`` store with artifacts under ``./mlruns``.
        register_models: Register the resulting models in the MLflow model registry.
        log_models: Log trained Keras models as MLflow artifacts.
    """

    experiment: str | None = Field(default=None, min_length=1)
    uri: str | None = Field(default=None, min_length=1)
    register_models: bool = True
    log_models: bool = True


class StageCacheConfig(Frozen):
    """Reuse of finished stages and resume of interrupted trainings (:mod:`amc_tf.stage_cache`).

    Attributes:
        enabled: Store each finished stage (training, distillation, pruning, attack sweeps) under
            its config hash and code digest and reuse it on a rerun with the same inputs; save a
            checkpoint every training epoch and resume from it. False recomputes everything.
        dir: Where entries and checkpoints live. None = ``<output_dir>/stage-cache``.
    """

    enabled: bool = True
    dir: str | None = Field(default=None, min_length=1)


class PipelineBase(Frozen):
    """What every pipeline config has (the flow is picked by ``kind``).

    Attributes:
        kind: The pipeline kind (each subclass narrows it to one literal).
        name: Run name; also the prefix of registered model names.
        seed: Root seed of the whole run (same config and seed, same numbers on CPU).
        tracking: Where and how the run is recorded in MLflow.
        output_dir: Local folder of the run's files (``<output_dir>/<parent run id>/``).
        cache: Reuse of finished stages and resume of interrupted trainings.
    """

    kind: str
    name: str = Field(default="pipeline", min_length=1)
    seed: int = Field(default=0, ge=0)
    tracking: TrackingConfig = TrackingConfig()
    output_dir: str = "artifacts"
    cache: StageCacheConfig = StageCacheConfig()

    @property
    def experiment(self) -> str:
        """The MLflow experiment (one per pipeline kind unless the config names one)."""
        return self.tracking.experiment or self.kind

    @property
    def stage_cache_dir(self) -> Path | None:
        """The stage cache folder, or None when the cache is off."""
        if not self.cache.enabled:
            return None
        return Path(self.cache.dir) if self.cache.dir else Path(self.output_dir) / "stage-cache"


M = TypeVar("M", bound=BaseModel)


def format_validation_error(err: ValidationError, source: str) -> str:
    lines = [f"invalid config {source}:"]
    for item in err.errors():
        loc = ".".join(str(p) for p in item["loc"]) or "<root>"
        msg = item["msg"]
        if item["type"] == "extra_forbidden":
            msg = "unknown field (typo?)"
        lines.append(f"  - {loc}: {msg}")
    return "\n".join(lines)


def validate_config(model: type[M], data: Any, source: str = "<dict>") -> M:
    """Validate a plain mapping into ``model`` or raise :class:`ConfigError`."""
    if not isinstance(data, dict):
        raise ConfigError(f"invalid config {source}: expected a mapping at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source)) from None


def apply_overrides(data: dict, overrides: list[str] | None) -> dict:
    """Apply ``["train.epochs=3", "data.synthetic.seed=1"]`` to a nested mapping (values are
    parsed as YAML scalars/lists). Returns a new dict."""
    import copy

    out = copy.deepcopy(data)
    for item in overrides or []:
        key, sep, text = item.partition("=")
        if not sep or not key or any(not part for part in key.split(".")):
            raise ConfigError(f"override {item!r} must look like section.field=value")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise ConfigError(f"override {item!r}: value is not valid YAML ({err})") from None
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a section")
            node = child
        node[leaf] = value
    return out


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping with the same key twice (YAML keeps the last one
    silently, so ``epochs: 3`` written twice would hide the first value)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str) -> Any:
    """Parse YAML text safely (no Python objects), refusing duplicate keys."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506  (a SafeLoader subclass)


def read_yaml(path: str | Path, overrides: list[str] | None = None) -> tuple[Any, str]:
    """Read a YAML file and apply ``overrides``; returns ``(data, source description)``.

    Raises:
        ConfigError: the file is missing or is not YAML, or an override is malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = parse_yaml(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from None
    data = data if data is not None else {}
    source = str(path)
    if overrides:
        if not isinstance(data, dict):
            raise ConfigError(f"invalid config {path}: expected a mapping at the top level")
        data = apply_overrides(data, overrides)
        source += f" (with overrides {overrides})"
    return data, source


def load_config(path: str | Path, model: type[M], overrides: list[str] | None = None) -> M:
    """Read a YAML file, apply ``overrides`` (``section.field=value``) and validate into ``model``.

    Raises:
        ConfigError: the file is missing, is not YAML, or does not validate (the message names
            the file and each offending field).
    """
    data, source = read_yaml(path, overrides)
    return validate_config(model, data, source)
