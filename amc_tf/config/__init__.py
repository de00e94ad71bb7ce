"""Typed configuration models (pydantic, frozen, extra="forbid")."""

from amc_tf.config.base import Frozen, load_config, validate_config

__all__ = ["Frozen", "load_config", "validate_config"]
