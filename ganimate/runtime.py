"""Device choice, seeding and the CUDA performance policy (autocast, TF32, channels_last).

Everything here degrades to plain fp32 eager execution on a CPU, so the same training code runs on
a laptop, in CI and on a GPU node.
"""

from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

from ganimate.errors import GanimateError


def pick_device(name: str = "auto") -> torch.device:
    """'auto' -> the CUDA device of this process (LOCAL_RANK under torchrun) or the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise GanimateError(f"--device {name!r}: {exc}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanimateError(f"--device {name}: no CUDA GPU is available; use --device cpu")
    return device


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices) from one number."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_precision(precision: str, device: torch.device) -> str:
    """'auto' -> 'bf16' on a CUDA device that supports it, else 'fp32'. bf16 on CPU is refused."""
    if precision == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return "bf16"
        return "fp32"
    if precision == "bf16" and device.type != "cuda":
        raise GanimateError("--precision bf16 needs a CUDA GPU; use --precision fp32 on CPU")
    return precision


def autocast(device: torch.device, precision: str):
    """The autocast context for a resolved precision (a no-op context in fp32)."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def configure_backends(device: torch.device, tf32: bool) -> None:
    """Enable TF32 and the cuDNN autotuner on CUDA; nothing on CPU."""
    if device.type != "cuda":
        return
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True


def memory_format(device: torch.device, channels_last: bool) -> torch.memory_format:
    if device.type == "cuda" and channels_last:
        return torch.channels_last
    return torch.contiguous_format
