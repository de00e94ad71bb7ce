"""The generator benchmark and its CLI command (tiny sizes)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from amc_tf.benchmarks.data import bench_data, command
from amc_tf.errors import ConfigError


def test_bench_data_reports_rate():
    result = bench_data(n_windows=300, family="rml2016")
    assert result["n_windows"] == 11 * 20 * 2  # rounded up to whole keys
    assert result["windows_per_s"] > 0 and result["seconds"] > 0 and result["family"] == "rml2016"
    with pytest.raises(ConfigError, match="unknown family"):
        bench_data(n_windows=10, family="rml2017")
    with pytest.raises(ConfigError, match="n_windows"):
        bench_data(n_windows=0)


def test_bench_data_command_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    app = typer.Typer()
    app.command()(command)
    res = CliRunner().invoke(app, ["--out", str(out), "--n-windows", "10", "--family", "rml2018"])
    assert res.exit_code == 0, res.output
    written = json.loads(out.read_text())
    assert written["n_windows"] == 24 * 26 and written["windows_per_s"] > 0 and written["family"] == "rml2018"
