"""Shared tiny power-allocation data and a small trained M1 (built once per session)."""

from __future__ import annotations

import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.mimo import GainsConfig, MimoSystemConfig, MimoTrainConfig


@pytest.fixture(scope="session")
def tiny_system() -> MimoSystemConfig:
    return validate_config(MimoSystemConfig, {"antennas": 8})


@pytest.fixture(scope="session")
def power_data(tiny_system, tmp_path_factory):
    """1,200 MR setups (M = 8): a train/validation/test split of the DNN view."""
    from amc_tf.mimo import dataset as ds_mod
    from amc_tf.mimo.training import split_indices

    spec = ds_mod.DatasetSpec(
        system=tiny_system, gains=GainsConfig(precoders=("MR",)), n_setups=1200, shard_size=600, seed=3
    )
    data = ds_mod.load(ds_mod.generate(spec, tmp_path_factory.mktemp("mimo") / "data", progress=False))
    x, y = data.features(), data.targets("MR", 0)
    rest, test = split_indices(len(data), 0.2, seed=0)
    train, val = rest[: int(0.85 * len(rest))], rest[int(0.85 * len(rest)) :]
    return {"x": x, "y": y, "train": train, "val": val, "test": test, "pmax": tiny_system.pmax_mw}


@pytest.fixture(scope="session")
def trained_m1(power_data):
    """M1 for cell 0, trained for a few tens of epochs."""
    from amc_tf.mimo.training import train_cell_model

    d = power_data
    config = MimoTrainConfig(epochs=40, patience=8, batch_size=64, learning_rate=2e-3)
    model, history = train_cell_model(
        "M1", d["x"][d["train"]], d["y"][d["train"]], d["x"][d["val"]], d["y"][d["val"]], config, seed=1
    )
    return model, history
