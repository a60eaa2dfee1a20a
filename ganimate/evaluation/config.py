"""The settings of the evaluation protocol, importable without numpy (the CLI reads its defaults
here).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EvalConfig:
    """The evaluation protocol; the defaults are the documented protocol of docs/evaluation.md."""

    seed: int = 0  # seeds face subsampling, random targets and their noise
    max_faces: int | None = 100  # test faces used (a seeded subset when the split is larger)
    sweep_levels: tuple[float, ...] = (0.0, 0.5, 1.0)  # each reliable AU is set to each level
    random_targets: int = 4  # per face: another test face's AUs plus uniform noise, as in training
    noise: float = 0.1  # half-width of the uniform noise added to random targets
    direction_threshold: float = 0.3  # smallest asked change that direction accuracy judges
    identity_threshold: float = 0.6  # dlib's same-person distance
    batch_size: int = 16  # crops per generator call
    sweep_faces: int = 3  # test faces shown in the AU sweep figure
    identity: bool = True  # compute the identity metric when the [eval] extra is installed


# `eval video`'s expression reads: every n-th frame. A 300-frame 640x360 clip on a shared 2-core
# CPU: 7-10 s without reads and identity, +3-4 s reading every second frame, +5-6 s every frame
# (torch's import included), 18-22 s with the defaults (dlib identity on every 10th face frame).
# Every second frame halves the reads' cost; neighbouring frames hardly differ in expression.
READ_EVERY = 2

# `eval video`'s mouth measures (teeth pops, mouth flicker) skip the frames where a hand covers
# more than this share of the input's inner lips: a covered mouth's reads are the hand's (on
# WolfgangLanger_Pexels.mp4 every teeth pop of an edit that keeps hands in front was on such a
# step, the output's face tracker placing its lips on the fingers).
MOUTH_COVERED = 0.25
