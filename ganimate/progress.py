"""Progress reporting: the only module of the library that talks to the terminal.

The library never prints. Long loops report through :func:`track`, which draws a rich progress bar
on stderr when it is a terminal and progress is enabled, and does nothing otherwise (pipes, tests,
``--quiet``), so stdout stays clean for shell pipelines. Warnings go through the standard
``logging`` module under the ``ganimate`` logger; the CLI installs a rich handler for it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def track(description: str, total: float | None = None) -> Iterator[Tracker]:
    """Show a progress bar for a loop of ``total`` steps (``None``: unknown length)."""
    if not (_enabled and sys.stderr.isatty()):
        yield Tracker()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        console=Console(stderr=True),
        transient=False,
    )
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
