"""`amc-tf data import` / `amc-tf data info`: format detection, exit codes, nothing half-written.

One test runs the real console script in a subprocess (it pays the 10-15 s TensorFlow import);
the other CLI cases call ``amc_tf.cli.main`` in-process with a patched ``sys.argv``.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from amc_tf import cli
from amc_tf.data.dataset import load_dataset
from amc_tf.data.importers import describe, detect_format, import_file, read_manifest
from amc_tf.data.rml2018 import RML2018_CLASSES
from amc_tf.errors import ConfigError, DatasetError, UnsafePickleError

AMC_TF = Path(sys.executable).parent / "amc-tf"
MODS = ("BPSK", "QPSK", "WBFM")
SNRS = (-2, 0, 2)


def rml2016_dict(n: int = 2, window: int = 8) -> dict:
    gen = np.random.default_rng(0)
    return {(m, s): gen.normal(size=(n, 2, window)).astype(np.float32) * 0.01 for m in MODS for s in SNRS}


def write_rml2016(path: Path, d: dict | None = None) -> Path:
    path.write_bytes(pickle.dumps(rml2016_dict() if d is None else d, protocol=0))
    return path


def write_rml2018(path: Path, *, nan_row: int | None = None, frames: int = 2, window: int = 8) -> Path:
    n = 24 * frames
    x = np.random.default_rng(1).normal(size=(n, window, 2)).astype(np.float32)
    if nan_row is not None:
        x[nan_row, 0, 0] = np.nan
    with h5py.File(path, "w") as f:
        f["X"] = x
        f["Y"] = np.eye(24, dtype=np.int64)[np.arange(n) // frames]
        f["Z"] = np.tile([[-4], [6]], (24, 1)).astype(np.int64)
    return path


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Call ``amc_tf.cli.main`` in-process; return (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["amc-tf", *args])
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(directory: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name not in keep)


# --- subprocess: the real console script ----------------------------------------------------


def test_console_script_refuses_malicious_pickle_exit_2_and_writes_nothing(tmp_path):
    marker = tmp_path / "PWNED"
    payload = rml2016_dict()
    payload[("QPSK", 4)] = _Evil(marker)
    src = tmp_path / "RML2016.10a_dict.pkl"
    src.write_bytes(pickle.dumps(payload, protocol=0))
    out = tmp_path / "out.npz"
    proc = subprocess.run([str(AMC_TF), "data", "import", str(src), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "refused to load global 'posix.system'" in errors[0]
    assert "Traceback" not in proc.stderr
    assert not marker.exists()
    assert leftovers(tmp_path, {src.name}) == []  # no output, no temp file


# --- in-process main() ----------------------------------------------------------------------


def test_import_rml2016_with_selection(tmp_path, monkeypatch, capsys):
    src = write_rml2016(tmp_path / "rml.dat")  # extension does not matter
    out = tmp_path / "sub" / "rml.npz"
    code, stdout, stderr = run_cli(monkeypatch, capsys, "data", "import", str(src), "--out", str(out),
                                   "--classes", "WBFM,BPSK", "--snrs", "-2,2", "--max-per-key", "1")  # fmt: skip
    assert code == 0, stderr
    assert f"wrote {out}: 4 windows x 8 samples, 2 classes, fingerprint " in stdout
    ds = load_dataset(out)
    assert ds.classes == ("WBFM", "BPSK") and ds.y.tolist() == [0, 0, 1, 1] and ds.snr.tolist() == [-2, 2, -2, 2]
    np.testing.assert_array_equal(ds.x[0], rml2016_dict()[("WBFM", -2)][0])
    assert leftovers(out.parent, {out.name}) == []


def test_import_rml2018_then_info(tmp_path, monkeypatch, capsys):
    src = write_rml2018(tmp_path / "GOLD.bin")
    out = tmp_path / "r18.npz"
    code, stdout, _ = run_cli(monkeypatch, capsys, "data", "import", str(src), "-o", str(out), "--snrs=-4",
                              "--classes", "OOK,OQPSK")  # fmt: skip
    assert code == 0 and "2 windows x 8 samples, 2 classes, fingerprint" in stdout
    code, stdout, _ = run_cli(monkeypatch, capsys, "data", "info", str(out))
    assert code == 0
    assert "windows     2  (window length 8" in stdout
    assert "source      rml2018.01a from GOLD.bin" in stdout
    assert "    0  OOK    1" in stdout and "    1  OQPSK  1" in stdout
    assert "1 values, -4 .. -4 dB" in stdout
    code, stdout, _ = run_cli(monkeypatch, capsys, "data", "info", str(out), "--json")
    info = json.loads(stdout)
    assert info["n"] == 2 and info["classes"] == {"OOK": 1, "OQPSK": 1} and info["snrs"] == [-4]
    assert info["fingerprint"] == load_dataset(out).fingerprint() == info["manifest"]["fingerprint"]


@pytest.mark.parametrize(
    ("make_src", "extra", "message"),
    [
        (lambda p: write_rml2016(p / "a.pkl"), ["--classes", "BPSK,FOO"], "unknown class name(s) ['FOO']"),
        (
            lambda p: write_rml2016(p / "a.pkl", {("BPSK", 0): np.full((2, 2, 8), np.inf, np.float32)}),
            [],
            "NaN or Inf in 2 window(s)",
        ),
        (
            lambda p: write_rml2016(p / "a.pkl", {("BPSK", 0): np.zeros((2, 8), np.float32)}),
            [],
            "expected [n >= 1, 2, L]",
        ),
        (
            lambda p: write_rml2018(p / "a.h5", nan_row=5),
            [],
            "X holds NaN or Inf in 1 selected window(s), first at row 5",
        ),
        (
            lambda p: write_rml2018(p / "a.h5"),
            ["--classes", "QAM16"],
            "unknown class name(s) ['QAM16'] for RML2018.01A",
        ),
        (lambda p: write_rml2018(p / "a.h5"), ["--snrs", "0,x"], "--snrs must be comma-separated integers"),
        (lambda p: (p / "a.txt").write_text("hello") and p / "a.txt", [], "unrecognised format"),
        (lambda p: p / "missing.pkl", [], "input file not found"),
    ],
)
def test_import_failures_exit_2_with_one_line_and_leave_nothing(
    tmp_path, monkeypatch, capsys, make_src, extra, message
):
    src = make_src(tmp_path)
    before = set(p.name for p in tmp_path.iterdir())
    code, stdout, stderr = run_cli(
        monkeypatch, capsys, "data", "import", str(src), "--out", str(tmp_path / "o.npz"), *extra
    )
    assert code == 2
    assert stderr.startswith("error: ") and stderr.count("\n") == 1 and message in stderr
    assert set(p.name for p in tmp_path.iterdir()) == before


def test_truncated_hdf5_keeps_an_existing_output_intact(tmp_path, monkeypatch, capsys):
    good = write_rml2018(tmp_path / "good.h5")
    out = tmp_path / "o.npz"
    import_file(good, out)
    kept = out.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    code, _, stderr = run_cli(monkeypatch, capsys, "data", "import", str(cut), "--out", str(out))
    assert code == 2 and "unreadable or truncated HDF5 file" in stderr
    assert out.read_bytes() == kept
    assert leftovers(tmp_path, {"good.h5", "cut.h5", "o.npz"}) == []


def test_detect_format_by_content_not_extension(tmp_path):
    assert detect_format(write_rml2016(tmp_path / "x.h5")) == "rml2016"
    assert detect_format(write_rml2018(tmp_path / "x.pkl")) == "rml2018"
    (tmp_path / "p2.bin").write_bytes(pickle.dumps({}, protocol=2))
    assert detect_format(tmp_path / "p2.bin") == "rml2016"
    np.savez(tmp_path / "z.npz", a=np.zeros(1))
    with pytest.raises(DatasetError, match="a zip/.npz file, not a RadioML file"):
        detect_format(tmp_path / "z.npz")
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(DatasetError, match="empty file"):
        detect_format(tmp_path / "empty")


def test_import_file_argument_errors(tmp_path):
    src = write_rml2016(tmp_path / "a.pkl")
    with pytest.raises(ConfigError, match="output must be a .npz file"):
        import_file(src, tmp_path / "out.h5")
    with pytest.raises(UnsafePickleError):
        bad = tmp_path / "evil.pkl"
        bad.write_bytes(pickle.dumps(_Evil(tmp_path / "PWNED"), protocol=2))
        import_file(bad, tmp_path / "o.npz")
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "o.npz").exists()
    with pytest.raises(DatasetError, match="no readable amc-tf manifest"):
        read_manifest(src)


def test_info_refuses_raw_and_tampered_files(tmp_path, monkeypatch, capsys):
    src = write_rml2016(tmp_path / "a.pkl")
    code, _, stderr = run_cli(monkeypatch, capsys, "data", "info", str(src))
    assert (
        code == 2
        and "not an amc-tf .npz dataset (it looks like an rml2016 file: run `amc-tf data import` first)" in stderr
    )
    out = import_file(src, tmp_path / "a.npz")
    assert describe(out)["classes"] == {name: (6 if name in MODS else 0) for name in describe(out)["classes"]}
    with np.load(out) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["x"] = arrays["x"].copy()
    arrays["x"][0, 0, 0] += 1.0
    np.savez(tmp_path / "t.npz", **arrays)
    code, _, stderr = run_cli(monkeypatch, capsys, "data", "info", str(tmp_path / "t.npz"))
    assert code == 2 and "does not match its manifest fingerprint" in stderr


def test_import_rml2018_default_keeps_all_24_classes(tmp_path):
    ds = load_dataset(import_file(write_rml2018(tmp_path / "a.h5"), tmp_path / "a.npz", max_per_key=1))
    assert ds.classes == RML2018_CLASSES and len(ds) == 48
    assert ds.manifest["selection"]["max_per_key"] == 1 and ds.manifest["n"] == 48
