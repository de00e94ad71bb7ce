"""Mistakes that would only show after the data stage (or never) fail when the config loads:
unknown models and model parameters, budgets outside any sane range, absurd MIMO sizes."""

from __future__ import annotations

import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.classifier import EvaluateRobustnessConfig, TrainClassifierConfig
from amc_tf.config.mimo import MimoPipelineConfig
from amc_tf.errors import ConfigError


@pytest.mark.parametrize(
    "model,message",
    [
        ({"name": "vtcnn3"}, "unknown model 'vtcnn3'"),
        ({"name": "vtcnn2", "params": {"dropuot": 0.3}}, r"no parameter\(s\) \['dropuot'\]"),
        ({"name": "sbcnn", "params": {"n_classes": 3}}, r"no parameter\(s\) \['n_classes'\]"),
    ],
)
def test_models_are_checked_against_the_registry(model, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(TrainClassifierConfig, {"model": model})


def test_registered_models_and_their_params_validate():
    cfg = validate_config(TrainClassifierConfig, {"model": {"name": "inception", "params": {"dense_units": 8}}})
    assert cfg.model.params == {"dense_units": 8}


@pytest.mark.parametrize(
    "robustness,field",
    [
        ({"pnr_db": [-20, 400]}, "robustness.pnr_db"),
        ({"pnr_db": [-200, 0]}, "robustness.pnr_db"),
        ({"breakdown_pnr_db": 90}, "robustness.breakdown_pnr_db"),
    ],
)
def test_pnr_budgets_outside_a_sane_range_are_refused(robustness, field):
    with pytest.raises(ConfigError, match=field):
        validate_config(EvaluateRobustnessConfig, {"robustness": robustness})


@pytest.mark.parametrize(
    "section,field",
    [
        ({"attack": {"eps_m": [0.1, 5000]}}, "attack.eps_m"),
        ({"attack": {"sumse_eps_m": 1e6}}, "attack.sumse_eps_m"),
        ({"adversarial": {"eps_m": 2000}}, "adversarial.eps_m"),
        ({"data": {"train_setups": 10**9}}, "data.train_setups"),
    ],
)
def test_mimo_budgets_and_sizes_are_bounded(section, field):
    with pytest.raises(ConfigError, match=field):
        validate_config(MimoPipelineConfig, section)
