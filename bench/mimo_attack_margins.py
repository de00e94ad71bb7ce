"""Why do the cell attacks rarely succeed? Margins to Pmax, gradient sizes and a wide eps sweep.

Usage: ``.venv/bin/python bench/mimo_attack_margins.py [CONFIG] [--out FILE.json]``
(default ``configs/mimo_quickstart.yaml``). Uses the flow's cached datasets and models (it
trains them first if the flow has not run) and prints one JSON document:

* ``optimal``: per precoder, the fraction of (setup, cell) pairs whose optimal total is within
  1e-3 of Pmax, and the quantiles of the optimal totals;
* ``margins``: per (precoder, arch, training), :func:`amc_tf.mimo.margins.margin_report`;
* ``finite_difference``: the gradient checked against a finite difference in metres;
* ``wide``: success rates of FGSM, PGDM (the paper's α = 0.01 m, Q = 40: it never moves more
  than Q·α = 0.4 m), PGDM with α = eps/8, MI-FGSM and random signs over a wide eps grid.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from amc_tf.attacks.regression import FGSM, predicted_total
from amc_tf.config.base import load_config
from amc_tf.config.mimo import MimoAttackConfig, MimoPipelineConfig
from amc_tf.mimo import dataset as ds_mod
from amc_tf.mimo import stages
from amc_tf.mimo.margins import margin_report, optimal_budget_use
from amc_tf.mimo.robustness import attack_sweep
from amc_tf.mimo.training import load_models

WIDE = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("config", nargs="?", default="configs/mimo_quickstart.yaml")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    cfg = load_config(args.config, MimoPipelineConfig)
    t0 = time.perf_counter()
    data = {s: stages.ensure_split(cfg, s, progress=False) for s in ("train", "test")}
    standard = stages.train_standard(cfg, data["train"]["path"], data["train"]["fingerprint"])
    paths = {"standard": standard["path"]}
    if cfg.adversarial.enabled:
        paths["adversarial"] = stages.train_robust(cfg, data["train"]["path"], standard["path"])["path"]
    test = ds_mod.load(data["test"]["path"])
    x, pmax = test.features(), cfg.system.pmax_mw
    out: dict = {
        "config": args.config,
        "n_test": len(test),
        "pmax_mw": pmax,
        "optimal": {},
        "margins": {},
        "finite_difference": {},
        "wide": {},
    }
    for prec in cfg.gains.precoders:
        out["optimal"][prec.value] = optimal_budget_use(test.power(prec), pmax)
    for training, path in paths.items():
        for (prec, arch), models in sorted(stages.cell_sets(load_models(path)).items()):
            name = f"{prec.value}/{arch}/{training}"
            out["margins"][name] = margin_report(models, x, pmax, WIDE, test.power(prec))
            # finite difference along sign(∇) with h = 1 cm vs the L1 norm of the gradient
            m0 = models[0]
            grad = FGSM(m0, eps=0.0).gradient(x)
            h = 0.01
            fd = (predicted_total(m0, x + h * np.sign(grad)) - predicted_total(m0, x)) / h
            out["finite_difference"][name] = {
                "median_fd_mw_per_m": float(np.median(fd)),
                "median_grad_l1_mw_per_m": float(np.median(np.abs(grad).sum(axis=1))),
            }
            sweep = attack_sweep(models, x, ("FGSM", "PGDM", "MIFGSM", "RANDOM"), WIDE, pmax, cfg.attack, seed=cfg.seed)
            pgd_scaled = []
            for eps in WIDE:
                scaled = MimoAttackConfig(**{**cfg.attack.model_dump(), "pgd_step_m": eps / 8.0})
                pgd_scaled.append(
                    attack_sweep(models, x, ("PGDM",), (eps,), pmax, scaled, seed=cfg.seed)["success"]["PGDM"][0]
                )
            sweep["success"]["PGDM(alpha=eps/8)"] = pgd_scaled
            out["wide"][name] = {
                "clean_feasible": sweep["clean_feasible"],
                "eps_m": list(WIDE),
                "success": sweep["success"],
            }
    out["seconds"] = time.perf_counter() - t0
    text = json.dumps(out, indent=1)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
