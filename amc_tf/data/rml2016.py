"""Safe loader for RML2016.10a (``RML2016.10a_dict.pkl``), references §1.1, design D9.

The file is a Python-2 ``cPickle`` (protocol 0) of a dict ``{(modulation: str, snr: int):
float32 [1000, 2, 128]}`` (row 0 = I, row 1 = Q; each window L1-normalised by the generator).
A pickle can name any importable callable and have it called, so the file is read only through
:class:`~amc_tf.data.safe_pickle.RestrictedUnpickler`, which admits exactly what numpy array
reconstruction needs (plain numeric dtypes, arrays filled from data of the exact length) within a
nesting and size budget, and refuses everything else *before* anything is called. After loading,
the dict is validated (keys, class names, shapes, dtypes, aliasing, finite values) and turned into an
:class:`~amc_tf.data.dataset.IQDataset` with the class order of the VT-CNN2 notebook
(``radioML/examples`` ``RML2016.10a_VTCNN2_example.ipynb``: the sorted names).

RML2016.10b (10 classes, 6000 windows per key) has the same layout and loads too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from amc_tf.data.dataset import IQDataset
from amc_tf.data.modulations import FAMILIES
from amc_tf.data.safe_pickle import RestrictedUnpickler, decoded_limit, safe_unpickle
from amc_tf.data.selection import check_selection
from amc_tf.errors import DatasetError

__all__ = [
    "RML2016_CLASSES",
    "RestrictedUnpickler",
    "file_sha256",
    "load_rml2016",
    "safe_unpickle",
    "validate_rml2016_dict",
]

#: The 11 RML2016.10a modulations in VT-CNN2's sorted order (class index = position): the one vocabulary.
RML2016_CLASSES: tuple[str, ...] = FAMILIES["rml2016"].names


def file_sha256(path: str | Path, *, block: int = 1 << 22) -> str:
    """sha256 hex digest of a file, read in 4 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def validate_rml2016_dict(obj: Any, *, name: str = "<pickle>", max_bytes: int | None = None) -> int:
    """Check an unpickled RML2016 dict; return the window length L.

    Args:
        obj: The unpickled object.
        name: File name used in messages.
        max_bytes: Bound on the summed size of all values (the loader passes
            :func:`~amc_tf.data.safe_pickle.decoded_limit` of the file size); None = no bound.

    Raises:
        DatasetError: not a dict, a key that is not ``(str, int)``, an unknown modulation name, a
            value that is not a float32 ``[n >= 1, 2, L]`` array, the same array (or memory) under
            two keys, values larger in total than ``max_bytes``, inconsistent L, or NaN/Inf.
    """
    if not isinstance(obj, dict):
        raise DatasetError(f"{name}: expected a dict {{(modulation, snr): array}}, got {type(obj).__name__}")
    if not obj:
        raise DatasetError(f"{name}: the dict is empty")
    window = None
    owners: dict[int, Any] = {}  # id of each value's memory owner -> its key
    total = 0
    for key, value in obj.items():
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str)
                and isinstance(key[1], int) and not isinstance(key[1], bool)):  # fmt: skip
            raise DatasetError(f"{name}: key {key!r} is not a (modulation: str, snr: int) tuple")
        if key[0] not in RML2016_CLASSES:
            raise DatasetError(
                f"{name}: unknown class name {key[0]!r} in key {key!r}; RML2016.10a classes are {list(RML2016_CLASSES)}"
            )
        if not isinstance(value, np.ndarray):
            raise DatasetError(f"{name}: value of {key!r} is a {type(value).__name__}, not a numpy array")
        if value.dtype != np.float32:
            raise DatasetError(f"{name}: value of {key!r} has dtype {value.dtype}, expected float32")
        if value.ndim != 3 or value.shape[0] < 1 or value.shape[1] != 2 or value.shape[2] < 1:
            raise DatasetError(f"{name}: value of {key!r} has shape {value.shape}, expected [n >= 1, 2, L]")
        owner = value if value.base is None else value.base
        if id(owner) in owners:
            raise DatasetError(
                f"{name}: value of {key!r} shares its array data with {owners[id(owner)]!r} (aliasing); "
                "each key must hold its own windows"
            )
        owners[id(owner)] = key
        total += value.nbytes
        if max_bytes is not None and total > max_bytes:
            raise DatasetError(f"{name}: the arrays hold more than {max_bytes} bytes, more than the file can carry")
        if window is None:
            window = value.shape[2]
        elif value.shape[2] != window:
            raise DatasetError(f"{name}: value of {key!r} has window length {value.shape[2]}, others have {window}")
        finite = np.isfinite(value).all(axis=(1, 2))
        if not finite.all():
            raise DatasetError(f"{name}: value of {key!r} holds NaN or Inf in {int((~finite).sum())} window(s)")
    return int(window)


def load_rml2016(
    path: str | Path,
    *,
    classes: Sequence[str] | None = None,
    snrs: Sequence[int] | None = None,
    max_per_key: int | None = None,
) -> IQDataset:
    """Load RML2016.10a safely as an :class:`IQDataset`.

    Args:
        path: The pickle (``RML2016.10a_dict.pkl`` or ``.dat``).
        classes: Modulations to keep; new class indices follow this order. None = all 11 in
            :data:`RML2016_CLASSES` order.
        snrs: SNR labels (dB) to keep; every one must be present in the file. None = all.
        max_per_key: At most this many windows per (class, SNR) key (the first ones); None = all.

    Returns:
        ``x float32 [N, 2, L]``, ``y int64 [N]``, ``snr int32 [N]`` (dB), rows ordered by class
        index then SNR; manifest ``{"source": "rml2016.10a", "file", "file_sha256", ...}``.

    Raises:
        UnsafePickleError: the pickle names anything but numpy-array reconstruction.
        DatasetError: unreadable file, malformed content, or an invalid selection.
    """
    path = Path(path)
    classes, snrs, max_per_key = check_selection(classes, snrs, max_per_key, RML2016_CLASSES, "RML2016.10a")
    if not path.is_file():
        raise DatasetError(f"RML2016 file not found: {path}")
    with open(path, "rb", buffering=1 << 22) as fh:
        obj = safe_unpickle(fh, name=str(path))
    window = validate_rml2016_dict(obj, name=str(path), max_bytes=decoded_limit(path.stat().st_size))

    out_classes = classes if classes is not None else RML2016_CLASSES
    present_snrs = sorted({snr for _, snr in obj})
    if snrs is not None:
        missing = [s for s in snrs if s not in present_snrs]
        if missing:
            raise DatasetError(f"{path}: SNR(s) {missing} dB not in the file; it has {present_snrs}")
    keys = sorted(
        (k for k in obj if k[0] in out_classes and (snrs is None or k[1] in snrs)),
        key=lambda k: (out_classes.index(k[0]), k[1]),
    )
    if not keys:
        raise DatasetError(f"{path}: no windows match classes={list(out_classes)} snrs={snrs}")
    blocks = [obj[k][:max_per_key] if max_per_key else obj[k] for k in keys]
    sizes = [len(b) for b in blocks]
    x = np.concatenate(blocks, axis=0) if len(blocks) > 1 else np.array(blocks[0])
    y = np.repeat(np.array([out_classes.index(k[0]) for k in keys], dtype=np.int64), sizes)
    snr = np.repeat(np.array([k[1] for k in keys], dtype=np.int32), sizes)
    manifest = {
        "source": "rml2016.10a",
        "file": path.name,
        "file_sha256": file_sha256(path),
        "window": window,
        "selection": {"classes": list(classes) if classes else None, "snrs": list(snrs) if snrs else None,
                      "max_per_key": max_per_key},
    }  # fmt: skip
    return IQDataset(np.ascontiguousarray(x, dtype=np.float32), y, snr, tuple(out_classes), manifest)
