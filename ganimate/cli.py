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


# --- evaluation: eval (CHECKPOINT DATASET | --compare A B DATASET | video IN OUT) ---
# One command with free positional arguments rather than a typer group: a group that takes
# CHECKPOINT DATASET itself would swallow the word "video" as a checkpoint path. The first
# argument "video" selects the video mode (write ./video for a checkpoint named so).

_EVAL_USAGE = "CHECKPOINT DATASET | --compare CKPT_A CKPT_B DATASET | video IN OUT"


@app.command("eval", no_args_is_help=True)
@guarded
def eval_command(
    args: list[str] = typer.Argument(
        ..., metavar=_EVAL_USAGE,
        help="A checkpoint and a prepared dataset (its test split is used); with --compare two "
             "checkpoints and a dataset; or `video IN OUT`: an input video and its edit.",
    ),
    compare: bool = typer.Option(
        False, "--compare", help="Evaluate two checkpoints on the same faces and targets."
    ),
    out: str = typer.Option(
        None, "--out", "-o",
        help="Report folder (JSON + PNG figures). Default: <checkpoint>-eval, "
             "<a>-vs-<b>-eval or <OUT video>-eval in the current folder.",
    ),
    faces: int = typer.Option(
        100, "--faces", min=1, help="Test faces used (a seeded subset of a larger test split)."
    ),
    random_targets: int = typer.Option(
        4, "--random-targets", min=0,
        help="Random targets per face, drawn like training targets (another face's AUs + noise).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the face subset and random targets."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, help="Crops per generator call."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:1, mps."),
    identity: bool = typer.Option(
        True, "--identity/--no-identity",
        help="Identity distance with dlib (needs the [eval] extra; skipped with a note if absent).",
    ),
    identity_every: int = typer.Option(
        10, "--identity-every", min=1, help="video: measure identity on every n-th face frame."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the JSON report on stdout instead of the tables."
    ),
) -> None:
    """Measure a model: AU accuracy, identity, reconstruction, background, attention, flicker."""
    import json
    from pathlib import Path

    from rich.console import Console

    from ganimate import evaluation, report

    console = Console()
    if args[0] == "video":
        if compare:
            raise fail("--compare compares checkpoints; it does not apply to `eval video`")
        if len(args) != 3:
            raise fail("usage: ganimate eval video IN OUT (the input video and its edited version)")
        src, edited = Path(args[1]), Path(args[2])
        for p in (src, edited):
            if not p.is_file():
                raise fail(f"{p}: no such video file")
        result = evaluation.evaluate_video(src, edited, identity=identity,
                                           identity_every=identity_every)
        folder = Path(out) if out else Path(f"{edited.stem}-eval")
        paths = report.write_video_report(result, folder)
        if as_json:
            typer.echo(json.dumps(result.to_dict(), indent=2))
        else:
            console.print(report.video_table(result))
        typer.echo(f"wrote {', '.join(str(p) for p in paths)}", err=True)
        return

    expected = 3 if compare else 2
    if len(args) != expected:
        raise fail(f"expected {'CKPT_A CKPT_B DATASET' if compare else 'CHECKPOINT DATASET'}, "
                   f"got {len(args)} argument(s); usage: ganimate eval {_EVAL_USAGE}")
    *checkpoints, dataset = (Path(a) for a in args)
    for p in checkpoints:
        if not p.is_file():
            raise fail(f"{p}: no such checkpoint file")
    if not dataset.is_dir():
        raise fail(f"{dataset}: no such dataset folder (make one with `ganimate prepare`)")
    config = evaluation.EvalConfig(seed=seed, max_faces=faces, random_targets=random_targets,
                                   batch_size=batch_size, identity=identity)
    embedder = evaluation.load_embedder(identity)  # loaded once, shared by both checkpoints
    results = []
    for i, ckpt in enumerate(checkpoints):
        label = f"{'AB'[i]}: {ckpt.stem}" if compare else ckpt.stem
        results.append((label, evaluation.evaluate_checkpoint(
            ckpt, dataset, config, device=device, embedder=embedder)))
    if compare:
        folder = Path(out) if out else Path(f"{checkpoints[0].stem}-vs-{checkpoints[1].stem}-eval")
        paths = report.write_comparison(results, folder)
        data = json.loads(paths[0].read_text())
    else:
        folder = Path(out) if out else Path(f"{checkpoints[0].stem}-eval")
        paths = report.write_report(results[0][1], folder)
        data = results[0][1].to_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        console.print(report.summary_table(results))
        console.print(report.per_au_table(results))
    typer.echo(f"wrote {', '.join(str(p) for p in paths)}", err=True)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
