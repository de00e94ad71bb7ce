"""MR dataset generation speed: this working tree against another revision, side by side.

Usage: ``.venv/bin/python bench/mimo_compare_revs.py --rev REV [--setups 200] [--rounds 3]``

The package of ``REV`` is extracted with ``git archive`` into a temporary directory; each round
runs both versions, alternately, in fresh one-thread processes on the same setups (MR closed
form, M = 100, the solver included, no disk I/O) and records wall and CPU seconds, so that load
from other processes hits both alike. Prints JSON: per version the setups per CPU-second of
each round, their median, and the largest relative difference of gains and powers between the
two versions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

WORKER = r"""
import sys, time, json
import numpy as np
from threadpoolctl import threadpool_limits
from amc_tf.config.mimo import GainsConfig, MimoSystemConfig, Precoder
from amc_tf.mimo.geometry import channel_gain_over_noise_db, drop_ues, wrapped_links
from amc_tf.mimo.power import max_product_power
from amc_tf.mimo.simulate import compute_gains
n, out = int(sys.argv[1]), sys.argv[2]
system = MimoSystemConfig(antennas=int(sys.argv[3]))
pos = drop_ues(system, n, np.random.default_rng(123))
with threadpool_limits(1):
    w0, c0 = time.perf_counter(), time.process_time()
    d, ang = wrapped_links(pos, system)
    a, b = compute_gains(system, GainsConfig(precoders=("MR",)), Precoder.MR, channel_gain_over_noise_db(d, system), ang, np.random.default_rng(0))
    rho = max_product_power(a, b, system.pmax_mw)
    w, c = time.perf_counter() - w0, time.process_time() - c0
np.savez(out, a=a, b=b, rho=rho)
import amc_tf
print(json.dumps({"wall_s": w, "cpu_s": c, "package": amc_tf.__file__}))
"""


def run(tree: str, n: int, antennas: int, out: str) -> dict:
    """One measurement with the ``amc_tf`` package found in ``tree`` (run from a neutral directory,
    so that the current one does not shadow it)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=tree + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run(
        [sys.executable, "-c", WORKER, str(n), out, str(antennas)],
        env=env,
        cwd=os.path.dirname(out),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rev", required=True)
    ap.add_argument("--setups", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--antennas", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mimo-rev-") as tmp:
        tree = os.path.join(tmp, "tree")
        os.makedirs(tree)
        archive = subprocess.run(["git", "archive", args.rev, "amc_tf"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        versions = {args.rev: tree, "working tree": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
        result: dict = {name: {"rounds": []} for name in versions}
        for r in range(args.rounds):
            for name, path in versions.items():
                t = run(path, args.setups, args.antennas, os.path.join(tmp, f"{r}-{name.replace(' ', '_')}.npz"))
                result[name]["package"] = t["package"]
                result[name]["rounds"].append(
                    {"setups_per_cpu_s": args.setups / t["cpu_s"], "setups_per_wall_s": args.setups / t["wall_s"]}
                )
        for name in versions:
            rates = [x["setups_per_cpu_s"] for x in result[name]["rounds"]]
            result[name]["median_setups_per_cpu_s"] = float(np.median(rates))
        old, new = (np.load(os.path.join(tmp, f"0-{n.replace(' ', '_')}.npz")) for n in versions)
        result["max_rel_diff"] = {
            k: float(np.max(np.abs(new[k] - old[k]) / np.maximum(np.abs(old[k]), 1e-300))) for k in ("a", "b", "rho")
        }
        result["speedup_cpu"] = (
            result["working tree"]["median_setups_per_cpu_s"] / result[args.rev]["median_setups_per_cpu_s"]
        )
        result.update({"setups": args.setups, "antennas": args.antennas, "load_average_1min": os.getloadavg()[0]})
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
