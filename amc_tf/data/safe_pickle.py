"""The one restricted unpickler for external pickles (RadioML 2016 files), design D9.

A pickle can name any importable callable and have it called, hand crafted state to
``numpy.dtype.__setstate__`` (which trusts its byte order, item size and flags and can crash the
interpreter), build arrays without data, or nest containers until the C stack overflows.
:class:`RestrictedUnpickler` therefore:

1. scans the opcode stream first (:func:`~amc_tf.data.pickle_scan.scan_pickle`): MARK and
   container nesting at most :data:`~amc_tf.data.pickle_scan.MAX_DEPTH`, no read past the file;
2. resolves globals through an allow-list of *stand-ins* (``find_class`` is the only door to a
   callable): numpy dtypes of plain numeric kinds only, arrays only from a data buffer whose
   length is exactly shape × itemsize, latin1 text → bytes, ``bytes()``;
3. applies a BUILD state only to a dtype or array it created itself and has not yet built, after
   checking the whole state tuple; APPEND/SETITEM/ADDITEMS only to a list/dict/set;
4. caps the bytes materialised (array data, encoded byte strings, and each array fetched again
   from the memo, i.e. aliased) at :func:`decoded_limit` of the file size.

Every refusal is an :class:`~amc_tf.errors.UnsafePickleError` naming what was refused; nothing
outside the stand-ins is ever called.
"""

from __future__ import annotations

import copyreg
import math
import pickle
from typing import Any, BinaryIO

import numpy as np
from numpy._core.multiarray import scalar as _np_scalar

from amc_tf.data.numpy_pickle import (
    array_state,
    check_plain_dtype,
    check_shape,
    dtype_state,
    new_dtype,
    raw_bytes,
    refuse,
)
from amc_tf.data.pickle_scan import BoundedReader, scan_pickle
from amc_tf.errors import DatasetError, UnsafePickleError

_LATIN1 = frozenset({"latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1"})
#: Budget charged for every object a stand-in creates (so a flood of tiny arrays is bounded too).
OBJECT_COST = 128


def decoded_limit(file_size: int) -> int:
    """Bytes a pickle of ``file_size`` bytes may materialise: 2 × its size + 1 MiB."""
    return 2 * file_size + (1 << 20)


class _NdarrayToken:
    """What ``numpy.ndarray`` resolves to: accepted by ``_reconstruct``; calling it is refused."""

    def __repr__(self) -> str:
        return "numpy.ndarray"

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise refuse("numpy.ndarray(...): arrays are only built by _reconstruct and filled from their data")


_NDARRAY = _NdarrayToken()


class RestrictedUnpickler(pickle._Unpickler):  # the pure-Python unpickler: BUILD and SETITEM can be checked
    """An unpickler that can only build numpy arrays of plain dtypes, dicts, lists, tuples, sets,
    strings and numbers, from a seekable file (it is scanned, then rewound and unpickled).

    Args:
        file: Binary file positioned at the start of the pickle.
        encoding: Encoding of Python-2 ``str`` objects (``"latin1"`` for numpy arrays).
        max_decoded: Byte budget; None = :func:`decoded_limit` of the bytes left in the file.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file: BinaryIO, *, encoding: str = "latin1", max_decoded: int | None = None) -> None:
        super().__init__(file, encoding=encoding)
        self._source = file
        self._max_decoded = max_decoded
        self._used = 0
        self._limit = 0
        self._unbuilt: dict[int, Any] = {}  # id -> dtype or array created here and not yet built
        self._globals = {
            ("numpy", "ndarray"): _NDARRAY,
            ("numpy", "dtype"): self._dtype,
            ("_codecs", "encode"): self._latin1_encode,
            ("__builtin__", "bytes"): _empty_bytes,
            ("builtins", "bytes"): _empty_bytes,
            **{(f"numpy.{core}.multiarray", "_reconstruct"): self._reconstruct for core in ("core", "_core")},
            **{(f"numpy.{core}.multiarray", "scalar"): self._scalar for core in ("core", "_core")},
            **{(f"numpy.{core}.numeric", "_frombuffer"): self._frombuffer for core in ("core", "_core")},
        }

    def load(self) -> Any:
        fh = self._source
        if not (hasattr(fh, "seekable") and fh.seekable()):
            raise DatasetError("the restricted unpickler needs a seekable file")
        start = fh.tell()
        size = fh.seek(0, 2) - start
        fh.seek(start)
        self._limit = decoded_limit(size) if self._max_decoded is None else self._max_decoded
        scan_pickle(BoundedReader(fh, size))
        fh.seek(start)
        reader = BoundedReader(fh, size)
        self._file_read, self._file_readline = reader.read, reader.readline
        return super().load()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._globals[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refused to load global '{module}.{name}': the pickle may only hold numpy arrays, "
                "dicts, tuples, strings and numbers (nothing was executed)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"refused persistent id {pid!r} (nothing was executed)")

    # --- budget ----------------------------------------------------------------------------

    def _charge(self, nbytes: int, what: str) -> None:
        self._used += nbytes + OBJECT_COST
        if self._used > self._limit:
            raise refuse(
                f"{what}: the pickle would materialise more than {self._limit} bytes (2 x file size + 1 MiB; "
                "an array reused from the memo counts each time it is reused)"
            )

    # --- stand-ins for the allowed globals ------------------------------------------------------

    def _dtype(self, code: Any, align: Any = False, copy: Any = True) -> np.dtype:
        dtype = new_dtype(code, align, copy)
        self._charge(0, "dtype")
        self._unbuilt[id(dtype)] = dtype
        return dtype

    def _reconstruct(self, subtype: Any, shape: Any, typecode: Any) -> np.ndarray:
        if subtype is not _NDARRAY:
            raise refuse(f"array subtype {subtype!r}: only numpy.ndarray is allowed")
        if (
            type(typecode) not in (bytes, str)
            or typecode not in (b"b", "b")
            or math.prod(check_shape(shape, "_reconstruct")) != 0
        ):
            raise refuse(
                f"_reconstruct(ndarray, {shape!r}, {typecode!r}): arrays are only built empty, then filled from data"
            )
        self._charge(0, "array")
        array = np.empty((0,), dtype=np.int8)
        self._unbuilt[id(array)] = array
        return array

    def _frombuffer(self, buf: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
        dtype, shape = check_plain_dtype(dtype), check_shape(shape, "_frombuffer")
        if type(buf) not in (bytes, bytearray) or type(order) is not str or order not in ("C", "F"):
            raise refuse(f"_frombuffer({type(buf).__name__}, order={order!r}): expected a bytes buffer, order C or F")
        self._check_length(buf, shape, dtype, "_frombuffer")
        return np.frombuffer(buf, dtype=dtype).reshape(shape, order=order)

    def _scalar(self, dtype: Any, data: Any = None) -> Any:
        dtype = check_plain_dtype(dtype)
        data = raw_bytes(data, "numpy scalar")
        self._check_length(data, (), dtype, "numpy scalar")
        return _np_scalar(dtype, bytes(data))

    def _latin1_encode(self, text: Any, encoding: Any = "utf-8", errors: Any = "strict") -> bytes:
        """Stand-in for ``_codecs.encode``, which Python 3 protocol 0-2 pickles use to store bytes."""
        if not isinstance(text, str) or str(encoding).lower() not in _LATIN1 or errors != "strict":
            raise refuse(f"_codecs.encode({type(text).__name__}, {encoding!r}): only latin1 text is allowed")
        self._charge(len(text), "_codecs.encode")
        return text.encode("latin1")

    def _check_length(self, data: bytes | bytearray, shape: tuple[int, ...], dtype: np.dtype, what: str) -> None:
        need = math.prod(shape) * dtype.itemsize
        if len(data) != need:
            raise refuse(
                f"{what}: {len(data)} bytes of data for shape {shape} of {dtype.str} (needs exactly {need} bytes)"
            )
        self._charge(need, what)

    # --- BUILD: set the state of a dtype or array created above ---------------------------------

    def _set_array_state(self, array: np.ndarray, state: Any) -> None:
        shape, dtype, fortran, data = array_state(state)
        self._check_length(data, shape, dtype, "array state")
        np.ndarray.__setstate__(array, (1, shape, dtype, fortran, data))

    def _load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if self._unbuilt.pop(id(inst), None) is not inst:
            raise refuse(f"BUILD on a {type(inst).__name__}: only a dtype or array being unpickled takes a state, once")
        if isinstance(inst, np.dtype):
            inst.__setstate__(dtype_state(inst, state))
            check_plain_dtype(inst)
        else:
            self._set_array_state(inst, state)

    dispatch[pickle.BUILD[0]] = _load_build

    # --- in-place container ops only on plain containers; memo reuse of arrays is charged ------

    def _target(self, kind: type, op: str) -> Any:
        target = self.stack[-1]
        if type(target) is not kind:
            raise refuse(f"{op} on a {type(target).__name__}: only a {kind.__name__} takes items")
        return target

    def _load_append(self) -> None:
        value = self.stack.pop()
        self._target(list, "APPEND").append(value)

    def _load_appends(self) -> None:
        items = self.pop_mark()
        self._target(list, "APPENDS").extend(items)

    def _load_setitem(self) -> None:
        value, key = self.stack.pop(), self.stack.pop()
        self._target(dict, "SETITEM")[key] = value

    def _load_setitems(self) -> None:
        items = self.pop_mark()
        target = self._target(dict, "SETITEMS")
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def _load_additems(self) -> None:
        items = self.pop_mark()
        self._target(set, "ADDITEMS").update(items)

    dispatch[pickle.APPEND[0]] = _load_append
    dispatch[pickle.APPENDS[0]] = _load_appends
    dispatch[pickle.SETITEM[0]] = _load_setitem
    dispatch[pickle.SETITEMS[0]] = _load_setitems
    dispatch[pickle.ADDITEMS[0]] = _load_additems

    def get_extension(self, code: int) -> None:
        """EXT1/2/4: always through :meth:`find_class` (never :mod:`copyreg`'s cache of past loads)."""
        key = copyreg._inverted_registry.get(code)
        if not key:
            raise refuse(f"extension code {code}: not registered")
        self.append(self.find_class(*key))

    def _charge_reuse(self) -> None:
        if isinstance(self.stack[-1], np.ndarray):
            self._charge(self.stack[-1].nbytes, "an array reused from the memo (aliasing)")


def _charging_reuse(load: Any) -> Any:
    def load_and_charge(self: RestrictedUnpickler) -> None:
        load(self)
        self._charge_reuse()

    return load_and_charge


for _op in (pickle.GET, pickle.BINGET, pickle.LONG_BINGET, pickle.DUP):
    RestrictedUnpickler.dispatch[_op[0]] = _charging_reuse(RestrictedUnpickler.dispatch[_op[0]])


def _empty_bytes(*args: Any) -> bytes:
    """Stand-in for ``bytes``: Python 3 protocol 0-2 pickles store ``b""`` as a call ``bytes()``."""
    if args:
        raise refuse(f"bytes{args!r}: only bytes() with no argument is allowed")
    return b""


def safe_unpickle(fh: BinaryIO, *, name: str = "<pickle>", max_decoded: int | None = None) -> Any:
    """Unpickle ``fh`` with :class:`RestrictedUnpickler` (``encoding="latin1"`` for Python-2 files).

    Raises:
        UnsafePickleError: a global outside the allow-list, a non-plain dtype, an array without
            matching data, nesting deeper than the bound, or more bytes than the budget.
        DatasetError: not a pickle, truncated, or inconsistent.
    """
    try:
        return RestrictedUnpickler(fh, encoding="latin1", max_decoded=max_decoded).load()
    except UnsafePickleError as err:
        raise UnsafePickleError(f"{name}: {err}") from None
    except DatasetError as err:
        raise DatasetError(f"{name}: {err}") from None
    except Exception as err:  # anything else the stand-ins or the unpickler raise: malformed input
        raise DatasetError(f"{name}: not a valid or complete pickle ({type(err).__name__}: {err})") from None
