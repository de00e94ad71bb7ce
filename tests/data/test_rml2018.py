"""RML2018.01A HDF5 loader: layout checks, corrected class order, lazy chunked selection."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from amc_tf.data import rml2018
from amc_tf.data.rml2018 import RML2018_CLASSES, load_rml2018
from amc_tf.errors import DatasetError

SNRS = (-20, 30)
FRAMES = 3
L = 32


def write_tiny_h5(path, *, x=None, y=None, z=None, drop=(), x_dtype=np.float32):
    """24 classes x 2 SNRs x 3 frames, class-major / SNR blocks like the real file; L = 32."""
    n = len(RML2018_CLASSES) * len(SNRS) * FRAMES
    label = np.repeat(np.arange(len(RML2018_CLASSES)), len(SNRS) * FRAMES)
    snr = np.tile(np.repeat(SNRS, FRAMES), len(RML2018_CLASSES))
    if x is None:
        # Value encodes (row, time, channel) so a wrong transpose or row would show.
        x = (np.arange(n)[:, None, None] * 1000 + np.arange(L)[None, :, None] * 2 + np.arange(2)[None, None, :]).astype(
            x_dtype
        )
    if y is None:
        y = np.eye(len(RML2018_CLASSES), dtype=np.int64)[label]
    if z is None:
        z = snr[:, None].astype(np.int64)
    with h5py.File(path, "w") as f:
        for name, arr in (("X", x), ("Y", y), ("Z", z)):
            if name not in drop:
                f.create_dataset(name, data=arr)
    return x, label, snr


@pytest.fixture
def h5file(tmp_path):
    path = tmp_path / "GOLD_XYZ_OSC.0001_1024.hdf5"
    x, label, snr = write_tiny_h5(path)
    return path, x, label, snr


def test_full_load_transposes_and_uses_corrected_class_order(h5file):
    path, x, label, snr = h5file
    ds = load_rml2018(path)
    assert RML2018_CLASSES[:5] == ("OOK", "4ASK", "8ASK", "BPSK", "QPSK")
    assert RML2018_CLASSES[-7:] == ("AM-SSB-WC", "AM-SSB-SC", "AM-DSB-WC", "AM-DSB-SC", "FM", "GMSK", "OQPSK")
    assert len(RML2018_CLASSES) == 24 and ds.classes == RML2018_CLASSES
    assert ds.x.shape == (144, 2, L) and ds.x.dtype == np.float32
    np.testing.assert_array_equal(ds.x, x.transpose(0, 2, 1))  # row 0 = I, row 1 = Q
    np.testing.assert_array_equal(ds.y, label)
    np.testing.assert_array_equal(ds.snr, snr)
    assert ds.y.dtype == np.int64 and ds.snr.dtype == np.int32
    assert ds.manifest["source"] == "rml2018.01a" and ds.manifest["file"] == path.name
    assert ds.manifest["window"] == L


def test_selection_with_small_chunks_matches_numpy_reference(h5file, monkeypatch):
    path, x, label, snr = h5file
    monkeypatch.setattr(rml2018, "X_BLOCK_ROWS", 5)  # force many X blocks and partial blocks
    ds = load_rml2018(path, classes=["16QAM", "BPSK"], snrs=[30], max_per_key=2, chunk_rows=7)
    assert ds.classes == ("16QAM", "BPSK")
    rows = [r for r in range(len(label)) if RML2018_CLASSES[label[r]] in ("16QAM", "BPSK") and snr[r] == 30]
    rows = [r for r in rows if sum(1 for q in rows if label[q] == label[r] and q < r) < 2]
    np.testing.assert_array_equal(ds.x, x[rows].transpose(0, 2, 1))
    assert ds.y.tolist() == [1, 1, 0, 0]  # file order: BPSK (class 3) before 16QAM (class 12)
    assert ds.snr.tolist() == [30] * 4
    assert ds.manifest["selection"] == {"classes": ["16QAM", "BPSK"], "snrs": [30], "max_per_key": 2}


def test_only_selected_rows_of_x_are_read(h5file, monkeypatch):
    path, *_ = h5file
    reads = []
    original = h5py.Dataset.__getitem__

    def spy(self, key):
        if self.name == "/X":
            reads.append(key)
        return original(self, key)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    ds = load_rml2018(path, classes=["OQPSK"], snrs=[-20])
    assert len(ds) == FRAMES
    assert reads == [slice(138, 141)]  # one contiguous slice: the 3 OQPSK frames at -20 dB


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"classes": ["QPSK", "WBFM"]}, "unknown class name(s) ['WBFM'] for RML2018.01A"),
        ({"snrs": [0]}, "SNR(s) [0] dB not in the file; it has [-20, 30]"),
        ({"max_per_key": -1}, "max_per_key must be a positive integer"),
        ({"chunk_rows": 0}, "chunk_rows must be a positive integer"),
    ],
)
def test_bad_selection_is_refused(h5file, kwargs, message):
    with pytest.raises(DatasetError) as info:
        load_rml2018(h5file[0], **kwargs)
    assert message in str(info.value)


def test_truncated_file_gives_one_clear_error(h5file, tmp_path):
    path, *_ = h5file
    cut = tmp_path / "cut.hdf5"
    cut.write_bytes(path.read_bytes()[:-4096])
    with pytest.raises(DatasetError, match="unreadable or truncated HDF5 file"):
        load_rml2018(cut)


def _bad(tmp_path, **kwargs):
    path = tmp_path / "bad.h5"
    write_tiny_h5(path, **kwargs)
    return path


N = 144


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"drop": ("Z",)}, "missing HDF5 dataset(s) ['Z']"),
        ({"x": np.zeros((N, 2, L), np.float32)}, "X has shape (144, 2, 32), expected [N, L, 2]"),
        ({"x_dtype": np.float64}, "X has dtype float64, expected float32"),
        ({"y": np.eye(11, dtype=np.int64)[np.arange(N) % 11]}, "Y has shape (144, 11), expected one-hot [N, 24]"),
        ({"y": np.ones((N, 24), np.int64)}, "Y is not one-hot (first bad row 0"),
        ({"y": np.eye(24, dtype=np.int64)[np.arange(N) % 24] * 2}, "Y is not one-hot"),
        ({"z": np.zeros((N, 1), np.float32)}, "Z has float32 shape (144, 1), expected integer SNRs [N, 1]"),
        ({"z": np.zeros((N, 2), np.int64)}, "expected integer SNRs [N, 1]"),
        ({"z": np.zeros((N - 1, 1), np.int64)}, "row counts differ: X has 144, Y has 144, Z has 143"),
    ],
)
def test_mislabelled_or_misshaped_file_is_named(tmp_path, kwargs, message):
    path = _bad(tmp_path, **kwargs)
    with pytest.raises(DatasetError) as info:
        load_rml2018(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_nan_or_inf_in_a_selected_window_is_refused(tmp_path):
    path = tmp_path / "nan.h5"
    x, *_ = write_tiny_h5(path)
    x = x.copy()
    x[7, 3, 1] = np.nan
    x[100, 0, 0] = np.inf
    write_tiny_h5(path, x=x)
    with pytest.raises(DatasetError, match=r"NaN or Inf in 2 selected window\(s\), first at row 7"):
        load_rml2018(path)
    # Rows outside the selection are never read, so they cannot fail the import.
    assert len(load_rml2018(path, classes=["OOK"], snrs=[30])) == FRAMES


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="RML2018 file not found"):
        load_rml2018(tmp_path / "nope.hdf5")
