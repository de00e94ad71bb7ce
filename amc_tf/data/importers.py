"""Import the public RadioML files into the project's dataset format, and describe datasets.

Two external formats are understood (references §1.1 and §1.3):

* **RML2016.10a** — a Python-2 pickle of ``{(mod, snr): float32 [n, 2, 128]}``, read only through
  the restricted unpickler of :mod:`amc_tf.data.safe_pickle` (design D9: plain numeric arrays,
  bounded nesting and decoded size);
* **RML2018.01A** — the HDF5 file with ``X [N, 1024, 2]``, one-hot ``Y [N, 24]`` and ``Z [N, 1]``,
  read lazily by :mod:`amc_tf.data.rml2018` once :mod:`amc_tf.data.hdf5_checks` has refused
  links, external storage, virtual datasets and shapes the file cannot hold.

The format is detected from the file's *content* (HDF5 signature, pickle opcodes), never from its
extension. :func:`import_file` writes the result with :func:`~amc_tf.data.dataset.save_dataset`,
which is atomic: a failed import leaves no output and no temporary file behind.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from amc_tf.data.dataset import IQDataset, load_dataset, save_dataset
from amc_tf.data.rml2016 import load_rml2016
from amc_tf.data.rml2018 import load_rml2018
from amc_tf.errors import ConfigError, DatasetError

#: The HDF5 superblock signature; it sits at offset 0 or 512 * 2**k (user block) of the file.
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
#: First opcode of a protocol-0/1 pickle: MARK, EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE or GLOBAL.
_PICKLE_TEXT_STARTS = (b"(", b"}", b"]", b")", b"c")
_ZIP_SIGNATURE = b"PK\x03\x04"


def detect_format(path: str | Path) -> str:
    """Tell an RML2016 pickle from an RML2018 HDF5 file by content.

    Returns:
        ``"rml2018"`` for an HDF5 file, ``"rml2016"`` for a pickle.

    Raises:
        DatasetError: missing, empty, or unrecognised file.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"input file not found: {path}")
    size = path.stat().st_size
    if size == 0:
        raise DatasetError(f"{path}: empty file")
    with open(path, "rb") as fh:
        head = fh.read(16)
        offset = 512
        hdf5 = head.startswith(HDF5_SIGNATURE)
        while not hdf5 and offset + len(HDF5_SIGNATURE) <= size and offset <= 512 * 2**10:
            fh.seek(offset)
            hdf5 = fh.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE
            offset *= 2
    if hdf5:
        return "rml2018"
    if (head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5) or head.startswith(_PICKLE_TEXT_STARTS):
        return "rml2016"
    if head.startswith(_ZIP_SIGNATURE):
        raise DatasetError(f"{path}: a zip/.npz file, not a RadioML file (use `amc-tf data info` on amc-tf datasets)")
    raise DatasetError(f"{path}: unrecognised format (neither an RML2016 pickle nor an RML2018 HDF5 file)")


def load_external(
    path: str | Path,
    *,
    classes: Sequence[str] | None = None,
    snrs: Sequence[int] | None = None,
    max_per_key: int | None = None,
) -> IQDataset:
    """Load an RML2016.10a pickle or RML2018.01A HDF5 file as an :class:`IQDataset` (format by content)."""

    loader = {"rml2016": load_rml2016, "rml2018": load_rml2018}[detect_format(path)]
    return loader(path, classes=classes, snrs=snrs, max_per_key=max_per_key)


def import_file(
    path: str | Path,
    out: str | Path,
    classes: Sequence[str] | None = None,
    snrs: Sequence[int] | None = None,
    max_per_key: int | None = None,
) -> Path:
    """Convert a RadioML file into an amc-tf ``.npz`` dataset (written atomically).

    Args:
        path: RML2016.10a pickle or RML2018.01A HDF5 file (detected by content).
        out: Destination ``.npz``; replaced only when the whole import succeeded.
        classes: Class names to keep (new indices follow this order); None = all of the source's.
        snrs: SNR labels (dB) to keep; None = all.
        max_per_key: At most this many windows per (class, SNR), in file order; None = all.

    Returns:
        The output path.

    Raises:
        ConfigError: the output path is not a ``.npz`` or is the input itself.
        DatasetError, UnsafePickleError: the input is malformed, unsafe, or the selection invalid.
    """
    path, out = Path(path), Path(out)
    if out.suffix != ".npz":
        raise ConfigError(f"output must be a .npz file, got {out}")
    if out.exists() and path.exists() and out.resolve() == path.resolve():
        raise ConfigError(f"output {out} is the input file itself")
    ds = load_external(path, classes=classes, snrs=snrs, max_per_key=max_per_key)
    return save_dataset(ds, out)


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of an amc-tf ``.npz`` without reading (or verifying) its arrays."""
    try:
        with np.load(path, allow_pickle=False) as z:
            manifest = json.loads(str(z["manifest"]))
    except (OSError, ValueError, KeyError) as err:
        raise DatasetError(f"{path}: no readable amc-tf manifest ({err})") from None
    if not isinstance(manifest, dict):
        raise DatasetError(f"{path}: its manifest is a JSON {type(manifest).__name__}, not a mapping")
    return manifest


def describe(path: str | Path) -> dict[str, Any]:
    """Summarise an amc-tf ``.npz`` dataset (its fingerprint is verified on the way).

    Returns:
        ``{"path", "n", "window", "classes": {name: count}, "snrs": [dB...],
        "snr_counts": {dB: count}, "fingerprint", "manifest"}``.

    Raises:
        DatasetError: not an amc-tf dataset (a raw RadioML file gets a hint to import it first),
            unreadable, or altered since it was written.
    """
    path = Path(path)
    if path.is_file():
        with open(path, "rb") as fh:
            head = fh.read(16)
        if not head.startswith(_ZIP_SIGNATURE):
            try:
                fmt = detect_format(path)
            except DatasetError:
                fmt = None
            hint = f" (it looks like an {fmt} file: run `amc-tf data import` first)" if fmt else ""
            raise DatasetError(f"{path}: not an amc-tf .npz dataset{hint}")
    ds = load_dataset(path)
    counts = np.bincount(ds.y, minlength=len(ds.classes)) if len(ds) else np.zeros(len(ds.classes), int)
    snr_values, snr_counts = np.unique(ds.snr, return_counts=True)
    return {
        "path": str(path),
        "n": len(ds),
        "window": ds.window,
        "classes": {name: int(c) for name, c in zip(ds.classes, counts, strict=True)},
        "snrs": [int(s) for s in snr_values],
        "snr_counts": {int(s): int(c) for s, c in zip(snr_values, snr_counts, strict=True)},
        "fingerprint": ds.fingerprint(),
        "manifest": ds.manifest,
    }
