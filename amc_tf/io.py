"""Atomic file writing: a file either appears whole under its final name or not at all (D9).

Everything the project writes (datasets, models, reports, plots) goes through
:func:`atomic_path`: the caller writes to a temporary name in the same directory, and only a
successful exit renames it into place (``os.replace`` is atomic on POSIX). On error the temporary
file or directory is removed; if the process is killed instead, the temporary name (which carries
its pid) is removed by :func:`remove_stale_temps` when the next flow starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(final: str | Path, *, directory: bool = False, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``final``; rename it to ``final`` on success.

    Args:
        final: Destination path. Its parent is created if missing.
        directory: Yield a temporary *directory* (for SavedModels and the like).
        suffix: Suffix for the temporary name (some writers insist on an extension, e.g. ``.npz``).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".tmp", dir=final.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=f".{final.name}.{os.getpid()}.", suffix=f".tmp{suffix}", dir=final.parent)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        if directory and final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise


#: ``.<final name>.<pid>.<random>.tmp[suffix]``: the temporary names :func:`atomic_path` makes.
_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temps(root: str | Path) -> list[Path]:
    """Remove the temporary files and folders :func:`atomic_path` left under ``root`` when its
    process was killed (their names carry the writer's pid; a live writer's are kept)."""
    root = Path(root)
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for path in sorted(root.rglob(".*.tmp*")):
        match = _TEMP_NAME.match(path.name)
        if match is None or pid_alive(int(match.group(1))) or not path.exists():
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        removed.append(path)
    return removed


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically; returns the path."""
    with atomic_path(path, suffix=".json") as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")
    return Path(path)


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
