"""The shared helpers every stage uses: the cache key, the progress style, typed results,
batched inference and the one pipeline loader."""

from __future__ import annotations

import dataclasses
import enum
import io

import numpy as np
import pytest

from amc_tf import cache
from amc_tf.config.data import SyntheticConfig
from amc_tf.errors import ConfigError
from amc_tf.progress import Progress
from amc_tf.results import Result, flat_metrics


def test_cache_entry_changes_with_config_and_with_code(tmp_path, monkeypatch):
    a = cache.entry_path(tmp_path, "rml2016", SyntheticConfig(seed=1), ["amc_tf.data.synthetic"], suffix=".npz")
    assert a == cache.entry_path(tmp_path, "rml2016", SyntheticConfig(seed=1), ["amc_tf.data.synthetic"], suffix=".npz")
    assert a.name.startswith("rml2016-") and a.suffix == ".npz"
    assert a != cache.entry_path(tmp_path, "rml2016", SyntheticConfig(seed=2), ["amc_tf.data.synthetic"], suffix=".npz")
    assert a != cache.entry_path(tmp_path, "rml2016", SyntheticConfig(seed=1), ["amc_tf.data.channel"], suffix=".npz")
    # an edit to the source is a new entry
    module = tmp_path / "probe_module.py"
    module.write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cache._module_files.cache_clear()
    before = cache.code_digest(["probe_module"])
    module.write_text("x = 2\n")
    assert cache.code_digest(["probe_module"]) != before
    with pytest.raises(ValueError, match="not found"):
        cache.code_digest(["amc_tf.no_such_module"])
    with pytest.raises(ValueError, match="namespace"):
        cache.entry_name("a/b", {}, [])


def test_cache_directory_entries_count_only_once_complete(tmp_path):
    entry = tmp_path / "models-x"
    entry.mkdir()
    assert not cache.is_complete(entry)
    (entry / cache.MARKER).write_text("{}")
    assert cache.is_complete(entry)


def test_progress_prints_plain_lines_with_a_final_line_once():
    stream = io.StringIO()
    with Progress("gen", 10, unit="windows", every_s=3600, stream=stream) as bar:
        for _ in range(10):
            bar.update(1)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("gen: 1/10 windows (10 %)")  # the first update, then none for an hour
    assert lines[-1].startswith("gen: 10/10 windows (100 %)") and len(lines) == 2
    silent = io.StringIO()
    with Progress("gen", 3, enabled=False, stream=silent) as bar:
        bar.update(3)
    assert silent.getvalue() == ""
    with pytest.raises(ValueError):
        Progress("gen", -1)


class _Kind(enum.Enum):
    A = "a"


@dataclasses.dataclass(frozen=True)
class _Inner(Result):
    values: np.ndarray


@dataclasses.dataclass(frozen=True)
class _Outer(Result):
    kind: _Kind
    count: int
    score: float
    ok: bool
    inner: _Inner
    by_snr: dict[int, float]


def test_results_serialise_and_flatten():
    result = _Outer(_Kind.A, 3, float("nan"), True, _Inner(np.arange(3)), {-10: 0.5})
    assert result.to_json() == {
        "kind": "a",
        "count": 3,
        "score": result.score,
        "ok": True,
        "inner": {"values": [0, 1, 2]},
        "by_snr": {-10: 0.5},
    }
    assert result.metrics() == {"count": 3.0, "ok": 1.0}  # NaN and non-numbers are not metrics
    assert flat_metrics({"a": {"b": 1, "c": "x"}, "d": np.float32(2)}, "p") == {"p_a_b": 1.0, "p_d": 2.0}
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.count = 4  # type: ignore[misc]


def test_batched_inference_equals_one_call(tiny_model, tiny_data):
    from amc_tf.models.inference import predict_batched, predict_classes

    x = tiny_data.x[:50]
    whole = tiny_model(x, training=False).numpy()
    np.testing.assert_allclose(predict_batched(tiny_model, x, batch_size=7), whole, rtol=1e-5, atol=1e-6)
    assert predict_batched(tiny_model, x[:0]).shape == (0, len(tiny_data.classes))
    np.testing.assert_array_equal(predict_classes(tiny_model, x, 16), whole.argmax(axis=1))
    with pytest.raises(ValueError, match="batch_size"):
        predict_batched(tiny_model, x, 0)


def test_one_loader_for_every_pipeline_kind(tmp_path):
    from amc_tf.config.classifier import TrainClassifierConfig
    from amc_tf.config.mimo import MimoPipelineConfig
    from amc_tf.config.pipelines import load_pipeline

    path = tmp_path / "p.yaml"
    path.write_text("kind: mimo\nname: probe\n")
    cfg = load_pipeline(path, ["seed=3"])
    assert isinstance(cfg, MimoPipelineConfig) and cfg.seed == 3 and cfg.experiment == "mimo"
    path.write_text("kind: train_classifier\ntracking: {experiment: mine}\n")
    assert isinstance(load_pipeline(path), TrainClassifierConfig) and load_pipeline(path).experiment == "mine"
    with pytest.raises(ConfigError, match="of kind 'train_classifier', but 'evaluate_robustness'"):
        load_pipeline(path, kind="evaluate_robustness")
    path.write_text("kind: mimo\nsystem: {antenas: 4}\n")
    with pytest.raises(ConfigError, match=r"system\.antenas: unknown field"):
        load_pipeline(path)
