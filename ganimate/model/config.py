"""Frozen, documented configurations of the model and of training.

Every setting is documented where it is declared. Defaults are GANimation's (Pumarola et al., ECCV
2018, and its released code); where the paper and the code disagree the choice is explained here.

Two known paper/code differences, and what ganimate does:

1. Attention smoothness. The paper writes a squared-difference total variation weighted 1e-4; the
   released code sums *absolute* differences over the whole batch and weights them 1e-5. We follow
   the code (``lambda_tv = 1e-5``, summed absolute TV): the published results and every known
   reproduction were trained that way, and the paper's weight was never tuned for the code's sum.
2. Expression (AU) loss weight. The paper states lambda_y = 4000; the code divides the mean squared
   error by the batch size before applying 4000, i.e. an effective 160 at its batch size of 25. We
   use ``lambda_au = 160`` on the plain mean squared error, independent of batch size: identical to
   the code at batch 25, and the balance of the losses no longer shifts when a GPU user raises the
   batch to 64 or 128 (where 4000/batch would starve the conditioning).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES

IMAGE_SIZES = (32, 64, 128, 256)
G_UPSAMPLES = ("transposed", "resize")


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the generator and the critic. Stored in every checkpoint."""

    # Side of the square face crops the networks see. 128 is the paper's; 64 is for quick runs and
    # tests, 256 for high-resolution training on a GPU; 32 exists for the learning test only.
    image_size: int = 128
    # The AUs the model is conditioned on, in order; length K of the AU vectors.
    au_names: tuple[str, ...] = AU_NAMES
    # Channels of the generator's first conv (64 in the paper); doubled by each of 2 downsamplings.
    g_width: int = 64
    # Residual blocks at the bottleneck of the generator (6 in the paper).
    g_residual_blocks: int = 6
    # Channels of the critic's first conv (64 in the paper); doubled by each following conv.
    d_width: int = 64
    # Stride-2 4x4 convs of the critic (6 in the paper). The AU head's kernel is
    # image_size / 2**d_layers, so image_size must be at least 2**d_layers.
    d_layers: int = 6
    # How the generator doubles its resolution twice: "transposed" (4x4 stride-2 transposed
    # convs, the paper's; prone to checkerboard patterns in the colour mask when undertrained) or
    # "resize" (nearest-neighbour x2 then a 3x3 conv; no checkerboard, ~2x the FLOPs of those two
    # layers). Checkpoints without this field are "transposed".
    g_upsample: str = "transposed"

    def __post_init__(self):
        object.__setattr__(self, "au_names", tuple(self.au_names))
        if self.g_upsample not in G_UPSAMPLES:
            raise GanimateError(f"generator upsampling {self.g_upsample!r} is not supported; "
                                f"use one of {', '.join(G_UPSAMPLES)}")
        if self.image_size not in IMAGE_SIZES:
            raise GanimateError(
                f"image size {self.image_size} is not supported; use one of {IMAGE_SIZES}"
            )
        if not self.au_names:
            raise GanimateError("a model needs at least one AU")
        if len(set(self.au_names)) != len(self.au_names):
            raise GanimateError(f"duplicate AU names in {self.au_names}")
        for name in ("g_width", "g_residual_blocks", "d_width", "d_layers"):
            if getattr(self, name) < 1:
                raise GanimateError(f"model setting {name} must be at least 1")
        if self.image_size < 2 ** self.d_layers:
            raise GanimateError(
                f"a critic with {self.d_layers} stride-2 layers needs images of at least "
                f"{2 ** self.d_layers} px (got {self.image_size}); lower d_layers"
            )

    @property
    def num_aus(self) -> int:
        return len(self.au_names)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["au_names"] = list(self.au_names)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: (tuple(v) if k == "au_names" else v) for k, v in d.items() if k in known})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (saved as RUN/config.json)."""

    model: ModelConfig = field(default_factory=ModelConfig)

    # --- schedule -----------------------------------------------------------------------------
    # Images per critic step per process (25 in the paper). With torchrun the global batch is this
    # times the number of processes.
    batch_size: int = 25
    # Epochs at the constant learning rate (20 in the paper).
    epochs: int = 20
    # Further epochs during which the learning rate decays linearly to 0 (10 in the paper).
    decay_epochs: int = 10
    # If set, train exactly this many critic steps instead of (epochs + decay_epochs) epochs; the
    # decay then covers the last decay_epochs / (epochs + decay_epochs) of the steps.
    steps: int | None = None
    # Critic steps per generator step (5 in the paper): G is updated on every n_critic-th batch.
    n_critic: int = 5

    # --- optimiser (Adam for both networks, as in the paper) -----------------------------------
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999

    # --- loss weights -------------------------------------------------------------------------
    # WGAN-GP gradient penalty weight (10).
    lambda_gp: float = 10.0
    # Conditional expression loss: weight of the mean squared AU error of the critic's AU head, on
    # real images (critic step) and on generated ones (generator step). 160 = the code's
    # 4000 / batch 25, used independently of batch size (see the module docstring).
    lambda_au: float = 160.0
    # Cycle (identity) loss L1(G(G(I|y_f)|y_o), I) weight (10).
    lambda_cyc: float = 10.0
    # Identity term L1(G(I | y_o), I): asked for the face's own AUs, G must return the face. Not in
    # the paper (0); a small-compute recipe uses it so that a null edit changes nothing.
    lambda_idt: float = 0.0
    # Colour-mask prior L1(C, I): keeps the colour mask C at the input's colours wherever nothing
    # asks for a change, so the pixels that attention lets through are not noise. Not in the paper
    # (0); without it C is trained only where A < 1 and stays a checkerboard of saturated colours
    # in short runs (the first CPU recipe model: colour p99 13 in the face box).
    lambda_colour: float = 0.0
    # Attention magnitude penalty: weight of mean(A) on both forward and cycle masks (0.1). It keeps
    # A from saturating at 1, where the generator does nothing.
    lambda_a: float = 0.1
    # Attention smoothness: weight of the absolute total variation of A summed over the batch (1e-5,
    # the code's value; the paper's 1e-4 is for a different, squared TV; see the module docstring).
    lambda_tv: float = 1e-5

    # Exponential moving average of G's weights, updated after every generator step with this
    # decay (0: off, the paper). Checkpoints then carry the average as "G_ema" and export and
    # inference use it: an average over the last ~1 / (1 - decay) steps is smoother than the
    # last iterate of an adversarial game.
    ema: float = 0.0

    # --- data ---------------------------------------------------------------------------------
    # Half-width of the uniform noise added to the borrowed target AU vector (0.1, as the code).
    target_noise: float = 0.1
    # Mirror training images left-right with probability 0.5.
    hflip: bool = True
    # Decoding worker processes (0: decode in the main process). Workers only decode images;
    # every random draw happens in the main process so that resume is exact.
    workers: int = 4
    # Decode the whole dataset once into memory when it fits in this many MiB (0: never), which
    # keeps a GPU fed without workers for the small datasets faces are usually trained on.
    cache_mib: int = 2048

    # --- run ----------------------------------------------------------------------------------
    seed: int = 0
    # "auto" (CUDA if present, else CPU), "cpu", "cuda", "cuda:1", ...
    device: str = "auto"
    # "fp32", or "bf16" (autocast; the loss needs no scaler in bf16). "auto": bf16 on a GPU that
    # supports it and on a CPU with native bf16 (AVX512-BF16/AMX: ~2x faster), fp32 elsewhere.
    precision: str = "auto"
    # channels_last memory format on CUDA (ignored on CPU).
    channels_last: bool = True
    # torch.compile the networks (CUDA only; slow first steps, faster after).
    compile: bool = False
    # Allow TF32 matmuls/convolutions on Ampere and newer GPUs.
    tf32: bool = True

    # --- outputs ------------------------------------------------------------------------------
    # Append the losses to RUN/log.jsonl every this many steps.
    log_every: int = 10
    # Write a sample grid (input | output | attention | colour) every this many steps (0: never).
    sample_every: int = 500
    # Images in the sample grid (a fixed batch of the test split, or of train when it is empty).
    sample_count: int = 8
    # Save a checkpoint every this many steps (a final one is always written).
    checkpoint_every: int = 1000
    # Checkpoints kept in RUN/checkpoints (the oldest are deleted; at least 1).
    keep_checkpoints: int = 3
    # Attention saturation guard: warn when mean(A) stays above 1 - x or below x over
    # saturation_window consecutive logged steps.
    saturation_margin: float = 0.02
    saturation_window: int = 5

    def __post_init__(self):
        self._check_counts()
        if self.precision not in ("auto", "fp32", "bf16"):
            raise GanimateError(f"precision {self.precision!r}: use auto, fp32 or bf16")
        self._check_weights()

    def _check_counts(self) -> None:
        positive = ("batch_size", "n_critic", "log_every", "keep_checkpoints", "sample_count",
                    "saturation_window", "checkpoint_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise GanimateError(f"training setting {name} must be at least 1")
        for name in ("epochs", "decay_epochs", "workers", "cache_mib", "sample_every"):
            if getattr(self, name) < 0:
                raise GanimateError(f"training setting {name} must not be negative")
        if self.steps is not None and self.steps < 1:
            raise GanimateError("--steps must be at least 1")
        if self.steps is None and self.epochs + self.decay_epochs < 1:
            raise GanimateError("train for at least one epoch (epochs + decay epochs >= 1)")

    def _check_weights(self) -> None:
        for name in ("lr_g", "lr_d"):
            if getattr(self, name) <= 0:
                raise GanimateError(f"{name} must be positive")
        if not 0.0 <= self.ema < 1.0:
            raise GanimateError(f"--ema {self.ema}: use 0 (off) or a decay in (0, 1), e.g. 0.999")
        for name in ("lambda_gp", "lambda_au", "lambda_cyc", "lambda_a", "lambda_tv",
                     "lambda_idt", "lambda_colour", "target_noise"):
            if getattr(self, name) < 0:
                raise GanimateError(f"{name} must not be negative")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return d

    @classmethod
    def from_options(cls, run: str | os.PathLike, resume: bool = False,
                     **options) -> TrainConfig:
        """The config of `ganimate train`: the options given (None: not given, the default) over
        the defaults, or with ``resume`` over the run's own RUN/config.json. Options named like
        ModelConfig's fields set the model. An ``image_size`` given without ``d_layers`` that is
        too small for the critic's layers lowers them to fit."""
        base = cls()
        stored = Path(run) / "config.json"
        if resume and stored.is_file():
            base = cls.from_dict(json.loads(stored.read_text()))
        given = {k: v for k, v in options.items() if v is not None}
        model_fields = {f.name for f in fields(ModelConfig)}
        model_given = {k: given.pop(k) for k in list(given) if k in model_fields}
        size = model_given.get("image_size")
        if size is not None and "d_layers" not in model_given and size < 2 ** base.model.d_layers:
            # Before the model is built: ModelConfig refuses a critic deeper than the image.
            model_given["d_layers"] = max(1, size.bit_length() - 2)
        return replace(base, model=replace(base.model, **model_given), **given)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known and k != "model"}
        return cls(model=ModelConfig.from_dict(d.get("model", {})), **kwargs)
