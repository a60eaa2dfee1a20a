"""The engine the CLI's ``--engine`` / ``--checkpoint`` ask for: with no ``--engine``, a checkpoint
means the generator and no checkpoint means the warp (the shipped model is a CPU stand-in that
measures worse than the warp; docs/engines.md and the model card).
"""

from __future__ import annotations

import os

from ganimate.engines.base import ENGINES, Engine
from ganimate.engines.gan import GanEngine
from ganimate.engines.hybrid import HybridEngine
from ganimate.engines.warp import WarpEngine
from ganimate.engines.warp_config import WarpConfig
from ganimate.errors import GanimateError


def load_engine(name: str | None = None, checkpoint: str | os.PathLike | None = None,
                device: str = "auto", warp: WarpConfig = WarpConfig()) -> Engine:
    """The engine the CLI's ``--engine`` / ``--checkpoint`` ask for.

    No ``--engine``: the generator of ``checkpoint`` if one is given, else the warp. ``gan``
    without a checkpoint uses the model shipped with ganimate.
    """
    if name is None:
        name = "gan" if checkpoint is not None else "warp"
    if name not in ENGINES:
        raise GanimateError(f"--engine {name!r}: choose one of {', '.join(ENGINES)}")
    if name == "warp":
        if checkpoint is not None:
            raise GanimateError("--engine warp uses no model: drop --checkpoint, or use "
                                "--engine gan to edit with it")
        return WarpEngine(warp)
    from ganimate.model import load_generator, resolve_checkpoint  # deferred: loads torch

    loaded = load_generator(resolve_checkpoint(checkpoint), device=device)
    return GanEngine(loaded) if name == "gan" else HybridEngine(loaded, warp)
