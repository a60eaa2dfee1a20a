"""The settings of an animation, each documented where declared and importable without numpy (the
CLI reads its defaults here): the video run, its timeline, and a still photo's clip.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ganimate.engines import BlendConfig
from ganimate.errors import GanimateError
from ganimate.faces import DEFAULT_ESTIMATOR, MAX_CROP


@dataclass(frozen=True)
class ImageAnimation:
    """Settings of `ganimate animate image`."""

    seconds: float = 2.0  # clip length
    fps: float = 25.0  # frame rate; the clip has round(seconds * fps) frames
    bounce: bool = False  # there and back: 0 -> 1 -> 0
    easing: str | None = None  # linear for a ramp, cosine for a bounce
    face: int | None = None  # only this face (numbered left to right, as `ganimate aus`)
    batch_size: int = 16  # crops per generator call
    estimator: str = DEFAULT_ESTIMATOR  # AU estimator for y_r
    crf: int = 18
    preset: str = "medium"
    blend: BlendConfig = field(default_factory=BlendConfig)

    def validate(self) -> None:
        if self.seconds <= 0 or self.fps <= 0:
            raise GanimateError("--seconds and --fps must be positive")

    @property
    def frames(self) -> int:
        return max(1, int(round(self.seconds * self.fps)))


@dataclass(frozen=True)
class Timeline:
    """When the faces of a video move, and towards what; every field is an option of `ganimate
    animate video`. Alpha follows ``ramp`` (keyframes), ``hold`` (constant 1), or by default a
    0 -> 1 ramp over the clip (with a track: constant 1)."""

    # alpha keyframes TIME:ALPHA[:EASING],... or ramp, hold, bounce (--ramp); None: the default.
    ramp: str | None = None
    # alpha 1 throughout: the target from the first frame on (--hold).
    hold: bool = False
    # Easing of the ramp's segments (--easing); None: linear.
    easing: str | None = None
    # A driver's AU track (a `ganimate aus DRIVER.mp4` or OpenFace CSV) that gives y_g frame by
    # frame instead of the target spec, resampled to the clip's rate (--track) ...
    track: str | os.PathLike | None = None
    # ... the face (track id) of the driver CSV to follow (--track-face) ...
    track_face: int | None = None
    # ... and the driver time (s) that the first frame follows (--track-offset).
    track_offset: float = 0.0


@dataclass(frozen=True)
class AnimateConfig:
    """How a video is animated; the settings a user tunes have CLI options of `ganimate animate
    video` (the queues, the smoothers' degrees and the scan's sampling are fixed there)."""

    # Only this face (its track id: the ``face`` column of `ganimate aus VIDEO`); None: every face.
    face: int | None = None
    # Half-width, in seconds, of the centred window the crop transforms are smoothed over (the
    # planner looks this far ahead). 0.15 s (4-5 frames at 30 fps) removes landmark jitter without
    # lagging behind head motion; 0 turns smoothing off.
    smooth: float = 0.15
    # Polynomial degree of the transform smoother: 2 follows accelerating head motion.
    smooth_degree: int = 2
    # Half-width in frames of the (light) smoothing of y_r; 2 (5 frames) with degree 2 removes
    # estimator noise but keeps a blink's peak.
    au_smooth: int = 2
    # Subtract each person's neutral face from y_r (a percentile of their AUs over time), so that
    # a resting face reads as AU 0 whatever the estimator's bias for that face.
    baseline: bool = True
    # Faces whose outer eye corners are closer than this many pixels are left alone: too small
    # for the generator to draw anything that survives paste-back.
    min_eye_corner_distance: float = 12.0
    # Largest crop side (crops are cut at the face's own resolution, at least the model's).
    max_crop: int = MAX_CROP
    # Face crops per generator call; frames are gathered until this many faces are waiting.
    # An engine without a network (warp) edits frame by frame: batches would only delay output.
    batch_size: int = 16
    # Frames edited at once, each in its own thread (numpy, OpenCV and SciPy release the GIL for
    # their heavy work, so a warp runs on every core). 0: one per core, at most 4, for an engine
    # without a network; one for a generator, which parallelises inside its own operations.
    workers: int = 0
    # Frames waiting between two stages; bounds memory (a few frames per stage).
    queue_frames: int = 8
    # Faces followed at once.
    max_faces: int = 4
    # Before the first frame is edited, look at the clip's first this many seconds, one frame
    # every ``teeth_scan_every`` seconds, for each person's own teeth (:mod:`.scan`): teeth the
    # edit draws take their colour from the first frame on, not a studio photo's until the
    # person's mouth first opens (single_face.mp4 `-e happy --hold`: drawn L* 82, his own 64;
    # the mouth's flicker 1.49x the input's, 1.31x with his colour from the start). It costs a
    # second decode of those seconds and a face mesh a sampled frame, until five sights a face
    # (:data:`.scan.ENOUGH`). 0: off.
    teeth_scan: float = 3.0
    teeth_scan_every: float = 0.2
    # Keep hands in front of the face: where mediapipe's hand tracker finds a hand over a face,
    # the output keeps the input's pixels (a hand over the mouth gets no teeth drawn on it) and
    # the face's mouth track holds its state (:mod:`ganimate.faces.hands`). About 12 ms a frame.
    hands: bool = True
    # AU estimator for y_r (see ganimate.faces.ESTIMATORS).
    estimator: str = DEFAULT_ESTIMATOR
    # Paste-back (feathered face region x attention).
    blend: BlendConfig = field(default_factory=BlendConfig)
    # Encoder: x264 constant rate factor and preset; lossless = bit-exact RGB (libx264rgb).
    crf: int = 18
    preset: str = "medium"
    lossless: bool = False
