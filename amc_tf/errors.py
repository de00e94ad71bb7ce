"""Errors raised at the project's boundaries (configs, files, CLI arguments, attack settings).

Each carries a message that names the problem; the CLI turns any ``AmcError`` into one line on
stderr and a non-zero exit code instead of a traceback.
"""

from __future__ import annotations


class AmcError(Exception):
    """Base class of every error the project raises on purpose."""

    #: Exit code of the command line (2: the user can fix the input).
    exit_code = 2


class ConfigError(AmcError, ValueError):
    """A configuration file or value is invalid (unknown field, bad type, out of range)."""


class DatasetError(AmcError, ValueError):
    """A dataset file is unreadable, malformed, truncated, or holds invalid values."""


class UnsafePickleError(DatasetError):
    """A pickle tried to build an object outside the allow-list (nothing was executed)."""


class ModelError(AmcError, ValueError):
    """A model is unsuitable for the requested operation (e.g. outputs probabilities)."""


class AttackError(AmcError, ValueError):
    """An attack or budget parameter is invalid."""


class CheckFailed(AmcError):
    """A run finished but one of its own checks failed (e.g. a perturbation over its budget)."""

    exit_code = 3


class RegressionFailed(CheckFailed):
    """The nightly robustness regression found a model less robust than its baseline, or our
    attacks weaker than last night's or than ART's (the message names each finding)."""
