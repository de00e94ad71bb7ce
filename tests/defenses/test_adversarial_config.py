"""Adversarial-training config: defaults are the paper's recipe, bad values fail with a ConfigError."""

from __future__ import annotations

import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.defense import ONLINE_ATTACKS, AdversarialTrainingConfig, fast_at_mix
from amc_tf.errors import ConfigError


def test_defaults_are_the_paper_recipe():
    config = AdversarialTrainingConfig()
    assert config.mode == "offline"
    assert [(e.attack.name, e.fraction) for e in config.mix] == [("pgd_linf", 0.5), ("fgsm", 0.5)]
    assert config.freeze == ["dense1"]
    assert config.budget.pnr_db == -10.0 and config.budget.linf_convention.value == "energy_matched"


def test_bare_names_and_fast_at_preset_validate():
    config = validate_config(
        AdversarialTrainingConfig, {"mode": "online", "mix": [{"attack": "fgm", "fraction": 1.0}], "freeze": []}
    )
    assert config.mix[0].attack.name == "fgm"
    fast = fast_at_mix()[0].attack
    assert (fast.name, fast.steps, fast.step_fraction, fast.random_start) == ("pgd_linf", 1, 1.25, True)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"mix": [{"attack": "fgm", "fraction": 0.5}, {"attack": "fgsm", "fraction": 0.3}]}, "sum to 1"),
        ({"mode": "online", "mix": [{"attack": "deepfool", "fraction": 1.0}]}, "online-capable attacks"),
        ({"mode": "online", "mix": [{"attack": "uap_svd", "fraction": 1.0}]}, ", ".join(map(repr, ONLINE_ATTACKS))),
        ({"budget": {"pnr_db": -10, "eps": 0.01}}, "exactly one of"),
        ({"budget": {"pnr_db": 90}}, "must lie in [-80, 40] dB"),
        ({"budget": {"pnr_db_range": [0, -10]}}, "lo <= hi"),
        ({"budget": {"eps": -1.0}}, "greater than 0"),
        ({"budget": {"eps": float("inf")}}, "finite"),
        ({"mix": [{"attack": {"name": "pgd_l2", "stepz": 3}, "fraction": 1.0}]}, "unknown field"),
        ({"pgd_steps": [0, 5]}, "pgd_steps"),
    ],
)
def test_bad_config_is_a_clear_config_error(data, words):
    with pytest.raises(ConfigError, match=None) as err:
        validate_config(AdversarialTrainingConfig, data)
    assert words in str(err.value)


def test_pgd_schedule_holds_its_last_value():
    config = AdversarialTrainingConfig(pgd_steps=[1, 3])
    assert [config.pgd_steps_at(i) for i in range(4)] == [1, 3, 3, 3]
    assert AdversarialTrainingConfig().pgd_steps_at(2) is None
