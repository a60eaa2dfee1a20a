"""Thread plumbing of the video pipeline: stages joined by small bounded queues, the encoder, jobs
run in order over a pool, and the run's thread pools set in one place.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from ganimate.engines import BlendConfig, Engine, FrameEdit, FrameJob, keep_in_front
from ganimate.errors import GanimateError
from ganimate.timing import stage

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn), torch (2 s: only where a network runs).


# =============================================================================================
# Threads joined by bounded queues
# =============================================================================================

_DONE = object()


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


class Stage:
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


class Encoder:
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
def cpu_threads(engine: Engine, workers: int = 1) -> Iterator[None]:
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
    with contextlib.ExitStack() as stack:
        if workers > 1:
            import cv2

            before_cv = cv2.getNumThreads()
            cv2.setNumThreads(1)
            stack.callback(cv2.setNumThreads, before_cv)
        if engine.uses_network and engine.device == "cpu":
            import torch

            before = torch.get_num_threads()
            torch.set_num_threads(max(1, min(before, (os.cpu_count() or 1) - 2)))
            stack.callback(torch.set_num_threads, before)
        yield


# =============================================================================================
# Generator + paste-back on batches of frames
# =============================================================================================


def edit_jobs(jobs: list[FrameJob], engine: Engine, blend: BlendConfig, want_weights: bool
              ) -> list[FrameEdit]:
    """Edit the faces of ``jobs`` with the engine (one call: the generator batches them), hands
    kept in front of the edit. A job without faces returns its input frame object itself; each
    edit's weights are empty unless asked for (previews)."""
    edits = engine.edit_frames(jobs, blend, want_weights)
    return [replace(e, frame=keep_in_front(job.frame, e.frame, job.hands))
            for job, e in zip(jobs, edits, strict=True)]
