"""Options shared by several commands, each declared once as an ``Annotated`` alias (a command's
own options stay in its signature), and the two steps most commands share: load the engine, read
the target options.

Defaults are the library's settings, read from the stages' config modules, which import no numpy,
so that every command still starts in a tenth of a second; the library itself is imported inside
each command, on purpose: a command loads only what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ganimate.engines import Engine

TARGET_HELP = "Targets combine in this order: --expression, --like, --aus-file, then each --au."

DeviceOption = Annotated[str, typer.Option(
    "--device", help="Where to run: auto (a GPU if present), cpu, cuda, cuda:N.")]
EstimatorOption = Annotated[str, typer.Option(
    "--estimator", help="The AU estimator that reads the faces (their own AUs, --like, dataset "
                        "labels): mesh, inversion or geometric.")]
CheckpointOption = Annotated[str | None, typer.Option(
    "--checkpoint", "-c",
    help="Generator export, training checkpoint or run folder (its newest checkpoint), for "
         "--engine gan and hybrid (given alone, it makes gan the engine). Without it they use "
         "the model shipped in ganimate/model/weights/.")]
# Shared by edit image, edit sweep, animate image, animate video, eval photos and demo.
EngineOption = Annotated[str | None, typer.Option(
    "--engine",
    help="warp: moves the face's own pixels along scanned FACS shapes at full resolution, no "
         "model needed (sharp; where lips part it draws teeth, gums and tongue lit from the "
         "face, on photos a real person's upper teeth; compressed skin shades like a fold, no "
         "sharp creases; a smile gets real smiles' shading; lips it closes meet on one seam, "
         "--au AU45=1 closes the lids, a turned face keeps its far cheek). gan: the generator "
         "of --checkpoint (or the shipped model). hybrid: the warp, then the generator on the "
         "warped face for texture. Default: gan with --checkpoint, else warp.")]
# The target options of edit image, animate image, animate video (and eval photos).
ExpressionOption = Annotated[str | None, typer.Option(
    "--expression", "-e",
    help="Preset: neutral, happy, sad, surprise, fear, anger, disgust; with a strength "
         "happy:0.6 (0-2, default 1: toward the preset, never less of it than the face "
         "already shows) or an amount happy+0.5 (0-1: added to the face's own AUs). `contempt` "
         "is one-sided: not representable.")]
LikeOption = Annotated[str | None, typer.Option(
    "--like", help="Copy the expression (every AU) of the largest face in this photo.")]
AusFileOption = Annotated[str | None, typer.Option(
    "--aus-file",
    help="AU values from a JSON object/list or a CSV row of `ganimate aus` (or OpenFace).")]
RowOption = Annotated[int | None, typer.Option(
    "--row", min=0, help="The 0-based row of --aus-file when it has several.")]
AuOption = Annotated[list[str], typer.Option(
    "--au", help="Repeatable: AU12=0.8 (absolute, a value in [0, 1]: others are an error), "
                 "AU12+0.3 / AU04-0.2 (relative: a change in [-1, 1] to the face's own AUs, "
                 "in each frame of a video; the sum is clipped to [0, 1]).")]
FeatherOption = Annotated[float, typer.Option(
    "--feather", min=0.0, max=0.5,
    help="Softness of the face region's edge, as a fraction of the crop side.")]
HandsOption = Annotated[bool, typer.Option(
    "--hands/--no-hands",
    help="Keep hands in front of the face: where a hand covers a face, the output keeps the "
         "input's pixels (the edit goes on behind the fingers), and a hand at the mouth leaves "
         "the mouth, jaw and cheeks unedited (brows and eyes still change); --no-hands skips "
         "looking for them (about 12 ms a video frame).")]
CrfOption = Annotated[int, typer.Option(
    "--crf", help="x264 quality, 0-51 (lower is better; 18 looks lossless).")]
PresetOption = Annotated[str, typer.Option(
    "--preset", help="x264 speed: ultrafast ... veryslow (faster = bigger).")]
IdentityOption = Annotated[bool, typer.Option(
    "--identity/--no-identity",
    help="Identity distance with dlib (needs the [eval] extra; skipped with a note if absent).")]
JsonOption = Annotated[bool, typer.Option(
    "--json", help="Print the JSON report on stdout instead of the tables.")]


def load_engine(engine: str | None, checkpoint: str | None, device: str) -> Engine:
    """The engine --engine/--checkpoint/--device ask for (the library loads and checks it)."""
    from ganimate.engines import load_engine as load

    return load(engine, checkpoint, device)


def read_targets(expression=None, like=None, aus_file=None, row=None, au=()):
    """The target options of a command, checked and built into a spec by the library."""
    from ganimate.targets import TargetOptions

    return TargetOptions(expression, like, aus_file, row, tuple(au))


ANIMATE_TARGET_HELP = ("The condition at frame t is alpha(t) * target + (1 - alpha(t)) * the "
                       "face's own AUs. " + TARGET_HELP)
EASINGS = "linear, ease-in, ease-out, ease-in-out, cosine, smoothstep"
