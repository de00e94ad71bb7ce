"""Test-session setup: isolated Prefect home and MLflow store, no telemetry, CPU-only TF.

The ``prefect_harness`` fixture starts ONE temporary Prefect server for the whole session (design
§4: ~13 s once, ~1.2 s per flow afterwards); flow tests request it, unit tests never do.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

_SESSION_TMP = Path(tempfile.mkdtemp(prefix="amc-tf-tests-"))
os.environ.setdefault("PREFECT_HOME", str(_SESSION_TMP / "prefect"))
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW"] = "ignore"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{_SESSION_TMP / 'mlruns' / 'mlflow.db'}"
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

import amc_tf  # noqa: E402,F401  (Keras flavour before anything imports TF)


def _load_tiny():
    spec = importlib.util.spec_from_file_location("amc_tf_tests_tiny", Path(__file__).with_name("tiny.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_TINY = _load_tiny()


@pytest.fixture(scope="session")
def tiny():
    """The tiny I/Q world (``tests/tiny.py``): dataset and model builders, ``accuracy``."""
    return _TINY


@pytest.fixture(scope="session")
def tiny_data():
    """4 classes x 3 SNRs x 150 windows of 32 samples."""
    return _TINY.make_dataset()


@pytest.fixture(scope="session")
def tiny_model(tiny_data):
    """The small logits classifier trained once per test run on ``tiny_data``. Tests must not
    change its weights (copy it with ``keras.models.clone_model`` first)."""
    return _TINY.train_tiny_model(tiny_data)


@pytest.fixture(scope="session")
def snr10(tiny_data):
    """The 10 dB examples of ``tiny_data`` (the papers' operating point), at most 200."""
    return tiny_data.select(snrs=[10]).subset(slice(0, 200))


@pytest.fixture(scope="session")
def session_tmp() -> Path:
    return _SESSION_TMP


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=240):
        yield


@pytest.fixture()
def prefect_env(prefect_harness) -> dict[str, str]:
    """``os.environ`` plus the session test server's API URL, for ``amc-tf`` subprocesses: they
    talk to that server instead of each starting a temporary one (9-24 s apiece)."""
    from prefect.settings import PREFECT_API_URL

    return {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_RUNNER_POLL_FREQUENCY": "1"}


@dataclasses.dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture()
def cli(capsys, monkeypatch):
    """Run the ``amc-tf`` console entry point in-process: ``cli("run", path) -> CliResult``.

    It goes through :func:`amc_tf.cli.main` exactly as the console script does (errors become one
    ``error:`` line and exit code 2), without paying a fresh interpreter and TensorFlow import."""

    def run(*args) -> CliResult:
        from amc_tf.cli import main

        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["amc-tf", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture()
def mlflow_store(tmp_path, monkeypatch) -> str:
    """A fresh sqlite MLflow store for one test; returns its URI."""
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    from amc_tf.tracking.store import configure

    configure(uri)
    return uri
