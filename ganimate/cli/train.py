"""`ganimate train`, `export`, `synthetic` and `prepare`: the training side (datasets, runs,
exports).
"""

from __future__ import annotations

from pathlib import Path

import typer

from ganimate.cli.base import app, examples, guarded
from ganimate.cli.options import (
    DeviceOption,
    EstimatorOption,
)
from ganimate.faces import DEFAULT_ESTIMATOR
from ganimate.model import ModelConfig, TrainConfig
from ganimate.training import PrepareConfig, SyntheticConfig


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

    from ganimate.training import prepare

    config = PrepareConfig(
        size=size, every=every, workers=workers, image_format=image_format, min_face=min_face,
        max_yaw=max_yaw, estimator=estimator, openface=Path(aus) if aus else None,
        calibrate=calibrate, test_fraction=test_fraction, split_by=split_by)
    report = prepare.build_dataset(sources, out, config)
    typer.echo(report.summary, err=True)
