"""``amc-tf nightly run|serve``: the nightly robustness regression (``flows/nightly.py``) once,
now, or served on its cron schedule against a Prefect server.

``serve`` uses the server at ``$PREFECT_API_URL`` (or ``--api-url``); without one it starts
``prefect server start`` on loopback for as long as it serves (a schedule needs a real server, not
Prefect's temporary one) and stops it on exit. The schedule's deployment is ``nightly-scheduled/
nightly``; ``prefect deployment run nightly-scheduled/nightly`` triggers it by hand.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import typer

from amc_tf.config.base import read_yaml
from amc_tf.errors import AmcError, ConfigError

app = typer.Typer(help="The nightly robustness regression: run it now, or serve its schedule.", no_args_is_help=True)

DEFAULT_CONFIG = Path("configs/nightly.yaml")
#: 02:00 every day (UTC), as in ``prefect.yaml``.
DEFAULT_CRON = "0 2 * * *"
DEPLOYMENT = "nightly"

_CONFIG = typer.Option(DEFAULT_CONFIG, "--config", help="YAML of kind nightly (the suite)")
_SET = typer.Option(None, "--set", help="Override a config value, e.g. --set robustness.n_examples=128")


def _load(config: Path, set_: list[str] | None):
    """Validate the suite and check that every listed model carries the alias (no TensorFlow)."""
    read_yaml(config, set_)
    from amc_tf.config.pipelines import load_pipeline
    from amc_tf.tracking import registry
    from amc_tf.tracking.store import configure

    cfg = load_pipeline(config, set_, kind="nightly")
    configure(cfg.tracking.uri)
    registry.versions_with_alias(cfg.models, cfg.alias)
    return cfg


def _scale_out(set_: list[str] | None, dask: bool, dask_address: str | None, dask_workers: int | None) -> list[str]:
    """``--dask``/``--dask-address``/``--dask-workers`` as ``scale_out`` overrides."""
    extra = list(set_ or [])
    if dask or dask_address or dask_workers:
        extra.append("scale_out.task_runner=dask")
    if dask_address:
        extra.append(f"scale_out.dask_address={dask_address}")
    if dask_workers:
        extra.append(f"scale_out.n_workers={dask_workers}")
    return extra


@app.command("run")
def run_command(
    config: Path = _CONFIG,
    set_: list[str] = _SET,
    dask: bool = typer.Option(False, "--dask", help="Run the per-model suites in parallel on a local Dask cluster"),
    dask_address: str = typer.Option(None, "--dask-address", help="...or on an existing cluster (tcp://host:8786)"),
    dask_workers: int = typer.Option(None, "--dask-workers", min=1, help="Worker processes of the local cluster"),
) -> None:
    """Run the suite once, now. Exit 0: every model passed; exit 3: a regression (named on stderr,
    and in the logged nightly_report.md / .png)."""
    from amc_tf.commands.pipelines import _report

    cfg = _load(config, _scale_out(set_, dask, dask_address, dask_workers))
    import flows

    _report(flows.run_pipeline(cfg))


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def local_server(port: int, timeout_s: float = 180.0) -> Iterator[str]:
    """``prefect server start`` on 127.0.0.1:``port`` for the duration; yields its API URL."""
    url = f"http://127.0.0.1:{port}/api"
    if _healthy(url):
        raise AmcError(f"something already answers on {url}; pass --api-url {url} to use it, or another --port")
    home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect"))
    home.mkdir(parents=True, exist_ok=True)
    log = open(home / "nightly-server.log", "ab")  # noqa: SIM115 (closed below)
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    server = subprocess.Popen(cmd + ["--no-ui"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + timeout_s
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise AmcError(f"the Prefect server did not start on {url} (log: {home / 'nightly-server.log'})")
            time.sleep(0.5)
        typer.echo(f"Prefect server on {url} (log: {home / 'nightly-server.log'})", err=True)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@app.command("serve")
def serve_command(
    config: Path = _CONFIG,
    set_: list[str] = _SET,
    cron: str = typer.Option(DEFAULT_CRON, "--cron", help="Cron schedule (UTC)"),
    api_url: str = typer.Option(None, "--api-url", help="Prefect API (default: $PREFECT_API_URL, else a local server)"),
    port: int = typer.Option(
        4200, "--port", min=1, max=65535, help="Port of the local server started when no API is set"
    ),
) -> None:
    """Serve the nightly on its schedule until Ctrl-C (deployment nightly-scheduled/nightly)."""
    from prefect.client.schemas.schedules import CronSchedule

    try:
        CronSchedule(cron=cron)
    except ValueError as err:
        raise ConfigError(f"--cron {cron!r} is not a valid cron expression") from err
    _load(config, set_)
    url = api_url or os.environ.get("PREFECT_API_URL")
    with contextlib.ExitStack() as stack:
        if not url:
            url = stack.enter_context(local_server(port))
        from prefect.settings import PREFECT_API_URL, temporary_settings

        stack.enter_context(temporary_settings({PREFECT_API_URL: url}))
        os.environ["PREFECT_API_URL"] = url  # the runs the runner starts are subprocesses
        from flows.nightly import nightly_scheduled

        parameters = {"config_path": str(config.resolve()), "overrides": list(set_ or [])}
        typer.echo(f"serving deployment nightly-scheduled/{DEPLOYMENT} on '{cron}' (UTC) against {url}", err=True)
        nightly_scheduled.serve(name=DEPLOYMENT, cron=cron, parameters=parameters, print_starting_message=False)
