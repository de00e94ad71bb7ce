"""The TF-free model catalogue matches the built models, and configs are checked against it when
they load: Net-Trim and TF-MOT layers that the student lacks fail before any work."""

from __future__ import annotations

import json

import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.compress import CompressConfig
from amc_tf.errors import ConfigError
from amc_tf.models import catalogue


def test_the_catalogue_file_matches_every_built_model():
    built = catalogue.build_catalogue()
    stored = json.loads(catalogue.PATH.read_text())
    assert stored == built, "catalogue.json is stale: run `python -m amc_tf.models.catalogue`"
    assert catalogue.facts("vtcnn2").nettrim == ("dense1",)


def test_layer_names_do_not_depend_on_the_parameters():
    from amc_tf.models.registry import MODELS

    model = MODELS["inception"](dense_units=16, dropout=0.1, input_scale=2.0)
    assert [layer.name for layer in model.layers if layer.weights] == list(catalogue.facts("inception").layers)


@pytest.mark.parametrize(
    "section,message",
    [
        ({"nettrim": {"layer": "dense7"}}, r"nettrim.layer.*no such layer\(s\) \['dense7'\]"),
        ({"nettrim": {"layer": "dense2"}}, r"nettrim.layer.*\['dense2'\]"),  # exists, but linear
        ({"tfmot": {"layers": ["dense1", "conv9"]}}, r"tfmot.layers.*\['conv9'\]"),
        ({"student": {"name": "sbcnn_small"}, "nettrim": {"layer": "dense1"}}, r"model 'sbcnn_small' has no"),
    ],
)
def test_compress_layers_are_checked_when_the_config_loads(section, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(CompressConfig, section)


def test_valid_layers_pass():
    cfg = validate_config(CompressConfig, {"tfmot": {"layers": ["conv1", "dense1"]}})
    assert cfg.nettrim.layer == "dense1" and cfg.tfmot.layers == ["conv1", "dense1"]
