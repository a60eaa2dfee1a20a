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

import copy
import dataclasses
import json
import logging
import math
import os
import shutil
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from ganimate.version import __version__
from ganimate.errors import GanimateError
from ganimate.files import write_text
from ganimate.images import to_image, to_tensor, write_image
from ganimate.model import (
    Critic,
    Generator,
    TrainConfig,
    checkpoint_path,
    latest_checkpoint,
    list_checkpoints,
    load_optimizer_state,
    optimizer_tensors,
    remove_partial_writes,
    restore_rng_state,
    rng_state,
    save_checkpoint,
)
from ganimate.progress import track
from ganimate.runtime import (
    autocast,
    configure_backends,
    memory_format,
    pick_device,
    resolve_precision,
    seed_everything,
)
from ganimate.training import losses
from ganimate.training.dataset import (
    DecodedImages,
    FaceDataset,
    decode_all,
    open_dataset,
    stack_batch,
)

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


@dataclass
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owned: bool = False  # this run started the process group, so it ends it

    @property
    def main(self) -> bool:
        return self.rank == 0

    def close(self) -> None:
        """End a process group this run started: left to the interpreter's exit, gloo's threads
        can be torn down while still joinable and abort the rank ("terminate called without an
        active exception", seen once in a torchrun test)."""
        if self.owned and dist.is_initialized():
            dist.destroy_process_group()


def _init_distributed(device_name: str) -> _Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()

    local = int(os.environ.get("LOCAL_RANK", "0"))
    owned = not dist.is_initialized()
    if owned:
        use_nccl = torch.cuda.is_available() and device_name != "cpu"
        if use_nccl:
            torch.cuda.set_device(local)
        dist.init_process_group(backend="nccl" if use_nccl else "gloo")
    return _Dist(dist.get_rank(), dist.get_world_size(), local, owned)


# --- data --------------------------------------------------------------------------------------


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The data order of one epoch: a permutation that depends only on (seed, epoch)."""
    g = torch.Generator().manual_seed((seed * 1_000_003 + epoch) % 2**63)
    return torch.randperm(n, generator=g)


class _Batches:
    """uint8 NHWC batches of this process's share of each global batch, in the epoch order."""

    def __init__(self, data: FaceDataset, cfg: TrainConfig, dist: _Dist, pin: bool):
        self.data, self.cfg, self.dist, self.pin = data, cfg, dist, pin
        self.size = cfg.model.image_size
        self.global_batch = cfg.batch_size * dist.world
        self.steps_per_epoch = len(data) // self.global_batch
        footprint = len(data) * self.size * self.size * 3 / 2**20
        self.cache = None
        if cfg.cache_mib and footprint <= cfg.cache_mib:
            self.cache = decode_all(data, self.size)

    def local_indices(self, epoch: int, pos: int) -> torch.Tensor:
        order = epoch_order(self.cfg.seed, epoch, len(self.data))
        batch = order[pos * self.global_batch:(pos + 1) * self.global_batch]
        b = self.cfg.batch_size
        return batch[self.dist.rank * b:(self.dist.rank + 1) * b]

    def epoch(self, epoch: int, start: int) -> Iterator[tuple[torch.Tensor, np.ndarray]]:
        """(global indices of the local share, uint8 NHWC crops) for positions start.. of epoch."""
        positions = range(start, self.steps_per_epoch)
        index_batches = [self.local_indices(epoch, p).tolist() for p in positions]
        if self.cache is not None:
            for idx in index_batches:
                yield torch.tensor(idx), self.cache[idx]
            return
        if self.cfg.workers == 0:
            for idx in index_batches:
                yield torch.tensor(idx), np.stack([self.data.read(i, self.size) for i in idx])
            return
        loader = torch.utils.data.DataLoader(
            DecodedImages(self.data, self.size), batch_sampler=index_batches,
            num_workers=self.cfg.workers, collate_fn=stack_batch, prefetch_factor=4,
            worker_init_fn=_worker_init,
        )
        for idx, crops in zip(index_batches, loader, strict=True):
            yield torch.tensor(idx), crops


def _worker_init(_: int) -> None:
    # Ctrl-C is the main process's business: it finishes the step and saves.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# --- schedule ------------------------------------------------------------------------------------


def total_steps(cfg: TrainConfig, steps_per_epoch: int) -> tuple[int, int]:
    """(total critic steps, step where the linear learning-rate decay starts)."""
    epochs = cfg.epochs + cfg.decay_epochs
    if cfg.steps is not None:
        total = cfg.steps
        decay_start = int(round(total * cfg.epochs / epochs)) if epochs else total
    else:
        total = epochs * steps_per_epoch
        decay_start = cfg.epochs * steps_per_epoch
    return total, decay_start


def lr_factor(step: int, total: int, decay_start: int) -> float:
    """1 until decay_start, then linearly down to 0 at the last step."""
    if step < decay_start or total <= decay_start:
        return 1.0
    return max(0.0, (total - step) / (total - decay_start))


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


@dataclass
class TrainState:
    """What the training steps read and change: the networks (and the forms they run in under
    DDP or torch.compile), their optimisers, the EMA copy of G, the random generator of every
    draw, and the step count."""

    cfg: TrainConfig
    device: torch.device
    precision: str  # "fp32" or "bf16" (resolved)
    G: torch.nn.Module
    D: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    gen: torch.Generator  # every random draw of the run (checkpointed)
    G_ema: torch.nn.Module | None = None  # the averaged G (cfg.ema > 0)
    g_run: torch.nn.Module | None = None  # G as it runs (DDP / compiled); default G
    d_run: torch.nn.Module | None = None  # D as it runs; default D
    step: int = 0  # critic steps done

    def __post_init__(self):
        self.g_run = self.G if self.g_run is None else self.g_run
        self.d_run = self.D if self.d_run is None else self.d_run

    @property
    def G_sample(self) -> torch.nn.Module:
        """What the sample grids show: the averaged G when there is one."""
        return self.G if self.G_ema is None else self.G_ema

    def set_lr(self, factor: float) -> None:
        for group in self.opt_d.param_groups:
            group["lr"] = self.cfg.lr_d * factor
        for group in self.opt_g.param_groups:
            group["lr"] = self.cfg.lr_g * factor


@dataclass
class StepBatch:
    """One step's data on the device: real images, their AUs, the targets, the GP mixing."""

    real: torch.Tensor  # (B, 3, S, S) in [-1, 1]
    y_real: torch.Tensor  # (B, K)
    y_fake: torch.Tensor  # (B, K): another face's AUs + noise
    alpha: torch.Tensor  # (B, 1, 1, 1): gradient-penalty interpolation


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
        self.dist = _init_distributed(cfg.device)
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
        self.batches = _Batches(self.dataset, cfg, self.dist, pin=device.type == "cuda")
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
        self.sample_batch = _sample_batch(data, self.dataset, cfg) if self.dist.main else None
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
            torch.Generator().manual_seed(cfg.seed), _ema_copy(G) if cfg.ema > 0 else None)
        if ckpt is not None:
            _load_networks(state, ckpt)
            log.info("resuming %s at step %d of %d", self.run_dir, state.step, self.total)
        for net in (G, D, state.G_ema):
            if net is not None:
                net.to(device, memory_format=self.fmt)
        if ckpt is not None:
            # After .to(): moving parameters must not perturb the restored optimiser moments.
            _optimizer_to(state.opt_g, device)
            _optimizer_to(state.opt_d, device)
            restore_rng_state(ckpt, state.gen)
            if dist.world > 1:  # each rank had its own global seed; only gen is shared
                seed_everything(cfg.seed + dist.rank + state.step)
        _wrap_networks(state, dist)
        return state

    def _start_run_folder(self) -> None:
        run = self.run_dir
        _check_free_space(run, self.state.G, self.state.D)
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
        self.logbook = _LogWriter(self.run_dir, self.cfg)
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
                _ema_update(state.G_ema, state.G, self.cfg.ema)
        state.step += 1
        self.logbook.images += batch.real.shape[0] * self.dist.world

    def _report(self, epoch: int, stopping: bool, bar) -> None:
        """Log line, progress, sample grid and checkpoint after a step, as they fall due."""
        cfg, step, main = self.cfg, self.state.step, self.dist.main
        if main and (step % cfg.log_every == 0 or stopping):
            record = self.logbook.write(step, epoch, self.factor)
            bar.update(completed=step, info=_status(record))
        elif main:
            bar.update(completed=step)
        if main and cfg.sample_every and step % cfg.sample_every == 0:
            self._samples()
        if step % cfg.checkpoint_every == 0 and not stopping:
            self.save()

    def _samples(self) -> None:
        s = self.state
        _write_samples(self.run_dir, s.G_sample, self.sample_batch, s.step, s.device,
                       s.precision)

    def save(self) -> Path | None:
        """A checkpoint of the current step (rank 0 writes it; every rank waits for it)."""
        step = self.state.step
        # The same decision on every rank (they all track last_ckpt), or the barrier would hang.
        if self.last_ckpt is not None and self.last_ckpt.name == f"step_{step:08d}.safetensors":
            return self.last_ckpt  # nothing new since the last save (e.g. resumed and stopped)
        if self.dist.main:
            try:
                self.last_ckpt = _save_training_state(self.run_dir, self.state, self.fingerprint,
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


class _LogWriter:
    """RUN/log.jsonl: the last losses, images per second since the previous line, and the
    attention saturation guard."""

    def __init__(self, run: Path, cfg: TrainConfig):
        self.run, self.cfg = run, cfg
        self.last: dict = {}  # the latest value of every loss
        self.images = 0  # images since the last line
        self.since = time.perf_counter()
        self.saturation: deque = deque(maxlen=cfg.saturation_window)

    def write(self, step: int, epoch: int, factor: float) -> dict:
        now = time.perf_counter()
        rate = self.images / max(now - self.since, 1e-9)
        self.since, self.images = now, 0
        record = {"step": step, "epoch": epoch, "lr_factor": round(factor, 6),
                  "img_per_s": round(rate, 2), "time": time.time(),
                  **{key: float(v) for key, v in self.last.items()}}
        _append_log(self.run, record)
        _check_saturation(self.saturation, record.get("mean_attention"), self.cfg, step)
        return record


def _load_networks(state: TrainState, ckpt) -> None:
    state.G.load_state_dict(ckpt.state_dict("G"))
    state.D.load_state_dict(ckpt.state_dict("D"))
    if state.G_ema is not None:
        state.G_ema.load_state_dict(ckpt.state_dict("G_ema"))
    load_optimizer_state(ckpt, "opt_G", state.opt_g)
    load_optimizer_state(ckpt, "opt_D", state.opt_d)
    state.step = int(ckpt.metadata["step"])


def _wrap_networks(state: TrainState, dist: _Dist) -> None:
    """DDP across processes, torch.compile on CUDA: the forms the steps run the networks in."""
    if dist.world > 1:
        ids = [state.device.index] if state.device.type == "cuda" else None
        state.g_run = DDP(state.G, device_ids=ids)
        state.d_run = DDP(state.D, device_ids=ids)
    if state.cfg.compile and state.device.type == "cuda":
        state.g_run, state.d_run = torch.compile(state.g_run), torch.compile(state.d_run)


def _optimizer_to(opt: torch.optim.Optimizer, device: torch.device) -> None:
    for state in opt.state.values():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and key != "step":
                state[key] = value.to(device)


def critic_step(state: TrainState, batch: StepBatch) -> dict[str, torch.Tensor]:
    """One critic update: WGAN loss on real vs G's fakes, AU loss on real, gradient penalty."""
    cfg, D, real = state.cfg, state.D, batch.real
    D.requires_grad_(True)
    with torch.no_grad(), autocast(state.device, state.precision):
        fake = state.G(real, batch.y_fake).image  # eager G: no gradient sync for a no-grad pass
    with autocast(state.device, state.precision):
        # One critic pass over real and fake together: one forward per backward under DDP.
        scores, aus_pred = state.d_run(torch.cat([real, fake.to(real.dtype)]))
        n = real.shape[0]
        wgan = losses.critic_wgan_loss(scores[:n], scores[n:])
        au = losses.au_mse_loss(aus_pred[:n], batch.y_real)
        gp = losses.gradient_penalty(D, real, fake, batch.alpha)
    loss = wgan + cfg.lambda_au * au + cfg.lambda_gp * gp
    state.opt_d.zero_grad(set_to_none=True)
    loss.backward()
    state.opt_d.step()
    return {"d_wgan": wgan.detach(), "d_au": au.detach(), "d_gp": gp.detach()}


def generator_step(state: TrainState, batch: StepBatch) -> dict[str, torch.Tensor]:
    """One generator update: adversarial, AU, cycle, attention (and identity) losses."""
    cfg, D, g_run, real = state.cfg, state.D, state.g_run, batch.real
    D.requires_grad_(False)  # the critic is a fixed loss here: no gradients, no DDP sync
    with autocast(state.device, state.precision):
        fwd = g_run(real, batch.y_fake)
        scores, aus_pred = D(fwd.image)
        cyc = g_run(fwd.image, batch.y_real)
        adv = losses.generator_wgan_loss(scores)
        au = losses.au_mse_loss(aus_pred, batch.y_fake)
        rec = losses.cycle_l1_loss(cyc.image, real)
        att = (losses.attention_loss(fwd.attention, cfg.lambda_a, cfg.lambda_tv)
               + losses.attention_loss(cyc.attention, cfg.lambda_a, cfg.lambda_tv))
        idt = torch.zeros((), device=real.device)
        if cfg.lambda_idt > 0:
            idt = losses.identity_l1_loss(g_run(real, batch.y_real).image, real)
        prior = losses.colour_prior_loss(fwd.colour, real)
    loss = (adv + cfg.lambda_au * au + cfg.lambda_cyc * rec + att + cfg.lambda_idt * idt
            + cfg.lambda_colour * prior)
    state.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    state.opt_g.step()
    D.requires_grad_(True)
    return {"g_adv": adv.detach(), "g_au": au.detach(), "g_cyc": rec.detach(),
            "g_att": att.detach(), "g_idt": idt.detach(), "g_colour": prior.detach(),
            "mean_attention": fwd.attention.detach().float().mean()}


def _ema_copy(G: torch.nn.Module) -> torch.nn.Module:
    return copy.deepcopy(G).eval().requires_grad_(False)


@torch.no_grad()
def _ema_update(ema: torch.nn.Module, G: torch.nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * G, parameters and buffers."""
    torch._foreach_lerp_(list(ema.parameters()), list(G.parameters()), 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), G.buffers(), strict=True):
        b_ema.copy_(b)


def _save_training_state(run: Path, state: TrainState, fingerprint: str,
                         au_calibration=None) -> Path:
    cfg, step = state.cfg, state.step
    tensors = {f"G.{k}": v for k, v in state.G.state_dict().items()}
    if state.G_ema is not None:
        tensors.update({f"G_ema.{k}": v for k, v in state.G_ema.state_dict().items()})
    tensors.update({f"D.{k}": v for k, v in state.D.state_dict().items()})
    optim_meta = {}
    for name, opt in (("opt_G", state.opt_g), ("opt_D", state.opt_d)):
        t, m = optimizer_tensors(name, opt)
        tensors.update(t)
        optim_meta[name] = m
    rng_t, rng_m = rng_state(state.gen)
    tensors.update(rng_t)
    meta = {"kind": "training", "model": cfg.model.to_dict(), "au_names": list(cfg.model.au_names),
            "step": step, "data_fingerprint": fingerprint, "train": cfg.to_dict(),
            "optimizers": optim_meta, "rng": rng_m}
    if au_calibration is not None:
        meta["au_calibration"] = au_calibration
    path = checkpoint_path(run, step)
    save_checkpoint(path, tensors, meta)
    for old in list_checkpoints(run)[:-cfg.keep_checkpoints]:
        old.unlink(missing_ok=True)
    return path


def _check_free_space(run: Path, G: torch.nn.Module, D: torch.nn.Module) -> None:
    """Refuse to start when the disk cannot hold a checkpoint (G, D and two Adam moments, in
    float32, twice: the new one is written before the oldest is removed)."""
    params = sum(p.numel() for m in (G, D) for p in m.parameters())
    need = params * 4 * 3 * 2
    existing = next(p for p in (run.absolute(), *run.absolute().parents) if p.exists())
    free = shutil.disk_usage(existing).free
    if free < need:
        raise GanimateError(f"cannot write {run}: {free / 2**20:.1f} MiB free, and a checkpoint "
                            f"needs {need / 2**21:.1f} MiB (twice that while saving); free some "
                            "space or choose another --out")


def _append_log(run: Path, record: dict) -> None:
    with (run / "log.jsonl").open("a") as f:
        f.write(json.dumps(record) + "\n")


def _status(record: dict) -> str:
    keys = ("d_wgan", "g_adv", "g_au", "g_cyc", "mean_attention")
    parts = [f"{k}={record[k]:.3g}" for k in keys if k in record]
    return " ".join(parts) + f" {record['img_per_s']:.0f} img/s"


def _check_saturation(history: deque, mean_attention: float | None, cfg: TrainConfig,
                      step: int) -> None:
    if mean_attention is None or math.isnan(mean_attention):
        return
    history.append(mean_attention)
    if len(history) < history.maxlen:
        return
    if all(a > 1 - cfg.saturation_margin for a in history):
        log.warning("step %d: attention saturated at 1 (mean A %.3f over the last %d logs): the "
                    "generator is copying its input; raise --lambda-a", step, mean_attention,
                    len(history))
        history.clear()
    elif all(a < cfg.saturation_margin for a in history):
        log.warning("step %d: attention collapsed to 0 (mean A %.3f over the last %d logs): the "
                    "generator repaints the whole face; lower --lambda-a", step, mean_attention,
                    len(history))
        history.clear()


# --- sample grids --------------------------------------------------------------------------------


@dataclass
class _SampleBatch:
    crops: np.ndarray  # uint8 NHWC
    targets: torch.Tensor  # (N, K)


def _sample_batch(data, train_set: FaceDataset, cfg: TrainConfig) -> _SampleBatch:
    """A fixed batch for the sample grids: held-out images, each given another one's AUs."""
    test = open_dataset(data, "test")
    source = test if len(test) >= 2 else train_set
    n = min(cfg.sample_count, len(source))
    crops = np.stack([source.read(i, cfg.model.image_size) for i in range(n)])
    targets = torch.from_numpy(np.roll(source.aus[:n], 1, axis=0).copy())
    return _SampleBatch(crops, targets)


def sample_grid(G: torch.nn.Module, crops: np.ndarray, targets: torch.Tensor,
                device: torch.device, precision: str = "fp32") -> np.ndarray:
    """One row per image: input | output | attention (white = input kept) | colour mask."""
    was_training = G.training
    G.eval()
    with torch.no_grad(), autocast(device, precision):
        out = G(to_tensor(crops).to(device), targets.to(device))
    G.train(was_training)
    columns = [crops, to_image(out.image), to_image(out.attention.float() * 2 - 1),
               to_image(out.colour)]
    return np.concatenate([np.concatenate(list(c), axis=0) for c in columns], axis=1)


def _write_samples(run: Path, G, batch: _SampleBatch, step: int, device, precision) -> None:
    grid = sample_grid(G, batch.crops, batch.targets, device, precision)
    write_image(run / "samples" / f"step_{step:08d}.png", grid)
