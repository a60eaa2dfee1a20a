"""What a training run writes besides its config: RUN/log.jsonl (with the attention saturation
guard), the checkpoints of its state (and the free-space check before them), the sample grids.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganimate.errors import GanimateError
from ganimate.images import to_image, to_tensor, write_image
from ganimate.model import (
    TrainConfig,
    checkpoint_path,
    list_checkpoints,
    optimizer_tensors,
    rng_state,
    save_checkpoint,
)
from ganimate.training.dataset import FaceDataset, open_dataset
from ganimate.training.precision import autocast
from ganimate.training.train_steps import TrainState

log = logging.getLogger("ganimate")


class LogWriter:
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


def save_training_state(run: Path, state: TrainState, fingerprint: str,
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


def check_free_space(run: Path, G: torch.nn.Module, D: torch.nn.Module) -> None:
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


def run_status(record: dict) -> str:
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


def sample_batch(data, train_set: FaceDataset, cfg: TrainConfig) -> _SampleBatch:
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


def write_samples(run: Path, G, batch: _SampleBatch, step: int, device, precision) -> None:
    grid = sample_grid(G, batch.crops, batch.targets, device, precision)
    write_image(run / "samples" / f"step_{step:08d}.png", grid)
