"""Net-Trim and distillation settings of the compress config: the paper config is seed-literal."""

from __future__ import annotations

from pathlib import Path

import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.compress import CompressConfig, NetTrimConfig
from amc_tf.config.pipelines import load_pipeline
from amc_tf.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_paper_config_is_seed_literal():
    cfg = load_pipeline(CONFIGS / "rml2016_compress.yaml")
    assert (cfg.distill.method, cfg.distill.alpha, cfg.distill.temperature) == ("hinton", 0.1, 10.0)
    assert cfg.distill.scale_t2 is False
    assert (cfg.nettrim.tolerance, cfg.nettrim.eta) == ("absolute", 0.8)
    assert cfg.nettrim.max_iter >= 1000  # a safety cap, not the stop rule


def test_quickstart_mirrors_the_paper_settings():
    cfg = load_pipeline(CONFIGS / "compress_quickstart.yaml")
    assert cfg.distill.scale_t2 is False
    assert (cfg.nettrim.tolerance, cfg.nettrim.eta) == ("absolute", 0.8)


def test_defaults_keep_the_relative_radius_and_hintons_t2():
    nettrim, cfg = NetTrimConfig(), CompressConfig()
    assert (nettrim.tolerance, nettrim.eta, nettrim.rel_tol) == ("relative", 0.06, 1e-3)
    assert cfg.distill.scale_t2 is True


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"eta": 1.5}, "relative eta"),
        ({"eta": 0.0}, "greater than 0"),
        ({"tolerance": "percent"}, "tolerance"),
        ({"rel_tol": 0.0, "abs_tol": 0.0}, "both be 0"),
        ({"tol": 5e-9}, "rel_tol"),
    ],
)
def test_bad_nettrim_settings_are_refused_at_load(values, match):
    with pytest.raises(ConfigError, match=match):
        validate_config(CompressConfig, {"nettrim": values})


def test_absolute_eta_may_exceed_one():
    assert NetTrimConfig(tolerance="absolute", eta=2.5).eta == 2.5
