"""``amc-tf mimo margins`` in-process on a tiny config (the mimo app, without the root CLI)."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner


def test_margins_command_prints_the_margins_of_the_cached_models(tmp_path):
    from amc_tf.commands.mimo import app

    config = {
        "kind": "mimo",
        "name": "mimo_margins_test",
        "system": {"n_cells": 1, "ues_per_cell": 2, "antennas": 4},
        "gains": {"precoders": ["MR"]},
        "data": {"train_setups": 40, "test_setups": 8, "shard_size": 20, "workers": 1, "cache_dir": str(tmp_path)},
        "train": {"archs": ["M1"], "epochs": 1, "patience": 1, "batch_size": 32, "val_fraction": 0.2},
        "attack": {"pgd_iters": 2, "wide_eps_m": [1.0, 10.0], "wide_attacks": ["FGSM"]},
        "adversarial": {"enabled": False},
    }
    path = tmp_path / "mimo.yaml"
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "margins.json"
    result = CliRunner().invoke(app, ["margins", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert {"config", "headline", "optimal", "margins", "wide"} <= set(data)
    assert set(data["margins"]["MR"]["M1"]) == {"standard"}
    assert data["wide"]["MR"]["M1"]["standard"]["eps_m"] == [1.0, 10.0]
    assert data["headline"]["MR_optimal_at_pmax"] == data["optimal"]["MR"]["at_pmax"]
    assert "MR_M1_standard_median_margin_mw" in data["headline"]
