"""``amc-tf bench attacks`` at tiny sizes: native and ART attack the same examples with the same
result (the JSON behind the README's speed table), and bad sizes are refused."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from amc_tf.benchmarks.attacks import command


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(command)
    return app


def test_native_and_art_agree_on_the_same_examples(tmp_path):
    out = tmp_path / "attacks.json"
    args = ["--out", str(out), "--n", "8", "--batch-size", "8", "--deepfool-n", "2", "--repeats", "1"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
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
    result = CliRunner().invoke(_app(), ["--out", str(tmp_path / "x.json"), "--n", "0"])
    assert result.exit_code != 0 and "must be >= 1" in str(result.exception)
    assert not (tmp_path / "x.json").exists()
