"""`ganimate edit image` and `edit sweep`: the photo commands (:mod:`ganimate.editing`).
"""

from __future__ import annotations

import typer

from ganimate.cli.base import edit_app, examples, guarded
from ganimate.cli.options import (
    TARGET_HELP,
    AuOption,
    AusFileOption,
    CheckpointOption,
    DeviceOption,
    EngineOption,
    EstimatorOption,
    ExpressionOption,
    FeatherOption,
    HandsOption,
    LikeOption,
    RowOption,
    load_engine,
    read_targets,
)
from ganimate.editing import SweepConfig
from ganimate.engines import BlendConfig
from ganimate.faces import DEFAULT_ESTIMATOR


@edit_app.command("image", no_args_is_help=True,
    epilog=examples(
        "ganimate edit image photo.jpg -e happy -o happy.jpg",
        "ganimate edit image photo.jpg -c model.safetensors --au AU12=0.8 --au AU04-0.2 -o out.png",
        "ganimate edit image photos/ -e surprise:0.6 -o edited/",
        note=TARGET_HELP))
@guarded
def edit_image_command(
    photos: list[str] = typer.Argument(
        ..., help="Photos, or folders of photos (with --aligned: aligned square face crops)."),
    checkpoint: CheckpointOption = None,
    engine_name: EngineOption = None,
    output: str = typer.Option(
        ..., "--out", "-o",
        help="The edited photo (one input; format from the extension: .jpg .png .webp ...), "
             "or a folder (several inputs; each keeps its file name)."),
    expression: ExpressionOption = None,
    like: LikeOption = None,
    aus_file: AusFileOption = None,
    row: RowOption = None,
    au: AuOption = [],  # noqa: B006 (typer copies it)
    face: int = typer.Option(
        None, "--face", min=0,
        help="Edit only face N: 0-based, left to right (the `face` column of `ganimate aus`). "
             "Default: every face."),
    save_masks: str = typer.Option(
        None, "--save-masks",
        help="Folder for each face's crop, attention (white = pixel kept), colour mask, edited "
             "crop and a strip of the four (paper Fig. 5)."),
    aligned: bool = typer.Option(
        False, "--aligned",
        help="The inputs are aligned square face crops (as `ganimate prepare` writes): edit "
             "them whole, no face detection or paste-back."),
    source_au: list[str] = typer.Option(
        [], "--source-au",
        help="Override the estimated AUs of the face (AU12=0.3, repeatable) before the target "
             "is built; --aligned crops without a detectable face start from 0."),
    attention: str = typer.Option(
        None, "--attention",
        help="--aligned, one crop: also write its attention mask here (white = pixel kept)."),
    hands: HandsOption = True,
    feather: FeatherOption = BlendConfig.feather,
    estimator: EstimatorOption = DEFAULT_ESTIMATOR,
    device: DeviceOption = "auto",
) -> None:
    """Edit the facial expression of photos: find the faces, edit them, blend them back.

    Output has the input's size and orientation (EXIF applied) and keeps its alpha channel;
    pixels away from the faces are untouched.
    """
    from ganimate import editing
    from ganimate.targets import parse_source_aus

    targets = read_targets(expression, like, aus_file, row, au)
    pairs = editing.plan_edit(photos, output, targets, attention, aligned)
    engine = load_engine(engine_name, checkpoint, device)
    config = editing.EditConfig(
        spec=targets.spec(engine.au_space, estimator), face=face,
        source=parse_source_aus(source_au, engine.au_names), aligned=aligned,
        blend=BlendConfig(feather=feather), estimator=estimator, hands=hands)
    if attention is not None:  # the core issue's one-crop mode, with its attention file
        src, dst = pairs[0]
        typer.echo(str(editing.edit_with_attention(src, dst, config, engine, attention,
                                                   save_masks)))
        return
    result = editing.edit_photos(photos, output, config, engine, masks=save_masks)
    for path in result.written:
        typer.echo(str(path))
    result.require_all()


@edit_app.command("sweep", no_args_is_help=True,
    epilog=examples(
        "ganimate edit sweep photo.jpg --au AU12 --au AU04 --steps 0,0.33,0.66,1 -o grid.png"))
@guarded
def edit_sweep_command(
    photo: str = typer.Argument(..., help="A photo with a face."),
    checkpoint: CheckpointOption = None,
    engine_name: EngineOption = None,
    au: list[str] = typer.Option(
        ..., "--au", help="AU to sweep (AU12 or 12), repeatable: one grid row each."),
    steps: str = typer.Option("0,0.25,0.5,0.75,1", "--steps",
                              help="Intensities in [0, 1], comma-separated: one column each."),
    output: str = typer.Option(..., "--out", "-o", help="The grid image (.png, .jpg ...)."),
    face: int = typer.Option(None, "--face", min=0,
                             help="The face to sweep (0-based, left to right) [the largest]."),
    cell: int = typer.Option(SweepConfig.cell, "--cell", min=32, max=1024,
                             help="Side of a grid cell, px."),
    whole: bool = typer.Option(False, "--whole",
                               help="Show the whole photo in each cell, not the face region."),
    estimator: EstimatorOption = DEFAULT_ESTIMATOR,
    device: DeviceOption = "auto",
) -> None:
    """A grid of one face swept over AU intensities: a row per AU, a column per intensity
    (paper Fig. 4); the other AUs keep the face's own values."""
    from ganimate import editing
    from ganimate.images import write_image

    step_values = editing.parse_steps(steps)
    out = editing.plan_sweep(photo, output)
    engine = load_engine(engine_name, checkpoint, device)
    config = editing.SweepConfig(aus=editing.sweep_aus(au, engine.au_names), steps=step_values,
                                 face=face, cell=cell, whole=whole, estimator=estimator)
    result = editing.sweep_photo(photo, config, engine)
    typer.echo(str(write_image(out, result.grid)))
