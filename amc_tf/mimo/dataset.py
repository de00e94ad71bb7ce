"""Sharded, resumable, parallel generation of the power-allocation dataset, and its loader.

A dataset is a directory::

    <dir>/spec.json             the generation spec (written first; a mismatch refuses to resume)
    <dir>/shard-00000.npz …     ``shard_size`` setups each, written atomically by the workers
    <dir>/manifest.json         written last: spec, shard list with sha256, fingerprint

Each shard has its own seed ``SeedSequence(seed, spawn_key=(split code, shard index))``, so the
content does not depend on the number of workers or on interruptions: a killed generation is
resumed by running it again, which skips every shard already on disk. Workers run in a
``ProcessPoolExecutor`` (fork context where available, one BLAS thread each), or anywhere else
through :func:`pending_shards` → :func:`generate_shard` per index → :func:`finish` (the ``mimo``
flow's Dask scale-out). Datasets are cached
through :mod:`amc_tf.cache`, keyed by the spec and by the source of the simulator
(:data:`DATASET_CODE`), so a changed simulator never reuses data made by older code.

Shard arrays (see :func:`amc_tf.mimo.simulate.simulate`): ``positions`` ``float64 [n, L, K, 2]``
metres; ``power_<P>`` ``float64 [n, L, K]`` mW per precoder P; optionally ``a_<P>``, ``b_<P>``.
The DNN view (references §8.1, ``transform_data_maxprod.m``): input = the 2·L·K coordinates
(x of every UE, then y); target of cell j = its K powers followed by their sum.

The writer (generate, pending_shards, generate_shard, finish) and the loader are one file because
they share the on-disk format (spec, shard names, manifest checksums) and must change together.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from amc_tf import cache
from amc_tf.config.base import Frozen
from amc_tf.config.mimo import GainsConfig, MimoSystemConfig, Precoder, precoder
from amc_tf.errors import DatasetError
from amc_tf.io import atomic_path, write_json
from amc_tf.mimo.geometry import features
from amc_tf.progress import Progress

FORMAT = "amc-tf-mimo-v1"

#: Modules whose source determines a dataset's content (the simulator and this module).
_SIMULATOR = ("geometry", "correlation", "channels", "gains", "toeplitz", "power", "simulate", "dataset")
DATASET_CODE: tuple[str, ...] = tuple(f"amc_tf.mimo.{name}" for name in _SIMULATOR)

#: Written last: a dataset directory is complete once it exists.
MANIFEST = "manifest.json"

# Workers only run NumPy: "fork" starts them at once and needs no ``__main__`` guard in the caller;
# "spawn" (elsewhere) re-imports TensorFlow in every worker.
_START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


class DatasetSpec(Frozen):
    """Everything that determines a dataset's content (its hash names the cache directory)."""

    system: MimoSystemConfig = MimoSystemConfig()
    gains: GainsConfig = GainsConfig()
    n_setups: int = Field(ge=1)
    shard_size: int = Field(default=2000, ge=1)
    seed: int = Field(default=0, ge=0)
    split: str = Field(default="train", min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    keep_gains: bool = False

    @property
    def n_shards(self) -> int:
        return -(-self.n_setups // self.shard_size)

    def shard_setups(self, index: int) -> int:
        return min(self.shard_size, self.n_setups - index * self.shard_size)

    def shard_seed(self, index: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(zlib.crc32(self.split.encode()), index))


@dataclass(frozen=True, eq=False)
class MimoDataset:
    """A loaded power-allocation dataset.

    Attributes:
        positions: ``float64 [N, L, K, 2]`` UE positions in metres.
        powers: Precoder → ``float64 [N, L, K]`` optimal max-product powers in mW.
        a, b: Precoder → hardening-bound terms (only if generated with ``keep_gains``).
        spec: The generation spec.
        manifest: The manifest dict.
    """

    positions: np.ndarray
    powers: dict[Precoder, np.ndarray]
    spec: DatasetSpec
    a: dict[Precoder, np.ndarray] = field(default_factory=dict)
    b: dict[Precoder, np.ndarray] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.positions.shape[0])

    def features(self) -> np.ndarray:
        """DNN input ``float32 [N, 2·L·K]`` in metres (x of every UE, then y)."""
        return features(self.positions)

    def targets(self, prec: Precoder | str, cell: int) -> np.ndarray:
        """Targets of cell ``cell``: ``float32 [N, K + 1]`` — the K powers (mW), then their sum."""
        p = self.power(prec)
        if not 0 <= cell < p.shape[1]:
            raise DatasetError(f"cell must lie in [0, {p.shape[1] - 1}], got {cell}")
        cell_p = p[:, cell, :]
        return np.concatenate([cell_p, cell_p.sum(axis=1, keepdims=True)], axis=1).astype(np.float32)

    def power(self, prec: Precoder | str) -> np.ndarray:
        prec = precoder(prec)
        if prec not in self.powers:
            raise DatasetError(f"dataset has no {prec.value} powers; it has {[p.value for p in self.powers]}")
        return self.powers[prec]

    def gains(self, prec: Precoder | str) -> tuple[np.ndarray, np.ndarray]:
        """``(a [N, L, K], b [N, L, K, L, K])`` float64 of a precoder (needs ``keep_gains``)."""
        prec = precoder(prec)
        if prec not in self.a:
            raise DatasetError(f"dataset was generated without gains for {prec.value} (set keep_gains)")
        return self.a[prec].astype(np.float64), self.b[prec].astype(np.float64)


def dataset_dir(cache_dir: str | Path, spec: DatasetSpec) -> Path:
    """The cache entry of a spec: ``<cache_dir>/mimo-<split>-<spec hash>-<simulator code digest>``."""
    return cache.entry_path(cache_dir, f"mimo-{spec.split}", spec, DATASET_CODE)


def is_complete(path: str | Path) -> bool:
    """True when ``path`` holds a finished dataset (its manifest is written)."""
    return cache.is_complete(path, MANIFEST)


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of a finished dataset (spec, shards with sha256, ``fingerprint``)."""
    manifest = Path(path) / MANIFEST
    if not manifest.is_file():
        raise DatasetError(f"{path} has no {MANIFEST}: the generation did not finish (run it again to resume)")
    return json.loads(manifest.read_text())


def generate(spec: DatasetSpec, out_dir: str | Path, *, workers: int = 1, progress: bool = True) -> Path:
    """Generate (or finish) a dataset; already written shards are kept.

    Args:
        spec: What to generate.
        out_dir: Dataset directory.
        workers: Worker processes (1 = in this process).
        progress: Report progress (setups) on stderr (:class:`amc_tf.progress.Progress`).

    Returns:
        ``out_dir``, complete with its manifest.

    Raises:
        DatasetError: ``out_dir`` holds a dataset of a different spec, or a shard is corrupt.
    """
    out = Path(out_dir)
    spec_json = spec.model_dump(mode="json")
    todo = pending_shards(spec, out)
    done_setups = spec.n_setups - sum(spec.shard_setups(i) for i in todo)
    if todo:
        label = f"mimo {spec.split}" + (f" (resumed after {done_setups} setups)" if done_setups else "")
        with Progress(label, spec.n_setups - done_setups, enabled=progress, unit="setups") as bar:
            if workers <= 1:
                for i in todo:
                    generate_shard(spec_json, i, str(out))
                    bar.update(spec.shard_setups(i))
            else:
                ctx = multiprocessing.get_context(_START_METHOD)
                with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_single_thread) as pool:
                    futures = {pool.submit(generate_shard, spec_json, i, str(out)): i for i in todo}
                    for fut in cf.as_completed(futures):
                        fut.result()
                        bar.update(spec.shard_setups(futures[fut]))
    _write_manifest(out, spec)  # every shard was just checked or written: no second read (finish)
    return out


def pending_shards(spec: DatasetSpec, out_dir: str | Path) -> list[int]:
    """Prepare ``out_dir`` for ``spec`` and return the indices of the shards still to compute.

    Writes ``spec.json`` (or checks it), removes temporary files a killed worker left, and keeps
    every complete shard. Each pending index is computed by :func:`generate_shard` on any machine
    that sees ``out_dir`` (the shard's seed depends only on the spec and the index); :func:`finish`
    then writes the manifest. :func:`generate` does all three with local worker processes.

    Raises:
        DatasetError: ``out_dir`` holds a dataset of a different spec.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spec_path = out / "spec.json"
    spec_json = spec.model_dump(mode="json")
    if spec_path.exists():
        if json.loads(spec_path.read_text()) != spec_json:
            raise DatasetError(f"{out} holds a dataset of another spec; use another directory")
    else:
        write_json(spec_path, spec_json)
    for stale in out.glob(".shard-*.tmp.npz"):  # left by a killed worker (SIGKILL skips cleanup)
        stale.unlink(missing_ok=True)
    return [i for i in range(spec.n_shards) if not _shard_ok(out, spec, i)]


def finish(spec: DatasetSpec, out_dir: str | Path) -> Path:
    """Write the manifest of a dataset whose shards are all on disk; returns ``out_dir``.

    Raises:
        DatasetError: a shard is missing or corrupt.
    """
    out = Path(out_dir)
    missing = [i for i in range(spec.n_shards) if not _shard_ok(out, spec, i)]
    if missing:
        raise DatasetError(f"{out}: shards {missing[:5]} of {spec.n_shards} are missing or incomplete")
    _write_manifest(out, spec)
    return out


def generate_shard(spec_json: dict[str, Any], index: int, out_dir: str, *, single_thread: bool = False) -> float:
    """Compute and atomically write shard ``index``; returns the seconds it took (worker entry).

    ``single_thread``: limit BLAS to one thread first (a worker process that is not this module's
    own pool, e.g. a Dask worker, where the processes are the parallelism)."""
    if single_thread:
        _single_thread()
    from amc_tf.mimo.simulate import simulate

    spec = DatasetSpec.model_validate(spec_json)
    start = time.perf_counter()
    arrays = simulate(
        spec.system, spec.gains, spec.shard_setups(index), spec.shard_seed(index), keep_gains=spec.keep_gains
    )
    with atomic_path(_shard_path(Path(out_dir), index), suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    return time.perf_counter() - start


def load(path: str | Path) -> MimoDataset:
    """Load a complete dataset directory (validated against its manifest).

    Raises:
        DatasetError: missing manifest (generation unfinished), missing/corrupt shards, bad values.
    """
    root = Path(path)
    manifest = read_manifest(root)
    if manifest.get("format") != FORMAT:
        raise DatasetError(f"{root} is not an {FORMAT} dataset")
    spec = DatasetSpec.model_validate(manifest["spec"])
    parts: dict[str, list[np.ndarray]] = {}
    for entry in manifest["shards"]:
        shard = root / entry["file"]
        if not shard.is_file() or _sha256(shard) != entry["sha256"]:
            raise DatasetError(f"shard {shard} is missing or does not match the manifest checksum")
        with np.load(shard, allow_pickle=False) as npz:
            for key in npz.files:
                parts.setdefault(key, []).append(npz[key])
    arrays = {key: np.concatenate(value) for key, value in parts.items()}
    _validate(arrays, spec)
    precs = spec.gains.precoders
    return MimoDataset(
        positions=arrays["positions"],
        powers={p: arrays[f"power_{p.value}"] for p in precs},
        a={p: arrays[f"a_{p.value}"] for p in precs if f"a_{p.value}" in arrays},
        b={p: arrays[f"b_{p.value}"] for p in precs if f"b_{p.value}" in arrays},
        spec=spec,
        manifest=manifest,
    )


def _single_thread() -> None:
    """Worker initialiser: one BLAS thread per process (the processes are the parallelism).

    ``threadpool_limits`` only reaches the BLAS libraries already loaded (SciPy bundles its own
    OpenBLAS beside NumPy's, loaded on first import), so the simulator is imported first: a library
    it loads later would keep one thread per core in every worker and oversubscribe the machine.
    """
    from threadpoolctl import threadpool_limits

    import amc_tf.mimo.simulate  # noqa: F401 - every BLAS the workers use is loaded before it is limited

    threadpool_limits(1)


def _shard_path(root: Path, index: int) -> Path:
    return root / f"shard-{index:05d}.npz"


def _shard_ok(root: Path, spec: DatasetSpec, index: int) -> bool:
    """A finished shard: present, readable, with the expected keys and number of setups."""
    path = _shard_path(root, index)
    if not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = set(npz.files)
            n = npz["positions"].shape[0]
    except Exception as err:  # noqa: BLE001 - any unreadable file is a corrupt shard
        raise DatasetError(f"shard {path} is unreadable ({err}); delete it to regenerate") from None
    want = {"positions"} | {f"power_{p.value}" for p in spec.gains.precoders}
    if not want <= keys or n != spec.shard_setups(index):
        raise DatasetError(f"shard {path} does not match the spec; delete it to regenerate")
    return True


def _write_manifest(root: Path, spec: DatasetSpec) -> None:
    shards = [
        {"file": _shard_path(root, i).name, "setups": spec.shard_setups(i), "sha256": _sha256(_shard_path(root, i))}
        for i in range(spec.n_shards)
    ]
    fingerprint = hashlib.sha256("".join(s["sha256"] for s in shards).encode()).hexdigest()
    write_json(
        root / MANIFEST,
        {
            "format": FORMAT,
            "spec": spec.model_dump(mode="json"),
            "spec_hash": spec.config_hash(),
            "n_setups": spec.n_setups,
            "shards": shards,
            "fingerprint": fingerprint,
        },
    )


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _validate(arrays: dict[str, np.ndarray], spec: DatasetSpec) -> None:
    n, sys = spec.n_setups, spec.system
    shape = (n, sys.n_cells, sys.ues_per_cell)
    if arrays["positions"].shape != shape + (2,):
        raise DatasetError(f"positions have shape {arrays['positions'].shape}, expected {shape + (2,)}")
    for key, value in arrays.items():
        if not np.isfinite(value).all():
            raise DatasetError(f"array {key!r} holds non-finite values")
        if key.startswith("power_") and (value.shape != shape or (value <= 0).any()):
            raise DatasetError(f"array {key!r} must be positive with shape {shape}")
