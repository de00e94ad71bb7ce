"""The claims report: verdicts from evidence, the Markdown/HTML tables, and evidence read from an
MLflow store (latest finished parent run per kind, with its report/claims children)."""

from __future__ import annotations

import pytest

from amc_tf.evaluation.claims import CLAIMS, FAILS, HOLDS, UNMEASURED, RunEvidence, collect_evidence, evaluate_claims


def _rows(report) -> dict[str, dict]:
    return {r["key"]: r for r in report.rows}


def test_every_claim_has_a_row_and_missing_evidence_is_not_measured():
    report = evaluate_claims({})
    assert [r["key"] for r in report.rows] == [c.key for c in CLAIMS]
    assert {r["verdict"] for r in report.rows} == {UNMEASURED}
    assert report.metrics()["claims_measured"] == 0.0


def test_verdicts_follow_the_rule_and_name_the_run():
    evidence = {
        "clean_f_S": 40.0,
        "clean_f_D": 45.5,  # KD +5.5 pt: holds
        "clean_f_P": 41.0,  # Net-Trim -4.5 pt: does not hold (rule >= -2 pt)
        "pgd_gain_f_D_adv": -1.0,
        "direction_clean_drop_least_f_D": 1.0,
    }
    report = evaluate_claims({"defend": RunEvidence("defend", "abc123", "defend_quickstart", evidence)})
    rows = _rows(report)
    assert rows["kd_raises_clean"]["verdict"] == HOLDS
    assert rows["kd_raises_clean"]["ours"] == pytest.approx(5.5)
    assert rows["nettrim_keeps_accuracy"]["verdict"] == FAILS
    assert rows["pgd_gain_f_D_adv"]["verdict"] == FAILS
    assert rows["at_clean_drop_least_f_D"]["verdict"] == HOLDS
    assert rows["fgm_gain_f_D_adv"]["verdict"] == UNMEASURED  # the run lacks the metric
    assert rows["kd_raises_clean"]["run_id"] == "abc123" and rows["kd_raises_clean"]["config"] == "defend_quickstart"
    assert rows["cat_over_ls_gna"]["run_id"] is None  # another kind: no run
    m = report.metrics()
    assert (m["claims_measured"], m["claims_held"]) == (4.0, 2.0)


def test_the_pipeline_kind_is_preferred_over_defend():
    ev = {"clean_f_S": 0.0, "clean_f_D": 1.0}
    report = evaluate_claims(
        {
            "defend": RunEvidence("defend", "d", "d", {"clean_f_S": 1.0, "clean_f_D": 0.0}),
            "pipeline": RunEvidence("pipeline", "p", "p", ev),
        }
    )
    assert _rows(report)["kd_raises_clean"]["run_id"] == "p"
    assert _rows(report)["kd_raises_clean"]["verdict"] == HOLDS


def test_hybrid_and_mimo_claims_read_their_metric_names():
    hybrid = {
        "cat.robust.pnr-10": 0.30,
        "ls_gna.robust.pnr-10": 0.20,
        "htrd.robust.pnr-10": 0.1,
        "two_fold.robust.pnr-10": 0.2,
    }
    mimo = {
        "MR_M1_standard_FGSM_success": 0.62,
        "MR_M1_adversarial_FGSM_success": 0.40,
        "MMMSE_M2_standard_FGSM_success": 0.1,
    }
    rows = _rows(
        evaluate_claims(
            {"hybrid": RunEvidence("hybrid", "h", "h", hybrid), "mimo": RunEvidence("mimo", "m", "m", mimo)}
        )
    )
    assert rows["cat_over_ls_gna"]["ours"] == pytest.approx(10.0) and rows["cat_over_ls_gna"]["verdict"] == HOLDS
    assert rows["htrd_over_two_fold"]["verdict"] == FAILS
    assert rows["htrd_over_ls_gna_nr"]["verdict"] == UNMEASURED
    assert rows["mimo_fgsm_success"]["ours"] == pytest.approx(62.0) and rows["mimo_fgsm_success"]["verdict"] == HOLDS
    assert rows["mimo_at_lowers_success"]["ours"] == pytest.approx(22.0)


def test_robust_distill_claims_read_the_margins():
    evidence = {"margin_pt_pgd_linf": -5.7, "margin_pt_fgm": 2.0, "direction_clean_within_tolerance": 1.0}
    rows = _rows(evaluate_claims({"robust_distill": RunEvidence("robust_distill", "r", "rd", evidence)}))
    assert rows["mcformer_att_over_sota_pgd"]["ours"] == pytest.approx(-5.7)
    assert rows["mcformer_att_over_sota_pgd"]["verdict"] == FAILS
    assert rows["mcformer_att_over_sota_fgm"]["verdict"] == HOLDS
    assert rows["mcformer_att_clean"]["verdict"] == HOLDS and rows["mcformer_att_clean"]["run_id"] == "r"


def test_markdown_and_html_list_every_claim_and_escape_text():
    report = evaluate_claims({"defend": RunEvidence("defend", "r1", "<cfg>", {"clean_f_S": 1.0, "clean_f_D": 2.0})})
    md, page = report.markdown, report.html
    assert md.count("\n|") == len(CLAIMS) + 2  # header, separator, one row per claim
    assert "1 of 1 measured claims hold" in md
    assert "&lt;cfg&gt;" in page and "<cfg>" not in page
    assert page.count("<tr class=") == len(CLAIMS)


def test_collect_evidence_takes_the_latest_finished_run_of_each_kind(mlflow_store):
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_store)
    exp = mlflow.create_experiment("claims-test")

    def parent(kind: str, metrics: dict, status: str = "FINISHED", report: dict | None = None) -> str:
        with mlflow.start_run(experiment_id=exp, run_name=f"{kind}-run", tags={"pipeline_kind": kind}) as run:
            mlflow.log_metrics(metrics)
            if report is not None:
                with mlflow.start_run(experiment_id=exp, run_name="report", nested=True, tags={"stage": "report"}):
                    mlflow.log_metrics(report)
                with mlflow.start_run(experiment_id=exp, run_name="teacher", nested=True, tags={"stage": "teacher"}):
                    mlflow.log_metrics({"ignored_child_metric": 1.0})
        if status != "FINISHED":
            client.set_terminated(run.info.run_id, status)
        return run.info.run_id

    parent("defend", {"old": 1.0})
    newest = parent("defend", {"directions_held": 0.0}, report={"clean_f_S": 40.0, "clean_f_D": 42.0})
    parent("defend", {"failed": 1.0}, status="FAILED")
    hybrid = parent("hybrid", {"cat.robust.pnr-10": 0.3})
    evidence = collect_evidence(client)
    assert set(evidence) == {"defend", "hybrid"}
    assert evidence["defend"].run_id == newest
    assert evidence["defend"].metrics == {"directions_held": 0.0, "clean_f_S": 40.0, "clean_f_D": 42.0}
    assert evidence["hybrid"].run_id == hybrid
    assert _rows(evaluate_claims(evidence))["kd_raises_clean"]["ours"] == pytest.approx(2.0)
