"""Per-stage timing of MR dataset generation (closed form), one process, one BLAS thread.

Usage: ``.venv/bin/python bench/mimo_stages.py [--setups 200] [--antennas 100] [--chunk 8]``

Prints a JSON table of wall and CPU seconds per stage and setups/s per stage, for the stages of
:func:`amc_tf.mimo.simulate.simulate` with ``mr_method = closed_form``: geometry (drops, wrapped
links, gains), correlation rows, the MR closed form split into its parts, and the solver.
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import contextmanager

import numpy as np
from threadpoolctl import threadpool_limits

from amc_tf.config.mimo import MimoSystemConfig
from amc_tf.mimo import gains as gains_mod
from amc_tf.mimo import toeplitz
from amc_tf.mimo.channels import pilot_rows, rows_from_links
from amc_tf.mimo.geometry import channel_gain_over_noise_db, drop_ues, validate_positions, wrapped_links
from amc_tf.mimo.power import max_product_power

TIMES: dict[str, list[float]] = {}


@contextmanager
def stage(name: str):
    w0, c0 = time.perf_counter(), time.process_time()
    yield
    w, c = time.perf_counter() - w0, time.process_time() - c0
    acc = TIMES.setdefault(name, [0.0, 0.0])
    acc[0] += w
    acc[1] += c


def mr_parts(rows: np.ndarray, config: MimoSystemConfig) -> tuple[np.ndarray, np.ndarray]:
    """gains.mr_closed_form, stage by stage (same code, timed)."""
    s, n_cells, _, k, m = rows.shape
    p_tau = config.pilot_power_mw * config.tau_p
    with stage("mr: Psi rows + Levinson"):
        x = toeplitz.first_column_of_inverse(pilot_rows(rows, config))
    with stage("mr: Psi^-1 Trench assembly"):
        psi_inv = toeplitz.inverse_from_first_column(x)
    own = np.arange(n_cells)
    with stage("mr: dense R_own"):
        r_own = gains_mod._flush(rows[:, own, own])
        r_dense = toeplitz.dense(r_own)
    with stage("mr: Y = Psi^-1 R (the one matmul)"):
        y = psi_inv @ r_dense
    with stage("mr: diagonal prefix sums of Y"):
        prefix = toeplitz.diagonal_prefix_sums(y)
        y_sums = prefix[..., -1, :]
    with stage("mr: diagonal sums of Phi = R Y (window sums)"):
        phi_upper = p_tau * toeplitz.product_diagonal_sums(r_own, prefix)
        phi_sums = np.concatenate([np.conj(phi_upper[..., :0:-1]), phi_upper], axis=-1)
    with stage("mr: traces + b assembly"):
        tr_phi = np.real(phi_sums[..., m - 1])
        weights = toeplitz.trace_weights(rows)
        tr_r_phi = np.real(weights.reshape(s, n_cells, n_cells * k, 2 * m - 1) @ np.swapaxes(phi_sums, -1, -2))
        b = (tr_r_phi / tr_phi[:, :, None, :]).reshape(s, n_cells, n_cells, k, k).transpose(0, 1, 4, 2, 3)
        cross = np.einsum("sljkd,slkd->slkj", weights, y_sums)
        contamination = p_tau**2 * np.abs(cross) ** 2 / tr_phi[:, :, :, None]
        kk = np.arange(k)
        own_b = b[:, own[:, None], kk[None, :], own[:, None], kk[None, :]].copy()
        b[:, :, kk, :, kk] += np.moveaxis(contamination, 2, 0)
        b[:, own[:, None], kk[None, :], own[:, None], kk[None, :]] = own_b
    return tr_phi, b


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--setups", type=int, default=200)
    ap.add_argument("--antennas", type=int, default=100)
    ap.add_argument("--chunk", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--impl", choices=["parts", "current"], default="parts")
    args = ap.parse_args()
    system = MimoSystemConfig(antennas=args.antennas)
    rng = np.random.default_rng(0)
    with threadpool_limits(args.threads):
        w_all, c_all = time.perf_counter(), time.process_time()
        with stage("geometry: drops, validation, wrapped links, gains"):
            pos = drop_ues(system, args.setups, rng)
            pos = validate_positions(pos, system)
            dist, ang = wrapped_links(pos, system)
            gain_db = channel_gain_over_noise_db(dist, system)
        a_parts, b_parts = [], []
        for start in range(0, args.setups, args.chunk):
            with stage("correlation rows (local scattering)"):
                rows = rows_from_links(gain_db[start : start + args.chunk], ang[start : start + args.chunk], system)
            if args.impl == "parts":
                a, b = mr_parts(rows, system)
            else:
                with stage("mr closed form (current)"):
                    g = gains_mod.mr_closed_form(rows, system)
                    a, b = g.a, g.b
            a_parts.append(a)
            b_parts.append(b)
        a, b = np.concatenate(a_parts), np.maximum(np.concatenate(b_parts), 0.0)
        with stage("solver (max-product, batched)"):
            max_product_power(a, b, system.pmax_mw)
        total = (time.perf_counter() - w_all, time.process_time() - c_all)
    table = {
        name: {"wall_s": round(w, 4), "cpu_s": round(c, 4), "ms_per_setup_cpu": round(1e3 * c / args.setups, 3)}
        for name, (w, c) in TIMES.items()
    }
    table["TOTAL"] = {
        "wall_s": round(total[0], 4),
        "cpu_s": round(total[1], 4),
        "setups_per_cpu_s": round(args.setups / total[1], 1),
    }
    print(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
