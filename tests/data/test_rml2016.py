"""RML2016.10a loader: restricted unpickling (D9), validation, class order and selection."""

from __future__ import annotations

import os
import pickle
import subprocess

import numpy as np
import pytest

from amc_tf.data.rml2016 import RML2016_CLASSES, RestrictedUnpickler, load_rml2016, safe_unpickle
from amc_tf.errors import DatasetError, UnsafePickleError

SNRS = (-20, 0)
N_PER_KEY = 3
L = 16


def tiny_dict(seed: int = 0, classes=RML2016_CLASSES, n: int = N_PER_KEY, window: int = L) -> dict:
    """{(mod, snr): float32 [n, 2, L]}, each window L1-normalised like the real generator."""
    gen = np.random.default_rng(seed)
    out = {}
    for mod in classes:
        for snr in SNRS:
            a = gen.normal(size=(n, 2, window)).astype(np.float32)
            a /= np.abs(a[:, 0] + 1j * a[:, 1]).sum(axis=1)[:, None, None].astype(np.float32)
            out[(mod, snr)] = a
    return out


def py2_pickle(d: dict) -> bytes:
    """Bytes shaped like Python 2 ``cPickle.dump(d, f)`` (protocol 0) of numpy arrays.

    Uses the opcodes of the real RML2016.10a file: ``S'...'`` byte strings (no ``_codecs``),
    ``cnumpy.core.multiarray\\n_reconstruct``, ``cnumpy\\nndarray``, ``cnumpy\\ndtype``, and cPickle's
    memo (``pN`` after each object, ``gN`` to reuse the globals, ``'b'`` and the float32 dtype).
    """
    memo: dict[str, int] = {}

    def put(tag: str | None = None) -> bytes:
        n = len(memo)
        memo[tag or f"#{n}"] = n
        return b"p%d\n" % n

    def s(raw: bytes, tag: str | None = None) -> bytes:  # py2 repr(str) == py3 repr(bytes) minus the b
        return b"S" + repr(raw)[1:].encode("ascii") + b"\n" + put(tag)

    def ref(tag: str, make) -> bytes:
        return b"g%d\n" % memo[tag] if tag in memo else make()

    out = [b"(d" + put()]
    for (mod, snr), arr in d.items():
        out.append(b"(" + s(mod.encode()) + b"I%d\nt" % snr + put())
        out.append(ref("rec", lambda: b"cnumpy.core.multiarray\n_reconstruct\n" + put("rec")))
        out.append(b"(" + ref("nd", lambda: b"cnumpy\nndarray\n" + put("nd")))
        out.append(b"(I0\nt" + put() + ref("b", lambda: s(b"b", "b")) + b"t" + put() + b"R" + put())
        out.append(b"(I1\n(" + b"".join(b"I%d\n" % n for n in arr.shape) + b"t" + put())
        out.append(ref("f4", lambda: (
            b"cnumpy\ndtype\n" + put() + b"(" + s(b"f4") + b"I0\nI1\nt" + put() + b"R" + put("f4")
            + b"(I3\n" + s(b"<") + b"NNNI-1\nI-1\nI0\nt" + put() + b"b"
        )))  # fmt: skip
        out.append(b"I00\n" + s(arr.tobytes()) + b"t" + put() + b"bs")
    return b"".join(out) + b"."


@pytest.fixture
def py2_file(tmp_path):
    d = tiny_dict()
    path = tmp_path / "RML2016.10a_dict.pkl"
    path.write_bytes(py2_pickle(d))
    return path, d


def test_py2_protocol0_pickle_loads_with_vtcnn2_class_order(py2_file):
    path, d = py2_file
    raw = path.read_bytes()
    assert raw.startswith(b"(dp0\n(S'") and b"_codecs" not in raw and raw.count(b"cnumpy\ndtype") == 1
    ds = load_rml2016(path)
    assert ds.classes == ("8PSK", "AM-DSB", "AM-SSB", "BPSK", "CPFSK", "GFSK", "PAM4", "QAM16", "QAM64", "QPSK", "WBFM")
    assert ds.x.shape == (11 * 2 * N_PER_KEY, 2, L) and ds.x.dtype == np.float32
    assert ds.y.dtype == np.int64 and ds.snr.dtype == np.int32
    for mod, snr in [("QPSK", -20), ("8PSK", 0), ("WBFM", 0)]:
        rows = (ds.y == ds.classes.index(mod)) & (ds.snr == snr)
        np.testing.assert_array_equal(ds.x[rows], d[(mod, snr)])  # exact round trip
    assert ds.manifest["source"] == "rml2016.10a"
    assert ds.manifest["file"] == "RML2016.10a_dict.pkl"
    import hashlib

    assert ds.manifest["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_python3_pickles_of_any_protocol_load(tmp_path, protocol):
    d = tiny_dict(seed=1, classes=("BPSK", "QPSK"))
    path = tmp_path / f"p{protocol}.pkl"
    path.write_bytes(pickle.dumps(d, protocol=protocol))
    ds = load_rml2016(path)
    np.testing.assert_array_equal(ds.x[(ds.y == ds.classes.index("QPSK")) & (ds.snr == 0)], d[("QPSK", 0)])
    assert len(ds) == 2 * 2 * N_PER_KEY


def test_selection_renumbers_classes_and_caps_per_key(py2_file):
    path, d = py2_file
    ds = load_rml2016(path, classes=["QPSK", "BPSK"], snrs=[0], max_per_key=2)
    assert ds.classes == ("QPSK", "BPSK")
    assert len(ds) == 4 and set(ds.snr.tolist()) == {0}
    np.testing.assert_array_equal(ds.x[ds.y == 0], d[("QPSK", 0)][:2])
    np.testing.assert_array_equal(ds.x[ds.y == 1], d[("BPSK", 0)][:2])
    assert ds.manifest["selection"] == {"classes": ["QPSK", "BPSK"], "snrs": [0], "max_per_key": 2}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"classes": ["QPSK", "OOK"]}, "unknown class name(s) ['OOK']"),
        ({"classes": ["QPSK", "QPSK"]}, "given more than once"),
        ({"snrs": [0, 4]}, "SNR(s) [4] dB not in the file"),
        ({"max_per_key": 0}, "max_per_key must be a positive integer"),
    ],
)
def test_bad_selection_is_refused(py2_file, kwargs, message):
    with pytest.raises(
        DatasetError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")
    ):
        load_rml2016(py2_file[0], **kwargs)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvilPopen:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (subprocess.Popen, (["touch", str(self.marker)],))


@pytest.mark.parametrize("evil_cls", [_Evil, _EvilPopen])
@pytest.mark.parametrize("protocol", [0, 2])
def test_malicious_pickle_is_refused_without_executing(tmp_path, evil_cls, protocol):
    marker = tmp_path / "PWNED"
    payload = dict(tiny_dict(classes=("BPSK",)))
    payload[("QPSK", 0)] = evil_cls(marker)  # hidden after valid entries
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(payload, protocol=protocol))
    # Protocol 0 spells subprocess.Popen the Python-2 way ('commands.Popen'): refused all the same.
    pattern = r"refused to load global '(posix\.system|subprocess\.Popen|commands\.Popen)'.*nothing was executed"
    with pytest.raises(UnsafePickleError, match=pattern):
        load_rml2016(path)
    assert not marker.exists()


def test_python2_style_eval_global_is_refused(tmp_path):
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil2.pkl"
    path.write_bytes(b"c__builtin__\neval\n(S'open(%r, \"w\")'\ntR." % str(marker).encode())
    with pytest.raises(UnsafePickleError, match=r"'__builtin__\.eval'"):
        load_rml2016(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b"(S'true'\nios\nsystem\n.",  # INST
        b"\x80\x02(cos\nsystem\nX\x04\x00\x00\x00trueo.",  # OBJ
        b"\x80\x04\x8c\x02os\x8c\x06system\x93X\x04\x00\x00\x00true\x85R.",  # STACK_GLOBAL
        b"\x80\x02\x82\xf0X\x04\x00\x00\x00true\x85R.",  # EXT1 via the copyreg extension registry
    ],
)
def test_every_opcode_that_reaches_a_callable_is_guarded(raw):
    import copyreg
    import io

    copyreg.add_extension("os", "system", 240)
    try:
        with pytest.raises(UnsafePickleError, match=r"refused to load global 'os\.system'"):
            RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load()
    finally:
        copyreg.remove_extension("os", "system", 240)


def test_object_arrays_and_latin1_tricks_are_refused(tmp_path):
    path = tmp_path / "obj.pkl"
    path.write_bytes(pickle.dumps({("BPSK", 0): np.array([1, "a"], dtype=object)}, protocol=2))
    with pytest.raises(UnsafePickleError, match="numpy dtype .O8.: only bool, int, uint, float and complex dtypes"):
        load_rml2016(path)
    # _codecs.encode is admitted only as latin1 text -> bytes (how Python 3 pickles store bytes).
    with pytest.raises(UnsafePickleError, match="only latin1"):
        import io

        RestrictedUnpickler(io.BytesIO(b"c_codecs\nencode\n(Vx\nVrot13\ntR."), encoding="latin1").load()


def test_truncated_and_non_pickle_files_give_dataset_error(py2_file, tmp_path):
    path, _ = py2_file
    cut = tmp_path / "cut.pkl"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DatasetError, match="not a valid or complete pickle"):
        load_rml2016(cut)
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"(this is not a pickle at all\n")
    with pytest.raises(DatasetError, match="not a valid or complete pickle"):
        load_rml2016(junk)
    with pytest.raises(DatasetError, match="not found"):
        load_rml2016(tmp_path / "missing.pkl")


def _corrupt(d, key, value):
    d = dict(d)
    d[key] = value
    return d


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: [1, 2], "expected a dict"),
        (lambda d: {}, "the dict is empty"),
        (lambda d: _corrupt(d, "QPSK", d[("QPSK", 0)]), "is not a (modulation: str, snr: int) tuple"),
        (lambda d: _corrupt(d, ("QPSK", 2.0), d[("QPSK", 0)]), "is not a (modulation: str, snr: int) tuple"),
        (lambda d: _corrupt(d, ("OOK", 0), d[("QPSK", 0)]), "unknown class name 'OOK'"),
        (lambda d: _corrupt(d, ("QPSK", 0), d[("QPSK", 0)].astype(np.float64)), "dtype float64, expected float32"),
        (
            lambda d: _corrupt(d, ("QPSK", 0), np.zeros((3, 3, L), np.float32)),
            "shape (3, 3, 16), expected [n >= 1, 2, L]",
        ),
        (lambda d: _corrupt(d, ("QPSK", 0), np.zeros((0, 2, L), np.float32)), "expected [n >= 1, 2, L]"),
        (lambda d: _corrupt(d, ("QPSK", 0), np.zeros((3, 2, 8), np.float32)), "window length 8, others have 16"),
        (lambda d: _corrupt(d, ("QPSK", 0), "not an array"), "is a str, not a numpy array"),
        (lambda d: _corrupt(d, ("QPSK", 0), np.full((3, 2, L), np.nan, np.float32)), "NaN or Inf in 3 window(s)"),
        (
            lambda d: _corrupt(
                d, ("QPSK", -20), np.where(np.arange(L) == 3, np.inf, 0).astype(np.float32)[None, None].repeat(2, 1)
            ),
            "NaN or Inf in 1 window(s)",
        ),
    ],
)
def test_malformed_content_is_named(tmp_path, make, message):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(make(tiny_dict(classes=("BPSK", "QPSK"))), protocol=0))
    with pytest.raises(DatasetError) as info:
        load_rml2016(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_safe_unpickle_allows_plain_containers_and_numbers():
    import io

    obj = {"a": (1, 2.5, -3), "b": ["x", None, True], "c": np.float32(1.5), "d": np.arange(3, dtype=np.int64)}
    back = safe_unpickle(io.BytesIO(pickle.dumps(obj, protocol=2)))
    assert back["a"] == (1, 2.5, -3) and back["b"] == ["x", None, True] and back["c"] == np.float32(1.5)
    np.testing.assert_array_equal(back["d"], np.arange(3))
