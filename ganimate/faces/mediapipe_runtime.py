"""mediapipe at run time: its graphs built and called with their C++ log lines (glog/absl,
TFLite) filtered out of stderr at the file-descriptor level, everything else passed on, and the
package imported with matplotlib deferred (mediapipe imports it, and it is slow to import).

Shared by the face mesh (:mod:`ganimate.faces.mesh`) and the hand tracker
(:mod:`ganimate.faces.hands`).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

T = TypeVar("T")

# mediapipe's native log lines, anywhere in a line (after a progress bar's text, say): glog/absl's
# "W0000 00:00:1718000000.123456   1234 calculator.cc:186] ..." (I, W and E; a fatal F line, the
# last word before an abort, is kept), absl's note on InitializeLog and TFLite's delegate note.
_NATIVE_LOG = re.compile(rb"[IWE]\d{4} \d\d:\d\d:\d+(?:\.\d+)? +\d+ [^\]\n]+:\d+\] "
                         rb"|WARNING: All log messages before absl::InitializeLog\(\)"
                         rb"|INFO: (?:Created|Initialized) TensorFlow Lite ")


class _NativeLogFilter:
    """While mediapipe's native code runs, file descriptor 2 goes through a pipe: a thread
    forwards every line to the real stderr except mediapipe's log lines (:data:`_NATIVE_LOG`).

    They are written by C++ straight to fd 2, so neither ``logging`` nor environment variables
    reach them. Each window ends with a marker through the pipe that the thread answers once all
    before it is forwarded, so nothing written in a window (a Python warning, a progress bar) is
    lost or comes out of order. Reentrant and shared by the threads of a process; without an fd
    2, or when the thread cannot start, it does nothing.
    """

    _SYNC = b"\0ganimate:stderr-sync\0"

    def __init__(self):
        self._lock = threading.Lock()  # held while fd 2 is switched (and waiting for the thread)
        self._depth = 0  # open windows (nested, or of several threads)
        self._thread: threading.Thread | None = None
        self._pid = -1  # the process of the pipe and the thread (a forked child needs its own)
        self._pipe = (-1, -1)
        self._target = -1  # the real stderr while a window is open, else -1
        self._io = threading.Lock()  # the thread writes to _target and _close closes it under it
        self._forwarded = threading.Condition()
        self._sent = self._done = 0  # markers written into the pipe, and answered

    @contextmanager
    def window(self) -> Iterator[None]:
        opened = self._open()
        try:
            yield
        finally:
            if opened:
                self._close()

    def _open(self) -> bool:
        with self._lock:
            if self._depth:
                self._depth += 1
                return True
            try:
                self._start()
                _flush_stderr()
                target = os.dup(2)
            except (OSError, RuntimeError):  # no fd 2, no pipe or no thread: leave fd 2 alone
                return False
            try:
                os.dup2(self._pipe[1], 2)
            except OSError:
                os.close(target)
                return False
            self._target, self._depth = target, 1
            return True

    def _close(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth:
                return
            _flush_stderr()
            os.dup2(self._target, 2)
            self._sent += 1
            os.write(self._pipe[1], self._SYNC)
            with self._forwarded:
                done = self._forwarded.wait_for(lambda: self._done >= self._sent, timeout=10)
            if done:  # else the thread may still write to it (stderr blocked): keep it open
                with self._io:
                    os.close(self._target)
                    self._target = -1  # a stray writer's text is dropped, not sent to a reused fd

    def _start(self) -> None:
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        self._pipe = os.pipe()
        self._thread = threading.Thread(target=self._pump, args=(self._pipe[0],), daemon=True,
                                        name="ganimate-native-logs")
        self._thread.start()
        self._pid = os.getpid()

    def _pump(self, read_fd: int) -> None:
        pending = b""
        while chunk := os.read(read_fd, 65536):
            pending += chunk
            while (cut := pending.find(self._SYNC)) >= 0:
                self._forward(pending[:cut], final=True)
                pending = pending[cut + len(self._SYNC):]
                with self._forwarded:
                    self._done += 1
                    self._forwarded.notify_all()
            pending = self._forward(pending, final=False)

    def _forward(self, data: bytes, final: bool) -> bytes:
        """Write ``data``'s lines, less native log messages, to the real stderr; returns the
        unfinished last line when it may be the start of a native log line or of a marker."""
        lines = data.split(b"\n")
        rest = lines.pop()
        out = b"".join(line[:m.start()] if (m := _NATIVE_LOG.search(line)) else line + b"\n"
                       for line in lines)
        keep = not final and (rest[:1] in (b"I", b"W", b"E") or b"\0" in rest)
        if not keep:
            out += rest
        with self._io:
            try:
                while out and self._target >= 0:
                    out = out[os.write(self._target, out):]
            except OSError:  # the reader of stderr has gone: nothing to be done
                pass
        return rest if keep else b""


def _flush_stderr() -> None:
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # None, or closed
        pass


_native_logs = _NativeLogFilter()


class _Deferred(types.ModuleType):
    """Stands in for a module until one of its attributes is first read, then imports the real
    module (and its deferred parents) and hands the attribute over."""

    def __getattr__(self, attr: str):
        name = self.__name__
        child = sys.modules.get(f"{name}.{attr}")
        if isinstance(child, _Deferred):  # ``import matplotlib.pyplot as plt`` binds the child
            return child
        for key in [k for k, m in sys.modules.items() if isinstance(m, _Deferred)]:
            del sys.modules[key]
        return getattr(importlib.import_module(name), attr)


# mediapipe's package imports its drawing helpers, which import pyplot at the top and only use
# it to plot: ~0.65 s of a ~1 s import, more than a video's first frames may take.
_DEFERRED = ("matplotlib", "matplotlib.pyplot")


def _mediapipe():
    """mediapipe, imported with matplotlib deferred (:class:`_Deferred`): anything that really
    plots still gets the real pyplot on first use."""
    if "mediapipe" in sys.modules:
        return sys.modules["mediapipe"]
    if not any(name in sys.modules for name in _DEFERRED):
        for name in _DEFERRED:
            sys.modules[name] = _Deferred(name)
    import mediapipe

    return mediapipe


def _native(call: Callable[..., T], *args) -> T:
    """``call(*args)`` with mediapipe's native log lines kept off stderr."""
    with _native_logs.window():
        return call(*args)


def _graph(factory: Callable[..., T], **options) -> T:
    """A mediapipe graph, built and run once on a blank image in one window: it opens its
    calculators (which log) in its own threads, and is only sure to be done once an image is
    through."""
    with _native_logs.window():
        graph = factory(**options)
        graph.process(np.zeros((64, 64, 3), np.uint8))
    return graph


