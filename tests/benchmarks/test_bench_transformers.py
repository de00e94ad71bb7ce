"""``amc-tf bench transformers`` through the console entry point with few repeats: the models'
parameter counts, TFLite sizes in the expected order, finite positive latencies, valid JSON;
a bad ``--repeats`` is one ``error:`` line and no file."""

from __future__ import annotations

import json
import math

import pytest

from amc_tf.benchmarks.transformers import MODELS, PAIRS, RATIOS

PARAMS = {"mcformer": 72_939, "mcformer_small": 10_179, "vtcnn2": 2_830_427}


def _finite_positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_bench_transformers_writes_sizes_latencies_and_ratios(cli, tmp_path):
    out = tmp_path / "transformers.json"
    result = cli("bench", "transformers", "--out", out, "--repeats", "5", "--windows", "4")
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text())
    assert json.loads(result.stdout) == data
    for name in MODELS:
        figures = data[name]
        assert figures["params"] == PARAMS[name]
        for key in ("tflite_kb", "gzip_kb", "latency_ms", "keras_latency_ms"):
            assert _finite_positive(figures[key]), (name, key, figures[key])
        assert figures["gzip_kb"] < figures["tflite_kb"]
        assert figures["tflite_agrees"] == 1.0  # the interpreter gives Keras's classes
    sizes = {name: data[name]["tflite_kb"] for name in MODELS}
    assert sizes["vtcnn2"] > 10 * sizes["mcformer"] and sizes["mcformer"] > 2 * sizes["mcformer_small"]
    assert data["mcformer"]["gzip_kb"] > data["mcformer_small"]["gzip_kb"]
    ratios = data["ratios"]
    assert len(ratios) == len(PAIRS) * len(RATIOS) + len(MODELS)
    for a, b in PAIRS:
        assert ratios[f"{a}_vs_{b}_latency"] == pytest.approx(data[a]["latency_ms"] / data[b]["latency_ms"])
        assert ratios[f"{a}_vs_{b}_params"] == pytest.approx(PARAMS[a] / PARAMS[b])
    assert data["repeats"] == 5 and data["windows"] == 4
    assert data["machine"]["cpu_count"] >= 1 and len(data["machine"]["load_average_1min"]) == 2
    assert "mcformer_small" in result.stderr and "TFLite ms" in result.stderr  # the table, on stderr


@pytest.mark.parametrize("option", ["--repeats", "--windows"])
def test_fewer_than_one_repeat_or_window_is_one_error_line(cli, tmp_path, option):
    out = tmp_path / "x.json"
    result = cli("bench", "transformers", "--out", out, option, "0")
    assert result.exit_code == 2 and "error:" in result.stderr and "must be >= 1" in result.stderr, result.stderr
    assert not out.exists()
