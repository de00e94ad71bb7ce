"""``amc-tf bench attacks`` at tiny sizes: native and ART attack the same examples with the same
result (the JSON behind the README's speed table), and bad sizes are refused."""

from __future__ import annotations

import json

import pytest

from amc_tf.benchmarks.attacks import bench_attacks, command
from amc_tf.errors import ConfigError
from amc_tf.io import write_json

TINY = {"n": 8, "batch_size": 8, "pnr_db": -10.0, "deepfool_n": 2, "train_epochs": 0, "repeats": 1}


def test_native_and_art_agree_on_the_same_examples(tmp_path):
    # The JSON the command writes (the command itself is bench_attacks + write_json + echo; run
    # through typer's CliRunner, its output stream handling upsets pytest's capture when this
    # file runs alone).
    out = write_json(tmp_path / "attacks.json", bench_attacks(**TINY))
    data = json.loads(out.read_text())
    assert data["model"] == "vtcnn2" and data["n"] == 8 and data["clean_acc"] == 1.0  # labels = predictions
    for name in ("fgsm", "pgd_linf", "pgd_l2", "deepfool"):
        entry = data[name]
        assert entry["native"]["robust_acc"] == entry["art"]["robust_acc"], name
        assert entry["speedup"] == pytest.approx(entry["native"]["examples_per_s"] / entry["art"]["examples_per_s"])
    assert data["fgsm"]["max_abs_diff"] == 0.0
    assert data["goals"]["pgd_max_abs_diff_whole_batch"] < 1e-6  # whole-batch PGD reproduces ART's rounding
    assert data["pgd_linf"]["native"]["steps"] == 10


def test_refuses_bad_sizes(tmp_path):
    with pytest.raises(ConfigError, match="must be >= 1"):
        command(out=tmp_path / "x.json", **{**TINY, "n": 0})
    assert not (tmp_path / "x.json").exists()
