"""``amc-tf bench nettrim`` at tiny sizes: the JSON it writes, the cached model, its refusals."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from amc_tf.benchmarks.nettrim import command


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(command)
    return app


def test_writes_the_net_trim_figures_and_caches_the_model(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the model cache lives under ./.cache/bench
    out = tmp_path / "nettrim.json"
    args = ["--out", str(out), "--samples", "40", "--max-iter", "5", "--epochs", "1", "--windows-per-key", "4"]
    first = CliRunner().invoke(_app(), args)
    assert first.exit_code == 0, first.output
    result = json.loads(out.read_text())
    assert result["weights"] == 10_560 * 256  # VT-CNN2's dense1 kernel
    assert result["sparsity"] == pytest.approx(1 - result["nonzero"] / result["weights"])
    assert result["samples"] == 40 and result["iterations"] <= 5
    assert result["accuracy_drop_points"] == pytest.approx(100 * (result["acc_before"] - result["acc_after"]))
    cached = list((tmp_path / ".cache" / "bench").glob("bench-vtcnn2-*.keras"))
    assert len(cached) == 1
    second = CliRunner().invoke(_app(), args)  # the cached model: same accuracy before pruning
    assert second.exit_code == 0, second.output
    assert json.loads(out.read_text())["acc_before"] == result["acc_before"]


@pytest.mark.parametrize(
    "args,message",
    [(["--samples", "1"], "--samples >= 2"), (["--model", "missing.keras"], "--model file not found")],
)
def test_refuses_bad_options(tmp_path, args, message):
    result = CliRunner().invoke(_app(), ["--out", str(tmp_path / "x.json"), *args])
    assert result.exit_code != 0 and message in str(result.exception)
    assert not (tmp_path / "x.json").exists()
