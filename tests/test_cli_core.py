"""The core commands as a user runs them: synthetic -> train -> export -> edit, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from ganimate.cli import app
from ganimate.images import read_rgb, write_image

TINY = ["--image-size", "32", "--g-width", "8", "--g-blocks", "1", "--d-width", "8",
        "--d-layers", "3", "--batch-size", "4", "--workers", "0"]


def run(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    code, out, err = run("synthetic", root / "data", "--count", "40", "--size", "32")
    assert code == 0, err
    code, out, err = run("train", root / "data", "--out", root / "run", *TINY, "--steps", "30",
                         "--checkpoint-every", "10", "--sample-every", "15")
    assert code == 0, err
    return root


def test_train_export_edit_end_to_end(trained, tmp_path):
    run_dir = trained / "run"
    checkpoints = sorted((run_dir / "checkpoints").iterdir())
    assert [p.name for p in checkpoints][-1] == "step_00000030.safetensors"
    assert len(json.loads((run_dir / "config.json").read_text())["model"]["au_names"]) == 2
    code, out, err = run("export", run_dir, "-o", tmp_path / "g.safetensors")
    assert code == 0, err and out.strip().endswith("g.safetensors")

    crop = trained / "data" / "images" / "syn000000.png"
    for ckpt in (tmp_path / "g.safetensors", checkpoints[-1], run_dir):
        out_png = tmp_path / "edited.png"
        code, out, err = run("edit", "image", crop, "--checkpoint", ckpt, "--au", "AU26=0.9",
                             "--au", "AU01+0.2", "--source-au", "AU01=0.3", "--aligned",
                             "-o", out_png, "--attention", tmp_path / "att.png")
        assert code == 0, err
        edited = read_rgb(out_png)
        assert edited.shape == read_rgb(crop).shape
        assert read_rgb(tmp_path / "att.png").shape == edited.shape

    # a crop of another size is edited at the model size and returned at its own
    big = tmp_path / "big.png"
    write_image(big, np.kron(read_rgb(crop), np.ones((2, 2, 1), np.uint8)))
    code, _, err = run("edit", "image", big, "-c", run_dir, "--au", "AU26=0.1", "--aligned",
                       "-o", tmp_path / "big_out.jpg")
    assert code == 0, err and read_rgb(tmp_path / "big_out.jpg").shape == (64, 64, 3)


@pytest.mark.parametrize("args, message", [
    (["--au", "AU12=0.8"], "unknown AU 'AU12'"),
    (["--au", "AU26=1.5"], "outside [0, 1]"),
    (["--au", "smile"], "expected NAME=VALUE"),
    (["--source-au", "AU26+0.1", "--au", "AU26=0.5"], "give an absolute value"),
    ([], "nothing to change"),
])
def test_edit_rejects_bad_aus(trained, tmp_path, args, message):
    crop = trained / "data" / "images" / "syn000001.png"
    code, out, err = run("edit", "image", crop, "-c", trained / "run", *args, "--aligned",
                         "-o", tmp_path / "x.png")
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_edit_rejects_bad_files(trained, tmp_path):
    crop = trained / "data" / "images" / "syn000001.png"
    ckpt = trained / "run"
    cases = [
        ([tmp_path / "missing.png", "-c", ckpt], "no such"),
        ([crop, "-c", tmp_path / "missing.safetensors"], "no such checkpoint"),
        ([crop, "-c", trained / "data" / "aus.csv"], "not a readable safetensors"),
        ([crop, "-c", trained / "data"], "a folder without checkpoints"),
        ([trained / "data" / "aus.csv", "-c", ckpt], "cannot decode image"),
    ]
    for args, message in cases:
        code, out, err = run("edit", "image", *args, "--au", "AU26=0.5", "--aligned",
                             "-o", tmp_path / "x.png")
        assert code == 1 and message in err, (args, err)
        assert len(err.strip().splitlines()) == 1
    code, _, err = run("edit", "image", crop, "-c", ckpt, "--au", "AU26=0.5", "--aligned", "-o",
                       tmp_path / "x.txt")
    assert code == 1 and "image extension" in err
    # the checkpoint's AU list decides which names are valid: the synthetic model has no AU12
    code, _, err = run("edit", "image", crop, "-c", ckpt, "--au", "AU12=0.5", "--aligned", "-o",
                       tmp_path / "x.png")
    assert code == 1 and "known AUs: AU01 AU26" in err


def test_train_rejects_bad_input(trained, tmp_path):
    code, _, err = run("train", tmp_path, "--out", tmp_path / "r", *TINY, "--steps", "2")
    assert code == 1 and "not a dataset" in err
    code, _, err = run("train", trained / "data", "--out", trained / "run", *TINY, "--steps", "2")
    assert code == 1 and "--resume" in err
    code, _, err = run("train", trained / "data", "--out", tmp_path / "r", *TINY,
                       "--image-size", "100")
    assert code == 1 and "image size 100" in err
    code, _, err = run("train", trained / "data", "--out", tmp_path / "r", *TINY,
                       "--precision", "bf16", "--device", "cpu")
    assert code == 1 and "needs a CUDA GPU" in err
    code, _, err = run("train", trained / "data", "--out", tmp_path / "r", *TINY,
                       "--batch-size", "400")
    assert code == 1 and "fewer than one batch" in err
    code, _, err = run("synthetic", trained / "data")
    assert code == 1 and "already holds a dataset" in err


def test_resume_from_the_cli_uses_the_runs_settings(trained, tmp_path):
    # --resume without repeating the options: the run's config.json supplies them
    code, _, err = run("train", trained / "data", "--out", tmp_path / "r", *TINY, "--steps", "4",
                       "--stop-at", "2", "--sample-every", "0")
    assert code == 0, err
    code, out, err = run("train", trained / "data", "--out", tmp_path / "r", "--resume")
    assert code == 0, err and out.strip().endswith("step_00000004.safetensors")
