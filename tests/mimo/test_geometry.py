"""Wrap-around layout, UE drops, pathloss and the DNN feature order (hand-made layouts)."""

from __future__ import annotations

import numpy as np
import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.mimo import MimoSystemConfig
from amc_tf.errors import ConfigError, DatasetError
from amc_tf.mimo import geometry

SYS = MimoSystemConfig()


def _one_setup(**moves) -> np.ndarray:
    """A valid layout (every UE 60 m east of its BS), with some UEs moved: ``{(l, k): (x, y)}``."""
    pos = np.repeat(geometry.bs_positions(SYS)[:, None, :], SYS.ues_per_cell, axis=1) + np.array([60.0, 0.0])
    for (l, k), xy in moves.get("moves", {}).items():
        pos[l, k] = xy
    return pos[None]


def test_bs_positions_match_the_book_grid():
    np.testing.assert_allclose(geometry.bs_positions(SYS), [[125, 125], [125, 375], [375, 125], [375, 375]])
    assert geometry.square_side(SYS) == 500.0


def test_wrap_around_uses_the_nearest_replica():
    # UE 0 of cell 0 at the left edge (5, 125): BS 2 at (375, 125) is 370 m away directly but only
    # 130 m through the wrap (replica at (-125, 125)); BS 3 (375, 375) via (-125, -125).
    pos = _one_setup(moves={(0, 0): (5.0, 125.0), (0, 1): (10.0, 10.0)})
    dist, angle = geometry.wrapped_links(pos, SYS)
    assert dist.shape == (1, 4, 4, 5)
    assert dist[0, 2, 0, 0] == pytest.approx(130.0)
    assert angle[0, 2, 0, 0] == pytest.approx(0.0)  # the replica is due west: UE seen at angle 0
    assert dist[0, 0, 0, 0] == pytest.approx(120.0)
    assert dist[0, 3, 0, 1] == pytest.approx(np.hypot(135.0, 135.0))
    # every link is at most half the square's diagonal
    assert dist.max() <= np.hypot(250, 250) + 1e-9


def test_pathloss_and_noise_floor():
    np.testing.assert_allclose(geometry.pathloss_db(np.array([1.0, 10.0, 100.0]), SYS), [-35.3, -72.9, -110.5])
    assert SYS.noise_dbm == pytest.approx(-93.99, abs=0.01)
    gain = geometry.channel_gain_over_noise_db(np.array([[[[100.0]]]]), SYS)
    assert gain[0, 0, 0, 0] == pytest.approx(-110.5 - SYS.noise_dbm)
    with pytest.raises(DatasetError):
        geometry.pathloss_db(np.array([0.0]), SYS)


def test_drops_stay_in_their_cell_and_away_from_the_bs():
    pos = geometry.drop_ues(SYS, 200, np.random.default_rng(0))
    rel = pos - geometry.bs_positions(SYS)[None, :, None, :]
    assert np.abs(rel).max() <= SYS.cell_side_m / 2
    assert np.linalg.norm(rel, axis=-1).min() >= SYS.min_distance_m
    geometry.validate_positions(pos, SYS)  # no error
    np.testing.assert_array_equal(pos, geometry.drop_ues(SYS, 200, np.random.default_rng(0)))


def test_shadowing_keeps_the_serving_bs_strongest():
    sys = validate_config(MimoSystemConfig, {"shadowing_std_db": 10.0})
    pos = geometry.drop_ues(sys, 50, np.random.default_rng(1))
    dist, _ = geometry.wrapped_links(pos, sys)
    gain = geometry.channel_gain_over_noise_db(dist, sys, np.random.default_rng(2))
    own = np.arange(4)
    assert (gain[:, own, own, :] >= gain.max(axis=1) - 1e-12).all()
    with pytest.raises(ConfigError):
        geometry.channel_gain_over_noise_db(dist, sys)  # shadowing needs a generator


def test_bad_positions_are_refused():
    with pytest.raises(DatasetError, match="outside their own cell"):
        geometry.validate_positions(_one_setup(moves={(1, 2): (400.0, 400.0)}), SYS)  # in cell 3, not 1
    bad = _one_setup()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(DatasetError, match="non-finite"):
        geometry.validate_positions(bad, SYS)
    with pytest.raises(DatasetError, match="closer than"):
        geometry.validate_positions(_one_setup(moves={(0, 0): (130.0, 125.0)}), SYS)
    with pytest.raises(DatasetError, match="shape"):
        geometry.validate_positions(np.zeros((1, 4, 3, 2)), SYS)


def test_feature_order_is_x_then_y_cell_major():
    pos = geometry.drop_ues(SYS, 3, np.random.default_rng(3))
    f = geometry.features(pos)
    assert f.shape == (3, 40) and f.dtype == np.float32
    assert f[1, 0] == pytest.approx(pos[1, 0, 0, 0]) and f[1, 1] == pytest.approx(
        pos[1, 0, 1, 0]
    )  # x of UEs 0, 1 of cell 0
    assert f[1, 5] == pytest.approx(pos[1, 1, 0, 0])  # x of UE 0 of cell 1
    assert f[1, 20] == pytest.approx(pos[1, 0, 0, 1])  # y starts at 20
    np.testing.assert_allclose(geometry.positions_from_features(f, SYS), pos, atol=1e-4)


def test_config_refuses_impossible_layouts():
    with pytest.raises(ConfigError, match="perfect square"):
        validate_config(MimoSystemConfig, {"n_cells": 3})
    with pytest.raises(ConfigError, match="min_distance_m"):
        validate_config(MimoSystemConfig, {"cell_side_m": 60.0})
