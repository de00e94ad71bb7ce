"""Sharded dataset generation: content, determinism across workers, resume, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.mimo import GainsConfig, MimoSystemConfig
from amc_tf.errors import DatasetError
from amc_tf.mimo import dataset as ds_mod
from amc_tf.mimo.power import max_product_power

SYS = validate_config(MimoSystemConfig, {"antennas": 4})


def _spec(**kw) -> ds_mod.DatasetSpec:
    base = {
        "system": SYS,
        "gains": GainsConfig(precoders=("MR", "MMMSE"), realizations=8),
        "n_setups": 7,
        "shard_size": 3,
        "seed": 5,
        "split": "test",
        "keep_gains": True,
    }
    return ds_mod.DatasetSpec(**{**base, **kw})


def test_generate_and_load(tmp_path):
    spec = _spec()
    path = ds_mod.generate(spec, tmp_path / "ds", progress=False)
    manifest = json.loads((path / "manifest.json").read_text())
    assert [s["setups"] for s in manifest["shards"]] == [3, 3, 1]
    data = ds_mod.load(path)
    assert len(data) == 7
    assert data.features().shape == (7, 40)
    t = data.targets("MMMSE", 2)
    assert t.shape == (7, 6) and t.dtype == np.float32
    np.testing.assert_allclose(t[:, 5], t[:, :5].sum(axis=1), rtol=1e-6)
    assert (data.power("MR").sum(axis=2) <= SYS.pmax_mw * (1 + 1e-9)).all()
    # the stored powers are the solver's optimum for the stored gains
    a, b = data.gains("MR")
    np.testing.assert_allclose(max_product_power(a, b, SYS.pmax_mw), data.power("MR"), rtol=2e-3)
    with pytest.raises(DatasetError, match="cell"):
        data.targets("MR", 4)


def test_same_content_with_two_workers_and_after_resume(tmp_path, monkeypatch):
    spec = _spec(gains=GainsConfig(precoders=("MR",)), keep_gains=False)
    one = ds_mod.load(ds_mod.generate(spec, tmp_path / "one", progress=False))
    two = ds_mod.load(ds_mod.generate(spec, tmp_path / "two", workers=2, progress=False))
    np.testing.assert_array_equal(one.positions, two.positions)
    np.testing.assert_array_equal(one.power("MR"), two.power("MR"))
    # a "killed" run: shard 1 and the manifest never made it to disk (a stale temp file did)
    root = tmp_path / "one"
    (root / "shard-00001.npz").unlink()
    (root / "manifest.json").unlink()
    (root / ".shard-00001.npz.abc.tmp.npz").write_bytes(b"partial")
    with pytest.raises(DatasetError, match="did not finish"):
        ds_mod.load(root)
    calls = []
    real = ds_mod.generate_shard
    monkeypatch.setattr(ds_mod, "generate_shard", lambda spec_json, i, out: calls.append(i) or real(spec_json, i, out))
    ds_mod.generate(spec, root, progress=False)
    assert calls == [1]  # only the missing shard was recomputed
    assert not list(root.glob(".shard-*"))
    resumed = ds_mod.load(root)
    np.testing.assert_array_equal(resumed.power("MR"), one.power("MR"))


def test_refusals(tmp_path):
    spec = _spec(gains=GainsConfig(precoders=("MR",)), keep_gains=False)
    root = ds_mod.generate(spec, tmp_path / "ds", progress=False)
    with pytest.raises(DatasetError, match="another spec"):
        ds_mod.generate(_spec(gains=GainsConfig(precoders=("MR",)), seed=6), root, progress=False)
    with pytest.raises(DatasetError, match="without gains"):
        ds_mod.load(root).gains("MR")
    with pytest.raises(DatasetError, match="no MMMSE"):
        ds_mod.load(root).power("MMMSE")
    (root / "shard-00000.npz").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="checksum"):
        ds_mod.load(root)
    name = ds_mod.dataset_dir("cache", spec).name
    assert name.startswith("mimo-test-") and name == ds_mod.dataset_dir("cache", spec).name
    assert ds_mod.dataset_dir("cache", _spec(gains=GainsConfig(precoders=("MR",)), seed=6)).name != name
