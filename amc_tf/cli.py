"""The ``amc-tf`` command line (typer): this module only mounts the apps of each area
(:mod:`amc_tf.commands`) and turns errors into one line.

Every :class:`~amc_tf.errors.AmcError` becomes one ``error: ...`` line on stderr and exit code 2;
nothing deep inside TensorFlow reaches the user as a traceback.
"""

from __future__ import annotations

import errno
import os
import signal
import sys

import typer

import amc_tf  # noqa: F401  (runtime first: Keras flavour, D1)
from amc_tf.commands import bench, data, mimo, models, nightly, pipelines, report
from amc_tf.errors import AmcError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="amc-tf: small and robust wireless deep-learning models."
)
app.add_typer(pipelines.app)
app.add_typer(data.app, name="data")
app.add_typer(mimo.app, name="mimo")
app.add_typer(bench.app, name="bench")
app.add_typer(report.app, name="report")
app.add_typer(nightly.app, name="nightly")
app.add_typer(models.app, name="models")


#: Environment variable with TensorFlow's C++ log level for CLI runs (default 3: errors hidden
#: too, since CUDA-driver probes on a CPU machine log spurious ones; 0 shows everything).
TF_LOG_LEVEL_ENV = "AMC_TF_TF_LOG_LEVEL"


#: Operating-system errors the user fixes (a full disk, a read-only or forbidden path).
_USER_OS_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS})


def _usage_error(err: BaseException) -> bool:
    """Click's usage/parameter errors, from click itself or from typer's bundled copy."""
    import click

    return isinstance(err, (click.ClickException, typer.exceptions.TyperException)) and hasattr(err, "show")


#: The signal that interrupted this process (exit code 128 + its number), if any.
_received: list[int] = []


def _interrupt(signum, frame) -> None:
    _received.append(signum)
    raise KeyboardInterrupt(f"signal {signum}")


def _interrupted_code() -> int:
    """130 for Ctrl-C; 128 + the signal's number for a SIGTERM (143)."""
    return 128 + _received[0] if _received else 130


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point.

    Exit codes: 0 success; 2 for anything the user can fix (a bad config, file, option or model:
    one ``error:`` line, or click's usage message); 3 when a run finished but failed one of its
    own checks (a budget audit); 130 on Ctrl-C and 143 on SIGTERM (runs recorded KILLED); 1 for an
    unexpected internal error, reported in one line with a pointer to ``--debug`` (which shows the
    traceback).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = os.environ.get(TF_LOG_LEVEL_ENV, "3")  # read when TF is imported
    signal.signal(signal.SIGTERM, _interrupt)  # a SIGTERM ends a flow as Ctrl-C does: runs KILLED, no temp left
    try:
        # typer turns a KeyboardInterrupt (Ctrl-C, or our SIGTERM handler) into a returned 130
        code = app(args, prog_name="amc-tf", standalone_mode=False)
        if isinstance(code, int) and code != 0:
            if code == 130:
                typer.echo("aborted", err=True)
                code = _interrupted_code()
            sys.exit(code)
    except AmcError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as err:
        if err.errno not in _USER_OS_ERRORS or debug:
            raise
        where = f" ({err.filename})" if err.filename else ""
        typer.echo(f"error: {err.strerror}{where}", err=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(_interrupted_code())
    except Exception as err:
        if _usage_error(err):
            err.show()
            sys.exit(getattr(err, "exit_code", 2))
        if debug:
            raise
        typer.echo(f"internal error: {type(err).__name__}: {err} (rerun with --debug for the traceback)", err=True)
        sys.exit(1)
