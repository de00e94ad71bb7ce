"""Smoke tests of ``amc-tf bench mimo`` and ``amc-tf bench mimo-stages`` at tiny sizes (in-process)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner


def _app(command) -> typer.Typer:
    app = typer.Typer()
    app.command()(command)
    return app


def test_bench_mimo_writes_solver_and_generation_figures(tmp_path):
    from amc_tf.benchmarks.mimo import command

    out = tmp_path / "mimo.json"
    args = ["--out", str(out), "--mr-setups", "4", "--mmmse-setups", "2", "--cvxpy-setups", "2"]
    result = CliRunner().invoke(_app(command), [*args, "--workers", "1", "--antennas", "4", "--realizations", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert {"setups_per_s", "setups_per_cpu_s", "solver_setups_per_s", "cvxpy_setups_per_s"} <= set(data)
    assert set(data["setups_per_s"]) == {"MR", "MR_independent", "MMMSE", "MMMSE_independent", "MR_closed_form"}
    assert data["solver_setups"] == 4 and set(data["shared_draws_speedup"]) == {"MR", "MMMSE"}
    assert data["speed_goal"]["MR"]["measured"] == data["setups_per_s"]["MR"]
    assert data["solver_speedup_vs_cvxpy"] > 1
    assert data["max_rel_objective_gap"] < 1e-4


def test_bench_mimo_refuses_more_cvxpy_than_mr_setups(tmp_path):
    from amc_tf.benchmarks.mimo import command

    result = CliRunner().invoke(_app(command), ["--out", str(tmp_path / "x.json"), "--mr-setups", "2"])
    assert result.exit_code != 0 and "cvxpy_setups" in str(result.exception)
    result = CliRunner().invoke(_app(command), ["--out", str(tmp_path / "x.json"), "--workers", "0"])
    assert result.exit_code == 2 and "--workers" in result.output
    assert not (tmp_path / "x.json").exists()


def test_bench_mimo_stages_times_every_stage(tmp_path):
    from amc_tf.benchmarks.mimo_stages import MR_PARTS, command

    out = tmp_path / "stages.json"
    args = ["--out", str(out), "--setups", "4", "--antennas", "8", "--chunk", "2"]
    result = CliRunner().invoke(_app(command), args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert {"setups", "antennas", "chunk", "threads", "stages", "mr_parts", "total"} <= set(data)
    assert (data["setups"], data["antennas"], data["chunk"]) == (4, 8, 2)
    assert {"mr closed form", "solver (max-product, batched)"} <= set(data["stages"])
    assert {label for _, _, label in MR_PARTS} <= set(data["mr_parts"])
    # the timed parts of the MR closed form are disjoint: together they never exceed the stage they
    # break down (nested or double-counted timers would), up to the 0.1 ms rounding per row
    named = sum(row["wall_s"] for name, row in data["mr_parts"].items() if not name.startswith("mr: rest"))
    assert named <= data["stages"]["mr closed form"]["wall_s"] + 1e-4 * len(data["mr_parts"])
    assert data["total"]["setups_per_cpu_s"] > 0
    # the timing wrappers are gone afterwards: the library functions are the originals again
    from amc_tf.mimo import toeplitz

    assert not hasattr(toeplitz.dense, "__wrapped__")
    result = CliRunner().invoke(_app(command), ["--out", str(out), "--setups", "0"])
    assert result.exit_code == 2 and "--setups" in result.output
