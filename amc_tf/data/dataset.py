"""The project's on-disk and in-memory I/Q dataset (design D2).

``IQDataset`` holds

* ``x``: ``float32 [N, 2, L]`` — row 0 = I, row 1 = Q (RML2016.10a layout);
* ``y``: ``int64 [N]`` — class index into ``classes``;
* ``snr``: ``int32 [N]`` — the nominal SNR label in dB;
* ``classes``: tuple of class names (index = label);
* ``manifest``: JSON-able dict (generator config, seed, source file, ...).

On disk a dataset is one ``.npz`` (arrays ``x``, ``y``, ``snr``, ``classes``, ``manifest``) written
atomically. Its fingerprint is the sha256 of the array bytes and class names, so two files with the
same content share a fingerprint whatever their manifest says.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from amc_tf.errors import DatasetError
from amc_tf.io import atomic_path

_KEYS = ("x", "y", "snr", "classes", "manifest")
#: SNR labels (dB) a dataset may carry: RadioML spans -20..30; beyond ±100 dB a label is corrupt.
SNR_RANGE_DB = (-100, 100)


@dataclass(frozen=True, eq=False)
class IQDataset:
    """An I/Q classification dataset; see the module docstring for shapes and dtypes."""

    x: np.ndarray
    y: np.ndarray
    snr: np.ndarray
    classes: tuple[str, ...]
    manifest: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_arrays(self.x, self.y, self.snr, self.classes)
        # Canonical dtypes, so the fingerprint is the same before saving and after loading.
        if self.y.dtype != np.int64:
            object.__setattr__(self, "y", self.y.astype(np.int64))
        if self.snr.dtype != np.int32:
            object.__setattr__(self, "snr", self.snr.astype(np.int32))
        object.__setattr__(self, "classes", tuple(self.classes))

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def window(self) -> int:
        """Samples per window L."""
        return int(self.x.shape[2])

    @property
    def snrs(self) -> list[int]:
        """Sorted distinct SNR labels (dB)."""
        return sorted(int(s) for s in np.unique(self.snr))

    def fingerprint(self) -> str:
        """sha256 hex digest of the arrays and class names (content identity)."""
        h = hashlib.sha256()
        for arr in (self.x, self.y, self.snr):
            a = np.ascontiguousarray(arr)
            h.update(str(a.dtype).encode())
            h.update(str(a.shape).encode())
            h.update(a.tobytes())
        h.update("\x1f".join(self.classes).encode())
        return h.hexdigest()

    def subset(self, index: np.ndarray) -> IQDataset:
        """A new dataset with the rows ``index`` (int array or boolean mask)."""
        return IQDataset(self.x[index], self.y[index], self.snr[index], self.classes, dict(self.manifest))

    def select(self, classes: list[str] | None = None, snrs: list[int] | None = None) -> IQDataset:
        """Rows whose class name is in ``classes`` and SNR in ``snrs`` (None = all).

        Class indices are re-numbered to the order of ``classes`` when given.
        """
        mask = np.ones(len(self), dtype=bool)
        new_classes = self.classes
        y = self.y
        if classes is not None:
            unknown = [c for c in classes if c not in self.classes]
            if unknown:
                raise DatasetError(f"unknown class name(s) {unknown}; dataset has {list(self.classes)}")
            old_idx = [self.classes.index(c) for c in classes]
            mask &= np.isin(self.y, old_idx)
            remap = np.full(len(self.classes), -1, dtype=np.int64)
            remap[old_idx] = np.arange(len(classes))
            y = remap[self.y]
            new_classes = tuple(classes)
        if snrs is not None:
            mask &= np.isin(self.snr, np.asarray(snrs))
        return IQDataset(self.x[mask], y[mask], self.snr[mask], new_classes, dict(self.manifest))


def validate_arrays(x: np.ndarray, y: np.ndarray, snr: np.ndarray, classes: tuple[str, ...]) -> None:
    """Check shapes, dtypes, finiteness and label range; raise :class:`DatasetError` naming the problem."""
    if not isinstance(x, np.ndarray) or x.ndim != 3 or x.shape[1] != 2:
        raise DatasetError(f"x must be a float32 array [N, 2, L], got shape {getattr(x, 'shape', None)}")
    if x.dtype != np.float32:
        raise DatasetError(f"x must be float32, got {x.dtype}")
    n = x.shape[0]
    if not isinstance(y, np.ndarray) or y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise DatasetError(
            f"y must be an integer array [{n}], got {getattr(y, 'dtype', None)} {getattr(y, 'shape', None)}"
        )
    if not isinstance(snr, np.ndarray) or snr.shape != (n,) or not np.issubdtype(snr.dtype, np.integer):
        raise DatasetError(
            f"snr must be an integer array [{n}], got {getattr(snr, 'dtype', None)} {getattr(snr, 'shape', None)}"
        )
    if not classes or not all(isinstance(c, str) and c for c in classes):
        raise DatasetError("classes must be a non-empty tuple of names")
    if len(set(classes)) != len(classes):
        raise DatasetError(f"duplicate class names in {list(classes)}")
    if n and (y.min() < 0 or y.max() >= len(classes)):
        raise DatasetError(f"labels must lie in [0, {len(classes) - 1}], found [{y.min()}, {y.max()}]")
    low, high = SNR_RANGE_DB
    if n and (snr.min() < low or snr.max() > high):
        raise DatasetError(f"SNR labels must lie in [{low}, {high}] dB, found [{snr.min()}, {snr.max()}]")
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).any(axis=(1, 2)).sum())
        raise DatasetError(f"x holds NaN or Inf values in {bad} window(s)")


def save_dataset(ds: IQDataset, path: str | Path) -> Path:
    """Write ``ds`` to ``path`` (.npz) atomically; returns the path."""
    path = Path(path)
    manifest = dict(ds.manifest)
    manifest["fingerprint"] = ds.fingerprint()
    manifest["n"] = len(ds)
    manifest["classes"] = list(ds.classes)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                x=ds.x,
                y=ds.y.astype(np.int64),
                snr=ds.snr.astype(np.int32),
                classes=np.array(ds.classes),
                manifest=np.array(json.dumps(manifest, sort_keys=True)),
            )
    return path


def load_dataset(path: str | Path, *, verify: bool = True) -> IQDataset:
    """Read a dataset written by :func:`save_dataset`.

    Args:
        path: The ``.npz`` file.
        verify: Recompute the fingerprint and compare it with the manifest's.

    Raises:
        DatasetError: missing file, not an npz, missing keys, bad shapes/dtypes/values, or a
            fingerprint mismatch (the file was altered or truncated).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"dataset file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in _KEYS if k not in z.files]
            if missing:
                raise DatasetError(f"{path}: not an amc-tf dataset (missing arrays {missing})")
            x, y, snr = z["x"], z["y"], z["snr"]
            classes = tuple(str(c) for c in z["classes"].tolist())
            manifest = json.loads(str(z["manifest"]))
        if not isinstance(manifest, dict):
            raise DatasetError(f"{path}: its manifest is a JSON {type(manifest).__name__}, not a mapping")
    except DatasetError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, json.JSONDecodeError) as err:
        raise DatasetError(f"{path}: unreadable or truncated dataset file ({err})") from None
    ds = IQDataset(x, y, snr, classes, manifest)
    if verify and not manifest.get("fingerprint"):
        raise DatasetError(
            f"{path}: manifest has no fingerprint; re-create the file with amc-tf (data generate / data import)"
        )
    if verify and manifest["fingerprint"] != ds.fingerprint():
        raise DatasetError(f"{path}: content does not match its manifest fingerprint (file altered or corrupt)")
    return ds
