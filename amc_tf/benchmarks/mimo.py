"""``amc-tf bench mimo``: dataset throughput and the batched solver vs cvxpy's GP (design §3).

Measured in one run, on the paper's scenario (M = 100 unless told otherwise):

* ``setups_per_s``: dataset generation (positions → gains → optimal powers, shards written) with
  ``workers`` processes, for MR and M-MMSE in the book's convention (Monte Carlo over
  ``realizations`` channel draws, ``w = v/‖v‖`` per realisation: the datasets' default, with the
  samples shared across BSs), the same with the book's independent per-BS draws
  (``MR_independent``, ``MMMSE_independent``), and MR in closed form (``MR_closed_form``, the fast
  approximation), side by side;
* ``shared_draws_speedup``: per CPU-second, shared over independent draws, per precoder;
* ``speed_goal``: the issue's targets at M = 100 and 100 realisations (MR ≥ 50, M-MMSE ≥ 15
  setups/s on 2 cores) next to the measured rates;
* ``solver_setups_per_s``: :func:`amc_tf.mimo.power.max_product_power` on all MR setups at once;
* ``cvxpy_setups_per_s``: cvxpy's geometric program (:mod:`amc_tf.mimo.reference`), one setup at
  a time, on the first ``cvxpy_setups`` of them;
* ``max_rel_objective_gap``: ``max |Π SINR(ours) / Π SINR(cvxpy) − 1|`` over those setups;
* ``setups_per_cpu_s``: generated setups per CPU-second of the workers — the rate one idle core
  gives, which does not depend on what else runs on the machine.

On a shared machine wall-clock rates depend on the load, so the 1-minute load average and the
process CPU seconds are reported beside them; the solver/cvxpy ratio is measured side by side.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import typer

from amc_tf.config.mimo import ChannelDraws, GainMethod, GainsConfig, MimoSystemConfig, Precoder
from amc_tf.errors import ConfigError
from amc_tf.io import write_json
from amc_tf.mimo import dataset as ds_mod
from amc_tf.mimo.power import log_product_sinr, max_product_power
from amc_tf.mimo.reference import max_product_power_gp


def bench_mimo(
    *,
    mr_setups: int = 400,
    mmmse_setups: int = 16,
    cvxpy_setups: int = 10,
    workers: int = 2,
    antennas: int = 100,
    realizations: int = 100,
    seed: int = 0,
) -> dict:
    """Run the benchmark; returns the JSON-able result (see the module docstring)."""
    if min(mr_setups, mmmse_setups, cvxpy_setups, workers) < 1:
        raise ConfigError("mr_setups, mmmse_setups, cvxpy_setups and workers must be >= 1")
    if cvxpy_setups > mr_setups:
        raise ConfigError(f"cvxpy_setups ({cvxpy_setups}) cannot exceed mr_setups ({mr_setups})")
    system = MimoSystemConfig(antennas=antennas)
    load_before = os.getloadavg()[0]
    result: dict = {
        "setups_per_s": {},
        "cpu_seconds": {},
        "workers": workers,
        "antennas": antennas,
        "realizations": realizations,
    }
    with tempfile.TemporaryDirectory(prefix="amc-bench-mimo-") as tmp:
        shared, indep = ChannelDraws.SHARED_BS, ChannelDraws.INDEPENDENT
        runs = (
            ("MR", Precoder.MR, GainMethod.MONTE_CARLO, mr_setups, shared),
            ("MR_independent", Precoder.MR, GainMethod.MONTE_CARLO, mr_setups, indep),
            ("MMMSE", Precoder.MMMSE, GainMethod.MONTE_CARLO, mmmse_setups, shared),
            ("MMMSE_independent", Precoder.MMMSE, GainMethod.MONTE_CARLO, mmmse_setups, indep),
            ("MR_closed_form", Precoder.MR, GainMethod.CLOSED_FORM, mr_setups, shared),
        )
        for label, prec, method, n, draws in runs:
            gains = GainsConfig(precoders=(prec,), realizations=realizations, mr_method=method, draws=draws)
            spec = ds_mod.DatasetSpec(
                system=system,
                gains=gains,
                n_setups=n,
                shard_size=max(1, -(-n // (4 * workers))),
                seed=seed,
                split=f"bench{label}",
                keep_gains=label == "MR",
            )
            cpu0 = _children_cpu()
            t0 = time.perf_counter()
            ds_mod.generate(spec, Path(tmp) / label, workers=workers, progress=False)
            result["setups_per_s"][label] = n / (time.perf_counter() - t0)
            result["cpu_seconds"][label] = round(_children_cpu() - cpu0, 3)
            # what idle cores would give: setups per CPU-second of the workers
            result.setdefault("setups_per_cpu_s", {})[label] = n / max(result["cpu_seconds"][label], 1e-9)
        per_cpu = result["setups_per_cpu_s"]
        result["shared_draws_speedup"] = {p: per_cpu[p] / per_cpu[f"{p}_independent"] for p in ("MR", "MMMSE")}
        result["speed_goal"] = {
            "MR": {"goal_setups_per_s": 50.0, "measured": result["setups_per_s"]["MR"]},
            "MMMSE": {"goal_setups_per_s": 15.0, "measured": result["setups_per_s"]["MMMSE"]},
        }
        a, b = ds_mod.load(Path(tmp) / "MR").gains(Precoder.MR)
    t0 = time.perf_counter()
    rho = max_product_power(a, b, system.pmax_mw)
    solver_rate = len(a) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    ref = np.stack([max_product_power_gp(a[i], b[i], system.pmax_mw) for i in range(cvxpy_setups)])
    cvx_rate = cvxpy_setups / (time.perf_counter() - t0)
    gap = np.expm1(
        log_product_sinr(a[:cvxpy_setups], b[:cvxpy_setups], rho[:cvxpy_setups])
        - log_product_sinr(a[:cvxpy_setups], b[:cvxpy_setups], ref)
    )
    result.update(
        {
            "solver_setups_per_s": solver_rate,
            "cvxpy_setups_per_s": cvx_rate,
            "solver_speedup_vs_cvxpy": solver_rate / cvx_rate,
            "max_rel_objective_gap": float(np.abs(gap).max()),
            "solver_setups": int(len(a)),
            "cvxpy_setups": cvxpy_setups,
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "cpu_count": os.cpu_count(),
        }
    )
    return result


def command(
    out: Path = typer.Option(..., "--out", "-o", help="Write the JSON result here."),
    mr_setups: int = typer.Option(400, "--mr-setups", min=1, help="MR setups to generate (also the solver batch)."),
    mmmse_setups: int = typer.Option(16, "--mmmse-setups", min=1, help="M-MMSE setups to generate."),
    cvxpy_setups: int = typer.Option(10, "--cvxpy-setups", min=1, help="Setups solved one by one with cvxpy's GP."),
    workers: int = typer.Option(2, "--workers", "-w", min=1, help="Worker processes for generation."),
    antennas: int = typer.Option(100, "--antennas", min=1, help="M."),
    realizations: int = typer.Option(100, "--realizations", min=2, help="Monte-Carlo realisations per setup (M-MMSE)."),
) -> None:
    """Benchmark dataset generation (MR, M-MMSE) and the batched solver against cvxpy's GP."""
    result = bench_mimo(
        mr_setups=mr_setups,
        mmmse_setups=mmmse_setups,
        cvxpy_setups=cvxpy_setups,
        workers=workers,
        antennas=antennas,
        realizations=realizations,
    )
    write_json(out, result)
    typer.echo(json.dumps(result, indent=2))


def _children_cpu() -> float:
    """CPU seconds of this process and its finished children (the dataset workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
