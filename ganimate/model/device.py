"""Where a network runs: the device a ``--device`` name asks for."""

from __future__ import annotations

import os

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
