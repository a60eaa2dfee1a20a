"""The settings of `ganimate studio` (numpy-free: the CLI reads its defaults from here)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class StudioConfig:
    """How the studio is served; every setting is an option of `ganimate studio`."""

    # A photo or a clip to open at start (the page can load others).
    media: str | os.PathLike | None = None
    # The port on 127.0.0.1 (the studio never listens on other addresses); 0 picks a free one.
    port: int = 7860
    # Open the page in the default browser once the server is up (--no-browser: don't).
    browser: bool = True
    # The engine the page starts with (warp, gan, hybrid; the page can switch); the CLI starts
    # with gan when --checkpoint is given without --engine, as every command does.
    engine: str = "warp"
    # The generator's checkpoint for gan and hybrid (None: the shipped model).
    checkpoint: str | os.PathLike | None = None
    # Device for the generator (auto, cpu, cuda).
    device: str = "auto"
    # Keep the studio's folder (uploads, outputs, keyframes) when it stops; else it is removed.
    keep: bool = False
    # Largest upload accepted, in bytes (a clip is streamed to disk, never held in memory).
    max_upload: int = 2 * 1024**3
