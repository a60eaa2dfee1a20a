"""Variable frame rate: timestamps survive animate video, and aus reports each frame's own time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ganimate import video
from ganimate.cli import app

runner = CliRunner()
GANIMATE = [sys.executable, "-m", "ganimate"]


def _pts(path: Path) -> list[float]:
    """Presentation times of the decoded frames, from ffmpeg's showinfo filter."""
    import re

    err = subprocess.run([video.ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v:0",
                          "-vf", "showinfo", "-f", "null", "-"], capture_output=True,
                         text=True).stderr
    return [float(t) for t in re.findall(r"pts_time:([0-9.]+)", err)]


@pytest.fixture(scope="module")
def vfr_clip(media, tmp_path_factory):
    """1.2 s of a real face at 160x90 whose frame durations grow from 41 to ~75 ms (VFR)."""
    path = tmp_path_factory.mktemp("vfr") / "vfr.mp4"
    subprocess.run([video.ffmpeg_exe(), "-v", "error", "-i", str(media / "video/single_face.mp4"),
                    "-t", "1.2", "-vf", "scale=160:90,settb=1/1000,setpts=(N*40+N*N)",
                    "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast",
                    "-video_track_timescale", "1000", "-c:a", "aac", str(path)], check=True)
    return path


def test_vfr_timestamps_survive_animate_video(kit, vfr_clip, tmp_path):
    src = _pts(vfr_clip)
    steps = np.diff(src)
    assert len(src) >= 20 and steps.max() - steps.min() > 0.02  # really variable
    assert video.probe(vfr_clip).variable_frame_rate
    out = tmp_path / "out.mp4"
    result = runner.invoke(app, ["animate", "video", str(vfr_clip), "-e", "happy", "-c",
                                 str(kit.g17), "-o", str(out), "--device", "cpu", "--preset",
                                 "ultrafast"])
    assert result.exit_code == 0, result.output
    got = _pts(out)
    assert len(got) == len(src)
    assert np.abs(np.array(got) - np.array(src)).max() < steps.min()  # within one frame


def test_aus_time_column_is_the_frames_timestamp(vfr_clip):
    result = runner.invoke(app, ["aus", str(vfr_clip), "-f", "csv", "--every", "4"])
    assert result.exit_code == 0, result.output
    rows = [ln.split(",") for ln in result.stdout.strip().splitlines()[1:]]
    assert len(rows) >= 4 and max(int(r[1]) for r in rows) >= 16
    src = _pts(vfr_clip)
    for row in rows:
        assert abs(float(row[2]) - src[int(row[1])]) < 1e-3, row
