"""`ganimate aus`: the AU intensities of every face, as a table, CSV or JSON.
"""

from __future__ import annotations

import sys

import typer

from ganimate.cli.base import app, examples, fail, guarded
from ganimate.cli.options import (
    EstimatorOption,
)
from ganimate.faces import DEFAULT_ESTIMATOR


@app.command("aus", no_args_is_help=True,
    epilog=examples(
        "ganimate aus photo.jpg",
        "ganimate aus a.jpg b.jpg clip.mp4 -f table > aus.txt   # every column kept",
        "ganimate aus clip.mp4 -f csv > aus.csv",
        "ganimate aus photos/ -f json"))
@guarded
def aus_command(
    inputs: list[str] = typer.Argument(..., help="Photos, videos, or folders of them."),
    fmt: str = typer.Option(None, "--format", "-f",
                            help="table, csv or json [table on a terminal, csv otherwise]; a "
                                 "table written to a file or pipe keeps every column."),
    estimator: EstimatorOption = DEFAULT_ESTIMATOR,
    every: int = typer.Option(1, "--every", help="Videos: every k-th frame."),
    baseline: bool = typer.Option(False, "--baseline/--no-baseline",
                                  help="Videos: subtract each person's neutral baseline."),
) -> None:
    """AU intensities of every face: one row per face per frame (columns: docs/aus.md)."""
    from ganimate import au_table

    listing = au_table.AUListing(fmt, estimator, every, baseline)
    terminal = sys.stdout.isatty()
    output = au_table.render_aus(inputs, listing, terminal=terminal)
    for chunk in output.chunks:
        if isinstance(chunk, str):
            sys.stdout.write(chunk)
            sys.stdout.flush()  # rows reach a pipe as they are measured
        else:
            _print_table(chunk, terminal)
    for p in output.problems:
        typer.echo(f"warning: {p.source}: {p.reason}", err=True)
    if output.count == 0:
        raise fail(f"{' '.join(inputs)}: no face found")


def _print_table(table, terminal: bool) -> None:
    """A rich table on stdout: on a terminal at its width; into a file or pipe at the table's
    own width, so that no column is cut or dropped (rich would assume 80 columns)."""
    from rich.console import Console
    from rich.measure import Measurement

    console = Console()
    if not terminal:
        wide = console.options.update_width(1_000_000)
        console = Console(width=max(80, Measurement.get(console, wide, table).maximum))
    console.print(table)
