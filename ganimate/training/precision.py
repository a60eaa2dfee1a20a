"""Seeding and the training's performance policy: precision (bf16 autocast), TF32, channels_last.

Everything here degrades to plain fp32 eager execution on a CPU, so the same training code runs on
a laptop, in CI and on a GPU node.
"""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (all devices) from one number."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def cpu_has_bf16() -> bool:
    """True when the CPU computes bf16 natively (x86 AVX512-BF16 or AMX, ARM BF16).

    Without it, oneDNN emulates bf16 and autocast is slower than fp32, so 'auto' keeps fp32.
    """
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return any(flag in flags for flag in ("avx512_bf16", "amx_bf16", " bf16"))


def resolve_precision(precision: str, device: torch.device) -> str:
    """'auto' -> 'bf16' on a CUDA device that supports it and on a CPU with native bf16
    (measured 2x faster than fp32 for these networks on an AVX512-BF16 EPYC), else 'fp32'.
    An explicit 'bf16' is honoured on any CPU (emulated where it is not native)."""
    if precision == "auto":
        if device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        return "bf16" if device.type == "cpu" and cpu_has_bf16() else "fp32"
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
