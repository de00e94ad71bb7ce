"""The ``amc-tf`` command line (typer): this module only mounts the apps of each area
(:mod:`amc_tf.commands`) and turns errors into one line.

Every :class:`~amc_tf.errors.AmcError` becomes one ``error: ...`` line on stderr and exit code 2;
nothing deep inside TensorFlow reaches the user as a traceback.
"""

from __future__ import annotations

import sys

import typer

import amc_tf  # noqa: F401  (runtime first: Keras flavour, D1)
from amc_tf.commands import bench, data, mimo, pipelines
from amc_tf.errors import AmcError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="amc-tf: small and robust wireless deep-learning models."
)
app.add_typer(pipelines.app)
app.add_typer(data.app, name="data")
app.add_typer(mimo.app, name="mimo")
app.add_typer(bench.app, name="bench")


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
