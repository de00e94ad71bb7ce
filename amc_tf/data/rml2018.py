"""Lazy loader for RadioML 2018.01A (``GOLD_XYZ_OSC.0001_1024.hdf5``), references §1.3.

The HDF5 file holds three datasets with the same row count N (2,555,904 in the real ~21 GB file):

* ``X``: ``float32 [N, 1024, 2]`` — time-major I/Q (last axis = [I, Q]);
* ``Y``: one-hot ``[N, 24]`` (int64) — class index = ``argmax(Y)`` in the *corrected* order
  :data:`RML2018_CLASSES` (the shipped ``classes.txt`` is wrong; torchsig
  ``torchsig/datasets/radioml.py`` "Class list corrected from classes.txt");
* ``Z``: ``int64 [N, 1]`` — the nominal SNR label in dB (-20, -18, ..., 30).

Rows are selected by ``argmax(Y)`` and ``Z`` (never by arithmetic on row numbers). Labels are
read in chunks of ``chunk_rows``; only the selected rows of ``X`` are read, in blocks of at most
:data:`X_BLOCK_ROWS` rows, so a selection of a few classes / SNRs never loads the whole file.
Windows are transposed to the project's ``[N, 2, L]`` layout (design D2). X, Y and Z must be
datasets stored in the file itself, holding the bytes their shapes claim
(:mod:`amc_tf.data.hdf5_checks`, design D9): no links, external storage or virtual datasets.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np

from amc_tf.data.dataset import IQDataset
from amc_tf.data.hdf5_checks import (
    LABEL_MAX_COMPRESSION,
    MAX_COMPRESSION,
    check_dataset_link,
    check_dataset_storage,
)
from amc_tf.data.modulations import FAMILIES
from amc_tf.data.selection import check_selection
from amc_tf.errors import DatasetError

#: RML2018.01A class names in the corrected order (class index = argmax of Y).
RML2018_CLASSES: tuple[str, ...] = FAMILIES["rml2018"].names

#: Rows of X read at once (4096 x 1024 x 2 float32 = 32 MiB).
X_BLOCK_ROWS = 4096


def _open(path: Path) -> h5py.File:
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise DatasetError(f"{path}: unreadable or truncated HDF5 file ({err})") from None


def _check_layout(f: h5py.File, path: Path) -> tuple[int, int]:
    """Check X/Y/Z links, storage, ranks, dtypes and row counts; return (N, L)."""
    found = {k: check_dataset_link(f, k, path) for k in ("X", "Y", "Z")}
    missing = [k for k, ds in found.items() if ds is None]
    if missing:
        raise DatasetError(
            f"{path}: missing HDF5 dataset(s) {missing}; RML2018.01A needs X, Y and Z (has {sorted(f.keys())})"
        )
    file_size = path.stat().st_size
    for name, ds in found.items():
        check_dataset_storage(
            ds, path, file_size, max_compression=MAX_COMPRESSION if name == "X" else LABEL_MAX_COMPRESSION
        )
    x, y, z = found["X"], found["Y"], found["Z"]
    if x.ndim != 3 or x.shape[2] != 2 or x.shape[1] < 1:
        raise DatasetError(f"{path}: X has shape {x.shape}, expected [N, L, 2] (time-major I/Q)")
    if x.dtype != np.float32:
        raise DatasetError(f"{path}: X has dtype {x.dtype}, expected float32")
    n = x.shape[0]
    if y.ndim != 2 or y.shape[1] != len(RML2018_CLASSES):
        raise DatasetError(f"{path}: Y has shape {y.shape}, expected one-hot [N, {len(RML2018_CLASSES)}]")
    if not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_):
        raise DatasetError(f"{path}: Y has dtype {y.dtype}, expected a numeric one-hot array")
    if z.ndim not in (1, 2) or (z.ndim == 2 and z.shape[1] != 1) or not np.issubdtype(z.dtype, np.integer):
        raise DatasetError(f"{path}: Z has {z.dtype} shape {z.shape}, expected integer SNRs [N, 1]")
    if not (y.shape[0] == z.shape[0] == n):
        raise DatasetError(f"{path}: row counts differ: X has {n}, Y has {y.shape[0]}, Z has {z.shape[0]}")
    if n == 0:
        raise DatasetError(f"{path}: the file holds no rows")
    return n, int(x.shape[1])


def _read_labels(f: h5py.File, path: Path, n: int, chunk_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Read Y and Z chunk by chunk; return (class index int64 [N], SNR int32 [N])."""
    labels = np.empty(n, dtype=np.int64)
    snr = np.empty(n, dtype=np.int32)
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        y = f["Y"][start:stop]
        hot = y == 1
        if not (((y == 0) | hot).all() and (hot.sum(axis=1) == 1).all()):
            bad = start + int(np.flatnonzero(~(((y == 0) | hot).all(axis=1) & (hot.sum(axis=1) == 1)))[0])
            raise DatasetError(f"{path}: Y is not one-hot (first bad row {bad}: {f['Y'][bad].tolist()})")
        labels[start:stop] = hot.argmax(axis=1)
        z = np.asarray(f["Z"][start:stop]).reshape(-1)
        if z.min() < np.iinfo(np.int32).min or z.max() > np.iinfo(np.int32).max:
            raise DatasetError(f"{path}: Z holds SNR values outside the int32 range")
        snr[start:stop] = z
    return labels, snr


def _select_rows(labels: np.ndarray, snr: np.ndarray, class_idx: np.ndarray | None,
                 snrs: tuple[int, ...] | None, max_per_key: int | None) -> np.ndarray:  # fmt: skip
    """Row indices (ascending) whose class / SNR are selected, at most ``max_per_key`` per key."""
    keep = np.ones(len(labels), dtype=bool)
    if class_idx is not None:
        keep &= np.isin(labels, class_idx)
    if snrs is not None:
        keep &= np.isin(snr, np.asarray(snrs))
    rows = np.flatnonzero(keep)
    if max_per_key is not None and len(rows):
        # Rank of each row within its (class, SNR) key, in file order (stable sort keeps order).
        key = labels[rows] * (1 << 32) + (snr[rows].astype(np.int64) - np.iinfo(np.int32).min)
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
        rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
        rows = np.sort(rows[order[rank < max_per_key]])
    return rows


def load_rml2018(
    path: str | Path,
    *,
    classes: Sequence[str] | None = None,
    snrs: Sequence[int] | None = None,
    max_per_key: int | None = None,
    chunk_rows: int = 65536,
) -> IQDataset:
    """Load (a selection of) RML2018.01A as an :class:`IQDataset`, reading lazily.

    Args:
        path: The HDF5 file.
        classes: Class names to keep (new indices follow this order); None = all 24 in
            :data:`RML2018_CLASSES` order.
        snrs: SNR labels (dB) to keep; every one must be present in the file. None = all.
        max_per_key: At most this many windows per (class, SNR) key, the first in file order.
        chunk_rows: Rows of Y/Z read at once.

    Returns:
        ``x float32 [N, 2, L]`` (transposed from the file's ``[N, L, 2]``), ``y int64 [N]``,
        ``snr int32 [N]`` (dB), rows in file order; manifest ``{"source": "rml2018.01a", ...}``.

    Raises:
        DatasetError: truncated/unreadable file, missing or mis-shaped X/Y/Z, X/Y/Z that are
            links, external or virtual, or claim more bytes than the file stores, row counts that
            differ, Y not one-hot, NaN/Inf in a selected window, or an invalid selection.
    """
    path = Path(path)
    classes, snrs, max_per_key = check_selection(classes, snrs, max_per_key, RML2018_CLASSES, "RML2018.01A")
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise DatasetError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    if not path.is_file():
        raise DatasetError(f"RML2018 file not found: {path}")
    out_classes = classes if classes is not None else RML2018_CLASSES
    with _open(path) as f:
        try:
            n, window = _check_layout(f, path)
            labels, snr = _read_labels(f, path, n, chunk_rows)
            if snrs is not None:
                present = set(np.unique(snr).tolist())
                missing = [s for s in snrs if s not in present]
                if missing:
                    raise DatasetError(f"{path}: SNR(s) {missing} dB not in the file; it has {sorted(present)}")
            class_idx = None if classes is None else np.array([RML2018_CLASSES.index(c) for c in classes])
            rows = _select_rows(labels, snr, class_idx, snrs, max_per_key)
            if not len(rows):
                raise DatasetError(f"{path}: no windows match classes={list(out_classes)} snrs={snrs}")
            x = _read_windows(f["X"], rows, window, path)
        except OSError as err:  # HDF5 raises OSError when a data block lies past a truncated end
            raise DatasetError(f"{path}: unreadable or truncated HDF5 file ({err})") from None
    remap = np.full(len(RML2018_CLASSES), -1, dtype=np.int64)
    remap[[RML2018_CLASSES.index(c) for c in out_classes]] = np.arange(len(out_classes))
    manifest = {
        "source": "rml2018.01a",
        "file": path.name,
        "file_size": path.stat().st_size,
        "window": window,
        "selection": {"classes": list(classes) if classes else None, "snrs": list(snrs) if snrs else None,
                      "max_per_key": max_per_key},
    }  # fmt: skip
    return IQDataset(x, remap[labels[rows]], snr[rows], tuple(out_classes), manifest)


def _read_windows(xds: h5py.Dataset, rows: np.ndarray, window: int, path: Path) -> np.ndarray:
    """Read ``X[rows]`` block by block into ``float32 [len(rows), 2, L]``, checking finiteness.

    Within each block of :data:`X_BLOCK_ROWS` file rows, one contiguous slice from the first to
    the last selected row is read (so long runs of selected rows cost one read), then masked.
    """
    try:
        out = np.empty((len(rows), 2, window), dtype=np.float32)
    except MemoryError:
        raise DatasetError(
            f"{path}: {len(rows)} windows of length {window} need {len(rows) * 8 * window} bytes, more than "
            "this machine can allocate; select fewer (classes, snrs, max_per_key)"
        ) from None
    block_of = rows // X_BLOCK_ROWS
    bounds = np.r_[0, np.flatnonzero(np.diff(block_of)) + 1, len(rows)]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        first, last = int(rows[lo]), int(rows[hi - 1])
        block = xds[first : last + 1][rows[lo:hi] - first]
        finite = np.isfinite(block).all(axis=(1, 2))
        if not finite.all():
            bad = rows[lo:hi][~finite]
            raise DatasetError(
                f"{path}: X holds NaN or Inf in {len(bad)} selected window(s), first at row {int(bad[0])}"
            )
        out[lo:hi] = block.transpose(0, 2, 1)
    return out
