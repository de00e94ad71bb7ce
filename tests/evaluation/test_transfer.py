"""The transferability matrix on the tiny world: its diagonal is the white-box robust accuracy, a
cell is what an independent attack-and-evaluate gives, a copy of the source is hit as hard as the
source, JSON round trip, refusals, the heat-map PNG."""

from __future__ import annotations

import json

import numpy as np
import pytest

from amc_tf.attacks.budgets import Budget
from amc_tf.attacks.registry import build_attack
from amc_tf.attacks.settings import PGDL2Settings
from amc_tf.errors import ConfigError
from amc_tf.evaluation.transfer import Transferability, transferability_figure, transferability_matrix
from amc_tf.models.inference import predict_classes
from amc_tf.models.registry import build_model
from amc_tf.runtime import keras, set_seed

ATTACK = PGDL2Settings(steps=5)
PNRS = (-10.0, 0.0)


@pytest.fixture(scope="module")
def models(tiny, tiny_data, tiny_model):
    """The tiny conv net, a copy of it (same weights) and a compact transformer trained briefly."""
    copy = keras.models.clone_model(tiny_model)
    copy.set_weights(tiny_model.get_weights())
    set_seed(0)
    transformer = build_model("mcformer_small", len(tiny_data.classes), tiny_data.window, input_scale=50.0, dropout=0.0)
    transformer.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    transformer.fit(tiny_data.x, tiny_data.y, epochs=8, batch_size=64, verbose=0)
    return {"tiny": tiny_model, "tiny_copy": copy, "mcformer_small": transformer}


@pytest.fixture(scope="module")
def sample(snr10):
    return snr10.x[:64], snr10.y[:64], snr10.snr[:64]


@pytest.fixture(scope="module")
def result(models, sample):
    return transferability_matrix(models, *sample, attack=ATTACK, pnr_db=PNRS, seed=3)


def _robust_accuracy(source, target, x, y, snr, pnr):
    """Craft on ``source`` and evaluate ``target``, without the matrix code."""
    x_adv = build_attack(ATTACK, source, budget=Budget.pnr(pnr), seed=3).generate(x, y, snr=snr)
    return float(np.mean(predict_classes(target, x_adv) == y))


def test_the_diagonal_is_the_white_box_robust_accuracy(result, models, sample):
    for pnr in PNRS:
        for name in ("tiny", "mcformer_small"):
            assert result.diagonal[pnr][name] == _robust_accuracy(models[name], models[name], *sample, pnr)
    assert result.audit_ok
    # the attack works: at 0 dB PNR both trained models lose accuracy white-box
    for name in ("tiny", "mcformer_small"):
        assert result.diagonal[0.0][name] < result.clean[name] - 0.1


def test_a_cell_is_an_independent_recomputation(result, models, sample):
    cell = _robust_accuracy(models["mcformer_small"], models["tiny"], *sample, 0.0)
    assert result.accuracy[0.0]["mcformer_small"]["tiny"] == cell
    assert result.clean["tiny"] == float(np.mean(predict_classes(models["tiny"], sample[0]) == sample[1]))


def test_a_copy_of_the_source_is_attacked_as_hard_as_the_source(result):
    for pnr in PNRS:
        assert result.accuracy[pnr]["tiny"]["tiny_copy"] == result.diagonal[pnr]["tiny"]
        assert result.accuracy[pnr]["tiny_copy"]["tiny"] == result.diagonal[pnr]["tiny_copy"]
        assert result.accuracy[pnr]["mcformer_small"]["tiny"] == result.accuracy[pnr]["mcformer_small"]["tiny_copy"]
    assert result.clean["tiny"] == result.clean["tiny_copy"]


def test_json_round_trip_and_shape(result, tmp_path):
    names = ("tiny", "tiny_copy", "mcformer_small")
    assert result.sources == result.targets == names and result.pnr_db == PNRS
    assert result.matrix(0.0).shape == (3, 3) and result.n_examples == 64
    assert result.attack["name"] == "pgd_l2" and result.attack["steps"] == 5 and result.attack["seed"] == 3
    saved = json.loads(result.save(tmp_path / "transfer.json").read_text())
    assert sorted(saved["accuracy"]) == ["-10", "0"]
    again = Transferability.from_json(saved)
    assert again == result
    np.testing.assert_array_equal(again.matrix(-10.0), result.matrix(-10.0))
    metrics = result.metrics()
    assert metrics["transfer.mcformer_small.tiny.acc.pnr0"] == result.accuracy[0.0]["mcformer_small"]["tiny"]
    assert len([k for k in metrics if k.startswith("transfer.")]) == 2 * 3 * 3


def test_sources_restrict_the_rows(models, sample):
    only = transferability_matrix(models, *sample, attack="fgm", pnr_db=-5.0, sources=["mcformer_small"])
    assert only.sources == ("mcformer_small",) and only.targets == tuple(models)
    assert set(only.diagonal[-5.0]) == {"mcformer_small"}


def test_the_heat_map_is_written_as_a_png(result, tmp_path):
    path = transferability_figure(result, tmp_path / "figs" / "transfer.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["transfer.png"]  # no temporary file left


@pytest.mark.parametrize(
    "case,message",
    [
        ("no_models", "at least one model"),
        ("classes", "same number of classes"),
        ("window", "'short' takes windows"),
        ("lengths", "one entry per example"),
        ("labels", "labels must lie"),
        ("grid", "must not repeat"),
        ("sources", "sources must be names"),
    ],
)
def test_bad_inputs_raise_config_errors(case, message, tiny, tiny_model, sample):
    x, y, snr = sample
    models = {"tiny": tiny_model}
    kwargs = {"attack": "fgm", "pnr_db": 0.0}
    if case == "no_models":
        models = {}
    elif case == "classes":
        models["three"] = tiny.build_tiny_model(n_classes=3)
        message = "'three': 3"
    elif case == "window":
        models["short"] = tiny.build_tiny_model(window=16)
    elif case == "lengths":
        snr = snr[:-1]
    elif case == "labels":
        y = y + 4
    elif case == "grid":
        kwargs["pnr_db"] = [0.0, 0.0]
    else:
        kwargs["sources"] = ["nope"]
    with pytest.raises(ConfigError, match=message):
        transferability_matrix(models, x, y, snr, **kwargs)
