"""The GANimation trainer: WGAN-GP critic steps, a generator step every ``n_critic`` of them.

A run directory holds::

    RUN/config.json          the resolved TrainConfig (plus dataset path and fingerprint)
    RUN/log.jsonl            one JSON object per logged step: losses, mean attention, lr, img/s
    RUN/samples/step_N.png   input | output | attention | colour rows for a fixed held-out batch
    RUN/checkpoints/step_N.safetensors   full training states (see checkpoint.py), last K kept

Reproducibility: the data order of epoch e is a permutation seeded by (seed, e), and every other
random draw (flips, borrowed target AUs and their noise, gradient-penalty mixing) comes from one
``torch.Generator`` of the main process whose state is checkpointed with the networks, both Adam
states and the global RNGs. Decoding workers draw nothing. So ``resume=True`` continues exactly
where the last checkpoint left off, bit for bit on the same device.

Distributed: launch with ``torchrun --nproc_per_node G ganimate train ...``; each process takes its
slice of every global batch (the same deterministic order on all ranks) and the networks are
wrapped in ``DistributedDataParallel``. Rank 0 alone writes logs, samples and checkpoints.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganimate.errors import GanimateError
from ganimate.files import write_text
from ganimate.images import to_tensor
from ganimate.model import (
    Critic,
    Generator,
    TrainConfig,
    checkpoint_path,
    latest_checkpoint,
    list_checkpoints,
    remove_partial_writes,
    restore_rng_state,
)
from ganimate.model.device import pick_device
from ganimate.progress import track
from ganimate.training.dataset import open_dataset
from ganimate.training.precision import (
    configure_backends,
    memory_format,
    resolve_precision,
    seed_everything,
)
from ganimate.training.train_output import (
    LogWriter,
    check_free_space,
    run_status,
    sample_batch,
    save_training_state,
    write_samples,
)
from ganimate.training.train_schedule import Batches, init_distributed, lr_factor, total_steps
from ganimate.training.train_steps import (
    StepBatch,
    TrainState,
    critic_step,
    ema_copy,
    ema_update,
    generator_step,
    load_networks,
    optimizer_to,
    wrap_networks,
)
from ganimate.version import __version__

log = logging.getLogger("ganimate")


# Settings that may change between a run and its resumption: they do not enter the arithmetic
# (or, for device/precision/compile, the user accepts that resumption is then not bit-exact).
RUNTIME_FIELDS = frozenset({
    "device", "precision", "compile", "channels_last", "tf32", "workers", "cache_mib", "log_every",
    "sample_every", "sample_count", "checkpoint_every", "keep_checkpoints", "saturation_margin",
    "saturation_window",
})


@dataclass
class TrainResult:
    run_dir: Path
    step: int  # critic steps done
    total_steps: int
    checkpoint: Path | None  # the last checkpoint written
    interrupted: bool  # stopped by SIGINT/SIGTERM (a checkpoint was saved)
    # This is the first process (always, without torchrun): the one that reports the result.
    main: bool = True


# --- the trainer -------------------------------------------------------------------------------


class _StopFlag:
    """Set by SIGINT/SIGTERM: the running step finishes, a checkpoint is written, train returns."""

    def __init__(self):
        self.set = False
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.set:  # a second Ctrl-C while saving: give up at once
            raise KeyboardInterrupt
        self.set = True
        log.warning("stopping after this step and saving a checkpoint (Ctrl-C again to abort)")

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _check_resumable(cfg: TrainConfig, stored: dict, run: Path, step: int = 0,
                     steps_per_epoch: int = 1) -> None:
    """Refuse a resume that would not continue the same run. A new length (``--steps`` or the
    epochs) is allowed while neither schedule has started its decay: up to there the two runs
    are the same, so a run can be shortened or extended to fit the time there is."""
    stored_cfg = TrainConfig.from_dict(stored)
    length = {"steps", "epochs", "decay_epochs"}
    before_decay = step < min(total_steps(cfg, steps_per_epoch)[1],
                              total_steps(stored_cfg, steps_per_epoch)[1])
    diff = [f.name for f in dataclasses.fields(TrainConfig)
            if f.name not in RUNTIME_FIELDS and not (before_decay and f.name in length)
            and getattr(cfg, f.name) != getattr(stored_cfg, f.name)]
    if diff:
        raise GanimateError(
            f"{run}: --resume with different settings ({', '.join(diff)}) would not continue the "
            "same run; drop those options or start a new run with another --out"
        )


def train(cfg: TrainConfig, data: str | os.PathLike, out: str | os.PathLike,
          resume: bool = False, stop_at: int | None = None) -> TrainResult:
    """Train a generator/critic pair on the dataset at ``data``; write the run to ``out``.

    ``resume``: continue from the newest complete checkpoint in ``out`` (its settings must match
    ``cfg`` except for RUNTIME_FIELDS). ``stop_at``: save and return after this step, as if
    interrupted (the schedule still targets the full run).
    """
    trainer = _Trainer(cfg, data, Path(out), resume)
    try:
        return trainer.run(stop_at)
    finally:
        trainer.dist.close()


class _Trainer:
    """One training run: set up (data, resume checks, networks, run folder), then the loop of
    critic steps with a generator step every n_critic, logs, samples and checkpoints."""

    def __init__(self, cfg: TrainConfig, data, run: Path, resume: bool):
        self.data, self.run_dir = data, run
        self.dist = init_distributed(cfg.device)
        device = pick_device(cfg.device)
        configure_backends(device, cfg.tf32)
        self.fmt = memory_format(device, cfg.channels_last)
        self.dataset = open_dataset(data, "train")
        if cfg.model.au_names != self.dataset.au_names:
            log.info("conditioning on the dataset's %d AUs: %s", len(self.dataset.au_names),
                     " ".join(self.dataset.au_names))
            cfg = dataclasses.replace(cfg, model=dataclasses.replace(
                cfg.model, au_names=self.dataset.au_names))
        self.cfg = cfg
        self.fingerprint = self.dataset.fingerprint()
        self.au_table = torch.from_numpy(self.dataset.aus)
        self.batches = Batches(self.dataset, cfg, self.dist, pin=device.type == "cuda")
        if self.batches.steps_per_epoch < 1:
            raise GanimateError(
                f"{data}: {len(self.dataset)} training images are fewer than one batch of "
                f"{self.batches.global_batch}; lower --batch-size or add data"
            )
        self.total, self.decay_start = total_steps(cfg, self.batches.steps_per_epoch)
        ckpt = self._checkpoint_to_resume() if resume else self._check_new_run()
        self.state = self._networks(device, resolve_precision(cfg.precision, device), ckpt)
        self.last_ckpt: Path | None = ckpt.path if ckpt is not None else None
        self.factor = 1.0  # the learning-rate factor of the current step
        self.sample_batch = sample_batch(data, self.dataset, cfg) if self.dist.main else None
        if self.dist.main:
            self._start_run_folder()

    def _check_new_run(self) -> None:
        if list_checkpoints(self.run_dir):
            raise GanimateError(f"{self.run_dir}: already holds a training run; pass --resume "
                                "to continue it or choose another --out")

    def _checkpoint_to_resume(self):
        run = self.run_dir
        ckpt = latest_checkpoint(run)
        if ckpt is None:
            raise GanimateError(f"{run}: no complete checkpoint to resume from; drop --resume")
        _check_resumable(self.cfg, ckpt.metadata["train"], run, int(ckpt.metadata["step"]),
                         self.batches.steps_per_epoch)
        if ckpt.metadata.get("data_fingerprint") != self.fingerprint:
            raise GanimateError(
                f"{self.data}: the training data changed since {ckpt.path} was written "
                f"(fingerprint {self.fingerprint} != {ckpt.metadata.get('data_fingerprint')}); "
                "resume needs the same dataset"
            )
        return ckpt

    def _networks(self, device: torch.device, precision: str, ckpt) -> TrainState:
        """G, D (and G_ema), their optimisers and the generator of draws: new, or restored from
        ``ckpt``; moved to the device, wrapped for DDP and torch.compile as configured."""
        cfg, dist = self.cfg, self.dist
        seed_everything(cfg.seed + dist.rank)
        G, D = Generator(cfg.model), Critic(cfg.model)
        state = TrainState(
            cfg, device, precision, G, D,
            torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2)),
            torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2)),
            torch.Generator().manual_seed(cfg.seed), ema_copy(G) if cfg.ema > 0 else None)
        if ckpt is not None:
            load_networks(state, ckpt)
            log.info("resuming %s at step %d of %d", self.run_dir, state.step, self.total)
        for net in (G, D, state.G_ema):
            if net is not None:
                net.to(device, memory_format=self.fmt)
        if ckpt is not None:
            # After .to(): moving parameters must not perturb the restored optimiser moments.
            optimizer_to(state.opt_g, device)
            optimizer_to(state.opt_d, device)
            restore_rng_state(ckpt, state.gen)
            if dist.world > 1:  # each rank had its own global seed; only gen is shared
                seed_everything(cfg.seed + dist.rank + state.step)
        wrap_networks(state, dist)
        return state

    def _start_run_folder(self) -> None:
        run = self.run_dir
        check_free_space(run, self.state.G, self.state.D)
        run.mkdir(parents=True, exist_ok=True)
        remove_partial_writes(run)
        info = {**self.cfg.to_dict(), "data": str(Path(self.data).resolve()),
                "data_fingerprint": self.fingerprint, "ganimate_version": __version__,
                "total_steps": self.total}
        write_text(run / "config.json", json.dumps(info, indent=2) + "\n")

    def run(self, stop_at: int | None) -> TrainResult:
        """The loop: epochs of batches until the end (or ``stop_at``, or a signal), then a
        final checkpoint and sample grid."""
        state, dist = self.state, self.dist
        end = self.total if stop_at is None else min(self.total, stop_at)
        self.logbook = LogWriter(self.run_dir, self.cfg)
        with _StopFlag() as stop, track("training", total=self.total) as bar:
            bar.update(completed=state.step)
            stopping = state.step >= end
            while not stopping and not stop.set:
                epoch, pos = divmod(state.step, self.batches.steps_per_epoch)
                for idx, crops in self.batches.epoch(epoch, pos):
                    self._step(self._draw(idx, crops))
                    stopping = stop.set or state.step >= end
                    self._report(epoch, stopping, bar)
                    if stopping:
                        break
            interrupted = stop.set
            self.save()
            if dist.main and self.cfg.sample_every and state.step % self.cfg.sample_every != 0:
                self._samples()
        if dist.world > 1:
            torch.distributed.barrier()
        return TrainResult(self.run_dir, state.step, self.total, self.last_ckpt, interrupted,
                           dist.main)

    def _draw(self, idx: torch.Tensor, crops: np.ndarray) -> StepBatch:
        """Every draw for the global batch, on every rank, in a fixed order; this rank's share
        on the device."""
        gen, n, k = self.state.gen, self.batches.global_batch, self.cfg.model.num_aus
        sl = slice(self.dist.rank * self.cfg.batch_size,
                   (self.dist.rank + 1) * self.cfg.batch_size)
        flip = torch.rand(n, generator=gen)[sl] < 0.5
        other = torch.randint(0, len(self.dataset), (n,), generator=gen)[sl]
        noise = torch.rand(n, k, generator=gen)[sl]
        alpha = torch.rand(n, 1, 1, 1, generator=gen)[sl]
        real = to_tensor(crops)
        if self.cfg.hflip:
            real = torch.where(flip[:, None, None, None], real.flip(3), real)
        y_real = self.au_table[idx]
        y_fake = (self.au_table[other] + (noise * 2 - 1) * self.cfg.target_noise).clamp(0, 1)
        device = self.state.device
        if device.type == "cuda":
            real = real.pin_memory()
        real = real.to(device, non_blocking=True).contiguous(memory_format=self.fmt)
        y_real, y_fake, alpha = (t.to(device, non_blocking=True) for t in (y_real, y_fake, alpha))
        return StepBatch(real, y_real, y_fake, alpha)

    def _step(self, batch: StepBatch) -> None:
        state = self.state
        self.factor = lr_factor(state.step, self.total, self.decay_start)
        state.set_lr(self.factor)
        self.logbook.last.update(critic_step(state, batch))
        if state.step % self.cfg.n_critic == 0:
            self.logbook.last.update(generator_step(state, batch))
            if state.G_ema is not None:
                ema_update(state.G_ema, state.G, self.cfg.ema)
        state.step += 1
        self.logbook.images += batch.real.shape[0] * self.dist.world

    def _report(self, epoch: int, stopping: bool, bar) -> None:
        """Log line, progress, sample grid and checkpoint after a step, as they fall due."""
        cfg, step, main = self.cfg, self.state.step, self.dist.main
        if main and (step % cfg.log_every == 0 or stopping):
            record = self.logbook.write(step, epoch, self.factor)
            bar.update(completed=step, info=run_status(record))
        elif main:
            bar.update(completed=step)
        if main and cfg.sample_every and step % cfg.sample_every == 0:
            self._samples()
        if step % cfg.checkpoint_every == 0 and not stopping:
            self.save()

    def _samples(self) -> None:
        s = self.state
        write_samples(self.run_dir, s.G_sample, self.sample_batch, s.step, s.device,
                      s.precision)

    def save(self) -> Path | None:
        """A checkpoint of the current step (rank 0 writes it; every rank waits for it)."""
        step = self.state.step
        # The same decision on every rank (they all track last_ckpt), or the barrier would hang.
        if self.last_ckpt is not None and self.last_ckpt.name == f"step_{step:08d}.safetensors":
            return self.last_ckpt  # nothing new since the last save (e.g. resumed and stopped)
        if self.dist.main:
            try:
                self.last_ckpt = save_training_state(self.run_dir, self.state, self.fingerprint,
                                                     self.dataset.au_calibration)
            except GanimateError as exc:  # disk full...: the older checkpoints are untouched
                kept = f"{self.last_ckpt} is kept" if self.last_ckpt else "no checkpoint was saved"
                raise GanimateError(f"saving step {step} failed: {exc}; {kept} (continue "
                                    "with --resume)") from None
        else:
            self.last_ckpt = checkpoint_path(self.run_dir, step)
        if self.dist.world > 1:
            torch.distributed.barrier()
        return self.last_ckpt
