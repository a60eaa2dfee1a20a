"""One frame of a clip edited exactly as ``animate video`` edits it, without rendering the clip:
what the studio shows when the playhead stops on a frame.

A video frame's edit depends on more than the frame: the face's crop and landmarks are smoothed
over a window of frames around it, its own AUs are measured against the person's neutral face
seen so far, and the warp's mouth decisions are carried by the person's track
(:class:`ganimate.engines.mouth_track.MouthTrack`). :class:`ClipPlans` runs the render's own
:class:`ganimate.animation.planner.Planner` over the clip once, in order and only as far as asked,
and keeps each frame's plan without its pixels (the crops the warp reads hold no pixels; a
generator's crops are a few kilobytes); :meth:`ClipPlans.edit` then decodes the one frame by an
exact seek and edits it through the same conditions and the same engine call as the render, so
the frame it returns is the render's frame at that index.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ganimate.animation.conditions import Conditions
from ganimate.animation.config import AnimateConfig
from ganimate.animation.frames import FramePlan
from ganimate.animation.planner import Planner
from ganimate.animation.scan import scan_in_background
from ganimate.animation.stages import edit_jobs
from ganimate.engines import Engine, FrameJob
from ganimate.video import VideoInfo, probe, read_frame_at, read_frames


@dataclass
class EditedFrame:
    """A clip's frame as the render makes it, and what its faces were asked for."""

    rgb: np.ndarray
    job: FrameJob  # its faces, their y_r, the targets and the condition


class ClipPlans:
    """The render's plans of a clip's frames, made in order on demand and kept (see the module's
    docstring). Not thread-safe: the caller holds a lock. :meth:`close` ends the decoder and the
    tracker."""

    def __init__(self, path: str | os.PathLike, engine: Engine,
                 config: AnimateConfig = AnimateConfig(), info: VideoInfo | None = None):
        self.path = Path(path)
        self.info = info or probe(self.path)
        self.engine = engine.for_video()
        self.config = config
        planner = Planner(self.engine, config, float(self.info.fps),
                          scan_in_background(self.path, self.info, self.engine, config))
        self._plans = planner.run(read_frames(self.path, self.info))
        self._kept: list[FramePlan] = []

    def plan(self, index: int) -> FramePlan:
        """Frame ``index``'s plan, without its pixels (``frame`` is None)."""
        while len(self._kept) <= index:
            try:
                p = next(self._plans)
            except StopIteration:
                raise IndexError(f"frame {index}: the clip has {len(self._kept)} frames") from None
            self._kept.append(replace(p, frame=None))
        return self._kept[index]

    def edit(self, index: int, conditions: Conditions) -> EditedFrame:
        """Frame ``index`` decoded and edited as the render edits it under ``conditions``."""
        plan = replace(self.plan(index), frame=read_frame_at(self.path, index, self.info))
        job = conditions.job(plan)
        edit, = edit_jobs([job], self.engine, self.config.blend, False)
        return EditedFrame(edit.frame, job)

    def close(self) -> None:
        self._plans.close()
