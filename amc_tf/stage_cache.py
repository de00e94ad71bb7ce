"""Finished pipeline stages, stored and reused: a rerun with the same inputs skips the work.

A stage (a training, a distillation, a pruning, an attack sweep) is identified by a *key* — the
config sections it reads, the fingerprint of its data and the sha256 of the model files it
starts from — and by the *code* that computes it; :func:`amc_tf.cache.entry_path` names its entry
``<namespace>-<key hash>-<code digest>``. An entry is a directory written atomically: the
stage's output files (a ``.keras`` model, ...) and ``index.json`` with the stage's typed record.
On a hit the files are copied to where this run expects them and the record is rebuilt
(:func:`amc_tf.results.decode`) with those paths, so the run's folder and MLflow record are
complete either way and say ``stage_cache=hit``.

Trainings also get a checkpoint folder beside their entry (``<entry>.ckpt``, see
:mod:`amc_tf.training.checkpoint`): a killed training resumes from its last epoch, and the
checkpoint is deleted once the entry is stored.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from amc_tf.cache import MARKER, entry_path, is_complete
from amc_tf.io import atomic_path
from amc_tf.progress import say
from amc_tf.results import jsonable

R = TypeVar("R")


def file_sha256(path: str | Path) -> str:
    """sha256 of a file (the identity of a model a stage starts from)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Stage:
    """One cacheable stage.

    Attributes:
        namespace: What the stage is (``train-f_S``, ``distill``, ``robustness``, ...).
        key: Everything that determines its result (config sections, data fingerprint, the
            sha256 of input models, the seed).
        code: Modules whose source computes it (dotted names; packages count whole).
    """

    namespace: str
    key: dict[str, Any]
    code: tuple[str, ...]


@dataclass(frozen=True)
class StageCache:
    """The stage cache of one pipeline run (``root`` None: caching and checkpoints off)."""

    root: Path | None

    def entry(self, stage: Stage) -> Path | None:
        return None if self.root is None else entry_path(self.root, stage.namespace, stage.key, stage.code)

    def checkpoint_dir(self, stage: Stage) -> Path | None:
        """Where a training stage keeps its per-epoch checkpoints (None when off)."""
        entry = self.entry(stage)
        return None if entry is None else entry.with_name(entry.name + ".ckpt")

    def run(
        self,
        stage: Stage,
        outputs: dict[str, str | Path],
        compute: Callable[[], R],
        decode: Callable[[dict[str, Any]], R],
    ) -> tuple[R, bool]:
        """The stage's record, from the cache or by running ``compute``.

        Args:
            stage: The stage's identity.
            outputs: The files the stage writes, by name (``{"model": ".../f_D.keras"}``);
                stored with the entry and, on a hit, copied back to these paths.
            compute: Runs the stage (writing ``outputs``) and returns its typed record.
            decode: Rebuilds the record from its JSON (on a hit); the paths in it are those
                of ``outputs``.

        Returns:
            ``(record, hit)``.
        """
        entry = self.entry(stage)
        if entry is not None and is_complete(entry):
            record = self._restore(entry, outputs, decode)
            if record is not None:
                say(stage.namespace, f"reused from the stage cache ({entry.name})")
                return record, True
        record = compute()
        if entry is not None:
            self._store(entry, stage, outputs, record)
            ckpt = self.checkpoint_dir(stage)
            if ckpt is not None:
                shutil.rmtree(ckpt, ignore_errors=True)
        return record, False

    @staticmethod
    def _store(entry: Path, stage: Stage, outputs: dict[str, str | Path], record: Any) -> None:
        with atomic_path(entry, directory=True) as tmp:
            for name, path in outputs.items():
                shutil.copyfile(path, tmp / name)
            index = {"namespace": stage.namespace, "key": jsonable(stage.key), "record": jsonable(record)}
            (tmp / MARKER).write_text(json.dumps(index, indent=1))

    @staticmethod
    def _restore(entry: Path, outputs: dict[str, str | Path], decode: Callable[[dict[str, Any]], R]) -> R | None:
        try:
            index = json.loads((entry / MARKER).read_text())
            for name in outputs:
                if not (entry / name).is_file():
                    raise FileNotFoundError(entry / name)
            record = decode(index["record"])
        except (OSError, ValueError, KeyError, TypeError) as exc:  # damaged entry: recompute it
            say("cache", f"ignoring damaged stage cache entry {entry.name}: {exc}")
            return None
        for name, path in outputs.items():
            with atomic_path(path, suffix=Path(path).suffix) as tmp:
                shutil.copyfile(entry / name, tmp)
        return record


def stage(namespace: str, key: dict[str, Any], code: Iterable[str]) -> Stage:
    """A :class:`Stage` (``code`` sorted, so the digest does not depend on the order given)."""
    return Stage(namespace, key, tuple(sorted(set(code))))


__all__ = ["Stage", "StageCache", "file_sha256", "stage"]
