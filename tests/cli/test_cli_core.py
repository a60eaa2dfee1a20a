"""The core commands as a user runs them: synthetic -> train -> export -> edit, and bad input.

The trained run is the shared ``trained_run`` fixture (conftest.py): 6 steps, checkpoints 3 and 6.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganimate.images import read_rgb, write_image


def test_train_export_edit_end_to_end(invoke, trained_run, tmp_path):
    run_dir = trained_run.run
    checkpoints = sorted((run_dir / "checkpoints").iterdir())
    assert [p.name for p in checkpoints][-1] == "step_00000006.safetensors"
    assert len(json.loads((run_dir / "config.json").read_text())["model"]["au_names"]) == 2
    res = invoke("export", run_dir, "-o", tmp_path / "g.safetensors")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip().endswith("g.safetensors")

    crop = trained_run.data / "images" / "syn000000.png"
    for ckpt in (tmp_path / "g.safetensors", checkpoints[-1], run_dir):
        out_png = tmp_path / "edited.png"
        res = invoke("edit", "image", crop, "--checkpoint", ckpt, "--au", "AU26=0.9",
                     "--au", "AU01+0.2", "--source-au", "AU01=0.3", "--aligned",
                     "-o", out_png, "--attention", tmp_path / "att.png")
        assert res.exit_code == 0, res.output
        edited = read_rgb(out_png)
        assert edited.shape == read_rgb(crop).shape
        assert read_rgb(tmp_path / "att.png").shape == edited.shape

    # a crop of another size is edited at the model size and returned at its own
    big = tmp_path / "big.png"
    write_image(big, np.kron(read_rgb(crop), np.ones((2, 2, 1), np.uint8)))
    res = invoke("edit", "image", big, "-c", run_dir, "--au", "AU26=0.1", "--aligned",
                 "-o", tmp_path / "big_out.jpg")
    assert res.exit_code == 0, res.output
    assert read_rgb(tmp_path / "big_out.jpg").shape == (64, 64, 3)


@pytest.mark.parametrize("args, message", [
    (["--au", "AU12=0.8"], "unknown AU 'AU12'"),
    (["--au", "AU26=1.5"], "outside [0, 1]"),
    (["--au", "smile"], "expected NAME=VALUE"),
    (["--source-au", "AU26+0.1", "--au", "AU26=0.5"], "give an absolute value"),
    ([], "nothing to change"),
])
def test_edit_rejects_bad_aus(invoke, trained_run, tmp_path, args, message):
    crop = trained_run.data / "images" / "syn000001.png"
    res = invoke("edit", "image", crop, "-c", trained_run.run, *args, "--aligned",
                 "-o", tmp_path / "x.png")
    assert res.exit_code == 1 and message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_edit_rejects_bad_files(invoke, trained_run, tmp_path):
    data, ckpt = trained_run.data, trained_run.run
    crop = data / "images" / "syn000001.png"
    cases = [
        ([tmp_path / "missing.png", "-c", ckpt], "no such"),
        ([crop, "-c", tmp_path / "missing.safetensors"], "no such checkpoint"),
        ([crop, "-c", data / "aus.csv"], "not a readable safetensors"),
        ([crop, "-c", data], "a folder without checkpoints"),
        ([data / "aus.csv", "-c", ckpt], "cannot decode image"),
    ]
    for args, message in cases:
        res = invoke("edit", "image", *args, "--au", "AU26=0.5", "--aligned",
                     "-o", tmp_path / "x.png")
        assert res.exit_code == 1 and message in res.stderr, (args, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1
    res = invoke("edit", "image", crop, "-c", ckpt, "--au", "AU26=0.5", "--aligned", "-o",
                 tmp_path / "x.txt")
    assert res.exit_code == 1 and "image extension" in res.stderr
    # the checkpoint's AU list decides which names are valid: the synthetic model has no AU12
    res = invoke("edit", "image", crop, "-c", ckpt, "--au", "AU12=0.5", "--aligned", "-o",
                 tmp_path / "x.png")
    assert res.exit_code == 1 and "known AUs: AU01 AU26" in res.stderr


def test_train_rejects_bad_input(invoke, trained_run, tiny_train_args, tmp_path):
    data, tiny = trained_run.data, tiny_train_args
    res = invoke("train", tmp_path, "--out", tmp_path / "r", *tiny, "--steps", "2")
    assert res.exit_code == 1 and "not a dataset" in res.stderr
    res = invoke("train", data, "--out", trained_run.run, *tiny, "--steps", "2")
    assert res.exit_code == 1 and "--resume" in res.stderr
    res = invoke("train", data, "--out", tmp_path / "r", *tiny, "--image-size", "100")
    assert res.exit_code == 1 and "image size 100" in res.stderr
    res = invoke("train", data, "--out", tmp_path / "r", *tiny, "--batch-size", "400")
    assert res.exit_code == 1 and "fewer than one batch" in res.stderr
    res = invoke("synthetic", data)
    assert res.exit_code == 1 and "already holds a dataset" in res.stderr


def test_resume_from_the_cli_uses_the_runs_settings(invoke, trained_run, tiny_train_args,
                                                     tmp_path):
    # --resume without repeating the options: the run's config.json supplies them
    data = trained_run.data
    res = invoke("train", data, "--out", tmp_path / "r", *tiny_train_args, "--steps", "4",
                 "--stop-at", "2")
    assert res.exit_code == 0, res.output
    res = invoke("train", data, "--out", tmp_path / "r", "--resume")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip().endswith("step_00000004.safetensors")
