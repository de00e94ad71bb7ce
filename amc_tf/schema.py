"""The base of every typed settings model: frozen, unknown keys rejected (style habit 5).

It sits below every package so that a component can declare its own settings model next to its
code (each attack declares its settings once, in its own module) while the config layer composes
those models into pipeline configs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Base of every config model: immutable, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    def config_hash(self) -> str:
        """sha256 (first 16 hex digits) of the canonical JSON of this config."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def flat(self, prefix: str = "") -> dict[str, Any]:
        """Flatten to ``{"data.seed": 1, ...}`` (MLflow params)."""
        return flatten(self.model_dump(mode="json"), prefix)


def flatten(tree: Any, prefix: str = "", sep: str = ".") -> dict[str, Any]:
    """The leaves of a nested mapping as ``{"a.b.c": leaf}`` (keys joined by ``sep``)."""
    out: dict[str, Any] = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            name = f"{prefix}{sep}{key}" if prefix else str(key)
            out.update(flatten(value, name, sep))
    else:
        out[prefix] = tree
    return out


__all__ = ["Frozen", "flatten"]
