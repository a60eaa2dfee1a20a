"""The `ganimate` command line: thin commands that build the library's options and call it.

Options shared by several commands are declared once below as `Annotated` aliases; every check
of the arguments is the library's. This is the only module that imports typer. Library failures
arrive as GanimateError and leave as one line on stderr (``error: ...``) and exit code 1. Results
meant for pipelines go to stdout; progress and logs go to stderr.
"""

from __future__ import annotations

import functools
import sys
from contextlib import contextmanager
from typing import Annotated

import typer
import typer.core

from ganimate import __version__, progress
from ganimate.animation import AnimateConfig, ImageAnimation, Timeline
from ganimate.editing import SweepConfig
from ganimate.engines import BlendConfig
from ganimate.errors import GanimateError
from ganimate.evaluation import EvalConfig
from ganimate.evaluation.config import READ_EVERY
from ganimate.faces import DEFAULT_ESTIMATOR
from ganimate.model import ModelConfig, TrainConfig
from ganimate.studio import StudioConfig
from ganimate.training import PrepareConfig, SyntheticConfig

# The options' defaults are the library's settings, read from the stages' config modules (which
# import no numpy, so that every command still starts in a tenth of a second). The library itself
# is imported inside each command, on purpose: a command loads only what it runs.


def examples(*lines: str, note: str = "") -> str:
    """A help epilog: ``note`` as a paragraph, then the example command lines kept verbatim
    (click's \\b marker stops it from re-wrapping them)."""
    head = f"{note}\n\n" if note else ""
    return head + "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


# click's exceptions, wherever typer takes click from (its own vendored copy in typer >= 0.2x, the
# click package before): UsageError is BadParameter's base, NoArgsIsHelpError its neighbour.
_UsageError = typer.BadParameter.__mro__[1]
_NoArgsIsHelp = getattr(sys.modules[_UsageError.__module__], "NoArgsIsHelpError", ())


class _OneLineUsageError(_UsageError):
    """A usage error (unknown option, missing argument, bad value) as one line on stderr, like
    every other error, but with click's exit code 2, so scripts can tell a mistyped command line
    from a failure of the work (exit 1)."""

    def __init__(self, original):
        super().__init__(original.format_message(), original.ctx)

    def show(self, file=None) -> None:
        where = f"; see '{self.ctx.command_path} --help'" if self.ctx is not None else ""
        message = " ".join(self.format_message().split()).rstrip(".")
        typer.echo(f"error: {message}{where}", err=True, file=file)


class _Group(typer.core.TyperGroup):
    """The app's click group: usage errors of any command below it leave as one line."""

    def make_context(self, info_name, args, parent=None, **extra):
        with _one_line_usage_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx):
        with _one_line_usage_errors():
            return super().invoke(ctx)


@contextmanager
def _one_line_usage_errors():
    try:
        yield
    except _NoArgsIsHelp:
        raise  # `ganimate edit` alone shows its help, as asked
    except _UsageError as exc:
        if isinstance(exc, _OneLineUsageError):
            raise
        raise _OneLineUsageError(exc) from None


# rich_markup_mode=None: help text is plain, so "[eval]" or "[table on a terminal]" are shown as
# written instead of being eaten as rich markup.
app = typer.Typer(
    cls=_Group,
    name="ganimate",
    help="GANimation made practical: edit and animate facial expressions with Action Units. "
         "-q/--quiet, -v/--verbose and --max-megapixels may be given anywhere on the line.",
    epilog=examples("ganimate demo --quick",
                    "ganimate edit image photo.jpg -e happy -o happy.jpg",
                    "ganimate aus clip.mp4 -f csv > aus.csv"),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,
)
edit_app = typer.Typer(help="Edit the expression of photos.", no_args_is_help=True,
                       rich_markup_mode=None,
                       epilog=examples("ganimate edit image photo.jpg -e happy -o happy.jpg",
                                       "ganimate edit sweep photo.jpg --au AU12 -o grid.png"))
animate_app = typer.Typer(help="Animate expressions over time.", no_args_is_help=True,
                          rich_markup_mode=None,
                          epilog=examples("ganimate animate image face.jpg --to happy -o a.mp4",
                                          "ganimate animate video clip.mp4 -e happy -o b.mp4"))
app.add_typer(edit_app, name="edit")
app.add_typer(animate_app, name="animate")


def fail(message: str) -> typer.Exit:
    """Print one clear error line on stderr; ``raise fail(...)`` exits with code 1."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def guarded(func):
    """The one place where failures become one line: GanimateError and OS errors (disk full,
    read-only, permissions) -> ``error: ...`` and exit 1; Ctrl-C -> ``error: interrupted`` and
    exit 130; a closed stdout (``| head``) ends the command quietly."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except GanimateError as exc:
            raise fail(str(exc)) from None
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(code=0) from None
        except OSError as exc:
            from ganimate.files import os_error_message

            raise fail(os_error_message(exc)) from None
        except KeyboardInterrupt:
            typer.echo("error: interrupted (Ctrl-C); no partial output was left", err=True)
            raise typer.Exit(code=130) from None

    return wrapper


def _silence_stdout() -> None:
    """The reader of stdout has gone (``ganimate aus ... | head``): what it read is what it
    wanted, so stop quietly; point stdout at devnull so that the final flush cannot fail."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (tests)
        pass


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
    max_megapixels: float = typer.Option(
        180.0, "--max-megapixels", min=1.0,
        help="Refuse images larger than this before decoding them (a guard against "
             "decompression bombs); raise it for a trusted huge photo."),
) -> None:
    from ganimate.images import set_max_pixels

    set_max_pixels(int(max_megapixels * 1e6))
    progress.set_enabled(not quiet)
    progress.install_log_handler(verbose=verbose)
    if quiet:
        progress.log.setLevel("WARNING")


# ---------------------------------------------------------------------------------------------
# Options shared by several commands, each declared once (the fastapi-cli way: `Annotated`
# aliases). A command's own options stay in its signature.
# ---------------------------------------------------------------------------------------------

_TARGET_HELP = "Targets combine in this order: --expression, --like, --aus-file, then each --au."

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
         "model needed (sharp; where lips part it draws scanned teeth, gums and tongue lit from "
         "the face; compressed skin shades like a fold, no sharp creases). gan: the generator "
         "of --checkpoint (or the shipped model). hybrid: the warp, then the generator on the "
         "warped face for texture. Default: gan with --checkpoint, else warp.")]
# The target options of edit image, animate image, animate video (and eval photos).
ExpressionOption = Annotated[str | None, typer.Option(
    "--expression", "-e",
    help="Preset: neutral, happy, sad, surprise, fear, anger, disgust; with a strength "
         "happy:0.6 (0-2, default 1: toward the preset) or an amount happy+0.5 (0-1: added "
         "to the face's own AUs). `contempt` is one-sided: not representable.")]
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
         "input's pixels (the edit goes on behind the fingers); --no-hands skips looking for "
         "them (about 12 ms a video frame).")]
CrfOption = Annotated[int, typer.Option(
    "--crf", help="x264 quality, 0-51 (lower is better; 18 looks lossless).")]
PresetOption = Annotated[str, typer.Option(
    "--preset", help="x264 speed: ultrafast ... veryslow (faster = bigger).")]
IdentityOption = Annotated[bool, typer.Option(
    "--identity/--no-identity",
    help="Identity distance with dlib (needs the [eval] extra; skipped with a note if absent).")]
JsonOption = Annotated[bool, typer.Option(
    "--json", help="Print the JSON report on stdout instead of the tables.")]


def _load_engine(engine, checkpoint, device):
    from ganimate.engines import load_engine

    return load_engine(engine, checkpoint, device)


def _targets(expression=None, like=None, aus_file=None, row=None, au=()):
    from ganimate.targets import TargetOptions

    return TargetOptions(expression, like, aus_file, row, tuple(au))


# ---------------------------------------------------------------------------------------------
# Commands are grouped by the pipeline step they drive; each group is kept together below.
# ---------------------------------------------------------------------------------------------


# --- core: train, export, synthetic (edit image moved to the editing block) ---


def _shown(value) -> str:
    """A default as the help shows it: on/off, 1e-4, 0.999, 64."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and 0 < abs(value) < 1e-3:
        return f"{value:.0e}".replace("e-0", "e-")
    return f"{value:g}" if isinstance(value, float) else str(value)


def _opt(*names: str, help: str, default=None):
    """A train option that defaults to None: not given, the config's (or the resumed run's).
    ``{}`` in ``help`` shows ``default``, the config's own value (TrainConfig, ModelConfig)."""
    return typer.Option(None, *names, help=help.format(_shown(default)))


@app.command("train", no_args_is_help=True,
    epilog=examples(
        "ganimate synthetic syn && ganimate train syn --out run --steps 2000",
        "ganimate train data/faces --out run --batch-size 25 2> train.log",
        "ganimate train data/faces --out run --resume"))
@guarded
def train_command(
    data: str = typer.Argument(..., help="Dataset folder: ganimate format or GANimation layout."),
    out: str = typer.Option(..., "--out", "-o",
                            help="Run folder (config, log, samples, checkpoints)."),
    resume: bool = typer.Option(False, "--resume",
                                help="Continue the run in --out from its newest checkpoint, "
                                     "bit for bit; other options default to the run's own."),
    image_size: int = _opt("--image-size", help="Crop side: 64, 128 (paper), 256."),
    g_width: int = _opt("--g-width", help="Generator base channels [{}].",
                        default=ModelConfig.g_width),
    g_blocks: int = _opt("--g-blocks", help="Generator residual blocks [{}].",
                         default=ModelConfig.g_residual_blocks),
    d_width: int = _opt("--d-width", help="Critic base channels [{}].",
                        default=ModelConfig.d_width),
    d_layers: int = _opt("--d-layers", help="Critic stride-2 convs [{}].",
                         default=ModelConfig.d_layers),
    g_upsample: str = _opt("--g-upsample", help="Generator upsampling: transposed (paper) or "
                                                "resize (nearest x2 + conv) [{}].",
                           default=ModelConfig.g_upsample),
    batch_size: int = _opt("--batch-size", "-b", help="Images per step per GPU [{}].",
                           default=TrainConfig.batch_size),
    epochs: int = _opt("--epochs", help="Epochs at constant learning rate [{}].",
                       default=TrainConfig.epochs),
    decay_epochs: int = _opt("--decay-epochs", help="Epochs of linear decay to 0 [{}].",
                             default=TrainConfig.decay_epochs),
    steps: int = _opt("--steps", help="Train this many critic steps instead of whole epochs."),
    stop_at: int = _opt("--stop-at", help="Save and stop after this step (continue with "
                                          "--resume)."),
    n_critic: int = _opt("--n-critic", help="Critic steps per generator step [{}].",
                         default=TrainConfig.n_critic),
    lr_g: float = _opt("--lr-g", help="Generator Adam learning rate [{}].",
                       default=TrainConfig.lr_g),
    lr_d: float = _opt("--lr-d", help="Critic Adam learning rate [{}].", default=TrainConfig.lr_d),
    beta1: float = _opt("--beta1", help="Adam beta1 [{}].", default=TrainConfig.beta1),
    beta2: float = _opt("--beta2", help="Adam beta2 [{}].", default=TrainConfig.beta2),
    lambda_gp: float = _opt("--lambda-gp", help="Gradient penalty weight [{}].",
                            default=TrainConfig.lambda_gp),
    lambda_au: float = _opt("--lambda-au", help="AU loss weight on the mean squared error "
                                                "[{} = the code's 4000 / batch 25].",
                            default=TrainConfig.lambda_au),
    lambda_cyc: float = _opt("--lambda-cyc", help="Cycle L1 weight [{}].",
                             default=TrainConfig.lambda_cyc),
    lambda_a: float = _opt("--lambda-a", help="Attention mean(A) weight [{}].",
                           default=TrainConfig.lambda_a),
    lambda_tv: float = _opt("--lambda-tv", help="Attention summed-TV weight [{}, the code's].",
                            default=TrainConfig.lambda_tv),
    lambda_idt: float = _opt("--lambda-idt",
                             help="Identity L1(G(I|y_o), I) weight [{}, not in the paper].",
                             default=TrainConfig.lambda_idt),
    lambda_colour: float = _opt("--lambda-colour",
                                help="Colour-mask prior L1(C, I) weight [{}, not in the paper].",
                                default=TrainConfig.lambda_colour),
    ema: float = _opt("--ema", help="EMA decay of G's weights, e.g. 0.999 [{} = off].",
                      default=TrainConfig.ema),
    target_noise: float = _opt("--target-noise", help="Noise on borrowed target AUs, +-x [{}].",
                               default=TrainConfig.target_noise),
    hflip: bool = _opt("--hflip/--no-hflip", help="Random left-right flips [{}].",
                       default=TrainConfig.hflip),
    workers: int = _opt("--workers", help="Decoding processes [{}].", default=TrainConfig.workers),
    cache_mib: int = _opt("--cache-mib", help="Decode the dataset into memory if it fits [{} MiB].",
                          default=TrainConfig.cache_mib),
    seed: int = _opt("--seed", help="Seed of initialisation, order and draws [{}].",
                     default=TrainConfig.seed),
    device: DeviceOption = None,
    precision: str = _opt("--precision", help="auto (bf16 on GPUs and bf16 CPUs), fp32, bf16 [{}].",
                          default=TrainConfig.precision),
    compile_: bool = _opt("--compile/--no-compile", help="torch.compile on CUDA [{}].",
                          default=TrainConfig.compile),
    channels_last: bool = _opt("--channels-last/--no-channels-last",
                               help="channels_last on CUDA [{}].",
                               default=TrainConfig.channels_last),
    tf32: bool = _opt("--tf32/--no-tf32", help="TF32 on Ampere+ GPUs [{}].",
                      default=TrainConfig.tf32),
    log_every: int = _opt("--log-every", help="Steps between log lines [{}].",
                          default=TrainConfig.log_every),
    sample_every: int = _opt("--sample-every",
                             help="Steps between sample grids, 0 = end only [{}].",
                             default=TrainConfig.sample_every),
    checkpoint_every: int = _opt("--checkpoint-every", help="Steps between checkpoints [{}].",
                                 default=TrainConfig.checkpoint_every),
    keep: int = _opt("--keep", help="Checkpoints kept [{}].", default=TrainConfig.keep_checkpoints),
) -> None:
    """Train GANimation on a dataset. Ctrl-C saves a checkpoint; --resume continues it.

    Several GPUs: torchrun --nproc_per_node N -m ganimate train DATA --out RUN.
    """
    from ganimate.model import TrainConfig
    from ganimate.training import train

    cfg = TrainConfig.from_options(
        out, resume, image_size=image_size, g_width=g_width, g_residual_blocks=g_blocks,
        d_width=d_width, d_layers=d_layers, g_upsample=g_upsample, batch_size=batch_size,
        epochs=epochs, decay_epochs=decay_epochs, steps=steps, n_critic=n_critic, lr_g=lr_g,
        lr_d=lr_d, beta1=beta1, beta2=beta2, lambda_gp=lambda_gp, lambda_au=lambda_au,
        lambda_cyc=lambda_cyc, lambda_a=lambda_a, lambda_tv=lambda_tv, lambda_idt=lambda_idt,
        lambda_colour=lambda_colour, ema=ema, target_noise=target_noise, hflip=hflip,
        workers=workers, cache_mib=cache_mib, seed=seed, device=device, precision=precision,
        compile=compile_, channels_last=channels_last, tf32=tf32, log_every=log_every,
        sample_every=sample_every, checkpoint_every=checkpoint_every, keep_checkpoints=keep)
    result = train(cfg, data, out, resume=resume, stop_at=stop_at)
    if result.interrupted:
        typer.echo(f"interrupted at step {result.step}/{result.total_steps}; saved "
                   f"{result.checkpoint}; continue with: ganimate train {data} --out "
                   f"{result.run_dir} --resume", err=True)
        raise typer.Exit(code=130)
    if result.main:  # under torchrun, one line from the first process
        typer.echo(str(result.checkpoint))


@app.command("export", no_args_is_help=True,
    epilog=examples(
        "ganimate export run -o model.safetensors",
        "ganimate export run/checkpoints/step_00020000.safetensors --fp32"))
@guarded
def export_command(
    checkpoint: str = typer.Argument(..., help="A training checkpoint, or a run folder (newest)."),
    out: str = typer.Option(None, "--out", "-o",
                            help="Output file [CHECKPOINT stem + .generator.safetensors]."),
    fp32: bool = typer.Option(False, "--fp32", help="Keep float32 weights (default: fp16)."),
) -> None:
    """Write the generator alone (fp16 by default): small, and all that `edit` needs."""
    import torch

    from ganimate.model import export_generator, resolve_checkpoint

    path = export_generator(resolve_checkpoint(checkpoint), out,
                            torch.float32 if fp32 else torch.float16)
    typer.echo(str(path))


@app.command("synthetic", no_args_is_help=True,
    epilog=examples("ganimate synthetic syn --size 32 --count 320"))
@guarded
def synthetic_command(
    out: str = typer.Argument(..., help="New dataset folder."),
    count: int = typer.Option(SyntheticConfig.count, "--count", min=2, help="Number of faces."),
    size: int = typer.Option(SyntheticConfig.size, "--size", min=16, help="Crop side in pixels."),
    test_fraction: float = typer.Option(SyntheticConfig.test_fraction, "--test-fraction",
                                        help="Share held out as test."),
    seed: int = typer.Option(SyntheticConfig.seed, "--seed", help="Seed of faces and AU values."),
) -> None:
    """Write the synthetic bar-face dataset (AU01 moves the brows, AU26 opens the mouth)."""
    from ganimate.training import make_synthetic_dataset

    typer.echo(str(make_synthetic_dataset(out, count, size, test_fraction, seed)))


# --- editing: edit image, edit sweep (ganimate/editing/) ---


@edit_app.command("image", no_args_is_help=True,
    epilog=examples(
        "ganimate edit image photo.jpg -e happy -o happy.jpg",
        "ganimate edit image photo.jpg -c model.safetensors --au AU12=0.8 --au AU04-0.2 -o out.png",
        "ganimate edit image photos/ -e surprise:0.6 -o edited/",
        note=_TARGET_HELP))
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

    targets = _targets(expression, like, aus_file, row, au)
    pairs = editing.plan_edit(photos, output, targets, attention, aligned)
    engine = _load_engine(engine_name, checkpoint, device)
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
    engine = _load_engine(engine_name, checkpoint, device)
    config = editing.SweepConfig(aus=editing.sweep_aus(au, engine.au_names), steps=step_values,
                                 face=face, cell=cell, whole=whole, estimator=estimator)
    result = editing.sweep_photo(photo, config, engine)
    typer.echo(str(write_image(out, result.grid)))


# --- evaluation: eval model | eval video | eval photos (ganimate/evaluation/) ---

eval_app = typer.Typer(
    help="Measure a model on a dataset, an edited video against its input, or an engine on "
         "photos.", no_args_is_help=True, rich_markup_mode=None,
    epilog=examples("ganimate eval model run data/faces",
                    "ganimate eval video clip.mp4 happy.mp4",
                    "ganimate eval photos neutral/ --reference smiling/ --au AU12=0.9"))
app.add_typer(eval_app, name="eval")


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

    engine = _load_engine(engine_name, checkpoint, device)
    spec = _targets(expression, au=au).spec(engine.au_space, estimator)
    config = photo_eval.PhotoEvalConfig(spec, estimator, null_edit, identity)
    result = photo_eval.run(photos, engine, config, ids, reference,
                            photo_eval.edit_label(expression, au))
    paths = report.write_photo_report(result, out or f"photos-{engine.name}-eval")
    _show(report.photo_tables(result), result.to_dict(), paths, as_json)


# --- faces and AUs: prepare, aus ---


@app.command("prepare", no_args_is_help=True,
    epilog=examples(
        "ganimate prepare photos/ videos/ --out data/faces --size 128",
        "ganimate prepare path/to/ganimation_dataset --out data/converted",
        "ganimate prepare frames/ --out data/of --aus openface.csv"))
@guarded
def prepare_command(
    sources: list[str] = typer.Argument(
        ..., help="Photos, videos or folders of them (searched recursively); or one folder in "
                  "GANimation's layout (imgs/, aus_openface.pkl), which is converted."),
    out: str = typer.Option(..., "--out", "-o", help="Dataset folder to create or continue."),
    size: int = typer.Option(PrepareConfig.size, "--size",
                             help="Crop side in pixels: 64, 128 (paper) or 256."),
    every: int = typer.Option(PrepareConfig.every, "--every", help="Use every k-th video frame."),
    workers: int = typer.Option(PrepareConfig.workers, "--workers", "-j",
                                help="Worker processes [0: one per core, at most 8]."),
    image_format: str = typer.Option(PrepareConfig.image_format, "--image-format",
                                     help="jpg (quality 95) or png."),
    min_face: float = typer.Option(None, "--min-face",
                                   help="Smallest face height (forehead to chin) in pixels "
                                        "[half of --size]."),
    max_yaw: float = typer.Option(PrepareConfig.max_yaw, "--max-yaw",
                                  help="Most turned face kept, degrees."),
    estimator: EstimatorOption = DEFAULT_ESTIMATOR,
    aus: str = typer.Option(None, "--aus",
                            help="Take labels from an OpenFace CSV (or a folder of per-image "
                                 "CSVs) instead of the estimator."),
    calibrate: bool = typer.Option(PrepareConfig.calibrate, "--calibrate/--no-calibrate",
                                   help="Map raw estimates to [0, 1] by the dataset's robust "
                                        "percentiles."),
    test_fraction: float = typer.Option(PrepareConfig.test_fraction, "--test-fraction",
                                        help="Share of sources in the test split."),
    split_by: str = typer.Option(PrepareConfig.split_by, "--split-by",
                                 help="One person is a: source (file), stem (same file name in "
                                      "several folders) or folder."),
) -> None:
    """Build a training dataset: aligned face crops and AU labels from photos and videos."""
    from pathlib import Path

    from ganimate.training import prepare

    config = PrepareConfig(
        size=size, every=every, workers=workers, image_format=image_format, min_face=min_face,
        max_yaw=max_yaw, estimator=estimator, openface=Path(aus) if aus else None,
        calibrate=calibrate, test_fraction=test_fraction, split_by=split_by)
    report = prepare.build_dataset(sources, out, config)
    typer.echo(report.summary, err=True)


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


# --- animation: animate video, animate image (ganimate/animation/) ---

_ANIMATE_TARGET_HELP = ("The condition at frame t is alpha(t) * target + (1 - alpha(t)) * the "
                        "face's own AUs. " + _TARGET_HELP)
_EASINGS = "linear, ease-in, ease-out, ease-in-out, cosine, smoothstep"


@animate_app.command("video", no_args_is_help=True,
    epilog=examples(
        "ganimate animate video clip.mp4 -e happy --hold -o happy.mp4   # happy throughout",
        "ganimate animate video clip.mp4 -e happy -o grow.mp4   # 0 -> happy over the clip",
        "ganimate animate video clip.mp4 -e surprise --ramp 0s:0,1.5s:1,4s:1,5s:0 -o out.mp4",
        "ganimate aus driver.mp4 -f csv > driver.csv",
        "ganimate animate video clip.mp4 --track driver.csv -o transfer.mp4",
        note=_ANIMATE_TARGET_HELP))
@guarded
def animate_video_command(
    video: str = typer.Argument(..., help="The input video (any format ffmpeg reads)."),
    checkpoint: CheckpointOption = None,
    engine_name: EngineOption = None,
    output: str = typer.Option(
        ..., "--out", "-o",
        help="Output video (.mp4 .mov .mkv .m4v: H.264 with the input's audio), .gif, or a "
             "folder name without suffix for lossless PNG frames."),
    expression: ExpressionOption = None,
    like: LikeOption = None,
    aus_file: AusFileOption = None,
    row: RowOption = None,
    au: AuOption = [],  # noqa: B006 (typer copies it)
    ramp: str = typer.Option(
        None, "--ramp",
        help="alpha keyframes TIME:ALPHA[:EASING],... with TIME in s, ms, frames or % "
             "(e.g. 0s:0,1.5s:1,4s:1,5s:0); or ramp, hold, bounce; or a keyframe file "
             "(.csv/.json: time, alpha, easing and AU columns, as `ganimate studio` exports). "
             "Default: 0 -> 1 over the clip (with --track: 1 throughout)."),
    hold: bool = typer.Option(False, "--hold", help="alpha 1 throughout: the target from the "
                                                    "first frame on."),
    easing: str | None = typer.Option(
        None, "--easing",
        help=f"Easing of the ramp's segments: {_EASINGS} [linear; cosine with --ramp bounce]."),
    track_csv: str = typer.Option(
        None, "--track",
        help="Drive the target frame by frame from an AU track: the CSV of `ganimate aus "
             "DRIVER.mp4` (or OpenFace's), resampled to this video's frame rate."),
    track_face: int = typer.Option(None, "--track-face", min=0,
                                   help="The face (track id) of the driver CSV to follow."),
    track_offset: float = typer.Option(Timeline.track_offset, "--track-offset",
                                       help="Driver time (s) that the first frame follows."),
    face: int = typer.Option(
        None, "--face", min=0,
        help="Edit only this face: its track id, the `face` column of `ganimate aus VIDEO`. "
             "Default: every face."),
    crf: CrfOption = AnimateConfig.crf,
    preset: PresetOption = AnimateConfig.preset,
    lossless: bool = typer.Option(AnimateConfig.lossless, "--lossless",
                                  help="Bit-exact RGB video (libx264rgb crf 0; large, for "
                                       "checks; not every player shows it)."),
    preview: str = typer.Option(None, "--preview",
                                help="Also write input | output | change map side by side "
                                     "(white = generator output blended in) to this video."),
    smooth: float = typer.Option(AnimateConfig.smooth, "--smooth", min=0.0, max=2.0,
                                 help="Half-window (s) of the Savitzky-Golay smoothing of the "
                                      "face crops over time; 0 = off."),
    baseline: bool = typer.Option(AnimateConfig.baseline, "--baseline/--no-baseline",
                                  help="Measure the faces' AUs relative to each person's "
                                       "neutral face."),
    hands: HandsOption = AnimateConfig.hands,
    batch_size: int = typer.Option(AnimateConfig.batch_size, "--batch-size", min=1,
                                   help="Face crops per generator call."),
    workers: int = typer.Option(AnimateConfig.workers, "--workers", min=0,
                                help="Frames edited at once, in threads; 0 = one per core "
                                     "for the warp, 1 for a generator."),
    feather: FeatherOption = BlendConfig.feather,
    estimator: EstimatorOption = DEFAULT_ESTIMATOR,
    device: DeviceOption = "auto",
) -> None:
    """Change the expression of the people in a video: by default it grows from none at the
    first frame to full at the last (alpha 0 -> 1 over the clip); --hold shows it from the
    first frame.

    Output keeps the input's size, frame rate, frame count, rotation and audio; frames without
    a face pass through unchanged.
    """
    from ganimate import animation

    targets = _targets(expression, like, aus_file, row, au)
    timeline = Timeline(ramp, hold, easing, track_csv, track_face, track_offset)
    animation.check_video_request(video, output, targets, timeline, preview)
    engine = _load_engine(engine_name, checkpoint, device)
    config = AnimateConfig(
        face=face, smooth=smooth, baseline=baseline, hands=hands, batch_size=batch_size,
        workers=workers, blend=BlendConfig(feather=feather), estimator=estimator, crf=crf,
        preset=preset, lossless=lossless)
    spec = targets.spec(engine.au_space, estimator)
    result = animation.animate_video(video, output, engine, spec, config, timeline, preview)
    if face is not None and not result.face_ids:
        typer.echo(f"warning: face {face} never appeared; the video is unchanged "
                   "(see the face column of `ganimate aus VIDEO`)", err=True)
    typer.echo(result.summary, err=True)
    typer.echo(str(result.out))
    if result.preview is not None:
        typer.echo(str(result.preview))


@animate_app.command("image", no_args_is_help=True,
    epilog=examples(
        "ganimate animate image face.jpg --to happy --seconds 2 --fps 25 -o smile.mp4",
        "ganimate animate image face.jpg --to surprise --bounce -o wow.gif",
        note=_ANIMATE_TARGET_HELP))
@guarded
def animate_image_command(
    photo: str = typer.Argument(..., help="A photo with a face."),
    checkpoint: CheckpointOption = None,
    engine_name: EngineOption = None,
    output: str = typer.Option(
        ..., "--out", "-o",
        help="The clip: .mp4 .mov .mkv .m4v (H.264, yuv420p), .gif, or a folder for PNG frames."),
    to: str = typer.Option(
        None, "--to", "--expression", "-e",
        help="Target preset: neutral, happy, sad, surprise, fear, anger, disgust; with a "
             "strength happy:0.6 or an amount happy+0.5 (added to the face's own AUs)."),
    like: LikeOption = None,
    aus_file: AusFileOption = None,
    row: RowOption = None,
    au: AuOption = [],  # noqa: B006 (typer copies it)
    seconds: float = typer.Option(ImageAnimation.seconds, "--seconds",
                                  help="Clip length in seconds."),
    fps: float = typer.Option(ImageAnimation.fps, "--fps",
                              help="Frame rate; the clip has round(seconds * fps) frames."),
    bounce: bool = typer.Option(ImageAnimation.bounce, "--bounce",
                                help="There and back: 0 -> 1 -> 0."),
    easing: str | None = typer.Option(
        None, "--easing", help=f"Easing of the motion: {_EASINGS} [linear; cosine with --bounce]."),
    face: int = typer.Option(None, "--face", min=0,
                             help="Only face N (0-based, left to right). Default: every face."),
    crf: CrfOption = ImageAnimation.crf,
    preset: PresetOption = ImageAnimation.preset,
    estimator: EstimatorOption = DEFAULT_ESTIMATOR,
    device: DeviceOption = "auto",
) -> None:
    """Animate a photo from its own expression to a target (paper Fig. 1) as a video or GIF."""
    from ganimate import animation

    targets = _targets(to, like, aus_file, row, au)
    settings = ImageAnimation(seconds=seconds, fps=fps, bounce=bounce, easing=easing, face=face,
                              crf=crf, preset=preset, estimator=estimator)
    animation.check_image_request(photo, output, targets, settings)
    engine = _load_engine(engine_name, checkpoint, device)
    spec = targets.spec(engine.au_space, estimator)
    result = animation.animate_image(photo, output, engine, spec, settings)
    typer.echo(str(result.out))


# --- demo: demo (ganimate/demo.py) ---


@app.command("demo",
    epilog=examples("ganimate demo", "ganimate demo --quick --out /tmp/demo"))
@guarded
def demo_command(
    out: str = typer.Option("ganimate-demo", "--out", "-o",
                            help="Folder for the demo files (created; demo files replaced)."),
    quick: bool = typer.Option(False, "--quick",
                               help="A smaller demo: one expression, a one-row sweep, a short "
                                    "clip (for slow machines and tests)."),
    checkpoint: str | None = typer.Option(
        None, "--checkpoint", "-c",
        help="The generator shown beside the warp (compare.png, sweep_gan.png): an export, a "
             "training checkpoint or a run folder. Default: the model shipped in "
             "ganimate/model/weights/."),
    device: DeviceOption = "cpu",
) -> None:
    """Show what ganimate does on a bundled photo and video with the warp engine (no model):
    expression edits, an AU sweep grid, an animated photo and an edited video, plus the shipped
    generator and the hybrid beside the warp in compare.png. Prints the files written."""
    from ganimate import demo

    config = demo.DemoConfig.quick(device=device) if quick else demo.DemoConfig(device=device)
    result = demo.run_demo(out, config, checkpoint=checkpoint)
    if result.standin:
        typer.echo("note: the shipped model is a small CPU-trained stand-in, not the real demo "
                   "model: expect weak edits with colour fringes "
                   "(ganimate/model/weights/MODEL_CARD.md)",
                   err=True)
    for step in result.steps:
        if step.status == "ok":
            for path in step.paths:
                typer.echo(str(path))
        else:
            typer.echo(f"{step.status} {step.name}: {step.message}", err=True)
    typer.echo(f"demo files in {result.out} ({result.seconds:.0f} s, model {result.model.name}); "
               "media credits: ganimate/assets/demo/NOTICE.md", err=True)
    if not result.ok:
        raise typer.Exit(code=1)


# --- studio: studio (ganimate/studio/) ---


@app.command("studio",
    epilog=examples("ganimate studio", "ganimate studio photo.jpg",
                    "ganimate studio clip.mp4 --port 8000 --no-browser"))
@guarded
def studio_command(
    media: str = typer.Argument(None, help="A photo or a clip to open (the page loads others)."),
    port: int = typer.Option(StudioConfig.port, "--port", min=0, max=65535,
                             help="Port on 127.0.0.1 (the studio listens on no other address); "
                                  "0 = any free port."),
    browser: bool = typer.Option(StudioConfig.browser, "--browser/--no-browser",
                                 help="Open the page in the default browser."),
    engine_name: EngineOption = None,
    checkpoint: CheckpointOption = None,
    device: DeviceOption = StudioConfig.device,
    keep: bool = typer.Option(StudioConfig.keep, "--keep",
                              help="Keep the studio's folder (uploads, outputs, keyframe files) "
                                   "when it stops; by default it is removed."),
) -> None:
    """A page in your browser: FACS sliders with a live preview on a photo, keyframes over a
    clip, and the `ganimate` command that reproduces each result. Ctrl-C stops it."""
    from ganimate import studio

    def ready(url, folder) -> None:
        typer.echo(f"studio on {url} (its files: {folder}); Ctrl-C stops it", err=True)
        typer.echo(url)

    engine = engine_name or ("gan" if checkpoint else StudioConfig.engine)  # as --engine says
    config = StudioConfig(media=media, port=port, browser=browser, engine=engine,
                          checkpoint=checkpoint, device=device, keep=keep)
    studio.serve(config, ready)


_GLOBAL_FLAGS = ("-q", "--quiet", "-v", "--verbose")
_GLOBAL_VALUED = ("--max-megapixels",)


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move the app-wide options to the front so that they work anywhere on the line
    (``ganimate edit image a.jpg -e happy -o b.jpg -q``); ``--`` ends the search."""
    front, rest = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        if arg in _GLOBAL_FLAGS or arg.split("=", 1)[0] in _GLOBAL_VALUED:
            front.append(arg)
            if arg in _GLOBAL_VALUED and i + 1 < len(argv):
                front.append(argv[i + 1])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def main() -> None:
    """Console-script entry point."""
    try:
        app(args=hoist_global_options(sys.argv[1:]), prog_name="ganimate")
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
