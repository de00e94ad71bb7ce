"""The ``robust_distill`` flow end to end on tiny data (4 classes, 32-sample windows): every stage a
child run, the students started from the natural one, ART only on the chosen roles, the transfer
matrix over every model, the table, the attention-map picture and the edge-cost rows; config checks."""

from __future__ import annotations

import json

import pytest

from amc_tf.config.base import validate_config
from amc_tf.config.pipelines import load_pipeline
from amc_tf.config.robust_distill import RobustDistillConfig
from amc_tf.errors import ConfigError
from amc_tf.models.loading import load_model
from amc_tf.models.mcformer import attention_model

TRAIN = {"learning_rate": 0.003, "batch_size": 32, "epochs": 1, "patience": 0, "verbose": 0}


def _tiny(tmp_path, **extra) -> dict:
    return {
        "kind": "robust_distill",
        "name": "rd_test",
        "seed": 3,
        "data": {
            "synthetic": {
                "family": "rml2016",
                "windows_per_key": 16,
                "snrs": [10],
                "window": 32,
                "classes": ["BPSK", "QPSK", "QAM16", "GFSK"],
                "seed": 1,
            },
            "split": {"train": 0.5, "val": 0.0, "test": 0.5},
            "cache_dir": str(tmp_path / "cache"),
        },
        "teacher": {"model": {"name": "mcformer", "params": {"d_model": 16, "ffn": 32, "layers": 2}}, "train": TRAIN},
        "student": {"model": {"name": "mcformer_small", "params": {"layers": 2}}, "train": TRAIN},
        "adversarial": {
            "mode": "online",
            "mix": [{"attack": {"name": "pgd_linf", "steps": 2}, "fraction": 1.0}],
            "freeze": [],
            "train": TRAIN,
        },
        "students": ["natural", "at", "attention"],  # kd and ard: tests/defenses/test_robust_distill.py
        "transfer_models": [{"model": {"name": "vtcnn2", "params": {"dropout": 0.0}}, "train": TRAIN, "robust": True}],
        "robustness": {
            "attacks": ["fgm", {"name": "pgd_linf", "steps": 2}],
            "art_baselines": ["fgm"],
            "art_max_examples": 8,
            "pnr_db": [-10, 0],
            "n_examples": 16,
            "breakdown_pnr_db": None,
        },
        "art_models": ["student_attention"],
        "transfer": {"attack": {"name": "pgd_linf", "steps": 2}, "pnr_db": [-10], "n_examples": 16},
        "latency_repeats": 2,
        "tracking": {"experiment": "rd-test"},
        "output_dir": str(tmp_path / "artifacts"),
        **extra,
    }


def test_robust_distill_flow_end_to_end(prefect_harness, mlflow_store, tmp_path):
    from mlflow import MlflowClient

    from flows.robust_distill import robust_distill

    config = validate_config(RobustDistillConfig, _tiny(tmp_path))
    result = robust_distill(config)
    client = MlflowClient()
    children = {
        r.info.run_name: r
        for r in client.search_runs(
            [client.get_experiment_by_name("rd-test").experiment_id],
            filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'",
        )
    }
    roles = ["teacher", "teacher_adv", "student_natural", "student_at", "student_attention", "vtcnn2", "vtcnn2_adv"]
    assert config.roles() == roles
    assert {"data", "transfer", "report", *roles, *(f"robustness-{r}" for r in roles)} <= set(children)

    # Every student method starts from the natural student and changes it; the models load
    # through the safe loader and the transformers still expose their attention maps.
    natural = load_model(result.outputs["student_natural"]).get_weights()
    for role in ("student_at", "student_attention"):
        model = load_model(result.outputs[role])
        assert any((a != b).any() for a, b in zip(natural, model.get_weights())), role
        assert len(attention_model(model).outputs) == 3  # logits + 2 encoders
    # The robust transfer model is adversarially trained from the natural one, by the teacher's recipe.
    cnn = load_model(result.outputs["vtcnn2"]).get_weights()
    assert any((a != b).any() for a, b in zip(cnn, load_model(result.outputs["vtcnn2_adv"]).get_weights()))
    assert children["vtcnn2_adv"].data.params["source"] == "vtcnn2"
    assert children["student_attention"].data.params["method"] == "attention"
    assert children["student_attention"].data.metrics["attention_loss"] > 0

    # ART's twins only for the art_models; every model has its native FGM and PGD curves.
    for role in roles:
        report = json.loads((tmp_path / "artifacts" / result.run_id / f"robustness_{role}.json").read_text())
        assert {c["attack"] for c in report["curves"] if c["library"] == "native"} == {"fgm", "pgd_linf"}, role
        assert bool(report["comparisons"]) == (role == "student_attention"), role

    # The transfer matrix covers every model as source and target, its diagonal is white-box.
    transfer = result.details["transfer"]
    assert list(transfer["sources"]) == roles and list(transfer["targets"]) == roles
    matrix = transfer["accuracy"]["-10"]
    for role in roles:
        assert 0.0 <= matrix[role][role] <= transfer["clean"][role], role
    files = {a.path for a in client.list_artifacts(children["transfer"].info.run_id)}
    assert {"transfer_matrix.json", "transfer_matrix.png"} <= files

    # The table, the attention maps and the edge-cost rows of both transformers and VT-CNN2.
    report_files = {a.path for a in client.list_artifacts(children["report"].info.run_id)}
    assert {
        "robust_distill_table.md",
        "robust_distill_table.json",
        "attention_maps.png",
        "edge_cost.json",
    } <= report_files
    table = result.details["table"]
    assert set(table["rows"]) == set(roles)
    assert set(table["directions"]) >= {"attention_ge_at_pgd_linf", "clean_within_tolerance"}
    assert "margin_pt_pgd_linf" in result.headline
    from amc_tf.evaluation.claims import UNMEASURED, RunEvidence, evaluate_claims

    claims = evaluate_claims({"robust_distill": RunEvidence("robust_distill", result.run_id, "rd", result.headline)})
    measured = {r["key"] for r in claims.rows if r["verdict"] != UNMEASURED}
    assert {"mcformer_att_over_sota_pgd", "mcformer_att_over_sota_fgm", "mcformer_att_clean"} <= measured
    local = client.download_artifacts(children["report"].info.run_id, "edge_cost.json", str(tmp_path))
    with open(local) as fh:
        edge = {row["model"]: row for row in json.load(fh)}
    assert set(edge) == {"teacher_adv", "student_attention", "vtcnn2"}
    assert edge["student_attention"]["parameters"] < edge["teacher_adv"]["parameters"] < edge["vtcnn2"]["parameters"]
    assert all(row["tflite_bytes"] > 0 and row["latency_ms"] > 0 for row in edge.values())
    assert client.get_model_version_by_alias("rd_test-student_attention", "candidate").version


@pytest.mark.parametrize(
    "extra,message",
    [
        ({"adversarial": {"mode": "offline", "freeze": []}}, "must be online"),
        ({"adversarial": {"mode": "online", "freeze": ["dense1"]}}, "freeze must be empty"),
        ({"teacher": {"model": {"name": "vtcnn2"}}}, "teacher.model must be mcformer"),
        ({"art_models": ["f_S"]}, r"art_models \['f_S'\] are not roles"),
        ({"students": ["at", "at"]}, "students must be distinct"),
        ({"distill": {"distance": "cosine"}}, "distance"),
    ],
)
def test_bad_configs_are_named(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(RobustDistillConfig, _tiny(tmp_path, **extra))


def test_the_shipped_config_loads():
    config = load_pipeline("configs/robust_distill_reduced.yaml")
    assert config.kind == "robust_distill" and config.student.model.name == "mcformer_small"
