"""The one cache of expensive results: datasets, MIMO datasets and model sets, benchmark models
and flow stages (design D6).

An entry is named by *what* produced it and *with which code*: ``<namespace>-<config hash>-<code
digest>``. The config hash is the sha256 of the canonical JSON of the config (a
:class:`~amc_tf.config.base.Frozen` model, a mapping or a list of them); the code digest is the
sha256 of the source files of the modules that compute the entry. Editing either invalidates the
entry, so a rerun never silently reuses a result made by other settings or by older code, and an
unchanged rerun (or a resumed flow) skips the work.

Entries are files or directories written atomically (:func:`amc_tf.io.atomic_path`); a
directory entry counts as complete only once its marker file exists (:func:`is_complete`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from amc_tf.results import jsonable

#: Hex digits kept of each hash in an entry name.
HASH_DIGITS = 16


def config_hash(config: Any) -> str:
    """sha256 (first 16 hex digits) of the canonical JSON of ``config``.

    Args:
        config: A pydantic model, a mapping/list/tuple of JSON-able values and models, or a
            string (hashed as is).
    """
    payload = config if isinstance(config, str) else json.dumps(jsonable(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:HASH_DIGITS]


@functools.cache
def _module_files(name: str) -> tuple[Path, ...]:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ValueError(f"cache code digest: module {name!r} not found")
    origin = Path(spec.origin)
    if spec.submodule_search_locations:  # a package: every source file under it
        return tuple(sorted(p for p in origin.parent.rglob("*.py")))
    return (origin,)


def code_digest(modules: Iterable[str]) -> str:
    """sha256 (first 16 hex digits) of the source of ``modules`` (dotted names; a package
    counts with every ``.py`` file under it)."""
    digest = hashlib.sha256()
    for name in sorted(set(modules)):
        for path in _module_files(name):
            digest.update(path.as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:HASH_DIGITS]


def entry_name(namespace: str, config: Any, code: Iterable[str]) -> str:
    """``<namespace>-<config hash>-<code digest>``."""
    if not namespace or "/" in namespace:
        raise ValueError(f"cache namespace must be a non-empty name without '/', got {namespace!r}")
    return f"{namespace}-{config_hash(config)}-{code_digest(code)}"


def entry_path(root: str | Path, namespace: str, config: Any, code: Iterable[str], suffix: str = "") -> Path:
    """Path of the cache entry of ``config`` computed by ``code`` under ``root``.

    Args:
        root: Cache directory (e.g. ``.cache/datasets``).
        namespace: What the entry is (``rml2016``, ``mimo-train``, ``models-standard``, ...).
        config: Everything that determines the entry's content (see :func:`config_hash`).
        code: Modules whose source produces the entry (see :func:`code_digest`).
        suffix: File suffix (``.npz``) or ``""`` for a directory.
    """
    return Path(root) / f"{entry_name(namespace, config, code)}{suffix}"


#: Marker file of a complete directory entry.
MARKER = "index.json"


def is_complete(entry: str | Path, marker: str = MARKER) -> bool:
    """True when ``entry`` is a file, or a directory holding its ``marker`` file."""
    entry = Path(entry)
    return entry.is_file() or (entry / marker).is_file()


__all__ = ["MARKER", "code_digest", "config_hash", "entry_name", "entry_path", "is_complete"]
