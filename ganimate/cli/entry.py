"""The `ganimate` app with every command registered, and its console-script entry point.

The command line is thin commands that build the library's options and call it: one module per
command group (:mod:`.train`, :mod:`.edit`, :mod:`.animate`, :mod:`.evaluate`,
:mod:`.aus`, :mod:`.demo`, :mod:`.studio`); options shared by several commands are declared once
in :mod:`.options`; the app, its groups and the error policy are in :mod:`.base`. Every check of
the arguments is the library's. This is the only package that imports typer. Library failures
arrive as GanimateError and leave as one line on stderr (``error: ...``) and exit code 1. Results
meant for pipelines go to stdout; progress and logs go to stderr.
"""

from __future__ import annotations

import sys

import typer

# The command modules register their commands on the app when imported, in the order the help
# lists them: the commands (train ... studio), then the groups (edit, animate, eval).
# isort: off
from ganimate.cli import train, aus, demo, studio, edit, animate, evaluate  # noqa: F401
# isort: on
from ganimate.cli.base import app, fail, guarded, hoist_global_options  # noqa: F401 (exported)
from ganimate.runtime import limit_blas_threads


def main() -> None:
    """Console-script entry point: the process's settings (one BLAS thread), then the app."""
    limit_blas_threads()  # before any command imports numpy
    try:
        app(args=hoist_global_options(sys.argv[1:]), prog_name="ganimate")
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
