"""The ``defend`` flow's stages end to end on tiny data, read from the session's tiny pipeline run
(which runs them): adversarial training of f_S / f_D / f_P, six robustness curves, figures, the
paper table, registered aliases; then the ``defend`` flow itself on the same sections from the
stage cache, and the same models given as URIs; config validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.defend import ROLES, DefendConfig
from amc_tf.config.pipelines import load_pipeline
from amc_tf.errors import ConfigError
from amc_tf.models.loading import load_model

MIX = [{"attack": {"name": "pgd_linf", "steps": 3}, "fraction": 0.5}, {"attack": "fgsm", "fraction": 0.5}]


@pytest.fixture()
def tiny_defend(tmp_path, tiny_compress_sections):
    """``tiny_defend(**extra)``: the tiny defend config as a mapping, ``extra`` merged in."""
    return lambda **extra: _tiny(tiny_compress_sections, tmp_path, **extra)


def _tiny(sections, tmp_path, **extra) -> dict:
    return {
        "kind": "defend",
        "name": "defend_test",
        "seed": 1,
        "compress": sections(tmp_path, student_epochs=2),
        "adversarial": {"mix": MIX, "train": {"batch_size": 32, "epochs": 1, "patience": 0}},
        "robustness": {
            "attacks": ["fgm", "fgsm", {"name": "pgd_linf", "steps": 3}, {"name": "deepfool", "max_iter": 5}],
            "art_baselines": [],
            "pnr_db": [-20, -10, 0],
            "n_examples": 32,
            "batch_size": 64,
            "breakdown_pnr_db": None,
        },
        "tracking": {"experiment": "defend-test"},
        "output_dir": str(tmp_path / "artifacts"),
        **extra,
    }


def _children(client, result) -> dict:
    runs = client.search_runs(
        [client.get_experiment_by_name(result.experiment).experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'",
    )
    return {r.info.run_name: r for r in runs}


def _as_defend(pipeline_config: dict, tmp_path: Path, stage_cache: Path) -> dict:
    """The shared pipeline run's sections as a ``defend`` config with its own name, experiment and
    output folder, reading the pipeline's stage cache; without ART's twins (the pipeline runs them
    on f_S only), Fig. 4 or certification."""
    dropped = ("art_models", "methods", "certify", "certify_models", "certify_examples")
    cfg = {k: v for k, v in pipeline_config.items() if k not in dropped}
    cfg.update(
        kind="defend",
        name="defend_test",
        tracking={"experiment": "defend-test"},
        output_dir=str(tmp_path / "artifacts"),
        cache={"dir": str(stage_cache)},
    )
    cfg["robustness"] = {**cfg["robustness"], "art_baselines": []}
    return cfg


def test_defend_flow_end_to_end(tiny_pipeline_run, tiny_pipeline_config, mlflow_store, tmp_path):
    """The defend stages' products in the session's tiny pipeline run (``tests/flows/conftest.py``:
    the defend stages with Fig. 4 and certification run inside it), then the ``defend`` flow itself
    on the same sections in its own store: from the stage cache, and with the models given as files."""
    from mlflow import MlflowClient

    from flows.defend import defend

    result, shared, uri = tiny_pipeline_run
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)  # the pipeline run's store, read only
    children = _children(client, result)

    # Six robustness curves, one child run each, with a per-PNR series of every attack.
    for role in ROLES:
        run = children[f"robustness-{role}"]
        assert "pgd_linf_native" in " ".join(run.data.metrics) or run.data.metrics, role
        assert client.get_metric_history(run.info.run_id, next(iter(run.data.metrics))), role
    assert {"robustness-f_S_adv-fgm_only", "certify", "report", "teacher", "distill", "nettrim"} <= set(children)

    # Frozen dense1 is bit-identical to the source's; f_P^adv keeps f_P's sparsity exactly.
    for source in ("f_S", "f_D", "f_P"):
        before, after = load_model(result.outputs[source]), load_model(result.outputs[f"{source}_adv"])
        for w0, w1 in zip(before.get_layer("dense1").get_weights(), after.get_layer("dense1").get_weights()):
            assert np.array_equal(w0, w1), source
        assert not all(np.array_equal(a, b) for a, b in zip(before.get_weights(), after.get_weights())), source
    f_p, f_p_adv = load_model(result.outputs["f_P"]), load_model(result.outputs["f_P_adv"])
    for layer in f_p.layers:
        if getattr(layer, "kernel", None) is not None:
            zeros = layer.get_weights()[0] == 0
            assert np.array_equal(zeros, f_p_adv.get_layer(layer.name).get_weights()[0] == 0), layer.name
    assert result.headline["f_P_sparsity_dense1"] > 0
    assert result.headline["f_P_sparsity_dense1"] == result.headline["f_P_adv_sparsity_dense1"]
    adv_run = children["f_P_adv"].data.metrics
    assert adv_run["sparsity_before_dense1"] == adv_run["sparsity_after_dense1"] and adv_run["frozen_unchanged"] == 1

    # Figures and the table are artifacts; the registered adversarial models carry the alias.
    report_files = {a.path for a in client.list_artifacts(children["report"].info.run_id)}
    assert {
        "fig2_accuracy_vs_pnr_before_after.png",
        "fig3_gain_over_f_S_adv.png",
        "fig4_at_methods.png",
    } <= report_files
    assert {"defend_table.json", "defend_table.md"} <= report_files
    assert "certified_f_S_adv.png" in {a.path for a in client.list_artifacts(children["certify"].info.run_id)}
    for role in ROLES:
        version = client.get_model_version_by_alias(f"pipeline_test-{role}", "candidate")
        assert version.version, role
    directions = result.details["defend"]["table"]["directions"]
    assert set(directions) >= {"f_D_adv_ge_f_S_adv_pgd_linf", "reference_ge_fgm_only"}

    # The defend flow on the same sections, in this test's store: a defend run with a child per
    # stage and registered models, every stage a stage-cache hit, the same numbers.
    client = MlflowClient()
    sections = _as_defend(tiny_pipeline_config(shared), tmp_path, shared / "artifacts" / "stage-cache")
    rerun = defend(validate_config(DefendConfig, sections))
    again = _children(client, rerun)
    assert client.get_run(rerun.run_id).data.tags["pipeline_kind"] == "defend"
    assert {f"robustness-{role}" for role in ROLES} | {"teacher", "distill", "nettrim", "report"} <= set(again)
    for name in ("f_S", "distill", "nettrim", "f_S_adv", "f_D_adv", "f_P_adv", "robustness-f_P_adv"):
        assert again[name].data.tags["stage_cache"] == "hit", name
    for key in ("clean_f_S", "clean_f_P_adv", "pgd_gain_f_D_adv"):
        assert rerun.headline[key] == result.headline[key], key
    for role in ROLES:
        assert client.get_model_version_by_alias(f"defend_test-{role}", "candidate").version, role

    # The same sources given as model files: the adversarial trainings are the cached ones.
    by_uri = {**sections, "models": {role: result.outputs[role] for role in ("f_S", "f_D", "f_P")}}
    by_uri["data"] = by_uri.pop("compress")["data"]
    loaded = defend(validate_config(DefendConfig, by_uri))
    assert _children(client, loaded)["f_D_adv"].data.tags["stage_cache"] == "hit"
    assert loaded.headline["clean_f_D_adv"] == result.headline["clean_f_D_adv"]


def test_exactly_one_source(tiny_defend):
    both = tiny_defend(models={"f_S": "a.keras", "f_D": "b.keras", "f_P": "c.keras"})
    with pytest.raises(ConfigError, match="exactly one source.*both"):
        validate_config(DefendConfig, both)
    neither = {"kind": "defend", "data": {}}
    with pytest.raises(ConfigError, match="exactly one source.*neither"):
        validate_config(DefendConfig, neither)


def test_bad_sections_are_named(tiny_defend):
    with pytest.raises(ConfigError, match="models: needs data"):
        validate_config(DefendConfig, {"models": {"f_S": "a", "f_D": "b", "f_P": "c"}})
    with pytest.raises(ConfigError, match="top level"):
        validate_config(DefendConfig, {"compress": {"seed": 3}})
    with pytest.raises(ConfigError, match="nettrim"):
        validate_config(DefendConfig, {"compress": {"nettrim": None}})
    with pytest.raises(ConfigError, match="sum to 1"):
        validate_config(DefendConfig, tiny_defend(methods=[{"name": "x", "mix": [{"attack": "fgm", "fraction": 0.5}]}]))
    with pytest.raises(ConfigError, match="pgd_attack"):
        validate_config(DefendConfig, tiny_defend(report={"pgd_attack": "pgd_l2"}))


@pytest.mark.parametrize("name", ["defend_quickstart", "defend_reduced", "defend_paper"])
def test_shipped_defend_configs_load(name):
    path = Path(__file__).resolve().parents[2] / "configs" / f"{name}.yaml"
    config = load_pipeline(path)
    assert isinstance(config, DefendConfig) and config.name == name
