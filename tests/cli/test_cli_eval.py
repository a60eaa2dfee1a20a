"""`ganimate eval` end to end: a tiny model trained in a fixture, reports, compare, video."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from ganimate.evaluation.identity import identity_unavailable

METRICS = ("au_error", "au_error_swept", "au_error_unedited", "au_error_unedited_swept",
           "reader_vs_labels", "direction", "identity", "identity_skipped", "reconstruction_l1",
           "cycle_l1", "background_change", "attention", "unreadable", "config", "source")
FAST = ["--faces", "4", "--random-targets", "1"]
needs_dlib = pytest.mark.skipif(identity_unavailable() is not None,
                                reason=f"[eval] extra missing: {identity_unavailable()}")


def _png_ok(path) -> None:
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "PNG" and im.width > 100 and im.height > 100


def test_eval_writes_json_table_and_figures(invoke, trained_run, tmp_path):
    data, ckpts = trained_run.data, trained_run.checkpoints
    out = tmp_path / "report"
    res = invoke("eval", "model", ckpts[-1], data, *FAST, "--no-identity", "--out", out)
    assert res.exit_code == 0, res.output
    assert "direction accuracy" in res.output and "AU26 jaw drop" in res.output
    report = json.loads((out / "report.json").read_text())
    assert set(METRICS) <= set(report)
    assert report["faces"] == 4 and report["edits"] == 4 * (2 * 3 + 1)
    assert report["reliable"] == ["AU01", "AU26"]
    assert set(report["au_error"]["per_au"]) == {"AU01", "AU26"}
    assert 0 <= report["au_error"]["overall"] <= 1
    assert 0 <= report["direction"]["overall"] <= 1 and report["direction"]["count"] > 0
    assert report["reconstruction_l1"] >= 0 and report["cycle_l1"] >= 0
    assert 0 <= report["attention"]["saturated"] <= 1
    assert report["identity"] is None and "no-identity" in report["identity_skipped"]
    assert report["source"]["reader"] == "synthetic bar-face measurement"
    _png_ok(out / "au_error.png")
    _png_ok(out / "au_sweep.png")


def test_eval_is_seeded_and_prints_json(invoke, trained_run, tmp_path):
    data, run = trained_run.data, trained_run.run
    first = invoke("eval", "model", run, data, *FAST, "--no-identity", "--json", "--out",
                   tmp_path / "a")
    second = invoke("eval", "model", run, data, *FAST, "--no-identity", "--json", "--out",
                    tmp_path / "b")
    assert first.exit_code == 0, first.output
    a = json.loads(first.stdout)
    b = json.loads(second.stdout)
    assert a["source"]["checkpoint"].endswith("step_00000006.safetensors")  # run folder: newest
    for key in ("au_error", "direction", "reconstruction_l1", "cycle_l1", "attention"):
        assert a[key] == b[key]


def test_identity_is_skipped_with_a_clear_message_when_dlib_is_missing(invoke, trained_run,
                                                                        tmp_path, monkeypatch):
    from ganimate.evaluation import readers

    monkeypatch.setattr(readers, "identity_unavailable",  # where the skip is decided
                        lambda: "dlib is not installed; pip install 'ganimate[eval]'")
    data, ckpts = trained_run.data, trained_run.checkpoints
    res = invoke("eval", "model", ckpts[-1], data, *FAST, "--out", tmp_path / "r")
    assert res.exit_code == 0, res.output
    assert "identity skipped: dlib is not installed" in res.output
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["identity"] is None
    assert "pip install 'ganimate[eval]'" in report["identity_skipped"]
    assert report["au_error"]["overall"] is not None  # everything else is still measured


@needs_dlib
def test_identity_is_measured_when_the_extra_is_installed(invoke, trained_run, tmp_path):
    data, ckpts = trained_run.data, trained_run.checkpoints
    res = invoke("eval", "model", ckpts[-1], data, "--faces", "2", "--random-targets", "1",
                 "--out", tmp_path / "r")
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    ident = report["identity"]
    assert report["identity_skipped"] is None
    assert ident["count"] == report["edits"] and ident["mean"] > 0
    assert 0 <= ident["share_under"] <= 1 and ident["threshold"] == 0.6


def test_compare_two_checkpoints_side_by_side(invoke, trained_run, tmp_path):
    data, ckpts = trained_run.data, trained_run.checkpoints
    out = tmp_path / "cmp"
    res = invoke("eval", "model", ckpts[0], ckpts[1], data, *FAST, "--no-identity",
                 "--out", out)
    assert res.exit_code == 0, res.output
    assert "A: step_00000003" in res.output and "B: step_00000006" in res.output
    cmp = json.loads((out / "compare.json").read_text())
    a, b = (cmp["results"][k] for k in cmp["compare"])
    assert a["faces"] == b["faces"] == 4 and a["edits"] == b["edits"]  # same protocol
    assert a["source"]["checkpoint"] != b["source"]["checkpoint"]
    for name in ("au_error.png", "au_sweep_a.png", "au_sweep_b.png"):
        _png_ok(out / name)


def test_bad_input_gives_one_clear_error(invoke, trained_run, tmp_path):
    data, ckpts = trained_run.data, trained_run.checkpoints
    cases = [
        (["eval", "model", ckpts[-1]], "expected CHECKPOINT [CHECKPOINT_B] DATASET"),
        (["eval", "model", ckpts[0], ckpts[1], ckpts[0], data],
         "expected CHECKPOINT [CHECKPOINT_B] DATASET"),
        (["eval", "model", tmp_path / "nope.safetensors", data], "no such checkpoint"),
        (["eval", "model", ckpts[-1], tmp_path / "nodata"], "no such dataset folder"),
        (["eval", "video", tmp_path / "in.mp4", tmp_path / "out.mp4"], "no such video"),
    ]
    for args, message in cases:
        res = invoke(*args)
        assert res.exit_code == 1, (args, res.output)
        assert "error:" in res.output and message in res.output, (args, res.output)

    # a dataset labelled with other AUs than the model's
    other = tmp_path / "other"
    shutil.copytree(data, other)
    meta = json.loads((other / "meta.json").read_text())
    meta["au_names"] = ["AU12", "AU25"]
    (other / "meta.json").write_text(json.dumps(meta))
    csv = (other / "aus.csv").read_text().replace("AU01,AU26", "AU12,AU25", 1)
    (other / "aus.csv").write_text(csv)
    res = invoke("eval", "model", ckpts[-1], other, *FAST, "--no-identity")
    assert res.exit_code == 1 and "no labels for the model's AUs AU01 AU26" in res.output


@pytest.fixture(scope="module")
def flicker_video(media, tmp_path_factory):
    """The real single-face clip, and a lossless copy that flickers by +-8 levels in the middle."""
    from ganimate import video

    src = media / "video" / "single_face.mp4"
    info = video.probe(src)
    out = tmp_path_factory.mktemp("video") / "flicker.mkv"
    with video.VideoWriter(out, info.fps, lossless=True) as writer:
        for t, frame in enumerate(video.read_frames(src, info)):
            f = frame.astype(np.int16)
            f[:, 160:480] += 8 if t % 2 else -8
            writer.write(np.clip(f, 0, 255).astype(np.uint8))
    return src, out


def test_eval_video_measures_flicker(invoke, flicker_video, tmp_path):
    src, flickering = flicker_video
    res = invoke("eval", "video", src, flickering, "--no-identity", "--out", tmp_path / "v")
    assert res.exit_code == 0, res.output
    assert "flicker added" in res.output
    report = json.loads((tmp_path / "v" / "video_report.json").read_text())
    assert report["frames"] == 72 and report["frames_with_face"] >= 60
    assert report["flicker"]["flicker"] > 8  # +-8 alternating: ~16 levels per step where it lies
    assert report["background_change"] < report["face_change"]

    same = invoke("eval", "video", src, src, "--no-identity", "--json", "--out", tmp_path / "s")
    assert same.exit_code == 0, same.output
    steady = json.loads(same.stdout)
    assert steady["flicker"]["flicker"] == 0 and steady["background_change"] == 0


def test_eval_on_real_faces_uses_the_calibrated_estimator(invoke, media, tmp_path):
    """The real AU reader path: London photos prepared by `ganimate prepare`, an untrained 64 px
    generator with the 17 AUs, read back by the face-mesh estimator through the calibration."""
    import torch

    from ganimate.model import Generator, ModelConfig, save_checkpoint

    src = tmp_path / "src"
    for kind in ("neutral", "smiling"):
        (src / kind).mkdir(parents=True)
        for person in (f"{i:03d}" for i in range(1, 11)):  # 20 crops: enough to calibrate
            shutil.copy(media / "faces" / "london" / kind / f"{person}.jpg", src / kind)
    data = tmp_path / "london"
    res = invoke("prepare", src, "--out", data, "--size", "64", "--test-fraction", "0.5",
                 "-j", "1")
    assert res.exit_code == 0, res.output
    torch.manual_seed(0)
    cfg = ModelConfig(image_size=64, g_width=8, g_residual_blocks=1, d_width=8, d_layers=4)
    weights = {f"G.{k}": v for k, v in Generator(cfg).state_dict().items()}
    ckpt = save_checkpoint(tmp_path / "g.safetensors", weights,
                           {"kind": "generator", "model": cfg.to_dict(),
                            "au_names": list(cfg.au_names)})
    res = invoke("eval", "model", ckpt, data, "--faces", "2", "--random-targets", "0",
                 "--no-identity",
                 "--json", "--out", tmp_path / "r")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["reliable"] == ["AU06", "AU10", "AU12", "AU14", "AU25", "AU45"]
    assert report["source"]["reader"].endswith("calibrated")
    assert report["reader_vs_labels"]["overall"] < 0.1  # crops re-read on the labels' scale
    assert report["unreadable"] == 0.0 and report["au_error"]["count"] > 0


@needs_dlib
def test_eval_photos_skips_a_photo_without_a_face_and_goes_on(invoke, media, tmp_path):
    """One faceless picture among real faces is warned about, listed as skipped in the tables
    and the JSON report, and the other photos are measured; only no photo at all fails."""
    from ganimate.images import write_image
    from ganimate.video import iter_video_frames

    photos = tmp_path / "in"
    photos.mkdir()
    for stem in ("001", "002"):
        shutil.copy(media / "faces/london/neutral" / f"{stem}.jpg", photos)
    _, _, frame = next(iter(iter_video_frames(media / "video/no_face.mp4", 1)))
    write_image(photos / "003_noface.png", frame)
    fast = ("--au", "AU12=0.9", "--no-identity", "--no-null-edit")
    res = invoke("eval", "photos", photos, *fast, "-o", tmp_path / "rep")
    assert res.exit_code == 0, res.output
    warning = "".join(res.stderr.split())  # rich wraps the log line at 80 columns
    assert "003_noface.png:nofacefound;skipped" in warning, res.stderr
    assert "2 photos, 1 skipped" in res.stdout and "skipped photo" in res.stdout
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["summary"]["photos"] == 2 and report["summary"]["skipped"] == 1
    assert [r["photo"] for r in report["rows"]] == [str(photos / "001.jpg"),
                                                    str(photos / "002.jpg")]
    assert report["skipped"] == [{"path": str(photos / "003_noface.png"),
                                  "reason": "no face found"}]
    alone = invoke("eval", "photos", photos / "003_noface.png", *fast, "-o", tmp_path / "r2")
    assert alone.exit_code == 1 and "no photo could be measured" in alone.stderr, alone.output
    assert not (tmp_path / "r2").exists()


def test_eval_video_report_goes_beside_out_and_json_writes_none(invoke, flicker_video, tmp_path,
                                                                 monkeypatch):
    """Without -o the report folder is beside the edited video (it went into the current
    folder); with --json and no -o nothing is written: stdout is the report."""
    import shutil

    src, flickering = flicker_video
    edited = tmp_path / "clips" / "edited.mkv"
    edited.parent.mkdir()
    shutil.copy(flickering, edited)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    res = invoke("eval", "video", src, edited, "--no-identity", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["frames"] == 72
    assert list(cwd.iterdir()) == [] and sorted(p.name for p in edited.parent.iterdir()) == [
        "edited.mkv"]
    res = invoke("eval", "video", src, edited, "--no-identity")
    assert res.exit_code == 0, res.output
    assert (edited.parent / "edited-eval" / "video_report.json").is_file()
    assert list(cwd.iterdir()) == []


# --- eval video, frame by frame: teeth, mouth, edit layer, expression reads, strip ---------------

TEETH = (238, 236, 226)  # a near-white teeth colour


@pytest.fixture(scope="module")
def teeth_videos(media, tmp_path_factory):
    """The real single-face clip (the mouth opens into a smile from frame ~20) and two lossless
    edits of it: the inner mouth (the input's landmarks) filled with a near-white on odd frames
    only (teeth popping), and on every frame (bright teeth, steady)."""
    import cv2

    from ganimate import video
    from ganimate.evaluation.mouth import INNER_LIPS
    from ganimate.faces import FaceTracker, largest_face

    src = media / "video" / "single_face.mp4"
    info = video.probe(src)
    folder = tmp_path_factory.mktemp("teeth")
    popping, steady = folder / "popping.mkv", folder / "steady.mkv"
    with FaceTracker() as tracker, video.VideoWriter(popping, info.fps, lossless=True) as pop, \
            video.VideoWriter(steady, info.fps, lossless=True) as bright:
        for t, frame in enumerate(video.read_frames(src, info)):
            lips = np.round(largest_face(tracker(frame)).landmarks[list(INNER_LIPS), :2])
            filled = cv2.fillPoly(frame.copy(), [lips.astype(np.int32)], TEETH)
            pop.write(filled if t % 2 else frame)
            bright.write(filled)
    return src, popping, steady


def _eval_json(invoke, *args) -> dict:
    res = invoke("eval", "video", *args, "--no-identity", "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_eval_video_counts_teeth_popping_in_and_out(invoke, teeth_videos):
    src, popping, _ = teeth_videos
    report = _eval_json(invoke, src, popping, "--read-every", "0")
    teeth, mouth = report["teeth"], report["mouth_flicker"]
    assert teeth["steps"] == 71
    # ~50 open-mouth steps of 71, each a jump between ~0.35 and ~1 while the input holds still
    assert teeth["pops_per_100"] > 40 and teeth["input_jumps"] <= 2
    assert teeth["output_teeth"] > teeth["input_teeth"] + 0.1
    assert mouth["ratio"] > 2 and mouth["output_change"] > mouth["input_change"] + 10
    assert report["edit_flicker"]["change"] > 1  # the fill comes and goes inside the face box
    assert report["expressions"] is None  # --read-every 0


def test_eval_video_steady_bright_teeth_do_not_pop(invoke, teeth_videos):
    src, _, steady = teeth_videos
    teeth = _eval_json(invoke, src, steady, "--read-every", "0")["teeth"]
    # Only where the mouth opens and closes (3 steps): the fill shows at once as the lips part,
    # while the input's first open frames show no teeth yet.
    assert teeth["pops"] <= 3 and teeth["pops_per_100"] < 5
    assert teeth["output_teeth"] > 0.5 and teeth["input_teeth"] < 0.35


def _strip_rows(path, columns: int, size: int = 160):
    """The input and output rows of a strip written by draw_grid (``columns`` cells of ``size``
    px, gap max(4, size // 32), header on top, row labels on the left)."""
    from ganimate.images import read_rgb

    img = read_rgb(path)
    pad = max(4, size // 32)
    top = img.shape[0] - 2 * (size + pad) - pad  # the header's height
    left = img.shape[1] - columns * (size + pad) - pad  # the row labels' width
    assert 20 < left < 100, left
    return img, (img[top:top + size, left:], img[top + size + pad:top + 2 * size + pad, left:])


def test_eval_video_of_a_clip_against_itself_frame_by_frame(invoke, media, tmp_path):
    src = media / "video" / "single_face.mp4"
    strip = tmp_path / "strip.png"
    report = _eval_json(invoke, src, src, "--read-every", "6", "--expect", "happy", "--strip",
                        strip, "--strip-every", "12")
    teeth = report["teeth"]
    assert teeth["pops"] == 0 and teeth["input_teeth"] == teeth["output_teeth"] > 0.1
    assert report["mouth_flicker"]["ratio"] == 1 and report["mouth_flicker"]["steps"] == 71
    assert report["edit_flicker"] == {"change": 0.0, "steps": 71}
    reads = report["expressions"]
    assert reads["every"] == 6 and reads["frames"] == 12
    for label in reads["labels"]:
        assert label["output"] == label["input"] and label["output_p"] == label["input_p"]
    assert reads["expected"]["label"] == "happy" and reads["expected"]["output"] > 0.3  # smiles
    assert report["strip"] == str(strip)
    img, (row_in, row_out) = _strip_rows(strip, 6)  # frames 0, 12, ..., 60
    assert img.shape[0] < 2 * 160 + 60  # two rows and a header
    assert np.array_equal(row_in, row_out) and row_in.std() > 20


def test_eval_video_writes_a_strip_beside_the_report_and_rejects_a_bad_label(invoke, tmp_path,
                                                                            teeth_videos):
    src, popping, _ = teeth_videos
    res = invoke("eval", "video", src, popping, "--no-identity", "--read-every", "0",
                 "--out", tmp_path / "r")
    assert res.exit_code == 0, res.output
    assert "teeth pops per 100 frames" in res.stdout and "mouth flicker ratio" in res.stdout
    report = json.loads((tmp_path / "r" / "video_report.json").read_text())
    assert report["strip"] == str(tmp_path / "r" / "strip.jpg")
    _, (row_in, row_out) = _strip_rows(tmp_path / "r" / "strip.jpg", 8)  # 8 by default
    assert np.abs(row_in.astype(int) - row_out.astype(int)).mean() > 1  # odd frames filled
    bad = invoke("eval", "video", src, popping, "--expect", "joy")
    assert bad.exit_code == 1 and "unknown expression 'joy'" in bad.output
