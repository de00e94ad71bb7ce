"""Typed results passed between stages, to plots and to the tracker.

Every stage returns a frozen dataclass that subclasses :class:`Result`: it has ``.metrics()``
(flat ``{name: float}`` for MLflow) and ``.to_json()`` (a JSON-able dict for the run's artifacts
and for the next stage). :class:`PipelineResult` is what every flow returns and ``amc-tf run``
prints.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from amc_tf.schema import flatten


def jsonable(value: Any) -> Any:
    """``value`` with typed results, dataclasses, pydantic models, numpy values, enums and paths
    turned into JSON types."""
    if isinstance(value, Result):
        return value.to_json()
    if hasattr(value, "model_dump"):  # pydantic configs
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {
            (
                k.value if isinstance(k, Enum) else k if isinstance(k, (str, int, float, bool)) or k is None else str(k)
            ): jsonable(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


T = TypeVar("T")


def decode(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild the dataclass ``cls`` (nested dataclasses, lists, dicts, optionals) from its
    JSON form (:func:`jsonable` / ``to_json``); keys that are not fields (derived values such
    as a report's ``audit_ok``) are ignored."""
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    return cls(**{name: _decode_value(hints[name], value) for name, value in data.items() if name in fields})


def _decode_value(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return _decode_value(options[0], value) if len(options) == 1 else value
    if dataclasses.is_dataclass(tp):
        return decode(tp, value)
    if origin is list:
        return [_decode_value(args[0], v) for v in value] if args else list(value)
    if origin is tuple:
        return tuple(value)
    if origin is dict and args:
        return {k: _decode_value(args[1], v) for k, v in value.items()}
    return value


def flat_metrics(tree: Any, prefix: str = "") -> dict[str, float]:
    """Every finite number in a nested mapping as ``{"a_b_c": value}`` (booleans as 0/1)."""
    return {key: float(value) for key, value in flatten(tree, prefix, sep="_").items() if _finite_number(value)}


def _finite_number(value: Any) -> bool:
    numeric = isinstance(value, (bool, int, float, np.integer, np.floating, np.bool_))
    return numeric and math.isfinite(float(value))


@dataclasses.dataclass(frozen=True)
class Result:
    """Base of every typed stage result (subclasses are frozen dataclasses)."""

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON-able dict (field name → value)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def metrics(self) -> dict[str, float]:
        """Flat numeric metrics: every top-level number or boolean field (override for more)."""
        values = ((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))
        return {name: float(value) for name, value in values if _finite_number(value)}


@dataclasses.dataclass(frozen=True)
class PipelineResult(Result):
    """What a flow returns: where its record is and its headline numbers.

    Attributes:
        kind: Pipeline kind.
        run_id: The MLflow parent run.
        experiment: Its experiment.
        tracking_uri: The MLflow store.
        output_dir: Local folder of the run's files.
        wall_seconds: Wall-clock time of the flow.
        headline: The numbers a user looks at first (also logged on the parent run).
        outputs: Named paths or URIs the run produced (models, reports).
        details: Further JSON-able results (per-stage summaries).
    """

    kind: str
    run_id: str
    experiment: str
    tracking_uri: str
    output_dir: str
    wall_seconds: float
    headline: dict[str, float] = dataclasses.field(default_factory=dict)
    outputs: dict[str, str | None] = dataclasses.field(default_factory=dict)
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        return {**flat_metrics(self.headline), "wall_seconds": self.wall_seconds}


__all__ = ["PipelineResult", "Result", "decode", "flat_metrics", "jsonable"]
