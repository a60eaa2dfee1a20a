"""Animate expressions over time: a photo into a clip, or the faces of a video, streamed.

Both paths condition the generator at frame t on ``alpha(t) * y_g(t) + (1 - alpha(t)) * y_r(t)``
(:func:`frame_condition`), alpha following an :class:`ganimate.targets.AlphaSchedule`:

- :func:`animate_image` (``ganimate animate image``): one photo, its faces found and cropped once,
  y_r estimated once, alpha running 0 -> 1 (or there and back with ``bounce``) over the requested
  number of frames; written as H.264 video or a GIF.
- :func:`animate_video` (``ganimate animate video``): a pipeline of threads joined by small bounded
  queues, so that memory stays flat however long the clip is and the stages overlap::

      decode (ffmpeg) -> track + plan (mediapipe, AUs, smoothing) -> G + paste-back -> encode

  * faces are followed by :class:`ganimate.faces.FaceTracker` (stable ids, the ``face`` column of
    ``ganimate aus``); ``face=N`` edits only that track;
  * the alignment transform of each face is smoothed over time by a Savitzky-Golay filter (a local
    least-squares polynomial) over a short window centred on the frame, so the planner holds a
    small look-ahead queue of frames; the crop is then cut through the smoothed transform and does
    not jitter with the landmark noise;
  * y_r(t) is each face's AU estimate, lightly smoothed the same way and, by default, relative to
    the person's neutral face (:class:`ganimate.aus.NeutralBaseline`, per track);
  * y_g(t) is built from y_r(t) by a :class:`ganimate.targets.TargetSpec` (so relative changes
    follow the source), or taken from a driver's AU track (``track``) resampled to the clip's rate;
  * faces from several frames are batched through G; frames without an edited face are passed to
    the encoder untouched (the very same array), so a lossless output is bit-identical there;
  * the output keeps the input's size, frame rate, frame count, display rotation and audio.

Everything is validated (paths, schedule, track) before the first byte is written, and a failure
at any stage removes the partial output.
"""

from __future__ import annotations

import contextvars
import os
import queue
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ganimate import files
from ganimate.align import FaceCrop, crop_transform, crop_with_transform
from ganimate.aus import NeutralBaseline
from ganimate.blend import BlendConfig, paste_back
from ganimate.engines import FrameJob, as_engine
from ganimate.errors import GanimateError
from ganimate.files import same_file
from ganimate.progress import log, track
from ganimate.targets import (
    EASINGS,
    AlphaSchedule,
    AUTrack,
    TargetSpec,
    bounce_schedule,
    build_target,
    condition,
    hold_schedule,
    parse_ramp,
    ramp_schedule,
    read_au_track,
)
from ganimate.timing import StageTimes, measuring, process_age, stage, timed

if TYPE_CHECKING:
    from ganimate.editing import TargetOptions

# =============================================================================================
# The condition at frame t (pure)
# =============================================================================================


@dataclass(frozen=True)
class FrameCondition:
    """What G is asked for at one frame, for F faces (rows in the frame's face order)."""

    alpha: float
    y_r: np.ndarray  # float32 (F, K): the faces' own AUs at this frame
    y_g: np.ndarray  # float32 (F, K): the targets
    condition: np.ndarray  # float32 (F, K): alpha * y_g + (1 - alpha) * y_r, handed to G


def frame_condition(alpha: float, y_r: np.ndarray, spec: TargetSpec,
                    au_names: Sequence[str], driver: np.ndarray | None = None
                    ) -> FrameCondition:
    """The generator's condition at one frame: ``alpha * y_g + (1 - alpha) * y_r``.

    ``y_r`` is (F, K) (or (K,)), the source AUs of the frame's faces. ``y_g`` is built from y_r by
    ``spec`` (presets, --like, --aus-file, --au; relative changes on the source), or, with a
    ``driver`` AU vector (K,) from a track, from the driver's AUs with ``spec`` on top.
    """
    y_r = np.atleast_2d(np.asarray(y_r, dtype=np.float32))
    base = y_r if driver is None else np.broadcast_to(
        np.asarray(driver, dtype=np.float32), y_r.shape)
    y_g = build_target(base, spec, au_names)
    alpha = float(alpha)
    return FrameCondition(alpha, y_r, y_g, condition(alpha, y_g, y_r))


def alpha_schedule(n_frames: int, fps: float, ramp: str | None = None, hold: bool = False,
                   easing: str | None = None, bounce: bool = False,
                   default: str = "ramp") -> AlphaSchedule:
    """The alpha schedule of a clip from the command-line choices.

    ``ramp``: keyframes (see :func:`ganimate.targets.parse_ramp`); ``hold``: alpha 1 throughout;
    ``bounce``: 0 -> 1 -> 0; otherwise ``default`` ("ramp": 0 -> 1 over the clip, "hold").
    ``easing`` applies to the ramp's segments (default linear; cosine for a bounce).
    """
    if sum([ramp is not None, hold, bounce]) > 1:
        raise GanimateError("choose one of --ramp, --hold and --bounce")
    if easing is not None and easing not in EASINGS:
        raise GanimateError(f"--easing {easing!r}: use one of {', '.join(EASINGS)}")
    n = max(int(n_frames), 1)
    if ramp is not None:
        return parse_ramp(ramp, float(fps), n, easing or "linear")
    if hold or (default == "hold" and not bounce):
        return hold_schedule(n)
    if bounce:
        return bounce_schedule(n, easing or "cosine")
    return ramp_schedule(n, easing or "linear")


# =============================================================================================
# Temporal smoothing (Savitzky-Golay: local least-squares polynomials)
# =============================================================================================


def savgol_at(xs: np.ndarray, ys: np.ndarray, x0: float, degree: int) -> np.ndarray:
    """Value at ``x0`` of the least-squares polynomial of ``degree`` through samples (xs, ys).

    On a full, evenly spaced window centred on x0 this is exactly the Savitzky-Golay filter
    (``scipy.signal.savgol_filter``); at the ends of a track, or across frames where the face was
    lost, it is the same local fit on the samples there are (the degree drops when there are too
    few), so the smoothed path never overshoots into frames that do not exist.
    """
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    deg = min(int(degree), len(xs) - 1)
    if deg <= 0:
        return ys.mean(axis=0)
    t = xs - x0
    # Scale t to [-1, 1] so the Vandermonde system stays well conditioned.
    span = max(np.abs(t).max(), 1.0)
    v = (t / span)[:, None] ** np.arange(deg + 1)
    coef, *_ = np.linalg.lstsq(v, ys, rcond=None)
    return coef[0]


def similarity_params(to_frame: np.ndarray) -> np.ndarray:
    """(a, b, tx, ty) of a similarity [[a, -b, tx], [b, a, ty]]: linear in the transform, so
    smoothing the parameters smooths the crop's position, scale and roll together."""
    m = np.asarray(to_frame, dtype=np.float64)
    return np.array([(m[0, 0] + m[1, 1]) / 2, (m[1, 0] - m[0, 1]) / 2, m[0, 2], m[1, 2]])


def similarity_matrix(params: np.ndarray) -> np.ndarray:
    a, b, tx, ty = (float(v) for v in params)
    return np.array([[a, -b, tx], [b, a, ty]], dtype=np.float64)


# =============================================================================================
# Settings and records
# =============================================================================================


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
    # AU estimator for y_r (see ganimate.aus.ESTIMATORS).
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


# =============================================================================================
# Threads joined by bounded queues
# =============================================================================================

_DONE = object()


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


class _Stage:
    """Runs ``make()`` (an iterable) in a worker thread; iterate the stage to get its items.

    The queue between the worker and the consumer holds at most ``maxsize`` items. An exception
    in the worker is re-raised in the consumer; :meth:`close` (or ``stop`` being set) makes the
    worker stop at its next item and close its iterator (which ends e.g. an ffmpeg decoder).
    """

    def __init__(self, make: Callable[[], Iterable], maxsize: int, stop: threading.Event,
                 name: str):
        self._make = make
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, maxsize))
        self._stop = stop
        # the worker runs in a copy of this context: it adds to the same StageTimes
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._run,),
                                        name=f"ganimate-{name}", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        it = None
        try:
            it = iter(self._make())
            for item in it:
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(_Failed(exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing after a failure: the first error wins
                    pass

    def __iter__(self) -> Iterator:
        while True:
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    return  # stopped from outside
                continue
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():
            try:  # unblock a worker waiting on a full queue
                self._queue.get_nowait()
            except queue.Empty:
                pass
            self._thread.join(timeout=0.05)


_FINISH = object()
_ABORT = object()


class _Encoder:
    """The encoding thread: writes frame tuples to one writer each, closes or aborts them."""

    def __init__(self, writers: Sequence, maxsize: int):
        self.writers = list(writers)
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, maxsize))
        self._abort = threading.Event()
        self._thread = threading.Thread(target=contextvars.copy_context().run, args=(self._run,),
                                        name="ganimate-encode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _FINISH:
                    for w in self.writers:
                        w.close()
                    return
                if item is _ABORT or self._abort.is_set():
                    break
                with stage("encode"):
                    for w, frame in zip(self.writers, item, strict=True):
                        if w is not None:
                            w.write(frame)
        except BaseException as exc:  # re-raised by the producer
            self.error = exc
        for w in self.writers:
            w.abort()

    def put(self, frames: tuple) -> None:
        while True:
            if self.error is not None:
                raise self.error
            if not self._thread.is_alive():
                raise GanimateError("the encoder stopped unexpectedly")
            try:
                self._queue.put(frames, timeout=0.1)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        self.put(_FINISH)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        self._abort.set()
        while self._thread.is_alive():
            try:
                self._queue.put(_ABORT, timeout=0.05)
            except queue.Full:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass
            self._thread.join(timeout=0.05)
        for w in self.writers:
            w.abort()


@contextmanager
def _cpu_threads(engine, workers: int = 1) -> Iterator[None]:
    """The thread pools of one run, set once here and restored afterwards (docs/benchmarks.md).

    - Frames edited in ``workers`` > 1 threads (the warp): OpenCV's own pool is cut to one
      thread, so a frame's remaps are not split across cores that already edit a frame each.
    - A generator on the CPU: torch's intra-op threads spin at barriers; when decoding,
      mediapipe, paste-back and the encoder run beside them on a busy machine, a full-width pool
      stalls (measured on 2 cores: 1.2 s instead of 5 ms for one small crop), so two cores are
      left to the rest of the pipeline.

    Left alone: OpenBLAS (the spline's ~520 x 520 LU stays on the calling thread: no other busy
    thread showed up in a per-thread profile) and mediapipe's graph threads (its calculators,
    ~7 ms a 512 px frame; the planner waits on them).
    """
    import contextlib

    with contextlib.ExitStack() as stack:
        if workers > 1:
            import cv2

            before_cv = cv2.getNumThreads()
            cv2.setNumThreads(1)
            stack.callback(cv2.setNumThreads, before_cv)
        loaded = getattr(engine, "loaded", None)
        if loaded is not None and loaded.device.type == "cpu":
            import torch

            before = torch.get_num_threads()
            torch.set_num_threads(max(1, min(before, (os.cpu_count() or 1) - 2)))
            stack.callback(torch.set_num_threads, before)
        yield


# =============================================================================================
# Paths
# =============================================================================================


def check_output(src: str | os.PathLike, out: str | os.PathLike,
                 preview: str | os.PathLike | None = None) -> None:
    """Refuse outputs that would overwrite the input (or each other) or that cannot be written
    (a folder that is a file, or not writable), before anything runs."""
    src, out = Path(src), Path(out)
    if same_file(src, out):
        raise GanimateError(f"{out}: the output would overwrite the input; choose another path")
    files.check_output(out, "-o")
    if preview is not None:
        p = Path(preview)
        if same_file(src, p) or same_file(out, p):
            raise GanimateError(f"--preview {p}: must differ from the input and the output")
        files.check_output(p, "--preview")


# The errors of `animate video` and `animate image` without a target.
NOTHING_TO_ANIMATE_VIDEO = ("nothing to animate to: give --expression, --au, --like, --aus-file "
                            "or --track (e.g. --expression happy)")
NOTHING_TO_ANIMATE_IMAGE = ("nothing to animate to: give --to (e.g. --to happy), --au, --like or "
                            "--aus-file")


def check_video_request(src: str | os.PathLike, out: str | os.PathLike, targets: TargetOptions,
                        timeline: Timeline, preview: str | os.PathLike | None = None) -> None:
    """Refuse, before any model is loaded, a video animation without a target (neither target
    options nor a driver track) or whose outputs would overwrite the input."""
    if not (targets.given or timeline.track):
        raise GanimateError(NOTHING_TO_ANIMATE_VIDEO)
    check_output(src, out, preview)


def check_image_request(photo: str | os.PathLike, out: str | os.PathLike,
                        targets: TargetOptions, settings: ImageAnimation) -> None:
    """Refuse, before any model is loaded, an image animation without a target, with a clip
    of no length, or whose clip would overwrite the photo."""
    targets.require(NOTHING_TO_ANIMATE_IMAGE)
    settings.validate()
    check_output(photo, out)


# =============================================================================================
# Video: planning (tracking, smoothing, y_r) in a worker thread
# =============================================================================================


@dataclass
class _PlannedFace:
    track_id: int
    crop: FaceCrop
    y_r: np.ndarray  # (K,) smoothed and baselined, model AU order


@dataclass
class _Plan:
    index: int
    frame: np.ndarray
    faces: list[_PlannedFace]
    seen: tuple[int, ...]


@dataclass
class _TrackState:
    size: int  # crop side, fixed for the track
    samples: deque  # (frame index, similarity params (4,), raw y (K,), landmarks (478, 3))
    baseline: NeutralBaseline | None
    last_seen: int = 0


@dataclass
class _Pending:
    index: int
    frame: np.ndarray
    faces: list[int]  # track ids of the faces to edit
    seen: tuple[int, ...]


class _Planner:
    """Tracks faces and turns frames into plans (crops through smoothed transforms + y_r).

    A frame's plan is emitted ``lookahead`` frames after the frame arrived, once the smoothing
    window around it is known (fewer at the end of the clip).
    """

    def __init__(self, engine, config: AnimateConfig, fps: float):
        self.engine = engine
        self.config = config
        self.lookahead = max(0, int(round(config.smooth * fps)))
        self.model_size = engine.image_size
        self.pixels = _has_network(engine)  # the warp reads a crop's landmarks, not its pixels
        self.tracks: dict[int, _TrackState] = {}
        self.pending: deque[_Pending] = deque()
        self.keep = 2 * self.lookahead + 1 + 2 * max(config.au_smooth, 0)

    def run(self, frames: Iterable[np.ndarray]) -> Iterator[_Plan]:
        from ganimate.editing import crop_size_for, source_aus
        from ganimate.faces import FaceTracker

        with FaceTracker(max_faces=self.config.max_faces) as tracker:
            for index, frame in enumerate(frames):
                with stage("landmarks"):
                    faces = tracker(frame)
                keep = []
                for f in faces:
                    if self.config.face is not None and f.track_id != self.config.face:
                        continue
                    if f.eye_distance < self.config.min_eye_distance:
                        continue
                    keep.append(f)
                if keep:
                    with stage("aus"):
                        raw = source_aus(keep, self.engine, self.config.estimator)
                for j, f in enumerate(keep):
                    state = self.tracks.get(f.track_id)
                    if state is None:
                        size = crop_size_for([f], self.model_size, self.config.max_crop)
                        baseline = NeutralBaseline() if self.config.baseline else None
                        state = self.tracks[f.track_id] = _TrackState(size, deque(), baseline)
                    m = crop_transform(f, state.size)
                    state.samples.append((index, similarity_params(m), raw[j], f.landmarks))
                    state.last_seen = index
                    if state.baseline is not None:
                        state.baseline.update(raw[j])
                self.pending.append(_Pending(index, frame, [f.track_id for f in keep],
                                             tuple(f.track_id for f in faces)))
                while len(self.pending) > self.lookahead:
                    yield self._emit(self.pending.popleft())
                self._forget(index)
            while self.pending:
                yield self._emit(self.pending.popleft())

    def _emit(self, p: _Pending) -> _Plan:
        """The plan of frame ``p``: each face cut through its smoothed transform, with its
        landmarks (what the warp moves) smoothed over the same window, and its smoothed y_r."""
        planned = []
        for tid in p.faces:
            state = self.tracks[tid]
            xs = np.array([s[0] for s in state.samples])
            near = np.abs(xs - p.index) <= self.lookahead
            params = np.stack([s[1] for s in state.samples])[near]
            marks = np.stack([s[3] for s in state.samples])[near]
            if self.lookahead > 0:
                smoothed = savgol_at(xs[near], params, p.index, self.config.smooth_degree)
                landmarks = savgol_at(xs[near], marks.reshape(len(marks), -1), p.index,
                                      self.config.smooth_degree).reshape(marks.shape[1:])
            else:
                smoothed, landmarks = params[xs[near] == p.index][0], marks[xs[near] == p.index][0]
            near_au = np.abs(xs - p.index) <= self.config.au_smooth
            ys = np.stack([s[2] for s in state.samples])[near_au]
            y = np.clip(savgol_at(xs[near_au], ys, p.index, 2), 0.0, 1.0).astype(np.float32)
            if state.baseline is not None:
                y = state.baseline.apply(y, fade_in=True)
            crop = crop_with_transform(p.frame, similarity_matrix(smoothed), state.size,
                                       landmarks, pixels=self.pixels)
            planned.append(_PlannedFace(tid, crop, y))
        return _Plan(p.index, p.frame, planned, p.seen)

    def _forget(self, index: int) -> None:
        """Drop samples outside every future window, and tracks gone for good."""
        horizon = index - self.keep
        for tid in list(self.tracks):
            state = self.tracks[tid]
            while state.samples and state.samples[0][0] < horizon:
                state.samples.popleft()
            # The tracker gives a returning face a new id after 15 missed frames; keep ours
            # until no pending frame can refer to it.
            if not state.samples and index - state.last_seen > self.keep + 30:
                del self.tracks[tid]


# =============================================================================================
# Generator + paste-back on batches of frames
# =============================================================================================


@dataclass
class _Job:
    """One frame on its way through G: its faces, what they are conditioned on."""

    index: int
    frame: np.ndarray
    crops: list[FaceCrop]
    cond: FrameCondition | None
    track_ids: list[int]
    seen: tuple[int, ...]


def _run_jobs(jobs: list[_Job], engine, blend: BlendConfig, want_weights: bool
              ) -> list[tuple[np.ndarray, list]]:
    """Edit the faces of ``jobs`` with the engine (one call: the generator batches them).

    Returns per job (output frame, [(crop, weight)] for previews). A job without faces returns
    its input frame object itself.
    """
    k = len(engine.au_names)
    frames = [FrameJob(job.frame, job.crops,
                       job.cond.y_r if job.cond is not None else np.zeros((0, k), np.float32),
                       job.cond.condition if job.cond is not None else np.zeros((0, k),
                                                                                np.float32))
              for job in jobs]
    edits = engine.edit_frames(frames, blend, want_weights)
    # weights is empty unless asked for: then there are no pairs
    return [(e.frame, list(zip(e.crops, e.weights, strict=False))) for e in edits]


# Width of each panel of a --preview video (wider inputs are scaled down).
PREVIEW_PANEL_WIDTH = 640


def preview_frame(source: np.ndarray, output: np.ndarray,
                  weights: Sequence[tuple[FaceCrop, np.ndarray]]) -> np.ndarray:
    """input | output | change map (white where the generator's output was blended in)."""
    import cv2

    h, w = source.shape[:2]
    change = np.zeros_like(source)
    white = None
    for crop, weight in weights:
        if white is None or white.shape[0] != crop.size:
            white = np.full((crop.size, crop.size, 3), 255, np.uint8)
        paste_back(change, white, crop.to_frame, weight, out=change)
    panels = [source, output, change]
    if w > PREVIEW_PANEL_WIDTH:
        size = (PREVIEW_PANEL_WIDTH, max(2, int(round(h * PREVIEW_PANEL_WIDTH / w))))
        panels = [cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in panels]
    return np.hstack(panels)


# =============================================================================================
# animate video
# =============================================================================================


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
class _Conditions:
    """What frame i of a video is conditioned on: alpha(i), and y_g from the spec or a driver."""

    schedule: AlphaSchedule
    spec: TargetSpec
    au_names: tuple[str, ...]
    fps: float
    driver: AUTrack | None = None
    offset: float = 0.0  # driver time of frame 0

    def alpha(self, index: int) -> float:
        return float(self.schedule(index))

    def job(self, p: _Plan) -> _Job:
        cond = None
        if p.faces:
            y_track = None
            if self.driver is not None:
                y_track = self.driver.at(self.offset + p.index / self.fps)
            cond = frame_condition(self.alpha(p.index), np.stack([f.y_r for f in p.faces]),
                                   self.spec, self.au_names, y_track)
        return _Job(p.index, p.frame, [f.crop for f in p.faces], cond,
                    [f.track_id for f in p.faces], p.seen)


def _conditions(timeline: Timeline, spec: TargetSpec, au_names: tuple[str, ...], n: int,
                fps: float) -> _Conditions:
    """The schedule and the driver of ``timeline``, checked before anything is written."""
    schedule = alpha_schedule(n, fps, timeline.ramp, timeline.hold, timeline.easing,
                              default="hold" if timeline.track is not None else "ramp")
    driver = None
    if timeline.track is not None:
        try:
            driver = read_au_track(timeline.track, au_names, face=timeline.track_face)
        except GanimateError as exc:  # here the driver's face is chosen with --track-face
            raise GanimateError(str(exc).replace("with --face", "with --track-face")) from None
        if driver.times[-1] < timeline.track_offset + (n - 1) / fps:
            log.info("--track %s: the driver ends at %.2f s, before the clip (%.2f s); its "
                     "last AUs are held", timeline.track, driver.times[-1], (n - 1) / fps)
    return _Conditions(schedule, spec, au_names, fps, driver, timeline.track_offset)


def _video_writers(src: Path, out: Path, preview: str | os.PathLike | None, info,
                   config: AnimateConfig) -> list:
    """The output's writer (the input's rate, rotation, timestamps and audio), and the
    preview's."""
    from ganimate.video import VideoWriter

    audio = src if info.has_audio else None
    writers = [VideoWriter(out, fps=info.fps, crf=config.crf, preset=config.preset,
                           audio_from=audio, rotation=info.rotation, lossless=config.lossless,
                           timestamps=info.timestamps)]
    if preview is not None:
        writers.append(VideoWriter(preview, fps=info.fps, crf=config.crf, preset=config.preset,
                                   audio_from=audio, rotation=info.rotation,
                                   timestamps=info.timestamps))
    return writers


class _VideoPipeline:
    """The threads of one video animation: decode -> track + plan -> (G + paste-back, in the
    caller) -> encode. Iterate :attr:`plans`, hand finished frames to :meth:`encode`; leaving the
    ``with`` block closes the stages and finishes the writers, or, on any failure, stops every
    thread and removes the partial outputs."""

    def __init__(self, src: Path, info, engine, config: AnimateConfig, writers: list):
        from ganimate.video import read_frames

        self._stop = threading.Event()
        self._encoder = _Encoder(writers, config.queue_frames)
        self._decode = self._plan = None
        try:
            self._decode = _Stage(lambda: timed(read_frames(src, info), "decode"),
                                  config.queue_frames,
                                  self._stop, "decode")
            planner = _Planner(engine, config, float(info.fps))
            self._plan = _Stage(lambda: planner.run(self._decode), config.queue_frames,
                                self._stop, "plan")
        except BaseException:
            self._abort()
            raise

    @property
    def plans(self) -> _Stage:
        return self._plan

    def encode(self, frames: tuple) -> None:
        self._encoder.put(frames)

    def __enter__(self) -> _VideoPipeline:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._abort()
            return
        try:
            self._plan.close()
            self._decode.close()
            self._encoder.finish()
        except BaseException:
            self._abort()
            raise

    def _abort(self) -> None:
        self._stop.set()
        for worker in (self._plan, self._decode):
            if worker is not None:
                worker.close()
        self._encoder.abort()


@dataclass
class _Tally:
    """Frames written and edited so far, the track ids edited, the start-up time."""

    written: int = 0
    edited: int = 0
    ids: set[int] = field(default_factory=set)
    first: float | None = None  # seconds until the first batch of frames was edited
    first_at: float | None = None  # process age when the first frame went to the encoder

    def add(self, job: _Job) -> None:
        self.written += 1
        if job.crops:
            self.edited += 1
            self.ids.update(job.track_ids)


def _probe_request(src: Path, out: Path, spec: TargetSpec, timeline: Timeline,
                   preview: str | os.PathLike | None):
    """The input's VideoInfo, once the paths and the target are checked."""
    from ganimate.video import probe

    check_output(src, out, preview)
    if not src.exists():
        raise GanimateError(f"{src}: no such video file")
    if spec.empty and timeline.track is None:
        raise GanimateError(NOTHING_TO_ANIMATE_VIDEO)
    return probe(src)


def animate_video(src: str | os.PathLike, out: str | os.PathLike, engine,
                  spec: TargetSpec, config: AnimateConfig = AnimateConfig(),
                  timeline: Timeline = Timeline(), preview: str | os.PathLike | None = None,
                  on_frame: Callable[[FrameRecord], None] | None = None) -> AnimationResult:
    """Change the expression of the faces of a video, streamed frame by frame.

    ``spec`` says what the target is; ``timeline`` when alpha moves and whether a driver's AU
    track gives y_g instead. ``out`` is a video file (.mp4/.mov/.mkv/.m4v), a .gif, or a folder
    name without suffix for PNG frames (exact). ``preview`` writes input | output | change map
    side by side. ``on_frame`` is called with a :class:`FrameRecord` for every frame, in order.
    """
    engine = as_engine(engine).for_video()
    src, out = Path(src), Path(out)
    info = _probe_request(src, out, spec, timeline, preview)
    n = info.frame_count or 1
    conditions = _conditions(timeline, spec, tuple(engine.au_names), n, float(info.fps))
    with _removed_if_interrupted(out, preview):
        return _animate(src, out, engine, config, preview, on_frame, info, conditions)


@contextmanager
def _removed_if_interrupted(*outputs):
    """On Ctrl-C, remove the outputs that this run created, even one its writer had finished
    the moment before (an interrupt while the encoder closes the file would otherwise leave it)."""
    fresh = [Path(o) for o in outputs if o is not None and not Path(o).exists()]
    try:
        yield
    except KeyboardInterrupt:
        for path in fresh:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink(missing_ok=True)
        raise


def _animate(src: Path, out: Path, engine, config: AnimateConfig, preview, on_frame, info,
             conditions) -> AnimationResult:
    """The body of :func:`animate_video`, once the request is checked."""
    n = info.frame_count or 1
    writers = _video_writers(src, out, preview, info, config)
    started = time.perf_counter()
    tally = _Tally()
    stages = StageTimes()
    with measuring(stages), _VideoPipeline(src, info, engine, config, writers) as pipe, \
            _cpu_threads(engine, edit_workers(engine, config)), \
            track(f"animating {src.name}", total=n) as bar:
        jobs_in = ([conditions.job(p) for p in batch]
                   for batch in _batches(pipe.plans, _batch_size(engine, config)))
        for jobs, results in _edited(jobs_in, engine, config, preview is not None):
            if tally.first is None:
                tally.first = time.perf_counter() - started
            for job, (frame, weights) in zip(jobs, results, strict=True):
                pipe.encode((frame,) if preview is None
                            else (frame, preview_frame(job.frame, frame, weights)))
                if tally.first_at is None:
                    tally.first_at = process_age()
                tally.add(job)
                if on_frame is not None:
                    on_frame(_record(job, conditions.alpha(job.index)))
            bar.advance(len(jobs))
    if info.frame_count is not None and tally.written != info.frame_count:
        log.warning("%s: decoded %d frames, the container lists %d", src, tally.written,
                    info.frame_count)
    log.debug("%s: %s", src.name, stages.summary(tally.written))
    return AnimationResult(out, tally.written, tally.edited, tuple(sorted(tally.ids)),
                           time.perf_counter() - started,
                           Path(preview) if preview is not None else None, tally.first or 0.0,
                           stages, tally.first_at)


def _has_network(engine) -> bool:
    return getattr(engine, "loaded", None) is not None


def _batch_size(engine, config: AnimateConfig) -> int:
    """Faces per engine call: a generator's batch; one frame at a time for the warp."""
    return config.batch_size if _has_network(engine) else 1


def edit_workers(engine, config: AnimateConfig) -> int:
    """Frames edited at once (:attr:`AnimateConfig.workers`, 0: chosen for the engine)."""
    if config.workers > 0:
        return config.workers
    return 1 if _has_network(engine) else max(1, min(4, os.cpu_count() or 1))


def _edited(batches: Iterable[list[_Job]], engine, config: AnimateConfig, want_weights: bool
            ) -> Iterator[tuple[list[_Job], list]]:
    """(jobs, their results) in order, with up to :func:`edit_workers` batches edited at once
    in threads (each in a copy of this context, so stage timings are kept)."""
    workers = edit_workers(engine, config)
    if workers == 1:
        for jobs in batches:
            yield jobs, _run_jobs(jobs, engine, config.blend, want_weights)
        return
    from concurrent.futures import ThreadPoolExecutor

    pending: deque = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="ganimate-edit") as pool:
        try:
            for jobs in batches:
                pending.append((jobs, pool.submit(contextvars.copy_context().run, _run_jobs,
                                                  jobs, engine, config.blend, want_weights)))
                if len(pending) > workers:
                    done, future = pending.popleft()
                    yield done, future.result()
            while pending:
                done, future = pending.popleft()
                yield done, future.result()
        finally:
            for _, future in pending:
                future.cancel()


def _record(job: _Job, alpha: float) -> FrameRecord:
    faces = ()
    if job.cond is not None:
        faces = tuple(
            FaceRecord(tid, job.cond.y_r[k], job.cond.y_g[k], job.cond.condition[k],
                       job.crops[k].to_frame, job.crops[k].size)
            for k, tid in enumerate(job.track_ids))
    return FrameRecord(job.index, alpha, faces, job.seen)


def _batches(plans: Iterable[_Plan], faces_per_batch: int) -> Iterator[list[_Plan]]:
    """Gather frames until ``faces_per_batch`` faces (or as many frames) are waiting."""
    batch: list[_Plan] = []
    count = 0
    for p in plans:
        batch.append(p)
        count += max(len(p.faces), 1)
        if count >= faces_per_batch:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch


# =============================================================================================
# animate image
# =============================================================================================


@dataclass(frozen=True)
class ImageAnimation:
    """Settings of `ganimate animate image`."""

    seconds: float = 2.0  # clip length
    fps: float = 25.0  # frame rate; the clip has round(seconds * fps) frames
    bounce: bool = False  # there and back: 0 -> 1 -> 0
    easing: str | None = None  # linear for a ramp, cosine for a bounce
    face: int | None = None  # only this face (numbered left to right, as `ganimate aus`)
    batch_size: int = 16  # crops per generator call
    estimator: str = "mesh"  # AU estimator for y_r
    crf: int = 18
    preset: str = "medium"
    blend: BlendConfig = field(default_factory=BlendConfig)

    def validate(self) -> None:
        if self.seconds <= 0 or self.fps <= 0:
            raise GanimateError("--seconds and --fps must be positive")

    @property
    def frames(self) -> int:
        return max(1, int(round(self.seconds * self.fps)))


def animate_image(photo: str | os.PathLike, out: str | os.PathLike, engine,
                  spec: TargetSpec, settings: ImageAnimation = ImageAnimation(),
                  on_frame: Callable[[FrameRecord], None] | None = None) -> AnimationResult:
    """A clip of a photo's faces moving from their own expression (alpha 0) to the target.

    Frame t is conditioned on ``alpha(t) * y_g + (1 - alpha(t)) * y_r`` (paper, Fig. 1). ``out``:
    .mp4/.mov/.mkv/.m4v (H.264, yuv420p), .gif, or a folder name for PNG frames.
    """
    from ganimate.editing import crop_faces, source_aus
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo
    from ganimate.video import VideoWriter

    engine = as_engine(engine).for_video()
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
    numbers = list(range(len(faces)))
    if settings.face is not None:
        if not 0 <= settings.face < len(faces):
            raise GanimateError(f"--face {settings.face}: {photo} has {len(faces)} face(s), "
                                f"numbered 0 to {len(faces) - 1} from left to right")
        faces, numbers = [faces[settings.face]], [settings.face]
    crops = crop_faces(rgb, faces, engine.image_size)
    y_r = source_aus(faces, engine, settings.estimator)
    au_names = tuple(engine.au_names)
    started = time.perf_counter()
    per_batch = max(1, settings.batch_size // len(crops))
    # The writer removes its partial output if anything below fails.
    with writer, _cpu_threads(engine), track(f"animating {photo.name}", total=n) as bar:
        for start in range(0, n, per_batch):
            jobs = []
            for i in range(start, min(n, start + per_batch)):
                cond = frame_condition(float(schedule(i)), y_r, spec, au_names)
                jobs.append(_Job(i, rgb, crops, cond, numbers, tuple(numbers)))
            for job, (frame, _) in zip(jobs, _run_jobs(jobs, engine, settings.blend, False),
                                       strict=True):
                writer.write(frame)
                if on_frame is not None:
                    on_frame(_record(job, float(schedule(job.index))))
            bar.advance(len(jobs))
    return AnimationResult(out, n, n, tuple(numbers), time.perf_counter() - started)
