"""``amc-tf bench transformers`` through the console entry point with few repeats: the models'
parameter counts, TFLite sizes in the expected order, finite positive latencies, valid JSON; the
distill-pruned VT-CNN2 row has the sparsity asked and a smaller gzip size than VT-CNN2, and a real
f_P given by path is measured as it is; a bad ``--repeats``, sparsity or model file is one
``error:`` line and no file."""

from __future__ import annotations

import json
import math

import pytest

from amc_tf.benchmarks.transformers import MODELS, PAIRS, PRUNED, PRUNED_SPARSITY, RATIOS, ROWS

PARAMS = {"mcformer": 72_939, "mcformer_small": 10_179, "vtcnn2": 2_830_427, PRUNED: 2_830_427}
#: dense1 of VT-CNN2 (10,560 × 256 kernel) on 2 × 128 windows.
DENSE1_KERNEL = 10_560 * 256


def _finite_positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_bench_transformers_writes_sizes_latencies_and_ratios(cli, tmp_path):
    out = tmp_path / "transformers.json"
    result = cli("bench", "transformers", "--out", out, "--repeats", "5", "--windows", "4")
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text())
    assert json.loads(result.stdout) == data
    for name in ROWS:
        figures = data[name]
        assert figures["params"] == PARAMS[name]
        for key in ("tflite_kb", "gzip_kb", "latency_ms", "keras_latency_ms"):
            assert _finite_positive(figures[key]), (name, key, figures[key])
        assert figures["gzip_kb"] < figures["tflite_kb"]
        assert figures["tflite_agrees"] == 1.0  # the interpreter gives Keras's classes
    sizes = {name: data[name]["tflite_kb"] for name in MODELS}
    assert sizes["vtcnn2"] > 10 * sizes["mcformer"] and sizes["mcformer"] > 2 * sizes["mcformer_small"]
    assert data["mcformer"]["gzip_kb"] > data["mcformer_small"]["gzip_kb"]
    pruned, dense = data[PRUNED], data["vtcnn2"]
    assert pruned["source"] == "magnitude"
    assert pruned["dense1_sparsity"] == pytest.approx(PRUNED_SPARSITY, abs=1 / DENSE1_KERNEL)
    assert dense["nonzero"] - pruned["nonzero"] == round(PRUNED_SPARSITY * DENSE1_KERNEL)
    assert pruned["tflite_kb"] == pytest.approx(dense["tflite_kb"], rel=0.01)  # float32 stores the zeros
    assert pruned["gzip_kb"] < 0.2 * dense["gzip_kb"]  # ... which gzip squeezes out
    ratios = data["ratios"]
    assert len(ratios) == len(PAIRS) * len(RATIOS) + len(ROWS)
    for a, b in PAIRS:
        assert ratios[f"{a}_vs_{b}_latency"] == pytest.approx(data[a]["latency_ms"] / data[b]["latency_ms"])
        assert ratios[f"{a}_vs_{b}_params"] == pytest.approx(PARAMS[a] / PARAMS[b])
    assert data["repeats"] == 5 and data["windows"] == 4
    assert data["machine"]["cpu_count"] >= 1 and len(data["machine"]["load_average_1min"]) == 2
    assert PRUNED in result.stderr and "TFLite ms" in result.stderr  # the table, on stderr


def test_a_real_pruned_model_is_measured_as_it_is(cli, tmp_path):
    from amc_tf.benchmarks.transformers import magnitude_pruned
    from amc_tf.models.registry import build_model

    path = tmp_path / "f_P.keras"
    magnitude_pruned(build_model("vtcnn2", 11, 128), "dense1", 0.5).save(path)
    out = tmp_path / "transformers.json"
    result = cli("bench", "transformers", "--out", out, "--repeats", "2", "--windows", "2", "--pruned-model", path)
    assert result.exit_code == 0, result.stderr
    pruned = json.loads(out.read_text())[PRUNED]
    assert pruned["source"] == str(path)
    assert pruned["dense1_sparsity"] == pytest.approx(0.5, abs=1 / DENSE1_KERNEL)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--pruned-sparsity", "1.0"], "must lie in [0, 1)"),
        (["--pruned-model", "missing.keras"], "missing.keras"),
    ],
)
def test_a_bad_pruned_row_is_one_error_line(cli, tmp_path, options, message):
    out = tmp_path / "x.json"
    result = cli("bench", "transformers", "--out", out, *options)
    assert result.exit_code == 2 and "error:" in result.stderr and message in result.stderr, result.stderr
    assert not out.exists()


@pytest.mark.parametrize("option", ["--repeats", "--windows"])
def test_fewer_than_one_repeat_or_window_is_one_error_line(cli, tmp_path, option):
    out = tmp_path / "x.json"
    result = cli("bench", "transformers", "--out", out, option, "0")
    assert result.exit_code == 2 and "error:" in result.stderr and "must be >= 1" in result.stderr, result.stderr
    assert not out.exists()
