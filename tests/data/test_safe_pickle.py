"""Hostile pickles, crafted opcode by opcode: each is refused with a message naming the problem.

Cases that crash or exhaust an unguarded interpreter run in a subprocess with a timeout, so a
segfault fails the test instead of killing pytest.
"""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from amc_tf.data.pickle_scan import MAX_DEPTH, BoundedReader, scan_pickle
from amc_tf.data.rml2016 import load_rml2016, safe_unpickle
from amc_tf.errors import DatasetError, UnsafePickleError

RECONSTRUCT = b"cnumpy.core.multiarray\n_reconstruct\n"
EMPTY_ARRAY = RECONSTRUCT + b"(cnumpy\nndarray\n(I0\ntS'b'\ntR"
DTYPE_STATE = b"(I3\nS'<'\nNNNI-1\nI-1\nI0\nt"


def dtype_ops(code: bytes = b"f4", state: bytes | None = DTYPE_STATE, copy: bytes = b"I01") -> bytes:
    """``numpy.dtype(code, False, copy)`` then BUILD with ``state`` (protocol-0 text opcodes)."""
    return b"cnumpy\ndtype\n(S'" + code + b"'\nI00\n" + copy + b"\ntR" + (state + b"b" if state else b"")


def array_ops(shape: tuple[int, ...], data: bytes, dtype: bytes | None = None) -> bytes:
    """An ndarray the way numpy pickles it: ``_reconstruct`` then BUILD (1, shape, dtype, False, data).

    ``data`` is the opcode text of the data argument (e.g. ``S'...'`` or a memo ``g1``).
    """
    dims = b"".join(b"I%d\n" % n for n in shape)
    return EMPTY_ARRAY + b"(I1\n(" + dims + b"t" + (dtype or dtype_ops()) + b"I00\n" + data + b"\ntb"


def py2_str(raw: bytes) -> bytes:
    return b"S" + repr(raw)[1:].encode("ascii")


def unpickle(raw: bytes):
    return safe_unpickle(io.BytesIO(raw))


def run_isolated(raw: bytes, tmp_path, *, timeout: float = 120) -> str:
    """Load ``raw`` with ``load_rml2016`` in a fresh interpreter; return ``"<ErrorType>: message"``.

    Fails the test if the interpreter crashes (segfault, abort) or hangs.
    """
    path = tmp_path / "hostile.pkl"
    path.write_bytes(raw)
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # an allocation bomb fails fast
        from amc_tf.data.rml2016 import load_rml2016
        try:
            load_rml2016({str(path)!r})
        except Exception as err:
            print(f"{{type(err).__name__}}: {{err}}")
        else:
            print("LOADED")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"interpreter died (rc={proc.returncode}): {proc.stderr[-2000:]}"
    return proc.stdout.strip()


# --- nesting: refused by the opcode scan before any object is built ------------------------------


def test_deep_tuple_key_is_refused_without_crashing(tmp_path):
    # 200,000 nested 1-tuples (1 byte per level) as a dict key: hashing it overflows the C stack.
    raw = b"\x80\x02}" + b")" + b"\x85" * 200_000 + b"K\x01s."
    out = run_isolated(raw, tmp_path)
    assert out.startswith("UnsafePickleError") and f"nests deeper than {MAX_DEPTH} levels" in out


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        (b"(" * 100_000 + b"t" * 100_000 + b".", "MARK nests deeper"),
        (b"\x80\x02" + b"]" * 1000 + b"a" * 999 + b".", "a container nests deeper"),  # lists via APPEND
    ],
)
def test_deep_marks_and_lists_are_refused(raw, what):
    with pytest.raises(UnsafePickleError, match=what):
        unpickle(raw)


def test_containers_grown_through_memo_aliases_are_refused():
    # Lists chained by fetching both ends from the memo: no depth visible when each APPEND runs.
    chain = b"\x80\x02" + b"".join(b"]r%s" % i.to_bytes(4, "little") for i in range(1000))
    chain += b"".join(b"j%sj%sa0" % (i.to_bytes(4, "little"), (i + 1).to_bytes(4, "little")) for i in range(999))
    with pytest.raises(UnsafePickleError, match="refused APPEND at byte .* on an object fetched again from the memo"):
        unpickle(chain + b"j\x00\x00\x00\x00.")


def test_real_format_nesting_is_far_below_the_bound():
    from tests.data.test_rml2016 import py2_pickle, tiny_dict

    for raw in (py2_pickle(tiny_dict()), pickle.dumps(tiny_dict(), protocol=2), pickle.dumps(tiny_dict(), protocol=5)):
        assert scan_pickle(BoundedReader(io.BytesIO(raw), len(raw))) <= 8


# --- arrays without data, data of the wrong length ---------------------------------------------------


def test_reconstruct_of_a_big_shape_without_data_is_refused(tmp_path):
    raw = RECONSTRUCT + b"(cnumpy\nndarray\n(I20000\nI10000\ntS'b'\ntR."  # 200 MB from 80 bytes
    out = run_isolated(raw, tmp_path)
    assert out.startswith("UnsafePickleError") and "arrays are only built empty, then filled from data" in out


def test_calling_ndarray_directly_is_refused():
    with pytest.raises(UnsafePickleError, match=r"numpy\.ndarray\(\.\.\.\): arrays are only built by _reconstruct"):
        unpickle(b"cnumpy\nndarray\n((I100000\nI1000\ntS'f8'\ntR.")


@pytest.mark.parametrize("shape", [(1000, 1000), (1,), (0,)])
def test_array_state_whose_data_length_does_not_match_is_refused(shape):
    raw = array_ops(shape, py2_str(b"\x00" * 8)) + b"."
    with pytest.raises(UnsafePickleError, match=r"8 bytes of data for shape .* \(needs exactly \d+ bytes\)"):
        unpickle(raw)


def test_array_state_with_list_data_or_bad_fortran_flag_is_refused():
    with pytest.raises(UnsafePickleError, match="array data of type list: expected a bytes buffer"):
        unpickle(array_ops((1,), b"(lp9\nF1.0\nap10") + b".")
    with pytest.raises(UnsafePickleError, match="array fortran flag 7"):
        unpickle(array_ops((1,), py2_str(b"\x00" * 4)).replace(b"I00\nS", b"I7\nS") + b".")


def test_frombuffer_of_wrong_length_or_non_bytes_is_refused():
    frombuffer = b"\x80\x05\x8c\x13numpy._core.numeric\x8c\x0b_frombuffer\x93"
    dtype = b"\x8c\x05numpy\x8c\x05dtype\x93\x8c\x02f4\x89\x88\x87R"
    short = frombuffer + b"(C\x04abcd" + dtype + b"K\x03\x85\x8c\x01CtR."
    with pytest.raises(UnsafePickleError, match=r"_frombuffer: 4 bytes of data for shape \(3,\) of <f4"):
        unpickle(short)
    nested = frombuffer + b"(]" + dtype + b"K\x00\x85\x8c\x01CtR."
    with pytest.raises(UnsafePickleError, match=r"_frombuffer\(list, order='C'\): expected a bytes buffer"):
        unpickle(nested)


# --- dtypes: only plain numeric kinds, and only the plain state tuple -------------------------------


@pytest.mark.parametrize("code", [b"O8", b"V8", b"U4", b"S4", b"M8", b"m8", b"f16", b"u9", b"a"])
def test_non_numeric_dtypes_are_refused(code):
    with pytest.raises(
        UnsafePickleError, match=r"numpy dtype '.*': (only bool, int, uint, float and complex|not a known)"
    ):
        unpickle(dtype_ops(code, state=None) + b".")


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (b"(I3\nS'<'\nNNNI-1\nI-1\nI3\nt", "flags 0"),  # NPY_ITEM_REFCOUNT|LIST_PICKLE on a float: SystemError before
        (b"(I3\nS'<'\nNNNI-1\nI-1\nI63\nt", "flags 0"),
        (b"(I3\nS'<'\nNNNI100000000\nI1\nI0\nt", "item size -1"),
        (b"(I3\nS'|'\nNNNI-1\nI-1\nI0\nt", "byte order < or >"),
        (b"(I3\nS'<'\nN(S'a'\ntNI-1\nI-1\nI0\nt", "field names, fields or metadata are not allowed"),
        (b"(I3\nS'<'\n(cnumpy\ndtype\n(S'f8'\nI00\nI01\ntR(I2\ntt" + b"NNI-1\nI-1\nI0\nt", "sub-arrays"),
        (b"(I3\nS'<'\nN(S'a'\nt(dS'a'\n(cnumpy\ndtype\n(S'f8'\nI00\nI01\ntRI0\ntsI8\nI1\nI0\nt", "fields"),
        (b"(I4\nS'<'\nNNNI-1\nI-1\nI0\n(dS'k'\nI1\nst", "metadata"),
        (b"(I9\nS'<'\nNNNI-1\nI-1\nI0\nt", "dtype state"),
        (b"S'junk'\n", "dtype state 'junk'"),
    ],
)
def test_crafted_dtype_state_is_refused_before_numpy_sees_it(state, message):
    raw = array_ops((1,), py2_str(b"\x00" * 4), dtype=dtype_ops(b"f4", state=state)) + b"."
    with pytest.raises(UnsafePickleError, match="refused dtype state") as info:
        unpickle(raw)
    assert message in str(info.value)


def test_crafted_dtype_flags_do_not_reach_numpy_in_a_fresh_interpreter(tmp_path):
    state = b"(I3\nS'<'\nNNNI-1\nI-1\nI127\nt"
    value = array_ops((1, 2, 1), py2_str(b"A" * 16), dtype=dtype_ops(b"f8", state=state))
    out = run_isolated(b"(dp0\n(S'BPSK'\nI0\nt" + value + b"s.", tmp_path)
    assert out.startswith("UnsafePickleError") and "flags 0" in out


def test_dtype_of_a_numpy_singleton_is_never_mutated():
    # copy=False would return numpy's shared float32 descriptor; BUILD must not touch it.
    before = np.dtype("f4").byteorder
    arr = unpickle(array_ops((1,), py2_str(b"\x00\x00\x80?"), dtype=dtype_ops(copy=b"I00")) + b".")
    assert np.dtype("f4").byteorder == before and arr.tolist() == [1.0]
    assert unpickle(dtype_ops(b"f4", state=DTYPE_STATE.replace(b"'<'", b"'>'")) + b".").str == ">f4"


# --- aliasing and decoded-size budget -----------------------------------------------------------------


def test_one_array_aliased_under_many_keys_is_refused(tmp_path):
    block = np.zeros((50, 2, 128), np.float32)  # 51 kB, pickled once, then 999 memo references
    raw = pickle.dumps({("BPSK", snr): block for snr in range(1000)}, protocol=2)
    assert len(raw) < 80_000
    with pytest.raises(UnsafePickleError, match=r"an array reused from the memo \(aliasing\).*2 x file size"):
        unpickle(raw)
    out = run_isolated(raw, tmp_path)  # before: a 51 MB dataset from a 60 kB file
    assert out.startswith("UnsafePickleError") and "aliasing" in out


def test_one_data_string_reused_by_many_arrays_is_refused():
    data = b"\x00" * (2 * 2 * 128 * 4 * 50)  # 102 kB, stored once in the memo as entry 1
    items = [b"(S'BPSK'\nI%d\nt" % snr + array_ops((50, 2, 2, 128), py2_str(data) + b"\np1" if snr == 0 else b"g1")
             + b"s" for snr in range(200)]  # fmt: skip
    raw = b"(dp0\n" + b"".join(items) + b"."
    with pytest.raises(UnsafePickleError, match="array state: the pickle would materialise more than"):
        unpickle(raw)


def test_two_keys_sharing_one_array_are_refused_by_validation(tmp_path):
    block = np.zeros((3, 2, 16), np.float32)
    path = tmp_path / "alias.pkl"
    path.write_bytes(pickle.dumps({("BPSK", 0): block, ("QPSK", 0): block}, protocol=2))
    with pytest.raises(DatasetError, match=r"shares its array data with \('BPSK', 0\) \(aliasing\)"):
        load_rml2016(path)


def test_codecs_encode_of_one_string_many_times_is_refused():
    text = b"X" + (65536).to_bytes(4, "little") + b"a" * 65536  # BINUNICODE, memoised as entry 0
    latin1 = b"X\x06\x00\x00\x00latin1"
    first = b"c_codecs\nencode\nq\x01(" + text + b"q\x00" + latin1 + b"tRa"
    again = b"h\x01(h\x00" + latin1 + b"tRa"  # the same 64 kB text encoded again: 9 bytes each
    raw = b"\x80\x02]" + first + again * 100 + b"."
    with pytest.raises(UnsafePickleError, match="_codecs.encode: the pickle would materialise more than"):
        unpickle(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"\x80\x04\x8e" + (1 << 40).to_bytes(8, "little") + b"xx.",  # BINBYTES8 claiming 1 TiB
        b"\x80\x04\x95" + (1 << 40).to_bytes(8, "little") + b"N.",  # FRAME claiming 1 TiB
        b"\x80\x02T" + ((1 << 31) - 1).to_bytes(4, "little") + b"N.",  # BINSTRING claiming 2 GiB
    ],
)
def test_length_fields_beyond_the_file_are_refused_without_allocating(raw):
    with pytest.raises(DatasetError, match=r"a length field claims \d+ bytes, only \d+ remain"):
        unpickle(raw)


# --- object graph operations outside lists/dicts/sets ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"(dp0\n(dS'x'\nI1\nsb.", "BUILD on a dict"),
        (
            EMPTY_ARRAY
            + b"p1\n(I1\n(I1\nt"
            + dtype_ops()
            + b"I00\nS'\\x00\\x00\\x00\\x00'\ntbg1\n(I1\n(I1\nt"
            + dtype_ops()
            + b"I00\nS'\\x00\\x00\\x00\\x00'\ntb.",
            "BUILD at byte 249 on an object fetched again from the memo",
        ),
        (array_ops((2,), py2_str(b"\x00" * 8)) + b"I0\nI1\ns.", "SETITEM on a ndarray"),
        (b"\x80\x02C\x01a(K\x01e.", "APPENDS on a bytes"),
        (b"\x80\x02\x82\x01.", "extension code 1: not registered"),
        (b"\x80\x02cnumpy.core.multiarray\nscalar\n" + dtype_ops() + b"U\x02ab\x86R.", "numpy scalar: 2 bytes"),
    ],
)
def test_state_and_item_operations_outside_plain_containers_are_refused(raw, message):
    with pytest.raises(UnsafePickleError, match="refused") as info:
        unpickle(raw)
    assert message in str(info.value)


def test_plain_arrays_scalars_and_containers_still_round_trip():
    obj = {"a": np.arange(6, dtype=np.int16).reshape(2, 3), "b": np.float64(2.5), "d": [np.complex64(1j), (1, "x")]}
    for protocol in (0, 2, 4, 5):
        sets = {"c": {1, 2}} if protocol >= 4 else {}  # protocols 0-3 spell a set as a call of builtins.set
        back = unpickle(pickle.dumps({**obj, **sets}, protocol=protocol))
        np.testing.assert_array_equal(back["a"], obj["a"])
        assert back["b"] == 2.5 and back["d"] == [1j, (1, "x")] and back.get("c", {1, 2}) == {1, 2}
