"""`ganimate eval model`, `eval video` and `eval photos` (:mod:`ganimate.evaluation`).
"""

from __future__ import annotations

import typer

from ganimate.cli.base import eval_app, examples, guarded
from ganimate.cli.options import (
    AuOption,
    CheckpointOption,
    DeviceOption,
    EngineOption,
    EstimatorOption,
    ExpressionOption,
    IdentityOption,
    JsonOption,
    load_engine,
    read_targets,
)
from ganimate.evaluation import EvalConfig
from ganimate.evaluation.config import READ_EVERY
from ganimate.faces import DEFAULT_ESTIMATOR


def _show(tables, data: dict, paths, as_json: bool) -> None:
    import json

    from rich.console import Console

    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        console = Console()
        for table in tables:
            console.print(table)
    if paths:
        typer.echo(f"wrote {', '.join(str(p) for p in paths)}", err=True)


@eval_app.command("model", no_args_is_help=True,
    epilog=examples("ganimate eval model run data/faces",
                    "ganimate eval model a.safetensors b.safetensors data/faces"))
@guarded
def eval_model_command(
    args: list[str] = typer.Argument(
        ..., metavar="CHECKPOINT [CHECKPOINT_B] DATASET",
        help="A checkpoint (or a training run folder: its newest checkpoint), optionally a second "
             "one to compare on the same faces and targets, and a prepared dataset (its test "
             "split is used)."),
    out: str = typer.Option(
        None, "--out", "-o",
        help="Report folder (JSON + PNG figures). Default: <checkpoint>-eval or <a>-vs-<b>-eval."),
    faces: int = typer.Option(
        EvalConfig.max_faces, "--faces", min=1,
        help="Test faces used (a seeded subset of a larger test split)."),
    random_targets: int = typer.Option(
        EvalConfig.random_targets, "--random-targets", min=0,
        help="Random targets per face, drawn like training targets (another face's AUs + noise)."),
    seed: int = typer.Option(EvalConfig.seed, "--seed",
                             help="Seed of the face subset and random targets."),
    batch_size: int = typer.Option(EvalConfig.batch_size, "--batch-size", min=1,
                                   help="Crops per generator call."),
    device: DeviceOption = "auto",
    identity: IdentityOption = True,
    as_json: JsonOption = False,
) -> None:
    """Measure a model on a dataset: AU accuracy, identity, reconstruction, background,
    attention; with two checkpoints, side by side."""
    from ganimate import evaluation
    from ganimate.evaluation import report

    config = EvalConfig(seed=seed, max_faces=faces, random_targets=random_targets,
                        batch_size=batch_size, identity=identity)
    run = report.write_model_report(evaluation.evaluate_checkpoints(args, config, device), out)
    _show([report.summary_table(run.results), report.per_au_table(run.results)], run.data,
          run.paths, as_json)


@eval_app.command("video", no_args_is_help=True,
    epilog=examples("ganimate eval video clip.mp4 happy.mp4 -o happy-eval --expect happy",
                    "ganimate eval video clip.mp4 happy.mp4 --json --strip strip.png"))
@guarded
def eval_video_command(
    src: str = typer.Argument(..., metavar="IN", help="The input video."),
    edited: str = typer.Argument(..., metavar="OUT", help="Its edited version."),
    out: str = typer.Option(None, "--out", "-o",
                            help="Report folder (video_report.json, strip.jpg). Default: beside "
                                 "OUT, named <OUT's name>-eval (with --json: none unless -o is "
                                 "given)."),
    identity: IdentityOption = True,
    identity_every: int = typer.Option(
        10, "--identity-every", min=1, help="Measure identity on every n-th face frame."),
    read_every: int = typer.Option(
        READ_EVERY, "--read-every", min=0,
        help="Read the expression (FER-2013 classifier) of every n-th frame of both videos; "
             "0: none."),
    expect: str = typer.Option(
        None, "--expect",
        help="The expression the edit asks for (angry, disgust, fear, happy, sad, surprise, "
             "neutral): the share of output frames reading it, beside the input's."),
    strip: str = typer.Option(
        None, "--strip",
        help="Write the strip image here (.jpg/.png): every n-th frame's face, input over "
             "output. Default: strip.jpg in the report folder, when one is written."),
    strip_every: int = typer.Option(
        None, "--strip-every", min=1,
        help="A strip column every n frames. Default: about 8 columns over the clip."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the JSON report on stdout instead of the table; no report "
                              "folder is written unless -o is given."),
) -> None:
    """Measure an edited video against its input: flicker, background change, identity; frame
    to frame: teeth pops, mouth and edit-layer flicker, the expression read; a strip image."""
    from ganimate import evaluation
    from ganimate.evaluation import report
    from ganimate.evaluation.video import FrameOptions

    folder = report.video_report_folder(edited, out, as_json)
    if strip is None and folder is not None:
        strip = str(folder / "strip.jpg")
    result = evaluation.evaluate_video(
        src, edited, identity=identity, identity_every=identity_every,
        frame_options=FrameOptions(read_every, expect, strip_every), strip=strip)
    paths = report.write_video_report(result, folder) if folder is not None else []
    if result.strip is not None:
        paths.append(result.strip)
    tables = [report.video_table(result), report.video_expression_table(result)]
    _show([t for t in tables if t is not None], result.to_dict(), paths, as_json)


@eval_app.command("photos", no_args_is_help=True,
    epilog=examples(
        "ganimate eval photos london/neutral --ids holdout.txt --reference london/smiling "
        "--au AU06=0.8 --au AU12=0.9",
        "ganimate eval photos photos/ -c model.safetensors --engine gan -e happy"))
@guarded
def eval_photos_command(
    photos: list[str] = typer.Argument(..., help="Photos, or folders of photos."),
    checkpoint: CheckpointOption = None,
    engine_name: EngineOption = None,
    expression: ExpressionOption = None,
    au: AuOption = [],  # noqa: B006 (typer copies it)
    reference: str = typer.Option(
        None, "--reference",
        help="Folder of the same people's real expressions, matched by file name: the scale "
             "the edits are compared with."),
    ids: str = typer.Option(None, "--ids",
                            help="Only the photos whose stems this file lists (one a line)."),
    out: str = typer.Option(None, "--out", "-o",
                            help="Report folder. Default: photos-<engine>-eval."),
    null_edit: bool = typer.Option(True, "--null-edit/--no-null-edit",
                                   help="Also edit each photo to its own AUs and measure it."),
    estimator: EstimatorOption = DEFAULT_ESTIMATOR,
    device: DeviceOption = "auto",
    identity: IdentityOption = True,
    as_json: JsonOption = False,
) -> None:
    """Edit photos with an engine and read them with three readers: a FER-2013 expression
    classifier and dlib's 68 points (both independent of the warp's AU->mesh model) beside the
    mesh AU estimator; plus identity, sharpness, colour fringes, change away from the face and a
    null edit."""
    from ganimate.evaluation import photos as photo_eval
    from ganimate.evaluation import report

    engine = load_engine(engine_name, checkpoint, device)
    spec = read_targets(expression, au=au).spec(engine.au_space, estimator)
    config = photo_eval.PhotoEvalConfig(spec, estimator, null_edit, identity)
    result = photo_eval.run(photos, engine, config, ids, reference,
                            photo_eval.edit_label(expression, au))
    paths = report.write_photo_report(result, out or f"photos-{engine.name}-eval")
    _show(report.photo_tables(result), result.to_dict(), paths, as_json)
