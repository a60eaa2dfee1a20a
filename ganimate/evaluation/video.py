"""``ganimate eval video``: an edited video measured against its input (flicker, background change,
identity; frame to frame: teeth pops, mouth flicker, edit-layer flicker, expression reads and a
strip image), streamed frame by frame.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ganimate import progress, video
from ganimate.errors import GanimateError
from ganimate.evaluation.config import MOUTH_COVERED, READ_EVERY
from ganimate.evaluation.emotion import LABELS
from ganimate.evaluation.metrics import (
    FlickerMeter,
    FlickerStats,
    IdentityStats,
    finite_mean,
    identity_stats,
    image_l1,
)
from ganimate.evaluation.mouth import (
    INNER_LIPS,
    MouthFlicker,
    MouthFlickerMeter,
    TeethPopMeter,
    TeethPops,
    read_mouth,
)
from ganimate.evaluation.protocol import embedding_distance_of, json_safe
from ganimate.evaluation.readers import Embedder, load_embedder
from ganimate.evaluation.video_frames import (
    Box,
    EditFlicker,
    EditFlickerMeter,
    ExpressionMeter,
    ExpressionReads,
    FrameStrip,
)
from ganimate.faces import Face, FaceTracker, HandTracker, largest_face
from ganimate.faces.hands import covered_share
from ganimate.faces.mesh import Box as FaceBox

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
    edit_flicker: EditFlicker  # flicker of the edit layer out - in, inside the face region
    teeth: TeethPops  # teeth appearing / vanishing between frames (evaluation.mouth)
    mouth_flicker: MouthFlicker  # frame-to-frame change inside the inner mouth
    expressions: ExpressionReads | None  # the FER-2013 classifier per frame; None: none read
    # Frames with a face whose inner lips a hand covered (more than MOUTH_COVERED): the teeth
    # and mouth measures do not read them (a covered mouth's reads are the hand's).
    mouth_covered: int = 0
    strip: str | None = None  # the strip image written, if any
    source: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return json_safe(asdict(self))


@dataclass(frozen=True)
class FoundFace:
    """The input's face in one frame: region masks (see :func:`region_from_box`) and, from a
    tracker, its box and landmarks (without them the mouth, expression and strip measures skip
    the frame)."""

    region: np.ndarray
    background: np.ndarray
    box: Box | None = None
    landmarks: np.ndarray | None = None
    # The share of the inner lips a hand covers (:func:`ganimate.faces.hands.covered_share`).
    mouth_covered: float = 0.0


# Finds the output's face landmarks in an output frame, given the input's face of that frame (None:
# no face there; it is called on every frame, so that a tracker follows the whole clip).
OutputFaceFn = Callable[[np.ndarray, "FoundFace | None"], "np.ndarray | None"]

# Strip columns when --strip-every is not given (and the frame count is known).
STRIP_COLUMNS = 8


@dataclass(frozen=True)
class FrameOptions:
    """What the frame-to-frame measures read: the classifier on every ``read_every``-th frame
    (if it has a face; 0: never), ``expect`` the label the edit asks for, the strip every
    ``strip_every``-th frame (None: about ``STRIP_COLUMNS`` columns over the clip)."""

    read_every: int = READ_EVERY
    expect: str | None = None
    strip_every: int | None = None

    def __post_init__(self) -> None:
        if self.expect is not None and self.expect not in LABELS:
            raise GanimateError(f"unknown expression {self.expect!r} to expect; the classifier "
                                f"reads {', '.join(LABELS)}")
        if self.read_every < 0 or (self.strip_every is not None and self.strip_every < 1):
            raise GanimateError("read_every must be >= 0 and strip_every >= 1")


class FrameMeters:
    """The frame-to-frame measures of one video pair, fed frame by frame."""

    def __init__(self, options: FrameOptions = FrameOptions(), total: int | None = None) -> None:
        every = options.strip_every or (max(1, math.ceil(total / STRIP_COLUMNS)) if total else 30)
        self.edit = EditFlickerMeter()
        self.teeth = TeethPopMeter()
        self.mouth = MouthFlickerMeter()
        self.expressions = (ExpressionMeter(options.read_every, options.expect)
                            if options.read_every else None)
        self.strip = FrameStrip(every)
        self.covered = 0  # frames whose mouth a hand covered

    def update(self, index: int, frame_in: np.ndarray, frame_out: np.ndarray,
               face: FoundFace | None, landmarks_out: np.ndarray | None) -> None:
        self.edit.update(frame_in, frame_out, None if face is None else face.region)
        read_in = read_out = None
        covered = face is not None and face.mouth_covered > MOUTH_COVERED
        self.covered += covered
        if (not covered and face is not None and face.landmarks is not None
                and landmarks_out is not None):
            read_in, read_out = read_mouth(frame_in, face.landmarks), read_mouth(frame_out,
                                                                                 landmarks_out)
        self.teeth.update(read_in, read_out)
        self.mouth.update(frame_in, frame_out, read_in, read_out)
        box = None if face is None else face.box
        if self.expressions is not None:
            self.expressions.update(index, frame_in, frame_out, box)
        self.strip.update(index, frame_in, frame_out, box)

    def results(self) -> FrameResults:
        return FrameResults(self.edit.result(), self.teeth.result(), self.mouth.result(),
                            None if self.expressions is None else self.expressions.result(),
                            self.covered)


@dataclass(frozen=True)
class FrameResults:
    """What :class:`FrameMeters` measured (fields of :class:`VideoEvalResult`)."""

    edit_flicker: EditFlicker
    teeth: TeethPops
    mouth_flicker: MouthFlicker
    expressions: ExpressionReads | None
    mouth_covered: int = 0


def measure_video_pair(pairs: Iterable[tuple[np.ndarray, np.ndarray]],
                       locate: Callable[[np.ndarray], FoundFace | None],
                       embedder: Embedder | None = None, identity_skipped: str | None = None,
                       identity_every: int = 10, identity_threshold: float = 0.6,
                       total: int | None = None, locate_out: OutputFaceFn | None = None,
                       meters: FrameMeters | None = None) -> VideoEvalResult:
    """Stream (input frame, output frame) pairs through the flicker, background, identity and
    frame-to-frame metrics; ``locate`` finds the face on the input frame (a :class:`FoundFace`),
    ``locate_out`` the output face's landmarks."""
    t0 = time.perf_counter()
    meter = FlickerMeter()
    meters = meters if meters is not None else FrameMeters(total=total)
    frames = with_face = 0
    bg, inside, distances = [], [], []
    with progress.track("measuring video", total=total) as bar:
        for frame_in, frame_out in pairs:
            frames += 1
            face = locate(frame_in)
            meter.update(frame_in, frame_out, None if face is None else face.region)
            landmarks_out = None if locate_out is None else locate_out(frame_out, face)
            if face is not None:
                with_face += 1
                inside.append(image_l1(frame_in, frame_out, face.region))
                bg.append(image_l1(frame_in, frame_out, face.background))
                if embedder is not None and (with_face - 1) % identity_every == 0:
                    distances.append(_identity_distance(embedder, frame_in, frame_out))
            else:
                bg.append(image_l1(frame_in, frame_out))
            meters.update(frames - 1, frame_in, frame_out, face, landmarks_out)
            bar.advance(1)
    if frames == 0:
        raise GanimateError("the input video has no frames")
    identity = identity_stats(distances, identity_threshold) if embedder is not None else None
    if embedder is None and identity_skipped is None:
        identity_skipped = "no face embedder given"
    measured = meters.results()
    return VideoEvalResult(
        frames, with_face, meter.result(), finite_mean(bg), finite_mean(inside), identity,
        None if identity is not None else identity_skipped, identity_every,
        time.perf_counter() - t0, measured.edit_flicker, measured.teeth, measured.mouth_flicker,
        measured.expressions, measured.mouth_covered)


def _identity_distance(embedder: Embedder, frame_in: np.ndarray, frame_out: np.ndarray) -> float:
    box = embedder.locate(frame_in)
    ref = embedder.embed(frame_in, box)
    return embedding_distance_of(embedder, ref, frame_out, box)


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
                   identity_every: int = 10, frame_options: FrameOptions = FrameOptions(),
                   strip: str | Path | None = None) -> VideoEvalResult:
    """Compare an edited video with its input: flicker, background, edit strength, identity, and
    frame to frame the teeth, the mouth, the edit layer and the expression read (``strip``: write
    the strip image there).

    Both videos are streamed side by side (never held in memory); faces are tracked with
    :class:`ganimate.faces.FaceTracker`, one on each video, and the largest face of each input
    frame is the one measured (on the output: the face over it). The two videos must have the
    same size; if their frame counts differ, the common part is measured and a warning says so.
    """
    input_path, output_path = Path(input_path), Path(output_path)
    info_in, info_out = _probe_pair(input_path, output_path)
    embedder, skipped = load_embedder(identity)
    total = min(info_in.frame_count or 0, info_out.frame_count or 0) or None
    meters = FrameMeters(frame_options, total)
    with FaceTracker() as tracker, FaceTracker() as tracker_out, HandTracker() as hands:

        def locate(rgb: np.ndarray) -> FoundFace | None:
            found = tracker(rgb)
            in_front = hands(rgb)  # every frame: the hand tracker follows the clip
            if not found:
                return None
            # The largest face is the one an edit is about; other faces count as background.
            face = largest_face(found)
            box = face.box.as_tuple()
            covered = covered_share(in_front, face.landmarks[list(INNER_LIPS)])
            return FoundFace(*region_from_box(rgb.shape, box), box, face.landmarks, covered)

        def locate_out(rgb: np.ndarray, face: FoundFace | None) -> np.ndarray | None:
            found = tracker_out(rgb)
            return None if face is None else _face_over(found, face.box)

        pairs = zip(video.read_frames(input_path, info_in),
                    video.read_frames(output_path, info_out), strict=False)
        result = measure_video_pair(pairs, locate, embedder, skipped, identity_every,
                                    total=total, locate_out=locate_out, meters=meters)
    if strip is not None:
        written = meters.strip.write(strip)
        result.strip = None if written is None else str(written)
    result.source = {"input": str(input_path), "output": str(output_path)}
    return result


def _probe_pair(input_path: Path, output_path: Path) -> tuple[video.VideoInfo, video.VideoInfo]:
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
    return info_in, info_out


def _face_over(faces: list[Face], box: Box | None, min_iou: float = 0.3) -> np.ndarray | None:
    """Landmarks of the face among ``faces`` that overlaps ``box`` most (at least ``min_iou``)."""
    if not faces or box is None:
        return None
    target = FaceBox(*box)
    best = max(faces, key=lambda f: f.box.iou(target))
    return best.landmarks if best.box.iou(target) >= min_iou else None
