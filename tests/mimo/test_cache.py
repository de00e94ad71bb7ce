"""MIMO datasets and model sets are cached by config *and* by the source of the code that made them."""

from __future__ import annotations

import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.mimo import MimoPipelineConfig


def tiny_pipeline(tmp_path, **overrides) -> MimoPipelineConfig:
    values = {
        "kind": "mimo",
        "name": "mimo_cache_test",
        "seed": 1,
        "system": {"n_cells": 1, "ues_per_cell": 2, "antennas": 4},
        "gains": {"precoders": ["MR"]},
        "data": {"train_setups": 40, "test_setups": 8, "shard_size": 20, "workers": 1, "cache_dir": str(tmp_path)},
        "train": {"archs": ["M1"], "epochs": 1, "patience": 1, "batch_size": 32, "val_fraction": 0.2},
        "attack": {"eps_m": [0.3], "pgd_iters": 2, "mifgsm_iters": 2, "wide_eps_m": []},
        "adversarial": {"eps_m": 0.3},
    }
    return validate_config(MimoPipelineConfig, {**values, **overrides})


def test_dataset_entry_depends_on_the_simulator_code(tmp_path, monkeypatch):
    from amc_tf.mimo import dataset as ds_mod
    from amc_tf.mimo import stages

    config = tiny_pipeline(tmp_path)
    first = stages.ensure_split(config, "train", progress=False)
    assert not first.cache_hit and first.setups_per_s
    again = stages.ensure_split(config, "train", progress=False)
    assert again.cache_hit and again.path == first.path and again.fingerprint == first.fingerprint
    # an edit to the simulator (here: one more module in its code) names a new entry
    monkeypatch.setattr(ds_mod, "DATASET_CODE", (*ds_mod.DATASET_CODE, "amc_tf.mimo.reference"))
    changed = stages.ensure_split(config, "train", progress=False)
    assert not changed.cache_hit and changed.path != first.path
    assert changed.fingerprint == first.fingerprint  # same code paths ran: same content


def test_model_set_entry_depends_on_the_training_code(tmp_path, monkeypatch):
    import amc_tf.cache
    from amc_tf.mimo import stages

    config = tiny_pipeline(tmp_path)
    train = stages.ensure_split(config, "train", progress=False)
    first = stages.train_standard(config, train)
    assert not first.cache_hit and set(first.models) == {"M1-MR-cell0"}
    again = stages.train_standard(config, train)
    assert again.cache_hit and again.path == first.path and again.models == first.models
    assert again.metrics().keys() == first.metrics().keys()
    # a changed code digest (an edited training module) gives a new entry, trained again
    real = amc_tf.cache.code_digest
    monkeypatch.setattr(amc_tf.cache, "code_digest", lambda modules: real(modules)[::-1])
    changed = stages.train_standard(config, train)
    assert not changed.cache_hit and changed.path != first.path
    monkeypatch.undo()
    # other settings, another entry; the adversarial set is keyed by the standard set it starts from
    assert stages.train_standard(tiny_pipeline(tmp_path, seed=2), train).path != first.path
    robust = stages.train_robust(config, train, first)
    assert robust.training == "adversarial" and robust.path != first.path
    assert stages.train_robust(config, train, first).cache_hit


def test_cached_model_set_refuses_a_foreign_directory(tmp_path):
    from amc_tf.errors import ModelError
    from amc_tf.mimo.model_sets import read_index

    with pytest.raises(ModelError, match="not a model set"):
        read_index(tmp_path)
