"""Which data each training step gets, and at what learning rate: the process group, the data
order of every epoch, this process's share of each global batch, and the schedule's step counts.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from ganimate.model import TrainConfig
from ganimate.training.dataset import DecodedImages, FaceDataset, decode_all, stack_batch


@dataclass
class Dist:
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


def init_distributed(device_name: str) -> Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()

    local = int(os.environ.get("LOCAL_RANK", "0"))
    owned = not dist.is_initialized()
    if owned:
        use_nccl = torch.cuda.is_available() and device_name != "cpu"
        if use_nccl:
            torch.cuda.set_device(local)
        dist.init_process_group(backend="nccl" if use_nccl else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), local, owned)


# --- data --------------------------------------------------------------------------------------


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The data order of one epoch: a permutation that depends only on (seed, epoch)."""
    g = torch.Generator().manual_seed((seed * 1_000_003 + epoch) % 2**63)
    return torch.randperm(n, generator=g)


class Batches:
    """uint8 NHWC batches of this process's share of each global batch, in the epoch order."""

    def __init__(self, data: FaceDataset, cfg: TrainConfig, dist: Dist, pin: bool):
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
