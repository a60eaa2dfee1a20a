"""Where a video frame's time goes: busy seconds per stage of the frame path.

Each stage is timed in the thread that runs it: ``decode`` (ffmpeg's frames read), ``landmarks``
(MediaPipe's tracker), ``hands`` (its hand tracker), ``aus`` (the estimator), the engine's
``field`` (landmark shifts and the warp's displacement field), ``sampling`` (resampling the moving
region), ``mouth`` (the opening, teeth, rigid teeth and their painting), ``model`` (a generator's
forward pass), ``paste`` (paste-back of generated crops) and ``encode`` (frames handed to ffmpeg).
Stages overlap across threads, so the numbers add up to more than the wall time. ``animate video
-v`` logs them at the end of a run.

:func:`stage` costs two ``perf_counter`` calls; outside :func:`measuring` it does nothing.
Threads started inside :func:`measuring` see the same :class:`StageTimes` when they run in a
copy of the context (``contextvars.copy_context().run``), as the video pipeline's threads do.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields


@dataclass
class StageTimes:
    """Busy seconds per stage, summed over the threads that run it."""

    decode: float = 0.0
    scan: float = 0.0  # the first seconds looked at for the teeth (animation.scan), at start
    landmarks: float = 0.0
    hands: float = 0.0  # the hand tracker (hands kept in front of the face), in the planner
    aus: float = 0.0
    field: float = 0.0
    sampling: float = 0.0
    mouth: float = 0.0
    track: float = 0.0  # per-person temporal state (the warp's mouth track), in the planner
    model: float = 0.0
    paste: float = 0.0
    encode: float = 0.0

    def per_frame_ms(self, frames: int) -> dict[str, float]:
        """Milliseconds a frame per stage, stages that took no time left out (for reports)."""
        n = max(frames, 1)
        return {f.name: 1000 * getattr(self, f.name) / n for f in fields(self)
                if getattr(self, f.name) > 0}

    def summary(self, frames: int) -> str:
        """One line: ``decode 2.1 ms, landmarks 9.8 ms, ...`` a frame."""
        parts = [f"{name} {ms:.1f} ms" for name, ms in self.per_frame_ms(frames).items()]
        return "per frame: " + (", ".join(parts) if parts else "nothing measured")


_lock = threading.Lock()
_current: ContextVar[StageTimes | None] = ContextVar("ganimate_stage_times", default=None)


@contextmanager
def measuring(times: StageTimes) -> Iterator[StageTimes]:
    """Collect :func:`stage` timings of this context (and of copies of it) into ``times``."""
    token = _current.set(times)
    try:
        yield times
    finally:
        _current.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Add the time spent in the ``with`` block to the current StageTimes' ``name``."""
    times = _current.get()
    if times is None:
        yield
        return
    start = time.perf_counter()
    try:
        yield
    finally:
        spent = time.perf_counter() - start
        with _lock:  # editing threads add to the same stages
            setattr(times, name, getattr(times, name) + spent)


def timed(items: Iterable, name: str) -> Iterator:
    """``items``, with the time spent producing each one added to stage ``name``."""
    it = iter(items)
    try:
        while True:
            with stage(name):
                try:
                    item = next(it)
                except StopIteration:
                    return
            yield item
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()


_IMPORTED = time.monotonic()


def process_age() -> float:
    """Seconds since this process started (the interpreter's launch, read from ``/proc`` on
    Linux; elsewhere since this module was imported): how long a command has run so far."""
    try:
        with open("/proc/self/stat") as f:
            started = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22: start time
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - started / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _IMPORTED
