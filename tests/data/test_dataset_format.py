"""The canonical IQDataset and its .npz file (amc_tf/data/dataset.py, design D2/D9)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from amc_tf.data import dataset as dataset_mod
from amc_tf.data.dataset import IQDataset, load_dataset, save_dataset, validate_arrays
from amc_tf.errors import DatasetError

CLASSES = ("A", "B", "C")


def tiny(n: int = 12, window: int = 4, seed: int = 0) -> IQDataset:
    gen = np.random.default_rng(seed)
    return IQDataset(
        gen.normal(size=(n, 2, window)).astype(np.float32),
        (np.arange(n) % 3).astype(np.int64),
        np.repeat(np.array([-10, 0, 10], np.int32), -(-n // 3))[:n],
        CLASSES,
        {"seed": seed, "note": "tiny"},
    )


def test_save_load_round_trip_is_exact(tmp_path):
    ds = tiny()
    path = save_dataset(ds, tmp_path / "d.npz")
    back = load_dataset(path)
    np.testing.assert_array_equal(back.x, ds.x)
    np.testing.assert_array_equal(back.y, ds.y)
    np.testing.assert_array_equal(back.snr, ds.snr)
    assert back.x.dtype == np.float32 and back.y.dtype == np.int64 and back.snr.dtype == np.int32
    assert back.classes == CLASSES
    assert back.manifest["seed"] == 0 and back.manifest["note"] == "tiny"
    assert back.manifest["fingerprint"] == ds.fingerprint() == back.fingerprint()
    assert back.manifest["n"] == 12 and back.manifest["classes"] == list(CLASSES)
    assert [p.name for p in tmp_path.iterdir()] == ["d.npz"]  # no temp file left


def test_fingerprint_is_content_identity(tmp_path):
    a, b = tiny(seed=0), tiny(seed=0)
    assert a.fingerprint() == b.fingerprint()
    relabelled = IQDataset(a.x, a.y, a.snr, CLASSES, {"other": "manifest"})
    assert relabelled.fingerprint() == a.fingerprint()  # the manifest does not count
    assert tiny(seed=1).fingerprint() != a.fingerprint()
    assert IQDataset(a.x, a.y, a.snr, ("A", "B", "D")).fingerprint() != a.fingerprint()
    x = a.x.copy()
    x[0, 0, 0] = np.nextafter(x[0, 0, 0], np.float32(np.inf))  # one ulp
    assert IQDataset(x, a.y, a.snr, CLASSES).fingerprint() != a.fingerprint()


def test_properties_subset_and_select():
    ds = tiny()
    assert len(ds) == 12 and ds.window == 4 and ds.snrs == [-10, 0, 10]
    sub = ds.subset(np.arange(12) < 5)
    assert len(sub) == 5 and sub.classes == CLASSES
    sel = ds.select(classes=["C", "A"], snrs=[0, 10])
    assert sel.classes == ("C", "A")
    keep = np.isin(ds.y, [2, 0]) & np.isin(ds.snr, [0, 10])
    np.testing.assert_array_equal(sel.x, ds.x[keep])
    np.testing.assert_array_equal(sel.y, np.where(ds.y[keep] == 2, 0, 1))  # renumbered to the given order
    assert set(sel.snr.tolist()) == {0, 10}
    with pytest.raises(DatasetError, match=r"unknown class name\(s\) \['Z'\]"):
        ds.select(classes=["A", "Z"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x": np.zeros((3, 3, 4), np.float32)}, "x must be a float32 array [N, 2, L]"),
        ({"x": np.zeros((3, 2), np.float32)}, "x must be a float32 array [N, 2, L]"),
        ({"x": np.zeros((3, 2, 4), np.float64)}, "x must be float32, got float64"),
        ({"y": np.zeros(2, np.int64)}, "y must be an integer array [3]"),
        ({"y": np.zeros(3, np.float32)}, "y must be an integer array [3]"),
        ({"snr": np.zeros(3, np.float32)}, "snr must be an integer array [3]"),
        ({"classes": ()}, "classes must be a non-empty tuple of names"),
        ({"classes": ("A", "")}, "classes must be a non-empty tuple of names"),
        ({"classes": ("A", "A")}, "duplicate class names"),
        ({"y": np.array([0, 1, 3])}, "labels must lie in [0, 2], found [0, 3]"),
        ({"y": np.array([0, -1, 1])}, "labels must lie in [0, 2], found [-1, 1]"),
        ({"snr": np.array([0, 999, 10], np.int32)}, "SNR labels must lie in [-100, 100] dB, found [0, 999]"),
        (
            {"x": np.where(np.arange(4) == 1, np.nan, 0.0).astype(np.float32)[None, None].repeat(3, 0).repeat(2, 1)},
            "x holds NaN or Inf values in 3 window(s)",
        ),
    ],
)
def test_validate_arrays_names_the_problem(change, message):
    args = {
        "x": np.zeros((3, 2, 4), np.float32),
        "y": np.array([0, 1, 2]),
        "snr": np.zeros(3, np.int32),
        "classes": CLASSES,
    }
    args.update(change)
    with pytest.raises(DatasetError) as info:
        validate_arrays(args["x"], args["y"], args["snr"], args["classes"])
    assert message in str(info.value)
    with pytest.raises(DatasetError):
        IQDataset(args["x"], args["y"], args["snr"], args["classes"])


def test_empty_dataset_is_allowed_and_round_trips(tmp_path):
    ds = IQDataset(np.zeros((0, 2, 4), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int32), CLASSES)
    back = load_dataset(save_dataset(ds, tmp_path / "e.npz"))
    assert len(back) == 0 and back.classes == CLASSES


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_load_errors_are_dataset_errors(tmp_path):
    with pytest.raises(DatasetError, match="dataset file not found"):
        load_dataset(tmp_path / "nope.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(DatasetError, match="unreadable or truncated dataset file"):
        load_dataset(tmp_path / "text.npz")
    with pytest.raises(
        DatasetError, match=r"not an amc-tf dataset \(missing arrays \['snr', 'classes', 'manifest'\]\)"
    ):
        load_dataset(_npz(tmp_path / "partial.npz", x=np.zeros((1, 2, 4), np.float32), y=np.zeros(1, np.int64)))
    good = save_dataset(tiny(), tmp_path / "good.npz")
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(DatasetError, match="unreadable or truncated dataset file"):
        load_dataset(cut)


def test_object_arrays_are_never_unpickled(tmp_path):
    ds = tiny()
    path = _npz(tmp_path / "obj.npz", x=ds.x, y=ds.y, snr=ds.snr, classes=np.array(list(CLASSES), dtype=object),
                manifest=np.array(json.dumps({})))  # fmt: skip
    with pytest.raises(DatasetError, match="unreadable or truncated dataset file"):
        load_dataset(path)


def test_altered_content_fails_the_fingerprint_check(tmp_path):
    ds = tiny()
    path = save_dataset(ds, tmp_path / "d.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["y"] = arrays["y"].copy()
    arrays["y"][0] = (arrays["y"][0] + 1) % 3  # a relabelled example
    altered = _npz(tmp_path / "altered.npz", **arrays)
    with pytest.raises(DatasetError, match="does not match its manifest fingerprint"):
        load_dataset(altered)
    assert len(load_dataset(altered, verify=False)) == 12
    arrays["x"] = np.full_like(arrays["x"], np.inf)
    with pytest.raises(DatasetError, match="NaN or Inf"):  # values are checked even without verify
        load_dataset(_npz(tmp_path / "inf.npz", **arrays), verify=False)


def test_failed_save_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = save_dataset(tiny(seed=0), tmp_path / "d.npz")
    before = path.read_bytes()

    def broken_savez(fh, **arrays):
        fh.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(dataset_mod.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_dataset(tiny(seed=1), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["d.npz"]
    with pytest.raises(OSError):
        save_dataset(tiny(seed=1), tmp_path / "new.npz")
    assert not (tmp_path / "new.npz").exists()
    assert zipfile.is_zipfile(path)


def test_round_trip_with_other_integer_dtypes(tmp_path):
    ds = tiny()
    ds32 = IQDataset(ds.x, ds.y.astype(np.int32), ds.snr.astype(np.int64), CLASSES)
    back = load_dataset(save_dataset(ds32, tmp_path / "d.npz"))
    np.testing.assert_array_equal(back.y, ds.y)


def test_a_manifest_that_is_not_a_mapping_is_refused(tmp_path):
    from amc_tf.data.importers import read_manifest

    path = tmp_path / "list_manifest.npz"
    ds = IQDataset(np.zeros((2, 2, 4), np.float32), np.array([0, 1]), np.zeros(2, np.int32), ("A", "B"))
    np.savez(path, x=ds.x, y=ds.y, snr=ds.snr, classes=np.array(ds.classes), manifest=np.array(json.dumps([1, 2])))
    for load in (load_dataset, read_manifest):
        with pytest.raises(DatasetError, match="manifest is a JSON list, not a mapping"):
            load(path)
