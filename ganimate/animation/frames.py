"""What travels between the stages of an animation: each frame's plan (faces, crops, y_r), the
condition (alpha, y_g) that makes it an engine's :class:`~ganimate.engines.FrameJob`, and the
records of the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganimate.engines import FrameJob, MouthMemory
from ganimate.faces import FaceCrop, Hand
from ganimate.timing import StageTimes


@dataclass
class PlannedFace:
    """One face of a planned frame: its track, its crop (through the smoothed transform), y_r."""

    track_id: int
    crop: FaceCrop
    y_r: np.ndarray  # (K,) smoothed and baselined, model AU order
    mouth: MouthMemory | None = None  # what the face's track carries (Engine.track)


@dataclass
class FramePlan:
    """A frame as the planner hands it on: its faces to edit and every track seen in it."""

    index: int
    frame: np.ndarray
    faces: list[PlannedFace]
    seen: tuple[int, ...]
    hands: tuple[Hand, ...] = ()  # hands found in the frame (kept in front of the edit)


@dataclass(frozen=True)
class FrameCondition:
    """What the faces of one frame are asked for (F faces, rows in the frame's face order)."""

    alpha: float
    y_r: np.ndarray  # float32 (F, K): the faces' own AUs at this frame
    y_g: np.ndarray  # float32 (F, K): the targets
    condition: np.ndarray  # float32 (F, K): alpha * y_g + (1 - alpha) * y_r, handed to the engine

    def job(self, index: int, frame: np.ndarray, crops: list[FaceCrop],
            track_ids: tuple[int, ...], seen: tuple[int, ...],
            mouths: list[MouthMemory | None] | None = None, hands: tuple[Hand, ...] = ()
            ) -> FrameJob:
        """Frame ``index`` as the engine edits it under this condition."""
        return FrameJob(frame, crops, self.y_r, self.condition, mouths, hands, index,
                        self.alpha, self.y_g, track_ids, seen)


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
    """What an animation wrote, and how long it took."""

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

    @property
    def summary(self) -> str:
        """The one line `animate video` prints on stderr."""
        return (f"{self.frames} frames ({self.edited_frames} with an edited face) in "
                f"{self.seconds:.1f} s ({self.fps:.1f} fps; {self.steady_fps:.1f} fps after "
                f"{self.startup:.1f} s of start-up; first frame written "
                f"{self.first_frame_at or 0:.2f} s after the command started)")


def record_of(job: FrameJob) -> FrameRecord:
    """The record of a frame edited by ``job``."""
    faces = tuple(FaceRecord(tid, job.y_r[k], job.targets[k], job.condition[k],
                             job.crops[k].to_frame, job.crops[k].size)
                  for k, tid in enumerate(job.track_ids))
    return FrameRecord(job.index, job.alpha, faces, job.seen)
