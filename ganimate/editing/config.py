"""The settings of photo sweeps, importable without numpy (the CLI reads its defaults here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ganimate.engines import BlendConfig
from ganimate.faces import DEFAULT_ESTIMATOR, MAX_CROP


@dataclass(frozen=True)
class SweepConfig:
    """A grid of one face at several intensities of several AUs."""

    aus: tuple[str, ...]  # AUs swept, one row each (canonical names)
    steps: tuple[float, ...]  # intensities, one column each
    # The face to sweep (--face numbering); None: the largest face of the photo.
    face: int | None = None
    # Side of a grid cell in pixels.
    cell: int = 192
    # Show the whole photo in each cell instead of the region around the face.
    whole: bool = False
    blend: BlendConfig = field(default_factory=BlendConfig)
    estimator: str = DEFAULT_ESTIMATOR
    max_crop: int = MAX_CROP
