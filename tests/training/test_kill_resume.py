"""Crash safety of `ganimate train`: SIGKILL mid-run and mid-checkpoint-write, SIGINT, --resume.

The training subprocess checkpoints every step with a critic wide enough that a checkpoint takes a
noticeable time to write; the test watches for the temp file of a write in progress and kills the
process right then. Afterwards every checkpoint file present must load, --resume must start from
the newest one, and the final weights must equal those of an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ganimate.model import list_checkpoints
from ganimate.model.checkpoint import load_checkpoint
from ganimate.training import make_synthetic_dataset

STEPS = 24
ARGS = ["--image-size", "32", "--g-width", "8", "--g-blocks", "1", "--d-width", "96",
        "--d-layers", "3", "--batch-size", "4", "--workers", "0", "--steps", str(STEPS),
        "--checkpoint-every", "1", "--keep", "2", "--sample-every", "0", "--seed", "5"]


def start(data: Path, run: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "ganimate", "train", str(data), "--out", str(run), *ARGS, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def wait_for(condition, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"training ended early: {proc.returncode} {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out waiting for the training subprocess")
        time.sleep(0.0005)


def temp_files(run: Path) -> list[Path]:
    folder = run / "checkpoints"
    return list(folder.glob(".*.tmp")) if folder.is_dir() else []


def assert_all_complete(run: Path) -> None:
    for path in (run / "checkpoints").glob("*.safetensors"):
        load_checkpoint(path)  # raises on a half-written file


def final_weights(run: Path) -> dict[str, torch.Tensor]:
    ckpt = load_checkpoint(list_checkpoints(run)[-1])
    assert ckpt.metadata["step"] == STEPS
    return {k: v for k, v in ckpt.tensors.items() if k[:2] in ("G.", "D.")}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_synthetic_dataset(tmp_path_factory.mktemp("kill") / "d", count=24, size=32, seed=4)


@pytest.mark.slow
def test_sigkill_during_checkpoint_writes_then_resume(tmp_path, data):
    run = tmp_path / "run"
    killed_mid_write = 0
    for attempt in range(2):  # each attempt waits for a write in progress: 2 catch one
        proc = start(data, run, *(["--resume"] if attempt else []))
        # let it get past at least one more complete checkpoint, then catch a write in progress
        done = len(list_checkpoints(run)) and load_checkpoint(list_checkpoints(run)[-1])
        first = done.metadata["step"] if done else 0

        def mid_write(first=first):
            saved = list_checkpoints(run)
            return saved and int(saved[-1].stem.split("_")[1]) > first + 2 and temp_files(run)

        wait_for(mid_write, proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_mid_write += bool(temp_files(run))
        assert_all_complete(run)
    assert killed_mid_write >= 1  # at least one kill really interrupted a write

    newest = load_checkpoint(list_checkpoints(run)[-1]).metadata["step"]
    proc = start(data, run, "--resume")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    # the log handler wraps long lines (a long tmp path breaks mid-word): compare without spaces
    said = f"resuming {run} at step {newest} of {STEPS}"
    assert "".join(said.split()) in "".join(err.split()), err
    assert not temp_files(run)
    resumed = final_weights(run)

    straight = tmp_path / "straight"
    proc = start(data, straight)
    assert proc.wait(timeout=300) == 0
    expected = final_weights(straight)
    assert resumed.keys() == expected.keys()
    assert all(torch.equal(resumed[k], expected[k]) for k in expected)


def test_ctrl_c_saves_and_exits_cleanly(tmp_path, data):
    run = tmp_path / "run"
    proc = start(data, run, "--checkpoint-every", "1000")
    wait_for(lambda: (run / "log.jsonl").is_file(), proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted at step" in err and "Traceback" not in err
    saved = list_checkpoints(run)
    assert len(saved) == 1 and 0 < load_checkpoint(saved[0]).metadata["step"] < STEPS
    proc = start(data, run, "--resume", "--checkpoint-every", "1000")
    assert proc.wait(timeout=300) == 0
    assert load_checkpoint(list_checkpoints(run)[-1]).metadata["step"] == STEPS
