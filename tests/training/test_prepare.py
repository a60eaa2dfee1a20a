"""`ganimate prepare` end to end through the CLI: London set, rerun, bad inputs, OpenFace labels,
the original GANimation layout, and `ganimate train` on the result."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from ganimate.cli import app
from ganimate.faces import AU_NAMES
from ganimate.images import read_rgb, write_image

runner = CliRunner()


def _csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def london_ds(media, tmp_path_factory):
    out = tmp_path_factory.mktemp("london") / "ds"
    result = runner.invoke(app, ["-q", "prepare", str(media / "faces" / "london"), "--out",
                                 str(out), "--size", "128", "--workers", "2"])
    assert result.exit_code == 0, result.output
    return out


def test_london_dataset_has_the_documented_format(london_ds):
    meta = json.loads((london_ds / "meta.json").read_text())
    assert meta["format"] == "ganimate-dataset" and meta["version"] == 1
    assert meta["size"] == 128 and meta["au_names"] == list(AU_NAMES)
    assert meta["count"] == 204 and meta["au_source"] == "mesh"
    rows = _csv(london_ds / "aus.csv")
    assert len(rows) == 204 and list(rows[0]) == ["id", *AU_NAMES]
    values = np.array([[float(r[n]) for n in AU_NAMES] for r in rows])
    assert values.min() >= 0 and values.max() <= 1
    train = (london_ds / "train.txt").read_text().split()
    test = (london_ds / "test.txt").read_text().split()
    assert sorted(train + test) == sorted(r["id"] for r in rows) and test and train
    for r in rows[:5]:
        img = read_rgb(london_ds / "images" / f"{r['id']}.jpg")
        assert img.shape == (128, 128, 3)
    sources = _csv(london_ds / "sources.csv")
    assert {s["source"] for s in sources} >= {"neutral/001.jpg", "smiling/001.jpg"}
    assert _csv(london_ds / "rejected.csv") == []
    # calibrated labels keep the smile: AU12 higher on the smiling photo for nearly everyone
    by_source = {s["source"]: s["id"] for s in sources}
    au12 = {r["id"]: float(r["AU12"]) for r in rows}
    wins = [au12[by_source[f"smiling/{k:03d}.jpg"]] > au12[by_source[f"neutral/{k:03d}.jpg"]]
            for k in range(1, 103) if f"smiling/{k:03d}.jpg" in by_source]
    assert np.mean(wins) >= 0.95


def test_rerun_does_no_work(media, london_ds):
    images = sorted((london_ds / "images").iterdir())
    stamps = [p.stat().st_mtime_ns for p in images]
    result = runner.invoke(app, ["prepare", str(media / "faces" / "london"), "--out",
                                 str(london_ds), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "0 sources processed, 204 already done" in result.output
    assert [p.stat().st_mtime_ns for p in sorted((london_ds / "images").iterdir())] == stamps
    # a different crop size cannot continue this dataset
    result = runner.invoke(app, ["prepare", str(media / "faces" / "london"), "--out",
                                 str(london_ds), "--size", "64"])
    assert result.exit_code == 1 and "--size" in result.output


def test_train_runs_on_the_prepared_dataset(london_ds, tmp_path):
    run = tmp_path / "run"
    result = runner.invoke(app, [
        "-q", "train", str(london_ds), "--out", str(run), "--image-size", "64",
        "--g-width", "8", "--g-blocks", "1", "--d-width", "8", "--d-layers", "3",
        "--batch-size", "4", "--steps", "2", "--n-critic", "1", "--workers", "0",
        "--device", "cpu", "--seed", "0",
    ])
    assert result.exit_code == 0, result.output
    ckpts = list((run / "checkpoints").glob("*.safetensors"))
    assert ckpts
    # The model carries the dataset's AU calibration, through export too, so that edits read the
    # source AUs of new faces on the scale the labels had.
    from ganimate.model import export_generator
    from ganimate.model.checkpoint import read_metadata

    calibration = json.loads((london_ds / "meta.json").read_text())["au_calibration"]
    assert calibration and read_metadata(ckpts[0])["au_calibration"] == calibration
    exported = export_generator(ckpts[0], tmp_path / "g.safetensors")
    assert read_metadata(exported)["au_calibration"] == calibration


@pytest.fixture(scope="module")
def messy_folder(media, tmp_path_factory):
    """Good and bad inputs side by side, made from the test media at test time."""
    d = tmp_path_factory.mktemp("messy")
    src = media / "faces" / "london" / "neutral"
    shutil.copy(src / "001.jpg", d / "good.jpg")
    data = (src / "002.jpg").read_bytes()
    (d / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (d / "notes.jpg").write_text("this is not a picture\n")
    rgb = read_rgb(src / "003.jpg")
    write_image(d / "rgba.png", rgb, alpha=np.full(rgb.shape[:2], 200, np.uint8))
    from PIL import Image

    Image.fromarray(rgb).convert("L").save(d / "grey.jpg")
    write_image(d / "tiny.png", rgb[::26, ::26][:20, :20])
    (d / "clips").mkdir()
    shutil.copy(media / "video" / "no_face.mp4", d / "clips" / "no_face.mp4")
    shutil.copy(media / "faces" / "london" / "info.csv", d / "info.csv")  # not an input
    return d


def test_bad_inputs_are_reported_and_good_ones_kept(messy_folder, tmp_path):
    out = tmp_path / "ds"
    result = runner.invoke(app, ["-q", "prepare", str(messy_folder), "--out", str(out),
                                 "--every", "25", "--workers", "1"])
    assert result.exit_code == 0, result.output
    rejected = {r["source"]: r for r in _csv(out / "rejected.csv")}
    assert rejected["truncated.jpg"]["reason"] == "unreadable"
    assert rejected["notes.jpg"]["reason"] == "unreadable"
    assert rejected["tiny.png"]["reason"] == "image too small"
    assert rejected["clips/no_face.mp4"]["reason"] == "no face"
    assert "info.csv" not in rejected
    kept = {r["source"] for r in _csv(out / "sources.csv")}
    assert kept == {"good.jpg", "rgba.png", "grey.jpg"}
    assert json.loads((out / "meta.json").read_text())["count"] == 3
    # rejected inputs are remembered: a rerun does not try them again
    result = runner.invoke(app, ["prepare", str(messy_folder), "--out", str(out), "--every", "25",
                                 "--workers", "1"])
    assert "0 sources processed, 7 already done" in result.output


def test_small_and_turned_faces_are_rejected(media, tmp_path):
    out = tmp_path / "ds"
    result = runner.invoke(app, ["-q", "prepare", str(media / "photos" / "zoom_60cm.jpg"),
                                 "--out", str(out), "--min-face", "2000", "--workers", "1"])
    # nothing usable (#14): no dataset, and the error gives the reason (rejected.csv's row)
    assert result.exit_code == 1 and not out.exists()
    assert "zoom_60cm.jpg: face too small (face 0: " in result.output
    assert " px < 2000)" in result.output
    out2 = tmp_path / "ds2"
    result = runner.invoke(app, ["-q", "prepare", str(media / "photos" / "lisa1.jpg"), "--out",
                                 str(out2), "--max-yaw", "0.01", "--workers", "1"])
    assert result.exit_code == 1 and "lisa1.jpg: face too turned (face 0: yaw " in result.output


def test_video_frames_every_k_and_split_by_source(media, tmp_path):
    from ganimate.training.prepare_output import _split_of

    out = tmp_path / "ds"
    result = runner.invoke(app, ["-q", "prepare", str(media / "video" / "single_face.mp4"),
                                 "--out", str(out), "--every", "12", "--workers", "1"])
    assert result.exit_code == 0, result.output
    frames = sorted(int(s["frame"]) for s in _csv(out / "sources.csv"))
    assert frames == list(range(0, 12 * len(frames), 12)) and len(frames) >= 5
    # one source: all its frames fall in the same split
    n_train = len((out / "train.txt").read_text().split())
    n_test = len((out / "test.txt").read_text().split())
    assert {n_train, n_test} == {0, len(frames)}
    # the split is a pure function of the source (and of the person with --split-by stem)
    assert _split_of("a/b.mp4", "source", 0.5) == _split_of("a/b.mp4", "source", 0.5)
    assert _split_of("neutral/007.jpg", "stem", 0.5) == _split_of("smiling/007.jpg", "stem", 0.5)
    tests = sum(_split_of(f"p{k}.jpg", "source", 0.1) == "test" for k in range(2000))
    assert 150 < tests < 250


def test_openface_labels_replace_the_estimator(media, tmp_path):
    # OpenFace FeatureExtraction -fdir: frame n is the n-th photo in sorted order.
    src = tmp_path / "photos"
    src.mkdir()
    for name in ("001", "002"):
        shutil.copy(media / "faces/london/smiling" / f"{name}.jpg", src / f"{name}.jpg")
    of = media / "formats" / "openface" / "OpenFace_Test.csv"
    lines = of.read_text().splitlines()
    (tmp_path / "of.csv").write_text("\n".join(lines[:3]) + "\n")
    out = tmp_path / "ds"
    result = runner.invoke(app, ["-q", "prepare", str(src), "--out", str(out), "--aus",
                                 str(tmp_path / "of.csv"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    header = [h.strip() for h in lines[0].split(",")]
    second = [c.strip() for c in lines[2].split(",")]
    rows = {s["source"]: s["id"] for s in _csv(out / "sources.csv")}
    labels = {r["id"]: r for r in _csv(out / "aus.csv")}
    got = labels[rows["002.jpg"]]
    for name in ("AU06", "AU12", "AU25"):
        assert float(got[name]) == pytest.approx(float(second[header.index(f"{name}_r")]) / 5,
                                                 abs=1e-4)
    assert json.loads((out / "meta.json").read_text())["au_source"] == "openface"
    bad = runner.invoke(app, ["prepare", str(src), "--out", str(tmp_path / "x"), "--aus",
                              str(of), "--workers", "1"])
    assert bad.exit_code == 1 and "cannot match" in bad.output


def test_original_layout_is_converted(research, tmp_path):
    from ganimate.training.dataset import load_original_layout

    sample = research("formats/ganimation_sample")
    out = tmp_path / "ds"
    result = runner.invoke(app, ["prepare", str(sample), "--out", str(out)])
    assert result.exit_code == 0, result.output
    layout = load_original_layout(sample)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["au_source"] == "ganimation" and meta["count"] == len(layout.ids) == 4
    rows = {r["id"]: r for r in _csv(out / "aus.csv")}
    for i, orig in enumerate(layout.ids):
        got = np.array([float(rows[orig][n]) for n in AU_NAMES])
        assert np.allclose(got, layout.aus[i], atol=1e-4)
        assert read_rgb(out / "images" / f"{orig}.jpg").shape == (128, 128, 3)
    assert sorted((out / "train.txt").read_text().split()) == sorted(layout.train_ids)
    assert sorted((out / "test.txt").read_text().split()) == sorted(layout.test_ids)


def test_bad_options_and_missing_sources(tmp_path):
    r = runner.invoke(app, ["prepare", str(tmp_path / "nope"), "--out", str(tmp_path / "ds")])
    assert r.exit_code == 1 and "no such file or folder" in r.output
    empty = tmp_path / "empty"
    empty.mkdir()
    r = runner.invoke(app, ["prepare", str(empty), "--out", str(tmp_path / "ds")])
    assert r.exit_code == 1 and "no photos or videos" in r.output
    r = runner.invoke(app, ["prepare", str(empty), "--out", str(tmp_path / "ds"), "--size", "100"])
    assert r.exit_code == 1 and "--size" in r.output
