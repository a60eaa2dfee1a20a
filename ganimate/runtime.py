"""What ganimate changes in its own process, in one place, each change explicit (a call) and
undoable: numpy's BLAS threads, native log lines kept off stderr, slow imports deferred.

Nothing here runs on import: the command line asks for each (:func:`limit_blas_threads` in
``ganimate.cli.entry.main``; the face and hand trackers open :data:`native_logs` windows and
defer matplotlib when they import mediapipe); a Python program may ask for them too (docs/api.md).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import threading
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager


def limit_blas_threads(threads: int = 1) -> Callable[[], None]:
    """Ask numpy's OpenBLAS for ``threads`` threads unless the user chose a number
    (``OPENBLAS_NUM_THREADS`` set). Takes effect only before numpy is first imported; returns a
    function that puts the environment back as it was.

    ganimate's numpy work is small solves and products inside pipelines whose stages already run
    in parallel threads; on a busy 2-core machine a 2-thread BLAS spins at its barriers and a
    500 x 500 LU took 40-280 ms instead of 7 ms (measured). torch keeps its own thread settings.
    """
    before = os.environ.get("OPENBLAS_NUM_THREADS")
    if before is None:
        os.environ["OPENBLAS_NUM_THREADS"] = str(threads)

    def undo() -> None:
        if before is None:
            os.environ.pop("OPENBLAS_NUM_THREADS", None)

    return undo


# mediapipe's native log lines, anywhere in a line (after a progress bar's text, say): glog/absl's
# "W0000 00:00:1718000000.123456   1234 calculator.cc:186] ..." (I, W and E; a fatal F line, the
# last word before an abort, is kept), absl's note on InitializeLog and TFLite's delegate note.
_NATIVE_LOG = re.compile(rb"[IWE]\d{4} \d\d:\d\d:\d+(?:\.\d+)? +\d+ [^\]\n]+:\d+\] "
                         rb"|WARNING: All log messages before absl::InitializeLog\(\)"
                         rb"|INFO: (?:Created|Initialized) TensorFlow Lite ")


class NativeLogFilter:
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
        if sys.is_finalizing():  # no thread can start now (start() would wait for ever)
            return False
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


native_logs = NativeLogFilter()


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


def defer_imports(names: Sequence[str]) -> Callable[[], None]:
    """Stand-ins (:class:`_Deferred`) for the modules ``names`` (parents first) that import the
    real module when one of its attributes is first read, so a package that imports them at its
    top without using them (mediapipe and pyplot) does not pay for them. Modules already
    imported are left alone. Returns a function that removes the stand-ins still in place."""
    if any(name in sys.modules for name in names):
        return lambda: None
    for name in names:
        sys.modules[name] = _Deferred(name)

    def undo() -> None:
        for name in names:
            if isinstance(sys.modules.get(name), _Deferred):
                del sys.modules[name]

    return undo
