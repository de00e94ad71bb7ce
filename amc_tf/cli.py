"""The ``amc-tf`` command line (typer).

Every :class:`~amc_tf.errors.AmcError` becomes one ``error: ...`` line on stderr and exit code 2;
nothing deep inside TensorFlow reaches the user as a traceback.

Sub-command groups are registered at the bottom of this file; each area keeps its commands in its
own ``amc_tf/commands/<area>.py`` module exposing ``app: typer.Typer`` or plain functions.
"""

from __future__ import annotations

import sys

import typer

import amc_tf  # noqa: F401  (runtime first: Keras flavour, D1)
from amc_tf.errors import AmcError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="amc-tf: small and robust wireless deep-learning models."
)
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that write JSON (ratios measured side by side).")
data_app = typer.Typer(no_args_is_help=True, help="Generate, import and inspect datasets.")
app.add_typer(bench_app, name="bench")
app.add_typer(data_app, name="data")


def main() -> None:
    """Console-script entry point."""
    try:
        app(standalone_mode=False)
    except AmcError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as err:  # click usage errors
        import click

        if isinstance(err, click.ClickException):
            err.show()
            sys.exit(err.exit_code)
        raise


# --- command registrations (one import per area) -------------------------------------------
from amc_tf.commands import data as _data_commands  # noqa: E402

data_app.command("import")(_data_commands.import_command)
data_app.command("info")(_data_commands.info_command)
from amc_tf.commands import run as _run_cmds  # noqa: E402

app.command("run")(_run_cmds.run)
data_app.command("generate")(_run_cmds.generate)
from amc_tf.benchmarks import data as _bench_data  # noqa: E402

bench_app.command("data")(_bench_data.data_command)
from amc_tf.commands import compress as _compress_cmds  # noqa: E402

bench_app.command("nettrim")(_compress_cmds.bench_nettrim_command)
from amc_tf.commands import mimo as _mimo_cmds  # noqa: E402

app.add_typer(_mimo_cmds.mimo_app, name="mimo")
bench_app.command("mimo")(_mimo_cmds.bench_command)
from amc_tf.commands import attack as _attack_cmds  # noqa: E402

app.command("attack")(_attack_cmds.attack_command)
from amc_tf.benchmarks import attacks as _bench_attacks  # noqa: E402

bench_app.command("attacks")(_bench_attacks.attacks_command)
