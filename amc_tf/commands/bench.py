"""``amc-tf bench ...``: every benchmark writes JSON and reports ratios measured side by side in
one run (ours vs ART, ours vs cvxpy, ...; design §3). Each benchmark module of
:mod:`amc_tf.benchmarks` exposes its typer command as ``command``; this app mounts them."""

from __future__ import annotations

import typer

from amc_tf.benchmarks import (
    adversarial_training,
    attacks,
    data,
    mimo,
    mimo_attacks,
    mimo_stages,
    nettrim,
    rejection,
    smoothing,
    sweep,
    transformers,
)

app = typer.Typer(no_args_is_help=True, help="Benchmarks that write JSON (ratios measured side by side).")
app.command("data")(data.command)
app.command("nettrim")(nettrim.command)
app.command("attacks")(attacks.command)
app.command("mimo")(mimo.command)
app.command("mimo-stages")(mimo_stages.command)
app.command("mimo-attacks")(mimo_attacks.command)
app.command("adversarial-training")(adversarial_training.command)
app.command("smoothing")(smoothing.command)
app.command("sweep")(sweep.command)
app.command("rejection")(rejection.command)
app.command("transformers")(transformers.command)
