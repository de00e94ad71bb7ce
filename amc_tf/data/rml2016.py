"""Safe loader for RML2016.10a (``RML2016.10a_dict.pkl``), references §1.1, design D9.

The file is a Python-2 ``cPickle`` (protocol 0) of a dict ``{(modulation: str, snr: int):
float32 [1000, 2, 128]}`` (row 0 = I, row 1 = Q; each window L1-normalised by the generator).
A pickle can name any importable callable and have it called, so the file is read only through
:class:`RestrictedUnpickler`, whose ``find_class`` admits exactly what numpy array
reconstruction needs and refuses everything else *before* anything is called. After loading, the
dict is validated (keys, class names, shapes, dtypes, finite values) and turned into an
:class:`~amc_tf.data.dataset.IQDataset` with the class order of the VT-CNN2 notebook
(``radioML/examples`` ``RML2016.10a_VTCNN2_example.ipynb``: the sorted names).

RML2016.10b (10 classes, 6000 windows per key) has the same layout and loads too.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from numpy._core.multiarray import _reconstruct as _np_reconstruct
from numpy._core.multiarray import scalar as _np_scalar

from amc_tf.data.dataset import IQDataset
from amc_tf.data.modulations import FAMILIES
from amc_tf.data.selection import check_selection
from amc_tf.errors import DatasetError, UnsafePickleError

#: The 11 RML2016.10a modulations in VT-CNN2's sorted order (class index = position): the one vocabulary.
RML2016_CLASSES: tuple[str, ...] = FAMILIES["rml2016"].names

_LATIN1 = frozenset({"latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1"})


def _latin1_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """Stand-in for ``_codecs.encode``, which Python 3 protocol 0-2 pickles use to store bytes."""
    if not isinstance(text, str) or str(encoding).lower() not in _LATIN1 or errors != "strict":
        raise UnsafePickleError(
            f"refused _codecs.encode({type(text).__name__}, {encoding!r}): only latin1 text is allowed"
        )
    return text.encode("latin1")


def _empty_bytes(*args: Any) -> bytes:
    """Stand-in for ``bytes``: Python 3 protocol 0-2 pickles store ``b""`` as a call ``bytes()``."""
    if args:
        raise UnsafePickleError(f"refused bytes{args!r}: only bytes() with no argument is allowed")
    return b""


def _plain_dtype(*args: Any) -> np.dtype:
    """Stand-in for ``numpy.dtype`` that refuses object dtypes (they can carry arbitrary objects)."""
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise UnsafePickleError(f"refused numpy dtype {dtype!r}: object arrays are not allowed")
    return dtype


def _reconstruct(subtype: Any, shape: Any, typecode: Any) -> np.ndarray:
    """Stand-in for ``numpy._core.multiarray._reconstruct`` that builds plain ndarrays only."""
    if subtype is not np.ndarray:
        raise UnsafePickleError(f"refused array subtype {subtype!r}: only numpy.ndarray is allowed")
    return _np_reconstruct(np.ndarray, shape, _plain_dtype(typecode))


def _frombuffer(buf: Any, dtype: np.dtype, shape: Any, order: str) -> np.ndarray:
    """Stand-in for ``numpy._core.numeric._frombuffer`` (protocol-5 arrays), plain dtypes only."""
    return np.frombuffer(buf, dtype=_plain_dtype(dtype)).reshape(shape, order=order)


def _numpy_scalar(dtype: np.dtype, *args: Any) -> Any:
    """Stand-in for ``numpy._core.multiarray.scalar`` (pickled numpy scalars), plain dtypes only."""
    return _np_scalar(_plain_dtype(dtype), *args)


#: (module, name) -> the callable handed to the unpickler. numpy moved ``numpy.core`` to
#: ``numpy._core`` in 2.0; Python-2 files name the old location.
ALLOWED_GLOBALS: dict[tuple[str, str], Callable[..., Any] | type] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _plain_dtype,
    ("_codecs", "encode"): _latin1_encode,
    ("__builtin__", "bytes"): _empty_bytes,
    ("builtins", "bytes"): _empty_bytes,
    **{(f"numpy.{core}.multiarray", "_reconstruct"): _reconstruct for core in ("core", "_core")},
    **{(f"numpy.{core}.multiarray", "scalar"): _numpy_scalar for core in ("core", "_core")},
    **{(f"numpy.{core}.numeric", "_frombuffer"): _frombuffer for core in ("core", "_core")},
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can only build numpy arrays, dicts, lists, tuples, strings and numbers.

    ``find_class`` is the only door through which a pickle reaches a callable (GLOBAL,
    STACK_GLOBAL, INST, OBJ and the extension registry all go through it), so refusing there
    means a refused object is never constructed and nothing it names is ever called.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refused to load global '{module}.{name}': the pickle may only hold numpy arrays, "
                "dicts, tuples, strings and numbers (nothing was executed)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"refused persistent id {pid!r} (nothing was executed)")


def safe_unpickle(fh: BinaryIO, *, name: str = "<pickle>") -> Any:
    """Unpickle ``fh`` with :class:`RestrictedUnpickler` (``encoding="latin1"`` for Python-2 files).

    Raises:
        UnsafePickleError: the pickle names a global outside the allow-list.
        DatasetError: not a pickle, or truncated.
    """
    try:
        return RestrictedUnpickler(fh, encoding="latin1").load()
    except UnsafePickleError as err:
        raise UnsafePickleError(f"{name}: {err}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            UnicodeDecodeError, MemoryError) as err:  # fmt: skip
        raise DatasetError(f"{name}: not a valid or complete pickle ({type(err).__name__}: {err})") from None


def file_sha256(path: str | Path, *, block: int = 1 << 22) -> str:
    """sha256 hex digest of a file, read in 4 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def validate_rml2016_dict(obj: Any, *, name: str = "<pickle>") -> int:
    """Check an unpickled RML2016 dict; return the window length L.

    Raises:
        DatasetError: not a dict, a key that is not ``(str, int)``, an unknown modulation name, a
            value that is not a float32 ``[n >= 1, 2, L]`` array, inconsistent L, or NaN/Inf.
    """
    if not isinstance(obj, dict):
        raise DatasetError(f"{name}: expected a dict {{(modulation, snr): array}}, got {type(obj).__name__}")
    if not obj:
        raise DatasetError(f"{name}: the dict is empty")
    window = None
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
    window = validate_rml2016_dict(obj, name=str(path))

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
