"""``ganimate eval video``: an edited video measured against its input (flicker, background change,
identity), streamed frame by frame.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ganimate import progress, video
from ganimate.errors import GanimateError
from ganimate.evaluation.metrics import (
    FlickerMeter,
    FlickerStats,
    IdentityStats,
    finite_mean,
    identity_stats,
    image_l1,
)
from ganimate.evaluation.protocol import RegionFn, _json_safe, embedding_distance_of
from ganimate.evaluation.readers import Embedder, load_embedder
from ganimate.faces import FaceTracker, largest_face

log = logging.getLogger("ganimate")


# ---------------------------------------------------------------------------------------------
# 4. Videos: an input clip and its edit
# ---------------------------------------------------------------------------------------------


@dataclass
class VideoEvalResult:
    """Metrics of an edited video against its input, frame by frame."""

    frames: int
    frames_with_face: int
    flicker: FlickerStats  # inside the face region
    background_change: float  # mean |out - in| outside the (enlarged) face region, 8-bit levels
    face_change: float  # mean |out - in| inside the face region: how strong the edit is
    identity: IdentityStats | None
    identity_skipped: str | None
    identity_every: int  # identity is measured on every n-th frame with a face
    seconds: float
    source: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return _json_safe(asdict(self))


def measure_video_pair(pairs: Iterable[tuple[np.ndarray, np.ndarray]], locate: RegionFn,
                       embedder: Embedder | None = None, identity_skipped: str | None = None,
                       identity_every: int = 10, identity_threshold: float = 0.6,
                       total: int | None = None) -> VideoEvalResult:
    """Stream (input frame, output frame) pairs through the flicker, background and identity
    metrics; ``locate`` finds the face region on the input frame."""
    t0 = time.perf_counter()
    meter = FlickerMeter()
    frames = with_face = 0
    bg, inside, distances = [], [], []
    with progress.track("measuring video", total=total) as bar:
        for frame_in, frame_out in pairs:
            frames += 1
            found = locate(frame_in)
            region = background = None
            if found is not None:
                region, background = found
                with_face += 1
            meter.update(frame_in, frame_out, region)
            if region is not None:
                inside.append(image_l1(frame_in, frame_out, region))
                bg.append(image_l1(frame_in, frame_out, background))
                if embedder is not None and (with_face - 1) % identity_every == 0:
                    box = embedder.locate(frame_in)
                    ref = embedder.embed(frame_in, box)
                    distances.append(embedding_distance_of(embedder, ref, frame_out, box))
            else:
                bg.append(image_l1(frame_in, frame_out))
            bar.advance(1)
    if frames == 0:
        raise GanimateError("the input video has no frames")
    identity = identity_stats(distances, identity_threshold) if embedder is not None else None
    if embedder is None and identity_skipped is None:
        identity_skipped = "no face embedder given"
    return VideoEvalResult(frames, with_face, meter.result(), finite_mean(bg),
                           finite_mean(inside), identity,
                           None if identity is not None else identity_skipped, identity_every,
                           time.perf_counter() - t0)


def region_from_box(shape: tuple[int, ...], box: tuple[float, float, float, float],
                    margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """(face region, background) masks from a face box (x0, y0, x1, y1) in pixels.

    The face region is the box itself; the background is everything outside the box enlarged by
    ``margin`` of its size on each side, so that a feathered paste-back border is not counted.
    """
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    region = np.zeros((h, w), bool)
    region[max(0, int(y0)):max(0, int(math.ceil(y1))), max(0, int(x0)):max(0, int(math.ceil(x1)))] \
        = True
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    grown = np.zeros((h, w), bool)
    grown[max(0, int(y0 - my)):max(0, int(math.ceil(y1 + my))),
          max(0, int(x0 - mx)):max(0, int(math.ceil(x1 + mx)))] = True
    return region, ~grown


def evaluate_video(input_path: str | Path, output_path: str | Path, identity: bool = True,
                   identity_every: int = 10) -> VideoEvalResult:
    """Compare an edited video with its input: flicker, background, edit strength, identity.

    Both videos are streamed side by side (never held in memory); faces are tracked on the input
    with :class:`ganimate.faces.FaceTracker`, and the largest face of each frame is the one
    measured. The two videos must have the same size; if their frame counts differ, the common
    part is measured and a warning says so.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    for p in (input_path, output_path):
        if not p.is_file():
            raise GanimateError(f"{p}: no such video file")
    info_in = video.probe(input_path)
    info_out = video.probe(output_path)
    if info_in.size != info_out.size:
        raise GanimateError(
            f"{output_path}: {info_out.width}x{info_out.height} does not match the input "
            f"{input_path} ({info_in.width}x{info_in.height}); compare a video with its own edit"
        )
    if info_in.frame_count != info_out.frame_count:
        log.warning("%s has %s frames and %s has %s: measuring the first %s", input_path,
                    info_in.frame_count, output_path, info_out.frame_count,
                    min(info_in.frame_count or 0, info_out.frame_count or 0))
    embedder, skipped = load_embedder(identity)
    with FaceTracker() as tracker:

        def locate(rgb: np.ndarray):
            found = tracker(rgb)
            if not found:
                return None
            # The largest face is the one an edit is about; other faces count as background.
            face = largest_face(found)
            return region_from_box(rgb.shape, face.box.as_tuple())

        pairs = zip(video.read_frames(input_path, info_in),
                    video.read_frames(output_path, info_out), strict=False)
        total = min(info_in.frame_count or 0, info_out.frame_count or 0) or None
        result = measure_video_pair(pairs, locate, embedder, skipped, identity_every, total=total)
    result.source = {"input": str(input_path), "output": str(output_path)}
    return result
