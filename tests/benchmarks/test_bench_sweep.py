"""``amc-tf bench sweep`` at tiny sizes: the documented JSON layout (naive, survivors, art, curves,
goals), survivors never weaker than naive and cheaper in gradients; bad sizes are refused."""

from __future__ import annotations

import json

import pytest

from amc_tf.benchmarks.sweep import bench_sweep, command
from amc_tf.errors import ConfigError
from amc_tf.io import write_json

TINY = {"n": 4, "pnr_db": (-10.0, 0.0), "steps": 2, "deepfool_max_iter": 3, "train_epochs": 0, "batch_size": 4}


def test_writes_the_documented_layout(tmp_path):
    out = write_json(tmp_path / "sweep.json", bench_sweep(**TINY))
    data = json.loads(out.read_text())
    assert {"naive", "survivors", "art", "curves", "goals"} <= set(data)
    assert data["naive"]["seconds"] > 0 and data["naive"]["gradients"] > 0 and data["art"]["seconds"] > 0
    assert 0 < data["survivors"]["gradients"] < data["naive"]["gradients"]
    curves = data["curves"]
    assert curves["pnr_db"] == [-10.0, 0.0] and curves["n_examples"] == 4 and curves["clean_accuracy"] == 1.0
    for kind in ("naive", "survivors", "art"):
        assert len(curves[kind]["worst_case"]) == 2
    assert all(s <= v for s, v in zip(curves["survivors"]["worst_case"], curves["naive"]["worst_case"]))
    for key in ("gradient_ratio", "time_ratio", "art_over_survivors_time", "survivors_never_weaker", "met"):
        assert key in data["goals"]
    assert data["goals"]["gradient_ratio_target"] == 3.0


def test_refuses_bad_sizes(tmp_path):
    with pytest.raises(ConfigError, match="must be >= 1"):
        bench_sweep(**{**TINY, "n": 0})
    with pytest.raises(ConfigError):
        command(out=tmp_path / "x.json", n=1, train_epochs=-1)
    assert not (tmp_path / "x.json").exists()


def test_the_benchmark_model_carries_the_flows_input_gain():
    """Without the gain VT-CNN2 sits at chance on RML2016's L1-normalised windows, and a sweep of a
    constant classifier makes every ratio meaningless (it once reported 16x from 16 survivors)."""
    from amc_tf.benchmarks.attacks import _data_and_model
    from amc_tf.models.registry import input_scale_for

    model, x, _, _ = _data_and_model(8, 10, 0, 0)
    gain = model.get_layer("input_scale").get_config()["scale"]
    assert gain == pytest.approx(input_scale_for(x)) and gain > 10
