"""Progress reporting: the line tracker's pace and the bar's layout.
"""

from __future__ import annotations

import io
import sys

from typer.testing import CliRunner

runner = CliRunner()
GANIMATE = [sys.executable, "-m", "ganimate"]


def test_line_tracker_writes_once_per_interval(monkeypatch):
    from ganimate import progress

    clock = [0.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    stream = io.StringIO()
    t = progress.LineTracker("training", 1000, stream)
    for step in range(1, 1001):
        clock[0] = step * 0.5  # 2 steps a second: 500 s in all
        t.update(completed=step, info="d_wgan=1")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 500 // progress.LOG_INTERVAL
    assert lines[0] == "training: 60/1000 (6%) 0:30 elapsed, eta 7:50, d_wgan=1"
    quiet = io.StringIO()
    short = progress.LineTracker("editing", 3, quiet)
    short.update(completed=3)
    assert quiet.getvalue() == ""  # short tasks print nothing


def test_progress_bar_keeps_count_and_eta_at_80_columns():
    from rich.console import Console

    from ganimate.progress import make_progress

    buf = io.StringIO()
    console = Console(file=buf, width=80, force_terminal=True, color_system=None)
    bar = make_progress(console)
    task = bar.add_task("training", total=30000, info="d_wgan=-1.234 g_adv=0.4567 g_au=0.0123 "
                        "g_cyc=0.2345 mean_attention=0.51 1234 img/s")
    bar.update(task, completed=12345)
    console.print(bar.make_tasks_table(bar.tasks))
    line = buf.getvalue().splitlines()[0]
    assert len(line) <= 80 and line.startswith("training")
    assert "12345/30000" in line and "eta" in line and "d_wgan" in line
