"""Each attack declares its name and settings once: registry, config specs, ART twins, refusals."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
import yaml

from amc_tf.attacks import ART_BASELINES, ATTACKS, CONTROLS, NATIVE_COUNTERPART, AttackSettings, Budget, build_attack
from amc_tf.attacks.baselines.art import NO_ART_TWIN
from amc_tf.config.attack import RobustnessConfig
from amc_tf.config.base import load_config, validate_config
from amc_tf.errors import AttackError, ConfigError

#: Every registry name with its default settings (these are published defaults: change them on purpose only).
DEFAULTS = {
    "fgm": {},
    "fgsm": {},
    "pgd_l2": {"steps": 10, "step_fraction": 0.25, "random_start": True, "restarts": 1},
    "pgd_linf": {"steps": 10, "step_fraction": 0.25, "random_start": True, "restarts": 1},
    "mifgsm": {"iterations": 10, "mu": 1.0},
    "deepfool": {"overshoot": 0.02, "max_iter": 50, "candidates": 10},
    "uap_svd": {"n_vectors": 50, "draws": 5, "n_fit": 256},
    "uap_iterative": {"inner": "deepfool", "delta": 0.2, "max_passes": 1, "n_fit": 256},
    "noise_gaussian": {},
    "noise_sign": {},
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_every_attack_declares_its_name_and_settings_once(name):
    cls = ATTACKS[name]
    assert cls.name == name
    assert issubclass(cls.Settings, AttackSettings)
    assert typing.get_args(cls.Settings.model_fields["name"].annotation) == (name,)
    assert cls.Settings().model_dump(exclude={"name"}) == DEFAULTS[name]


def test_registry_names_and_controls():
    assert list(ATTACKS) == list(DEFAULTS)
    assert CONTROLS == {"noise_gaussian", "noise_sign"}
    assert [s.name for s in RobustnessConfig().attacks] == list(DEFAULTS)


def test_a_bad_setting_is_refused_naming_the_field_and_value(tiny_model):
    with pytest.raises(AttackError, match=r"pgd_l2.*steps=0"):
        build_attack("pgd_l2", tiny_model, budget=Budget.pnr(-10), steps=0)
    with pytest.raises(AttackError, match=r"mu=-1\.0"):
        build_attack("mifgsm", tiny_model, budget=Budget.pnr(-10), mu=-1.0)
    with pytest.raises(AttackError, match="unknown setting 'stepz'"):
        build_attack("pgd_linf", tiny_model, budget=Budget.pnr(-10), stepz=3)
    with pytest.raises(AttackError, match="batch_size=0"):
        build_attack("fgm", tiny_model, budget=Budget.pnr(-10), batch_size=0)
    with pytest.raises(AttackError, match="pgd_l2 works in"):
        build_attack("pgd_l2", tiny_model, budget=Budget.pnr(-10), norm="linf")


def test_a_spec_builds_the_same_attack_as_its_settings(tiny_model):
    spec = validate_config(RobustnessConfig, {"attacks": [{"name": "pgd_l2", "steps": 3}]}).attacks[0]
    from_spec = build_attack(spec, tiny_model, budget=Budget.pnr(-6))
    by_name = build_attack("pgd_l2", tiny_model, budget=Budget.pnr(-6), steps=3)
    assert from_spec.settings() == by_name.settings() and from_spec.steps == 3


def test_yaml_shorthand_and_full_form_both_validate():
    data = yaml.safe_load("attacks: [fgm, {name: pgd_l2, steps: 5}]\nart_baselines: [fgm, pgd_l2]")
    config = validate_config(RobustnessConfig, data)
    assert config.attacks[0] == ATTACKS["fgm"].Settings()
    assert config.attacks[1] == ATTACKS["pgd_l2"].Settings(steps=5)
    assert config.spec("deepfool") == ATTACKS["deepfool"].Settings()  # not listed: its defaults
    assert validate_config(RobustnessConfig, config.model_dump(mode="json")) == config  # round trip


@pytest.mark.parametrize(
    "data,path",
    [
        ({"attacks": ["fgm", "cw"]}, "attacks.1"),
        ({"attacks": ["fgm", {"name": "pgd_l2", "stepz": 5}]}, "attacks.1.pgd_l2.stepz"),
        ({"attacks": [{"name": "deepfool", "max_iter": 0}]}, "attacks.0.deepfool.max_iter"),
        ({"attacks": [{"name": "fgm", "steps": 3}]}, "attacks.0.fgm.steps"),
        ({"attacks": [{"name": "pgd_linf", "random_start": "yes"}]}, "attacks.0.pgd_linf.random_start"),
        ({"art_baselines": ["fgm", "cw"]}, "art_baselines.1"),
        ({"art_baselines": ["mifgsm"]}, "art_baselines.0"),
        ({"settings": {"pgd": {"steps": 5}}}, "settings"),
    ],
)
def test_bad_attack_configs_raise_config_errors_with_the_dotted_path(data, path):
    with pytest.raises(ConfigError, match=re.escape(f"  - {path}: ")):
        validate_config(RobustnessConfig, data)


def test_every_art_baseline_twin_is_a_registry_attack():
    assert list(ART_BASELINES) == ["fgm", "fgsm", "pgd_l2", "pgd_linf", "deepfool", "uap"]
    for name, cls in ART_BASELINES.items():
        assert cls.twin in ATTACKS, name
        assert NATIVE_COUNTERPART[name] == cls.twin
    assert "mifgsm" not in NATIVE_COUNTERPART.values() and "#2439" in NO_ART_TWIN["mifgsm"]


def test_art_settings_follow_the_twins_spec_like_for_like():
    config = validate_config(
        RobustnessConfig,
        {
            "attacks": [
                {"name": "pgd_linf", "steps": 7, "step_fraction": 0.5, "restarts": 3},
                {"name": "deepfool", "overshoot": 0.05, "max_iter": 20},
                {"name": "uap_iterative", "delta": 0.3, "max_passes": 2},
            ]
        },
    )
    pgd = ART_BASELINES["pgd_linf"]
    like = {"steps": 7, "step_fraction": 0.5, "random_start": False, "restarts": 1}
    assert pgd.settings_from(config.spec("pgd_linf"), config.spec) == like
    assert pgd.twin_spec(config.spec("pgd_linf")).model_dump(exclude={"name"}) == like
    deepfool = ART_BASELINES["deepfool"].settings_from(config.spec("deepfool"), config.spec)
    assert deepfool == {"overshoot": 0.05, "max_iter": 20, "candidates": 10}
    uap = ART_BASELINES["uap"].settings_from(config.spec("uap_iterative"), config.spec)
    assert uap == {"delta": 0.3, "max_passes": 2, "overshoot": 0.05}  # overshoot from DeepFool's spec


def test_the_quickstart_config_keeps_its_values():
    from amc_tf.config.classifier import EvaluateRobustnessConfig

    path = Path(__file__).parents[2] / "configs" / "robustness_quickstart.yaml"
    robustness = load_config(path, EvaluateRobustnessConfig).robustness
    assert [s.name for s in robustness.attacks] == list(DEFAULTS)
    for spec in robustness.attacks:
        expected = {**DEFAULTS[spec.name], **({"n_fit": 128} if "n_fit" in DEFAULTS[spec.name] else {})}
        assert spec.model_dump(exclude={"name"}) == expected, spec.name
    assert robustness.art_baselines == list(ART_BASELINES)
