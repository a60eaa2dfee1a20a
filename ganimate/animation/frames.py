"""What travels between the stages of an animation: its config, each frame's plan (faces, crops,
y_r), the edit task handed to the engine, the condition (alpha, y_g), and the records of the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganimate.engines import BlendConfig
from ganimate.faces import FaceCrop
from ganimate.timing import StageTimes


@dataclass
class FrameTask:
    """One frame on its way through G: its faces, what they are conditioned on."""

    index: int
    frame: np.ndarray
    crops: list[FaceCrop]
    cond: FrameCondition | None
    track_ids: list[int]
    seen: tuple[int, ...]


@dataclass
class PlannedFace:
    track_id: int
    crop: FaceCrop
    y_r: np.ndarray  # (K,) smoothed and baselined, model AU order


@dataclass
class FramePlan:
    index: int
    frame: np.ndarray
    faces: list[PlannedFace]
    seen: tuple[int, ...]


@dataclass(frozen=True)
class FrameCondition:
    """What G is asked for at one frame, for F faces (rows in the frame's face order)."""

    alpha: float
    y_r: np.ndarray  # float32 (F, K): the faces' own AUs at this frame
    y_g: np.ndarray  # float32 (F, K): the targets
    condition: np.ndarray  # float32 (F, K): alpha * y_g + (1 - alpha) * y_r, handed to G


@dataclass(frozen=True)
class AnimateConfig:
    """How a video is animated; every setting has a CLI option of `ganimate animate video`."""

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
    min_eye_distance: float = 12.0
    # Largest crop side (crops are cut at the face's own resolution, at least the model's).
    max_crop: int = 512
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
    # AU estimator for y_r (see ganimate.faces.ESTIMATORS).
    estimator: str = "mesh"
    # Paste-back (feathered face region x attention).
    blend: BlendConfig = field(default_factory=BlendConfig)
    # Encoder: x264 constant rate factor and preset; lossless = bit-exact RGB (libx264rgb).
    crf: int = 18
    preset: str = "medium"
    lossless: bool = False


@dataclass(frozen=True)
class FaceRecord:
    """One edited face in one frame (handed to ``on_frame`` callbacks)."""

    track_id: int
    y_r: np.ndarray  # float32 (K,)
    y_g: np.ndarray  # float32 (K,)
    condition: np.ndarray  # float32 (K,): what G was given
    to_frame: np.ndarray  # the (smoothed) crop transform used
    crop_size: int  # side of the crop that to_frame maps from


@dataclass(frozen=True)
class FrameRecord:
    """What happened to one frame."""

    index: int
    alpha: float
    faces: tuple[FaceRecord, ...]  # the edited faces, in the frame's left-to-right order
    seen: tuple[int, ...]  # track ids of every face found (edited or not)


@dataclass
class AnimationResult:
    out: Path
    frames: int  # frames written
    edited_frames: int  # frames with at least one edited face
    face_ids: tuple[int, ...]  # track ids that were edited (video) / face numbers (image)
    seconds: float
    preview: Path | None = None
    # Seconds until the first frame was ready (models and mediapipe loading, the smoothing
    # look-ahead); 0 when not measured.
    startup: float = 0.0
    # Busy seconds per stage of the frame path (video only; see ganimate.timing).
    stages: StageTimes | None = None
    # Seconds from the start of the process to the first frame handed to the encoder (video
    # only; ganimate.timing.process_age): what a user of `animate video` waits for.
    first_frame_at: float | None = None

    @property
    def fps(self) -> float:
        """Frames processed per second of wall time."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def steady_fps(self) -> float:
        """Frames per second after the first one: the rate a long clip runs at."""
        rest = self.seconds - self.startup
        return (self.frames - 1) / rest if self.frames > 1 and rest > 0 else self.fps


def record_of(job: FrameTask, alpha: float) -> FrameRecord:
    faces = ()
    if job.cond is not None:
        faces = tuple(
            FaceRecord(tid, job.cond.y_r[k], job.cond.y_g[k], job.cond.condition[k],
                       job.crops[k].to_frame, job.crops[k].size)
            for k, tid in enumerate(job.track_ids))
    return FrameRecord(job.index, alpha, faces, job.seen)
