"""``ganimate animate image``: one photo, its faces found and cropped once, y_r estimated once,
alpha running 0 -> 1 (or there and back) over the frames; written as H.264 video or a GIF.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ganimate.animation.conditions import Conditions, alpha_schedule
from ganimate.animation.config import ImageAnimation
from ganimate.animation.frames import (
    AnimationResult,
    FramePlan,
    FrameRecord,
    PlannedFace,
    record_of,
)
from ganimate.animation.pipeline import check_output
from ganimate.animation.stages import cpu_threads, edit_jobs
from ganimate.errors import GanimateError
from ganimate.faces import FaceMesh, crop_faces, pick_faces
from ganimate.images import read_photo
from ganimate.progress import track
from ganimate.targets import TargetSpec
from ganimate.video import VideoWriter

if TYPE_CHECKING:
    from ganimate.engines import Engine
    from ganimate.targets import TargetOptions


NOTHING_TO_ANIMATE_IMAGE = ("nothing to animate to: give --to (e.g. --to happy), --au, --like or "
                            "--aus-file")


def check_image_request(photo: str | os.PathLike, out: str | os.PathLike,
                        targets: TargetOptions, settings: ImageAnimation) -> None:
    """Refuse, before any model is loaded, an image animation without a target, with a clip
    of no length, or whose clip would overwrite the photo."""
    targets.require(NOTHING_TO_ANIMATE_IMAGE)
    settings.validate()
    check_output(photo, out)


def animate_image(photo: str | os.PathLike, out: str | os.PathLike, engine: Engine,
                  spec: TargetSpec, settings: ImageAnimation = ImageAnimation(),
                  on_frame: Callable[[FrameRecord], None] | None = None) -> AnimationResult:
    """A clip of a photo's faces moving from their own expression (alpha 0) to the target.

    Frame t is conditioned on ``alpha(t) * y_g + (1 - alpha(t)) * y_r`` (paper, Fig. 1). ``out``:
    .mp4/.mov/.mkv/.m4v (H.264, yuv420p), .gif, or a folder name for PNG frames.
    """
    from ganimate.engines import photo_aus

    still, engine = engine, engine.for_video()  # a still's own AUs are read as a photo's
    photo, out = Path(photo), Path(out)
    check_output(photo, out)
    settings.validate()
    if spec.empty:
        raise GanimateError(NOTHING_TO_ANIMATE_IMAGE)
    n = settings.frames
    schedule = alpha_schedule(n, settings.fps, easing=settings.easing, bounce=settings.bounce)
    writer = VideoWriter(out, fps=settings.fps, crf=settings.crf, preset=settings.preset)
    rgb = read_photo(photo).rgb
    with FaceMesh() as mesh:
        faces = mesh(rgb)
    if not faces:
        raise GanimateError(f"{photo}: no face found; use a photo where a face is clearly "
                            "visible")
    numbers = pick_faces(faces, settings.face, photo)
    faces = [faces[i] for i in numbers]
    crops = crop_faces(rgb, faces, engine.image_size)
    y_r = photo_aus(still, faces, settings.estimator)
    conditions = Conditions(schedule, spec, tuple(engine.au_names), settings.fps)
    # the still photo's plan, the same at every frame: its faces, their crops and own AUs
    planned = [PlannedFace(number, crop, y) for number, crop, y in zip(numbers, crops, y_r,
                                                                        strict=True)]
    started = time.perf_counter()
    per_batch = max(1, settings.batch_size // len(crops))
    # The writer removes its partial output if anything below fails.
    with writer, cpu_threads(engine), track(f"animating {photo.name}", total=n) as bar:
        for start in range(0, n, per_batch):
            jobs = [conditions.job(FramePlan(i, rgb, planned, tuple(numbers)))
                    for i in range(start, min(n, start + per_batch))]
            for job, edit in zip(jobs, edit_jobs(jobs, engine, settings.blend, False),
                                 strict=True):
                writer.write(edit.frame)
                if on_frame is not None:
                    on_frame(record_of(job))
            bar.advance(len(jobs))
    return AnimationResult(out, n, n, tuple(numbers), time.perf_counter() - started)
