"""``amc-tf bench mimo-attacks`` on a tiny config: the issue's JSON layout, rates as counts."""

from __future__ import annotations

import json

import pytest
import typer
import yaml
from typer.testing import CliRunner

TINY = {
    "kind": "mimo",
    "name": "bench_mimo_attacks_test",
    "system": {"n_cells": 1, "ues_per_cell": 2, "antennas": 4, "cell_side_m": 500.0},
    "gains": {"precoders": ["MR"], "realizations": 4},
    "data": {"train_setups": 60, "test_setups": 20, "shard_size": 30, "workers": 1},
    "train": {"archs": ["M1", "M2"], "epochs": 2, "patience": 1, "batch_size": 32, "val_fraction": 0.2},
    "attack": {"eps_unit": "normalized", "eps_m": [0.1, 0.3], "pgd_iters": 3, "mifgsm_iters": 2, "wide_eps_m": []},
    "adversarial": {"attack": "FGSM", "eps_m": 0.1, "mix_clean": False},
}


@pytest.mark.parametrize("unit", ["normalized", "metres"])
def test_bench_mimo_attacks_writes_the_issue_layout(tmp_path, unit):
    from amc_tf.benchmarks.mimo_attacks import command

    config = {
        **TINY,
        "attack": {**TINY["attack"], "eps_unit": unit},
        "data": {**TINY["data"], "cache_dir": str(tmp_path)},
    }
    path = tmp_path / "mimo.yaml"
    path.write_text(yaml.safe_dump(config))
    app = typer.Typer()
    app.command()(command)
    out = tmp_path / "attacks.json"
    result = CliRunner().invoke(app, ["--out", str(out), "--config", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["eps_unit"] == unit
    table = data["success"]["MR"]
    assert set(table) == {"M1", "M2"} and set(table["M1"]) == {"standard", "adversarial"}
    rates = table["M2"]["adversarial"]
    assert set(rates) == {"FGSM", "PGDM", "MIFGSM", "RANDOM"} and set(rates["PGDM"]) == {"0.1", "0.3"}
    # success counts over L·N = 1 cell × 20 setups
    assert all(abs(r * 20 - round(r * 20)) < 1e-9 for a in rates.values() for r in a.values())
    moved = data["displacement_m"]
    if unit == "metres":  # FGSM moves every coordinate by eps (no UE sits within 0.3 m of a cell edge here)
        assert moved == pytest.approx({"0.1": 0.1, "0.3": 0.3}, rel=1e-3)
    else:  # 0.1 std of a coordinate uniform over a 500 m cell is ~14 m
        assert 8 < moved["0.1"] < 20 and moved["0.3"] == pytest.approx(3 * moved["0.1"], rel=0.05)
    assert set(data["transfer"]["MR"]["FGSM"]) == {"M1", "M2"}
    assert data["adversarial_training"] == {"attack": "FGSM", "eps": 0.1, "mix_clean": False}
