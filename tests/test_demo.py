"""`ganimate demo`, the shipped model and the bundled media.

The demo runs end to end through the CLI at reduced size (``--quick``) with the shipped stand-in
model on the real bundled photo and video.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from ganimate import demo
from ganimate.cli import app
from ganimate.model import bundled

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def _holdout() -> list[str]:
    text = (ROOT / "examples" / "demo_model" / "holdout.txt").read_text()
    return [s.strip() for s in text.splitlines() if s.strip() and not s.startswith("#")]


def test_shipped_model_is_a_labelled_small_standin_that_loads(caplog):
    from ganimate.model import load_generator

    shipped = bundled.bundled_models()
    assert shipped, "no model in ganimate/model/weights"
    model = shipped[0]
    # Until the GPU model lands the default is the stand-in, and it says so everywhere.
    if model.standin:
        assert "standin" in model.path.name and "standin" in model.name
        card = (model.path.parent / "MODEL_CARD.md").read_text()
        assert model.path.name in card and "STAND-IN" in card
    assert model.path.stat().st_size < 16 * 2**20
    meta = model.metadata
    assert meta["kind"] == "generator" and meta["dtype"] == "float16"
    assert meta["au_calibration"]["au_names"]  # source AUs go onto the labels' scale
    # Never trained on the held-out people, the bundled photo's person among them.
    assert sorted(meta["training"]["holdout"]) == sorted(_holdout())
    assert len(_holdout()) >= 20 and "005" in _holdout()

    with caplog.at_level(logging.WARNING, logger="ganimate"):
        path = bundled.bundled_model()
    assert path == model.path
    assert ("STAND-IN" in caplog.text) == model.standin
    loaded = load_generator(path, device="cpu")
    assert loaded.config.image_size == meta["model"]["image_size"]


def test_bundled_media_are_credited():
    folder = Path(demo.asset(demo.PHOTO)).parent
    notice = (folder / "NOTICE.md").read_text()
    for f in folder.iterdir():
        if f.name != "NOTICE.md":
            assert f"`{f.name}`" in notice, f"{f.name} has no licence line in NOTICE.md"
    assert "doi:10.6084/m9.figshare.5047666.v5" in notice and "MIT" in notice
    assert demo.asset(demo.PHOTO).stat().st_size < 100_000
    assert demo.asset(demo.VIDEO).stat().st_size < 300_000


def test_demo_quick_writes_every_announced_file(tmp_path):
    from ganimate.images import read_rgb

    out = tmp_path / "demo"
    r = runner.invoke(app, ["demo", "--quick", "-o", str(out)])
    assert r.exit_code == 0, r.output
    printed = [Path(line) for line in r.stdout.splitlines() if line.strip()]
    assert printed and all(p.is_file() and p.stat().st_size > 0 for p in printed)
    assert all(p.parent == out for p in printed)
    assert f"demo files in {out}" in r.stderr
    names = {p.name for p in printed}
    assert {"photo_input.jpg", "photo_happy.jpg", "compare.png", "sweep.png",
            "sweep_gan.png", "animate_image.mp4", "animate_video.mp4"} <= names

    # The edit is the same photo with the face changed: same size, not identical, and the
    # change concentrated on the face (the paste-back keeps the background).
    before, after = read_rgb(out / "photo_input.jpg"), read_rgb(out / "photo_happy.jpg")
    assert before.shape == after.shape
    diff = np.abs(before.astype(int) - after.astype(int)).sum(axis=2)
    assert diff.max() > 20
    h, w = diff.shape
    centre = diff[h // 4: 3 * h // 4, w // 4: 3 * w // 4].mean()
    assert centre > 3 * diff[: h // 8].mean() + 0.1  # the top band is studio background
    sweep = read_rgb(out / "sweep.png")
    assert sweep.shape[0] >= 96 and sweep.shape[1] >= 3 * 96  # label + input + 2 steps

    # compare.png: a header row and one row of input | warp | gan | hybrid cells
    compare = read_rgb(out / "compare.png")
    assert compare.shape[0] >= 96 and compare.shape[1] >= 4 * 96
    from ganimate.video import probe

    assert probe(out / "animate_image.mp4").frame_count >= 4
    src = probe(demo.asset(demo.VIDEO))
    got = probe(out / "animate_video.mp4")  # the clip keeps the input's frames and size
    assert (got.width, got.height, got.frame_count) == (src.width, src.height, src.frame_count)
    if bundled.bundled_models()[0].standin:
        assert "stand-in" in r.stderr


def test_bad_output_and_checkpoint(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    r = runner.invoke(app, ["demo", "-o", str(blocker)])
    assert r.exit_code == 1 and re.search(r"error: .*file\.txt.*not a folder", r.stderr)
    r = runner.invoke(app, ["demo", "-o", str(tmp_path / "d"), "--checkpoint",
                            str(tmp_path / "none.safetensors")])
    assert r.exit_code == 1 and "error:" in r.stderr and "none.safetensors" in r.stderr


def test_demo_help_and_warnings_say_which_engine(caplog):
    """The demo's edits are the warp's (its help says so, as the README does); the generator's
    lack of AU16 is said once, naming the compare grid's columns it affects, not once per
    engine as if the warp lacked it."""
    from ganimate.engines import GanEngine, HybridEngine, load_engine

    gan = load_engine("gan", None, "cpu")
    assert isinstance(gan, GanEngine) and "AU16" not in gan.au_names
    said: set = set()
    with caplog.at_level(logging.WARNING, logger="ganimate"):
        for engine in (gan, HybridEngine(gan.loaded)):
            spec = demo._spec(engine, "anger", said)
            assert spec.expression.preset.name == "anger"
    warnings = [r.getMessage() for r in caplog.records if "AU16" in r.getMessage()]
    assert len(warnings) == 1 and "compare.png" in warnings[0] and "gan and hybrid" in warnings[0]
    text = " ".join(runner.invoke(app, ["demo", "--help"], env={"COLUMNS": "200"}).stdout.split())
    assert "with the warp engine (no model)" in text and "beside the warp" in text
