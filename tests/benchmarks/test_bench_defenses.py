"""``amc-tf bench adversarial-training`` and ``amc-tf bench smoothing`` through the console entry point
at tiny sizes: the JSON they write carries the required figures, finite and positive; bad options are
one ``error:`` line and no file."""

from __future__ import annotations

import json
import math
import warnings

import pytest

with warnings.catch_warnings():
    # ART imported at collection, outside the ``cli`` fixture's capture: its import runs
    # ``logging.config.dictConfig``, which resets the logging handlers and, under capsys, breaks
    # pytest's capture of the test ("I/O operation on closed file").
    warnings.simplefilter("ignore")
    import art  # noqa: F401

REQUIRED_AT = ("clean_train_samples_per_s", "robust_acc_native", "robust_acc_art", "pgd_steps")


def _finite_positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_bench_adversarial_training_writes_native_and_art_figures(cli, tmp_path):
    out = tmp_path / "at.json"
    args = ["--n", "32", "--n-test", "16", "--batch-size", "16", "--steps", "2", "--freeze", ""]
    result = cli("bench", "adversarial-training", "--out", out, *args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text())
    assert all(key in data for key in REQUIRED_AT), sorted(data)
    assert data["pgd_steps"] == 2 and data["n"] == 32 and data["freeze"] == []
    for side in ("native", "art"):
        assert _finite_positive(data[side]["samples_per_s"]), data[side]
    assert _finite_positive(data["clean_train_samples_per_s"])
    for key in ("robust_acc_native", "robust_acc_art"):
        assert 0.0 <= data[key] <= 1.0 and math.isfinite(data[key])
    ratios = data["ratios"]
    assert ratios["native_over_art"] == pytest.approx(data["native"]["samples_per_s"] / data["art"]["samples_per_s"])
    assert ratios["pgd_step_target_clean_steps"] == pytest.approx(1 + 0.7 * 2)
    assert _finite_positive(ratios["pgd_step_in_clean_steps"])
    assert "bench: ART AdversarialTrainer" in result.stderr  # progress on stderr


def test_bench_smoothing_writes_certification_throughput(cli, tmp_path):
    out = tmp_path / "smoothing.json"
    args = ["--n-examples", "2", "--n0", "10", "--n", "20", "--batch-size", "30", "--repeats", "1"]
    result = cli("bench", "smoothing", "--out", out, *args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text())
    for key in ("native_examples_per_s", "anchor_windows_per_s", "native_over_anchor", "native_noisy_windows_per_s"):
        assert _finite_positive(data[key]), (key, data[key])
    assert data["n0"] == 10 and data["n"] == 20 and data["model"] == "vtcnn2"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["adversarial-training", "--n", "0"], "must be >= 1"),
        (["adversarial-training", "--snr-db", "7"], "RML2016 grid"),
        (["adversarial-training", "--pnr-db", "99"], "bad adversarial-training settings"),
        (["smoothing", "--repeats", "0"], "must be >= 1"),
        (["smoothing", "--n0", "0"], "bad smoothing settings"),
        (["smoothing", "--model", "nope"], "unknown model"),
    ],
)
def test_bad_options_are_one_error_line(cli, tmp_path, args, message):
    out = tmp_path / "x.json"
    result = cli("bench", args[0], "--out", out, *args[1:])
    assert result.exit_code == 2 and "error:" in result.stderr and message in result.stderr, result.stderr
    assert not out.exists()
