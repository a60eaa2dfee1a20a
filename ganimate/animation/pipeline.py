"""``ganimate animate video``, streamed. Frame t is conditioned on
``alpha(t) * y_g(t) + (1 - alpha(t)) * y_r(t)`` (see :mod:`ganimate.animation.conditions`),
alpha following an :class:`ganimate.targets.AlphaSchedule`:

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
    the person's neutral face (:class:`ganimate.faces.NeutralBaseline`, per track);
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
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ganimate import files
from ganimate.animation.conditions import conditions_for
from ganimate.animation.config import AnimateConfig, Timeline
from ganimate.animation.frames import AnimationResult, FramePlan, FrameRecord, record_of
from ganimate.animation.planner import Planner
from ganimate.animation.preview import preview_frame
from ganimate.animation.scan import scan_in_background
from ganimate.animation.stages import Encoder, Stage, cpu_threads, edit_jobs
from ganimate.engines import Engine, FrameEdit, FrameJob
from ganimate.errors import GanimateError
from ganimate.files import same_file
from ganimate.images import IMAGE_SUFFIXES
from ganimate.progress import log, track
from ganimate.targets import TargetSpec, is_keyframe_file
from ganimate.timing import StageTimes, measuring, process_age, timed
from ganimate.video import VideoWriter, probe, read_frames

if TYPE_CHECKING:
    from ganimate.targets import TargetOptions


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


def check_video_input(src: str | os.PathLike) -> None:
    """Refuse a still photo as the input of a video animation (ffmpeg would read it as a clip of
    one frame and `animate video` would write a one-frame video): say how to animate a photo."""
    src = Path(src)
    if src.suffix.lower() in IMAGE_SUFFIXES:
        raise GanimateError(
            f"{src}: a photo, not a video; to animate a photo use `ganimate animate image "
            f"{src} --to happy -o clip.mp4`")


# The errors of `animate video` and `animate image` without a target.
NOTHING_TO_ANIMATE_VIDEO = ("nothing to animate to: give --expression, --au, --like, --aus-file, "
                            "--track or a keyframe file --ramp keys.csv (e.g. --expression happy)")


def check_video_request(src: str | os.PathLike, out: str | os.PathLike, targets: TargetOptions,
                        timeline: Timeline, preview: str | os.PathLike | None = None) -> None:
    """Refuse, before any model is loaded, a video animation without a target (neither target
    options nor a driver track) or whose outputs would overwrite the input."""
    if not (targets.given or timeline.track or is_keyframe_file(timeline.ramp)):
        raise GanimateError(NOTHING_TO_ANIMATE_VIDEO)
    check_video_input(src)
    check_output(src, out, preview)


def _video_writers(src: Path, out: Path, preview: str | os.PathLike | None, info,
                   config: AnimateConfig) -> list:
    """The output's writer (the input's rate, rotation, timestamps and audio), and the
    preview's."""
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

    def __init__(self, src: Path, info, engine: Engine, config: AnimateConfig, writers: list):
        self._stop = threading.Event()
        self._encoder = Encoder(writers, config.queue_frames)
        self._decode = self._plan = None
        try:
            self._decode = Stage(lambda: timed(read_frames(src, info), "decode"),
                                  config.queue_frames,
                                  self._stop, "decode")
            planner = Planner(engine, config, float(info.fps),
                              scan_in_background(src, info, engine, config))
            self._plan = Stage(lambda: planner.run(self._decode), config.queue_frames,
                                self._stop, "plan")
        except BaseException:
            self._abort()
            raise

    @property
    def plans(self) -> Stage:
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

    def add(self, job: FrameJob) -> None:
        self.written += 1
        if job.crops:
            self.edited += 1
            self.ids.update(job.track_ids)


def _probe_request(src: Path, out: Path, spec: TargetSpec, timeline: Timeline,
                   preview: str | os.PathLike | None):
    """The input's VideoInfo, once the paths and the target are checked."""
    check_video_input(src)
    check_output(src, out, preview)
    if not src.exists():
        raise GanimateError(f"{src}: no such video file")
    if spec.empty and timeline.track is None and not is_keyframe_file(timeline.ramp):
        raise GanimateError(NOTHING_TO_ANIMATE_VIDEO)
    return probe(src)


def animate_video(src: str | os.PathLike, out: str | os.PathLike, engine: Engine,
                  spec: TargetSpec, config: AnimateConfig = AnimateConfig(),
                  timeline: Timeline = Timeline(), preview: str | os.PathLike | None = None,
                  on_frame: Callable[[FrameRecord], None] | None = None) -> AnimationResult:
    """Change the expression of the faces of a video, streamed frame by frame.

    ``spec`` says what the target is; ``timeline`` when alpha moves and whether a driver's AU
    track gives y_g instead. ``out`` is a video file (.mp4/.mov/.mkv/.m4v), a .gif, or a folder
    name without suffix for PNG frames (exact). ``preview`` writes input | output | change map
    side by side. ``on_frame`` is called with a :class:`FrameRecord` for every frame, in order.
    """
    engine = engine.for_video()
    src, out = Path(src), Path(out)
    info = _probe_request(src, out, spec, timeline, preview)
    n = info.frame_count or 1
    conditions = conditions_for(timeline, spec, tuple(engine.au_names), n, float(info.fps))
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


def _animate(src: Path, out: Path, engine: Engine, config: AnimateConfig, preview, on_frame, info,
             conditions) -> AnimationResult:
    """The body of :func:`animate_video`, once the request is checked."""
    n = info.frame_count or 1
    writers = _video_writers(src, out, preview, info, config)
    started = time.perf_counter()
    tally = _Tally()
    stages = StageTimes()
    with measuring(stages), _VideoPipeline(src, info, engine, config, writers) as pipe, \
            cpu_threads(engine, edit_workers(engine, config)), \
            track(f"animating {src.name}", total=n) as bar:
        jobs_in = ([conditions.job(p) for p in batch]
                   for batch in _batches(pipe.plans, _batch_size(engine, config)))
        for jobs, results in _edited(jobs_in, engine, config, preview is not None):
            if tally.first is None:
                tally.first = time.perf_counter() - started
            for job, edit in zip(jobs, results, strict=True):
                pipe.encode((edit.frame,) if preview is None
                            else (edit.frame, preview_frame(job.frame, edit)))
                if tally.first_at is None:
                    tally.first_at = process_age()
                tally.add(job)
                if on_frame is not None:
                    on_frame(record_of(job))
            bar.advance(len(jobs))
    if info.frame_count is not None and tally.written != info.frame_count:
        log.warning("%s: decoded %d frames, the container lists %d", src, tally.written,
                    info.frame_count)
    log.debug("%s: %s", src.name, stages.summary(tally.written))
    return AnimationResult(out, tally.written, tally.edited, tuple(sorted(tally.ids)),
                           time.perf_counter() - started,
                           Path(preview) if preview is not None else None, tally.first or 0.0,
                           stages, tally.first_at)


def _batch_size(engine: Engine, config: AnimateConfig) -> int:
    """Faces per engine call: a generator's batch; one frame at a time for the warp."""
    return config.batch_size if engine.uses_network else 1


def edit_workers(engine: Engine, config: AnimateConfig) -> int:
    """Frames edited at once (:attr:`AnimateConfig.workers`, 0: chosen for the engine)."""
    if config.workers > 0:
        return config.workers
    return 1 if engine.uses_network else max(1, min(4, os.cpu_count() or 1))


def _edited(batches: Iterable[list[FrameJob]], engine: Engine, config: AnimateConfig,
            want_weights: bool) -> Iterator[tuple[list[FrameJob], list[FrameEdit]]]:
    """(jobs, their results) in order, with up to :func:`edit_workers` batches edited at once
    in threads (each in a copy of this context, so stage timings are kept)."""
    workers = edit_workers(engine, config)
    if workers == 1:
        for jobs in batches:
            yield jobs, edit_jobs(jobs, engine, config.blend, want_weights)
        return
    from concurrent.futures import ThreadPoolExecutor

    pending: deque = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="ganimate-edit") as pool:
        try:
            for jobs in batches:
                pending.append((jobs, pool.submit(contextvars.copy_context().run, edit_jobs,
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


def _batches(plans: Iterable[FramePlan], faces_per_batch: int) -> Iterator[list[FramePlan]]:
    """Gather frames until ``faces_per_batch`` faces (or as many frames) are waiting."""
    batch: list[FramePlan] = []
    count = 0
    for p in plans:
        batch.append(p)
        count += max(len(p.faces), 1)
        if count >= faces_per_batch:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch
