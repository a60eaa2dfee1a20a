"""The `ganimate` command line: thin commands that validate, build a config and call one function.

This is the only module that imports typer. Library failures arrive as GanimateError and leave as
one line on stderr (``error: ...``) and exit code 1. Results meant for pipelines go to stdout;
progress and logs go to stderr.
"""

from __future__ import annotations

import functools
import sys

import typer

from ganimate import __version__, progress
from ganimate.errors import GanimateError

app = typer.Typer(
    name="ganimate",
    help="GANimation made practical: edit and animate facial expressions with Action Units.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
edit_app = typer.Typer(help="Edit the expression of photos.", no_args_is_help=True)
animate_app = typer.Typer(help="Animate expressions over time.", no_args_is_help=True)
app.add_typer(edit_app, name="edit")
app.add_typer(animate_app, name="animate")


def fail(message: str) -> typer.Exit:
    """Print one clear error line on stderr; ``raise fail(...)`` exits with code 1."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def guarded(func):
    """Turn GanimateError raised by the library into a clean message and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except GanimateError as exc:
            raise fail(str(exc)) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ganimate {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars, warnings only."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    progress.set_enabled(not quiet)
    progress.install_log_handler(verbose=verbose)
    if quiet:
        progress.log.setLevel("WARNING")


# ---------------------------------------------------------------------------------------------
# Commands are grouped by the pipeline step they drive; each group is kept together below.
# ---------------------------------------------------------------------------------------------


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
