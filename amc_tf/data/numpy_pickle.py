"""What a numpy object in a pickle may look like: plain numeric dtypes and their state tuples,
array states whose data is a byte buffer (design D9).

numpy's own ``dtype.__setstate__`` trusts the byte order, item size, fields and flags it is
given (crafted flags make it report internal errors or worse), so the state tuple is checked
here, field by field, and only the canonical tuple of a plain dtype is ever passed on. Each check
raises :class:`~amc_tf.errors.UnsafePickleError` naming what was refused.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from amc_tf.errors import UnsafePickleError

#: Plain numeric dtype kinds and their admitted item sizes (bytes).
PLAIN_KINDS = {"b": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8), "c": (8, 16)}
_CODE = re.compile(r"[biufc][0-9]{1,2}")
_CODE = re.compile(r"[biufc][0-9]{1,2}")


def refuse(message: str) -> UnsafePickleError:
    """The error for a refused pickle construct: ``refused <message> (nothing was executed)``."""
    return UnsafePickleError(f"refused {message} (nothing was executed)")


def check_plain_dtype(dtype: Any) -> np.dtype:
    """Return ``dtype`` if it is a plain numeric numpy dtype, else raise :class:`UnsafePickleError`."""
    if not isinstance(dtype, np.dtype):
        raise refuse(f"dtype {dtype!r}: not a numpy dtype")
    if dtype.kind not in PLAIN_KINDS or dtype.itemsize not in PLAIN_KINDS[dtype.kind]:
        raise refuse(f"numpy dtype {dtype.str!r}: only bool, int, uint, float and complex dtypes are allowed")
    reference = np.dtype(dtype.str)
    if (dtype.fields is not None or dtype.subdtype is not None or dtype.metadata is not None or dtype.hasobject
            or dtype.flags != reference.flags or type(dtype) is not type(reference)):  # fmt: skip
        raise refuse(f"numpy dtype {dtype.str!r}: fields, sub-arrays, metadata or flags are not allowed")
    return dtype


def check_shape(shape: Any, what: str) -> tuple[int, ...]:
    if not (isinstance(shape, tuple) and len(shape) <= 32
            and all(type(n) is int and 0 <= n < 1 << 62 for n in shape)):  # fmt: skip
        raise refuse(f"{what} shape {shape!r}: expected a tuple of at most 32 non-negative integers")
    return shape


def raw_bytes(data: Any, what: str) -> bytes | bytearray:
    if isinstance(data, str):  # Python-2 str read with encoding="latin1"
        try:
            return data.encode("latin1")
        except UnicodeEncodeError:
            raise refuse(f"{what} data: text with characters beyond latin1") from None
    if type(data) not in (bytes, bytearray):
        raise refuse(f"{what} data of type {type(data).__name__}: expected a bytes buffer")
    return data


def check_flag(value: Any, what: str) -> bool:
    if type(value) not in (bool, int) or value not in (0, 1):
        raise refuse(f"{what} {value!r}: expected a boolean")
    return bool(value)


def new_dtype(code: Any, align: Any = False, copy: Any = True) -> np.dtype:
    """Stand-in for ``numpy.dtype(code, align, copy)``: a *private copy* of a plain numeric dtype,
    so that a later BUILD never touches numpy's shared descriptors."""
    if isinstance(code, bytes):
        code = code.decode("latin1")
    if not (isinstance(code, str) and _CODE.fullmatch(code)):
        raise refuse(f"numpy dtype {code!r}: only bool, int, uint, float and complex dtypes are allowed")
    check_flag(align, "dtype align")
    check_flag(copy, "dtype copy")
    try:
        dtype = np.dtype(code, align=False, copy=True)
    except TypeError:
        raise refuse(f"numpy dtype {code!r}: not a known dtype") from None
    return check_plain_dtype(dtype)


def dtype_state(dtype: np.dtype, state: Any) -> tuple:
    """The canonical ``__setstate__`` tuple for ``dtype`` if ``state`` is the plain one numpy writes:
    ``(3, byte order, None, None, None, -1, -1, 0)`` (version 4 adds metadata, which must be None)."""
    ok = (
        isinstance(state, tuple)
        and type(state[0] if state else None) is int
        and ((len(state) == 8 and state[0] == 3) or (len(state) == 9 and state[0] == 4 and state[8] is None))
    )
    if not ok or not (state[2] is None and state[3] is None and state[4] is None):
        raise refuse(f"dtype state {state!r}: sub-arrays, field names, fields or metadata are not allowed")
    endian, elsize, alignment, flags = state[1], state[5], state[6], state[7]
    endians = ("|",) if dtype.itemsize == 1 else ("<", ">")
    if not (type(endian) is str and endian in endians and all(type(v) is int for v in (elsize, alignment, flags))
            and (elsize, alignment, flags) == (-1, -1, 0)):  # fmt: skip
        raise refuse(
            f"dtype state {state!r} for {dtype.str!r}: expected byte order {' or '.join(endians)}, "
            "item size -1, alignment -1 and flags 0"
        )
    return (3, str(endian), None, None, None, -1, -1, 0)


def array_state(state: Any) -> tuple[tuple[int, ...], np.dtype, bool, bytes | bytearray]:
    """(shape, dtype, fortran, data) of an ndarray state ``(1, shape, dtype, fortran, data)``
    (or the old 4-tuple without the version), each checked; the data length is checked by the caller."""
    if isinstance(state, tuple) and len(state) == 5 and type(state[0]) is int and state[0] == 1:
        state = state[1:]
    if not (isinstance(state, tuple) and len(state) == 4):
        raise refuse(f"array state of type {type(state).__name__}: expected (1, shape, dtype, fortran, data)")
    shape, dtype = check_shape(state[0], "array"), check_plain_dtype(state[1])
    return shape, dtype, check_flag(state[2], "array fortran flag"), raw_bytes(state[3], "array")
