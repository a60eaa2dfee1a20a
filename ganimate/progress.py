"""Progress reporting: the only module of the library that talks to the terminal.

The library never prints. Long loops report through :func:`track`, which draws a rich progress bar
on stderr when it is a terminal and progress is enabled, and does nothing otherwise (pipes, tests,
``--quiet``), so stdout stays clean for shell pipelines. Warnings go through the standard
``logging`` module under the ``ganimate`` logger; the CLI installs a rich handler for it.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Imported in the functions that use them, on purpose (start-up): rich (where a table or bar is
# drawn).

log = logging.getLogger("ganimate")

# Set by the CLI (--quiet) and by tests; a bar is also never drawn when stderr is not a terminal.
_enabled = True


def set_enabled(enabled: bool) -> None:
    global _enabled
    _enabled = enabled


class Tracker:
    """Handle of one running task: advance it and attach a short status text (losses, rates...)."""

    def __init__(self, progress=None, task_id=None):
        self._progress = progress
        self._task_id = task_id

    def advance(self, n: float = 1, info: str | None = None) -> None:
        if self._progress is not None:
            kwargs = {} if info is None else {"info": info}
            self._progress.update(self._task_id, advance=n, **kwargs)

    def update(self, completed: float | None = None, total: float | None = None,
               info: str | None = None) -> None:
        if self._progress is not None:
            kwargs = {"info": info} if info is not None else {}
            self._progress.update(self._task_id, completed=completed, total=total, **kwargs)


# Without a terminal (``2> log``, CI), progress is a plain line at most this often (seconds).
LOG_INTERVAL = 30.0


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class LineTracker(Tracker):
    """Progress for a log file: ``training: 120/3000 (4%) 1:02 elapsed, eta 25:10, <info>`` every
    LOG_INTERVAL seconds, and a last line at the end if any was written. Short tasks stay silent."""

    def __init__(self, description: str, total: float | None, stream):
        super().__init__()
        self.description, self.total, self._stream = description, total, stream
        self.completed = 0.0
        self.info = ""
        self._start = self._last = time.monotonic()
        self.lines = 0
        self.written = None  # ``completed`` at the last line

    def advance(self, n: float = 1, info: str | None = None) -> None:
        self.update(self.completed + n, info=info)

    def update(self, completed: float | None = None, total: float | None = None,
               info: str | None = None) -> None:
        self.completed = self.completed if completed is None else completed
        self.total = self.total if total is None else total
        self.info = self.info if info is None else info
        now = time.monotonic()
        if now - self._last >= LOG_INTERVAL:
            self._last = now
            self.write()

    def write(self) -> None:
        elapsed = time.monotonic() - self._start
        text = f"{self.description}: {self.completed:g}"
        if self.total:
            done = self.completed / self.total
            text += f"/{self.total:g} ({done:.0%}) {_clock(elapsed)} elapsed"
            if 0 < done < 1:
                text += f", eta {_clock(elapsed * (1 - done) / done)}"
        else:
            text += f" {_clock(elapsed)} elapsed"
        self._stream.write(text + (f", {self.info}" if self.info else "") + "\n")
        self._stream.flush()
        self.lines += 1
        self.written = self.completed


def make_progress(console):
    """The bar: at 80 columns the step count, elapsed time and ETA always show; the bar and the
    status text (losses...) take what is left and are cut first."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.table import Column

    def fixed():
        return Column(no_wrap=True)

    return Progress(
        TextColumn("[bold]{task.description}", table_column=fixed()),
        BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=5)),
        MofNCompleteColumn(table_column=fixed()),
        TimeElapsedColumn(table_column=fixed()),
        TextColumn("eta", table_column=fixed()),
        TimeRemainingColumn(table_column=fixed()),
        TextColumn("{task.fields[info]}", markup=False,
                   table_column=Column(ratio=2, no_wrap=True, overflow="ellipsis", min_width=0)),
        console=console,
        transient=False,
        expand=True,
    )


@contextmanager
def track(description: str, total: float | None = None) -> Iterator[Tracker]:
    """Show a progress bar for a loop of ``total`` steps (``None``: unknown length); without a
    terminal, a progress line now and then (:class:`LineTracker`)."""
    if not _enabled:
        yield Tracker()
        return
    if not sys.stderr.isatty():
        lines = LineTracker(description, total, sys.stderr)
        yield lines
        if lines.lines and lines.written != lines.completed:
            lines.write()
        return
    from rich.console import Console

    progress = make_progress(Console(stderr=True))
    with progress:
        task_id = progress.add_task(description, total=total, info="")
        yield Tracker(progress, task_id)


def install_log_handler(verbose: bool = False) -> None:
    """Route the ``ganimate`` logger to stderr through rich (called once by the CLI)."""
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(console=Console(stderr=True), show_time=False, show_path=False)
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    log.propagate = False
