"""The command line's contract: usage errors and user errors exit 2 with one message, internal
errors exit 1 with a pointer to ``--debug``, and help or a bad config path answer without
loading TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def test_missing_option_is_a_usage_error_not_a_traceback(cli):
    result = cli("attack")
    assert result.exit_code == 2
    assert "Missing option '--model-uri'" in result.stderr and "Traceback" not in result.stderr


def test_unknown_command_is_a_usage_error(cli):
    result = cli("trian")
    assert result.exit_code == 2 and "No such command" in result.stderr


@pytest.fixture()
def no_preflight(monkeypatch):
    """Skip the model check of ``attack`` (these tests replace the flow itself)."""
    from amc_tf.commands import pipelines

    monkeypatch.setattr(pipelines, "_preflight", lambda cfg: None)


def test_an_unknown_model_fails_before_any_flow_starts(cli, monkeypatch, mlflow_store):
    import flows

    def started(config):
        raise AssertionError("the flow started")

    monkeypatch.setattr(flows, "run_pipeline", started)
    result = cli("attack", "--model-uri", "0123456789abcdef0123456789abcdef")
    assert result.exit_code == 2 and "not found" in result.stderr


def test_internal_error_exits_1_and_points_to_debug(cli, monkeypatch, no_preflight):
    import flows

    def boom(config):
        raise RuntimeError("something broke inside")

    monkeypatch.setattr(flows, "run_pipeline", boom)
    result = cli("attack", "--model-uri", "runs:/x/model")
    assert result.exit_code == 1
    assert "internal error: RuntimeError: something broke inside" in result.stderr
    assert "--debug" in result.stderr and "Traceback" not in result.stderr
    with pytest.raises(RuntimeError, match="something broke inside"):
        cli("attack", "--model-uri", "runs:/x/model", "--debug")


@pytest.mark.parametrize("args", [["--help"], ["bench", "--help"], ["run", "/no/such/config.yaml"]])
def test_help_and_a_missing_config_do_not_import_tensorflow(args):
    """A fresh interpreter is the point here: the test process has TensorFlow loaded already."""
    code = (
        "import sys\n"
        "from amc_tf import cli\n"
        "try:\n"
        f"    cli.main({args!r})\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code)\n"
        "print('tensorflow loaded:', 'tensorflow' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "tensorflow loaded: False" in proc.stdout, proc.stdout + proc.stderr
    if args[0] == "run":
        assert "exit 2" in proc.stdout and "config file not found" in proc.stderr


@pytest.mark.parametrize(
    "uri,message",
    [
        ("runs:/0123456789abcdef0123456789abcdef/model", "does not exist yet"),
        ("/no/such/model.keras", "model file or folder not found"),
        ("junk.keras", "not a .keras archive (zip)"),
    ],
)
def test_an_unknown_model_uri_fails_without_tensorflow_or_prefect(tmp_path, uri, message):
    """A fresh store, a missing file or a file that is no archive: one error line, exit 2, and
    neither TensorFlow nor Prefect loaded."""
    (tmp_path / "junk.keras").write_bytes(b"\x00not a zip" * 30)
    code = (
        "import sys\n"
        "from amc_tf import cli\n"
        "try:\n"
        f"    cli.main(['attack', '--model-uri', {uri!r}])\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code)\n"
        "print('heavy:', [m for m in ('tensorflow', 'prefect') if m in sys.modules])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}  # the default store, under tmp_path
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env
    )
    assert "exit 2" in proc.stdout and "heavy: []" in proc.stdout, proc.stdout + proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_a_failed_budget_audit_exits_3_after_reporting(cli, monkeypatch, no_preflight):
    import flows
    from amc_tf.results import PipelineResult

    def audited(config):
        return PipelineResult("evaluate_robustness", "r" * 32, "e", "sqlite:///x.db", "out", 1.0, {"audit_ok": 0.0})

    monkeypatch.setattr(flows, "run_pipeline", audited)
    result = cli("attack", "--model-uri", "runs:/x/model")
    assert result.exit_code == 3 and "budget audit failed" in result.stderr
    assert "MLflow run id: " + "r" * 32 in result.stdout  # the record is still reported


def test_duplicate_yaml_keys_are_refused(cli, tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("kind: train_classifier\ntrain:\n  epochs: 3\n  epochs: 5\n")
    result = cli("run", path)
    assert result.exit_code == 2 and "duplicate key 'epochs'" in result.stderr


def test_a_full_disk_is_one_error_line(cli, monkeypatch, no_preflight):
    import errno

    import flows

    def full(config):
        raise OSError(errno.ENOSPC, "No space left on device", "artifacts/x/model.keras")

    monkeypatch.setattr(flows, "run_pipeline", full)
    result = cli("attack", "--model-uri", "runs:/x/model")
    assert result.exit_code == 2
    assert "error: No space left on device (artifacts/x/model.keras)" in result.stderr
