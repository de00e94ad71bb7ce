"""Splits are stratified and seeded; configs reject typos and bad values before any work."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from amc_tf.config.base import load_config, validate_config
from amc_tf.config.classifier import TrainClassifierConfig
from amc_tf.config.data import SplitConfig
from amc_tf.data.dataset import IQDataset
from amc_tf.data.splits import stratified_split
from amc_tf.errors import ConfigError


def _toy(n_per_key=20, classes=("A", "B", "C"), snrs=(-10, 0, 10), L=16, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(classes)), n_per_key * len(snrs))
    snr = np.tile(np.repeat(np.array(snrs), n_per_key), len(classes)).astype(np.int32)
    x = rng.normal(size=(len(y), 2, L)).astype(np.float32)
    return IQDataset(x, y.astype(np.int64), snr, tuple(classes), {})


def test_split_is_stratified_disjoint_and_seeded():
    ds = _toy()
    parts = stratified_split(ds, train=0.5, val=0.2, test=0.3, seed=3)
    assert len(parts["train"]) + len(parts["val"]) + len(parts["test"]) == len(ds)
    for part, frac in (("train", 0.5), ("val", 0.2), ("test", 0.3)):
        p = parts[part]
        for c in range(3):
            for s in (-10, 0, 10):
                count = np.sum((p.y == c) & (p.snr == s))
                assert abs(count - frac * 20) <= 1, (part, c, s, count)
    # disjoint: no window appears in two parts
    rows = {part: {p.x[i].tobytes() for i in range(len(p))} for part, p in parts.items()}
    assert not rows["train"] & rows["test"] and not rows["train"] & rows["val"] and not rows["val"] & rows["test"]
    again = stratified_split(ds, train=0.5, val=0.2, test=0.3, seed=3)
    assert np.array_equal(again["test"].x, parts["test"].x)
    other = stratified_split(ds, train=0.5, val=0.2, test=0.3, seed=4)
    assert not np.array_equal(other["test"].x, parts["test"].x)


def test_split_without_val_and_bad_fractions():
    ds = _toy()
    parts = stratified_split(ds, train=0.5, val=0.0, test=0.5, seed=0)
    assert set(parts) == {"train", "test"} and len(parts["train"]) == len(parts["test"]) == 90
    with pytest.raises(ConfigError, match="sum to 1"):
        stratified_split(ds, train=0.5, val=0.1, test=0.5, seed=0)
    with pytest.raises(ConfigError, match="strata"):
        stratified_split(_toy(n_per_key=2), train=0.9, val=0.05, test=0.05, seed=0)


def test_split_config_validation():
    with pytest.raises(ConfigError, match="must equal 1"):
        validate_config(SplitConfig, {"train": 0.6, "val": 0.1, "test": 0.6})


def test_config_typo_names_field_and_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("kind: train_classifier\ntrain:\n  epocs: 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, TrainClassifierConfig)
    assert "train.epocs" in str(err.value) and str(path) in str(err.value) and "unknown field" in str(err.value)


def test_config_bad_value_and_missing_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("kind: train_classifier\ntrain:\n  learning_rate: -1\n")
    with pytest.raises(ConfigError, match="train.learning_rate"):
        load_config(path, TrainClassifierConfig)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml", TrainClassifierConfig)
    path.write_text("kind: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, TrainClassifierConfig)


def test_shipped_configs_validate():
    from pathlib import Path

    import flows
    from amc_tf.config.pipelines import KINDS, load_pipeline

    assert set(KINDS) == set(flows.FLOWS)  # every pipeline kind has a flow, and only those
    root = Path(__file__).resolve().parents[2] / "configs"
    seen = set()
    for path in sorted(root.glob("*.yaml")):
        cfg = load_pipeline(path)
        assert isinstance(cfg, KINDS[cfg.kind]), path.name
        seen.add(cfg.kind)
    assert seen == set(KINDS)  # a shipped config for every kind


def test_config_is_frozen_and_hash_stable():
    a = TrainClassifierConfig()
    b = TrainClassifierConfig()
    assert a.config_hash() == b.config_hash()
    with pytest.raises(ValidationError, match="frozen"):
        a.seed = 3  # type: ignore[misc]
    c = validate_config(TrainClassifierConfig, {"seed": 1})
    assert c.config_hash() != a.config_hash()
    assert c.flat()["train.batch_size"] == 1024


def test_overrides_apply_and_are_validated(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("kind: train_classifier\ntrain:\n  epochs: 3\n")
    cfg = load_config(
        path,
        TrainClassifierConfig,
        overrides=["train.epochs=7", "train.max_minutes=1.5", "data.split.val=0.1", "data.split.train=0.4"],
    )
    assert cfg.train.epochs == 7 and cfg.train.max_minutes == 1.5 and cfg.data.split.val == 0.1
    with pytest.raises(ConfigError, match="train.epochs"):
        load_config(path, TrainClassifierConfig, overrides=["train.epochs=-2"])
    with pytest.raises(ConfigError, match="section.field=value"):
        load_config(path, TrainClassifierConfig, overrides=["epochs"])
    with pytest.raises(ConfigError, match="not a section"):
        load_config(path, TrainClassifierConfig, overrides=["train.epochs.x=1"])
