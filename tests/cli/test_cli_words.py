"""The CLI says what it does (#37): help checked against behaviour, usage errors in one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ganimate.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
GANIMATE = [sys.executable, "-m", "ganimate"]


def _help(*words: str) -> str:
    result = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, words
    return " ".join(result.stdout.split())


def test_animate_video_help_names_only_its_own_options(synthetic_clip, tmp_path):
    """`animate video` has no --bounce: its help and its errors do not offer one."""
    text = _help("animate", "video")
    assert "with --bounce" not in text and "--ramp bounce" in text
    result = runner.invoke(app, ["animate", "video", "--bounce"])
    assert result.exit_code == 2  # the option really does not exist
    result = runner.invoke(app, ["animate", "video", str(synthetic_clip), "-e", "happy", "--hold",
                                 "--ramp", "0s:0,1s:1", "-o", str(tmp_path / "o.mp4")])
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "--ramp and --hold" in last and "--bounce" not in last.split(":")[0], last
    assert not (tmp_path / "o.mp4").exists()
    assert "cosine with --bounce" in _help("animate", "image")  # there it exists


def test_au_help_matches_what_values_do():
    """--au's help says absolute values outside [0, 1] are an error and relative sums are
    clipped; both are what happens."""
    import numpy as np

    from ganimate.errors import GanimateError
    from ganimate.faces import AU_NAMES
    from ganimate.targets import build_target, target_spec

    text = _help("edit", "image")
    assert "a value in [0, 1]: others are an error" in text and "clipped to [0, 1]" in text
    with pytest.raises(GanimateError, match="outside"):
        target_spec(au=["AU12=1.5"])
    y = build_target(np.full(len(AU_NAMES), 0.8, np.float32), target_spec(au=["AU12+0.5"]))
    assert y[AU_NAMES.index("AU12")] == 1.0


def test_eval_photos_help_counts_its_readers():
    """The report shows three expression readers (the classifier, dlib-68, the mesh
    estimator): the help says three and names the classifier."""
    from ganimate.evaluation import photos

    text = _help("eval", "photos")
    assert "three readers" in text and "classifier" in text and "two readers" not in text
    assert "three readers" in photos.__doc__


@pytest.mark.parametrize("argv, expect", [
    (["edit", "image", "--bogus"], "No such option: --bogus"),
    (["edit", "image", "x.jpg", "-e", "happy"], "Missing option '--out'"),
    (["edit", "image", "x.jpg", "-e", "happy", "-o", "y.png", "--feather", "3"],
     "Invalid value for '--feather'"),
    (["nosuch"], "No such command 'nosuch'"),
])
def test_usage_errors_are_one_line_with_exit_2(argv, expect):
    """A mistyped command line: one `error:` line naming the help to read, exit 2 (as the
    README says), in a real process."""
    done = subprocess.run([*GANIMATE, *argv], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], lines
    assert "--help'" in lines[0] and done.stdout == ""
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "is one `error: ...` line too, naming the help to read, with exit code 2" in readme


def test_a_group_alone_still_shows_its_help():
    done = subprocess.run([*GANIMATE, "edit"], capture_output=True, text=True, timeout=60)
    assert "Commands:" in done.stdout + done.stderr and "error:" not in done.stderr


def test_demo_output_is_ignored_by_git():
    """The README's `ganimate demo -o demo-out` (and the demo's default folder) stay out of
    `git status`."""
    ignored = (ROOT / ".gitignore").read_text().split()
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"ganimate demo -o demo-out", readme)
    assert "/demo-out/" in ignored and "/ganimate-demo/" in ignored


def test_studio_engine_default_is_what_its_help_says(monkeypatch, tiny):
    """--engine's help: gan with --checkpoint, else warp; the studio used to start with the
    warp even with a checkpoint."""
    from ganimate import studio

    seen = []
    monkeypatch.setattr(studio, "serve", lambda config, ready: seen.append(config.engine))
    assert "Default: gan with --checkpoint, else warp" in _help("studio")
    for argv in (["studio", "--no-browser"], ["studio", "--no-browser", "-c", str(tiny)],
                 ["studio", "--no-browser", "-c", str(tiny), "--engine", "hybrid"]):
        assert runner.invoke(app, argv).exit_code == 0
    assert seen == ["warp", "gan", "hybrid"]
