"""The settings of dataset preparation and of the synthetic set, importable without numpy (the CLI
reads its defaults here).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ganimate.errors import GanimateError
from ganimate.faces import DEFAULT_ESTIMATOR, ESTIMATORS

SPLIT_KEYS = ("source", "stem", "folder")


@dataclass(frozen=True)
class PrepareConfig:
    """Options of ``ganimate prepare``; every field is a CLI option of the same name."""

    size: int = 128  # side of the aligned crops in pixels
    every: int = 10  # use every k-th frame of a video (1: all frames)
    workers: int = 0  # worker processes; 0: one per CPU core (at most 8), 1: no subprocess
    image_format: str = "jpg"  # "jpg" (quality 95) or "png" (lossless)
    quality: int = 95  # JPEG quality
    # Smallest usable face: its height (forehead to chin) in frame pixels. Default: half the crop
    # size, i.e. a face is never upscaled by more than ~1.6x into the crop.
    min_face: float | None = None
    max_yaw: float = 40.0  # degrees; more turned faces are rejected ("face too turned")
    max_pitch: float = 35.0  # degrees, up or down
    min_inside: float = 0.8  # share of the crop that must lie inside the frame ("face cut off")
    max_faces: int = 8  # faces per image or frame
    estimator: str = DEFAULT_ESTIMATOR  # AU estimator for labels (one of ESTIMATORS)
    openface: Path | None = None  # OpenFace CSV (or folder of per-image CSVs) for the labels
    calibrate: bool = True  # map raw estimates to [0, 1] by the dataset's robust percentiles
    test_fraction: float = 0.1  # share of sources (or persons, see split_by) in the test split
    # What one person is, for the split: "source" (a file), "stem" (file name without folder:
    # london/neutral/001.jpg and london/smiling/001.jpg are one person) or "folder".
    split_by: str = "source"

    def validate(self) -> None:
        if self.size not in (32, 64, 96, 128, 160, 192, 224, 256, 384, 512):
            raise GanimateError(f"--size {self.size}: use 64, 128 or 256 (or 32-512, x32)")
        if self.every < 1:
            raise GanimateError(f"--every {self.every}: must be 1 or more")
        if self.image_format not in ("jpg", "png"):
            raise GanimateError(f"--image-format {self.image_format}: use jpg or png")
        if self.estimator not in ESTIMATORS:
            raise GanimateError(f"--estimator {self.estimator}: use one of {', '.join(ESTIMATORS)}")
        if self.split_by not in SPLIT_KEYS:
            raise GanimateError(f"--split-by {self.split_by}: use one of {', '.join(SPLIT_KEYS)}")
        if not 0.0 <= self.test_fraction < 1.0:
            raise GanimateError(f"--test-fraction {self.test_fraction}: must be in [0, 1)")

    @property
    def face_min(self) -> float:
        return self.size / 2 if self.min_face is None else self.min_face

    def fingerprint(self) -> dict:
        """The options that change what a crop or a label is (a resumed run must match them)."""
        return {"size": self.size, "every": self.every, "image_format": self.image_format,
                "estimator": self.estimator, "framing": "ganimate-v1"}


@dataclass(frozen=True)
class SyntheticConfig:
    """Defaults of ``ganimate synthetic`` (:func:`ganimate.training.make_synthetic_dataset`)."""

    count: int = 512  # faces
    size: int = 64  # crop side in pixels
    test_fraction: float = 0.25  # share held out as the test split
    seed: int = 0  # seed of the faces and their AU values
