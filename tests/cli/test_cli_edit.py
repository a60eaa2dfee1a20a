"""`ganimate edit image` and `ganimate edit sweep` end to end, on real photos.

Two models: a tiny one trained through `ganimate synthetic` + `ganimate train` (its AUs are the
synthetic set AU01, AU26; it edits badly, which is fine: these tests check geometry and plumbing,
not quality), and a randomly initialised 17-AU generator for the tests of the target vector handed
to G (spied on ``editing.edit_crops``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json

import numpy as np
import pytest
from PIL import Image

from ganimate.faces import AU_NAMES, FaceMesh, default_estimator
from ganimate.images import read_photo, read_rgb
from ganimate.targets.presets import PRESETS


def one_error_line(res) -> str:
    """The command failed with exit 1 and exactly one `error: ...` line, no traceback."""
    assert res.exit_code == 1, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in res.output, res.output
    return errors[0]


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def model17(tmp_path_factory, save_generator):
    """A randomly initialised generator conditioned on all 17 AUs, saved as an export."""
    return save_generator(tmp_path_factory.mktemp("model17") / "g17.safetensors")


@pytest.fixture(scope="module")
def mesh():
    with FaceMesh() as m:
        yield m


@pytest.fixture(scope="module")
def photos(media, tmp_path_factory):
    """Test inputs: one London face, two faces side by side, an EXIF-rotated and an RGBA one."""
    root = tmp_path_factory.mktemp("photos")
    london = media / "faces" / "london"
    one = london / "neutral" / "005.jpg"
    pair = root / "pair.png"
    left, right = read_rgb(london / "neutral" / "001.jpg"), read_rgb(london / "smiling" / "002.jpg")
    Image.fromarray(np.hstack([left, right])).save(pair)
    # lisa1 (600x800 upright) stored on its side with EXIF orientation 6 ("rotate 90 CW")
    upright = Image.open(media / "photos" / "lisa1.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated = root / "rotated.jpg"
    upright.rotate(90, expand=True).save(rotated, quality=95, exif=exif)
    rgba = root / "rgba.png"
    rgb = read_rgb(one)
    alpha = np.tile(np.linspace(40, 255, rgb.shape[1]).astype(np.uint8), (rgb.shape[0], 1))
    Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(rgba)
    return {"one": one, "pair": pair, "rotated": rotated, "rgba": rgba,
            "upright": media / "photos" / "lisa1.jpg", "smiling": london / "smiling" / "005.jpg"}


def boxes(mesh, path):
    return [f.box for f in mesh(read_photo(path).rgb)]


def far_from_faces(shape, face_boxes, margin: float = 0.25) -> np.ndarray:
    """Pixels farther than ``margin`` x the box size from every face box."""
    keep = np.ones(shape[:2], bool)
    for b in face_boxes:
        m = margin * max(b.width, b.height)
        y0, y1 = int(max(0, b.y0 - m)), int(b.y1 + m) + 1
        x0, x1 = int(max(0, b.x0 - m)), int(b.x1 + m) + 1
        keep[y0:y1, x0:x1] = False
    return keep


def changed_in(box, a, b) -> float:
    """Mean absolute difference of two images inside a face box."""
    x0, y0, x1, y1 = (int(v) for v in box.as_tuple())
    return float(np.abs(a[y0:y1, x0:x1].astype(int) - b[y0:y1, x0:x1].astype(int)).mean())


# --- geometry and plumbing, with the trained model -------------------------------------------


def test_photo_keeps_its_size_and_everything_away_from_the_face(invoke, trained_run, photos, mesh,
                                                                 tmp_path):
    run = trained_run.run
    out = tmp_path / "out.png"
    res = invoke("edit", "image", photos["one"], "-c", run, "--au", "AU26=1", "-o", out)
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == str(out)
    src, dst = read_rgb(photos["one"]), read_rgb(out)
    assert dst.shape == src.shape
    face_boxes = boxes(mesh, photos["one"])
    keep = far_from_faces(src.shape, face_boxes)
    assert keep.mean() > 0.3  # the check covers a good part of the photo
    assert np.array_equal(dst[keep], src[keep])
    assert changed_in(face_boxes[0], src, dst) > 1.0  # the face was edited


def test_two_faces_are_both_edited_and_face_selects_one(invoke, trained_run, photos, mesh,
                                                        tmp_path):
    run = trained_run.run
    src = read_rgb(photos["pair"])
    left, right = boxes(mesh, photos["pair"])
    assert left.center[0] < src.shape[1] / 2 < right.center[0]
    res = invoke("edit", "image", photos["pair"], "-c", run, "--au", "AU01+0.5", "-o",
                 tmp_path / "both.png")
    assert res.exit_code == 0, res.output
    both = read_rgb(tmp_path / "both.png")
    assert changed_in(left, src, both) > 1.0 and changed_in(right, src, both) > 1.0
    keep = far_from_faces(src.shape, [left, right])
    assert np.array_equal(both[keep], src[keep])
    # --face 1 is the right-hand face (0-based, left to right): the left one stays untouched
    res = invoke("edit", "image", photos["pair"], "-c", run, "--au", "AU01+0.5", "--face", "1",
                 "-o", tmp_path / "right.png")
    assert res.exit_code == 0, res.output
    only = read_rgb(tmp_path / "right.png")
    assert changed_in(right, src, only) > 1.0
    assert np.array_equal(only[far_from_faces(src.shape, [right])],
                          src[far_from_faces(src.shape, [right])])
    assert changed_in(left, src, only) == 0.0
    res = invoke("edit", "image", photos["pair"], "-c", run, "--au", "AU01+0.5", "--face", "2",
                 "-o", tmp_path / "none.png")
    assert "has 2 face(s), numbered 0 to 1" in one_error_line(res)
    assert not (tmp_path / "none.png").exists()


def test_exif_rotated_photo_comes_out_upright(invoke, trained_run, photos, mesh, tmp_path):
    run = trained_run.run
    stored = Image.open(photos["rotated"])
    assert stored.size == (800, 600)  # on its side in the file
    out = tmp_path / "upright.png"
    res = invoke("edit", "image", photos["rotated"], "-c", run, "--au", "AU26=1", "-o", out)
    assert res.exit_code == 0, res.output
    written = Image.open(out)
    assert written.size == (600, 800)
    assert written.getexif().get(0x0112, 1) == 1  # pixels upright, no orientation left to apply
    src = read_rgb(photos["rotated"])  # upright by EXIF
    # the upright input matches the original upright photo (up to JPEG re-encoding)
    assert np.abs(src.astype(int) - read_rgb(photos["upright"]).astype(int)).mean() < 3
    dst = np.asarray(written.convert("RGB"))
    face_boxes = boxes(mesh, photos["rotated"])
    keep = far_from_faces(src.shape, face_boxes)
    assert np.array_equal(dst[keep], src[keep])
    assert changed_in(face_boxes[0], src, dst) > 1.0


def test_rgba_photo_keeps_its_alpha(invoke, trained_run, photos, tmp_path):
    run = trained_run.run
    out = tmp_path / "alpha.png"
    res = invoke("edit", "image", photos["rgba"], "-c", run, "--au", "AU26=1", "-o", out)
    assert res.exit_code == 0, res.output
    before, after = read_photo(photos["rgba"]), read_photo(out)
    assert after.alpha is not None and np.array_equal(after.alpha, before.alpha)
    assert after.rgb.shape == before.rgb.shape and not np.array_equal(after.rgb, before.rgb)


def test_batch_folder_masks_and_aligned_crops(invoke, trained_run, photos, tmp_path):
    run, data = trained_run.run, trained_run.data
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("one", "pair"):
        (folder / photos[name].name).write_bytes(photos[name].read_bytes())
    res = invoke("edit", "image", folder, "-c", run, "-e", "surprise", "-o", tmp_path / "out",
                 "--save-masks", tmp_path / "masks")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["005.jpg", "pair.png"]
    masks = sorted(p.name for p in (tmp_path / "masks").iterdir())
    assert "pair.face1.attention.png" in masks and "005.face0.colour.png" in masks
    assert len(masks) == 3 * 5  # three faces: crop, attention, colour, edited, strip
    att = read_rgb(tmp_path / "masks" / "pair.face1.attention.png")
    crop = read_rgb(tmp_path / "masks" / "pair.face1.crop.png")
    assert att.shape == crop.shape and att.shape[0] == att.shape[1]
    assert np.array_equal(att[..., 0], att[..., 1])  # grey
    # --aligned: a synthetic crop is edited whole (the core issue's crop-only path)
    crop_path = next((data / "images").rglob("*.png"), None) or next(
        (data / "images").rglob("*.jpg"))
    res = invoke("edit", "image", crop_path, "--aligned", "-c", run, "--au", "AU26=1", "-o",
                 tmp_path / "crop.png", "--attention", tmp_path / "att.png")
    assert res.exit_code == 0, res.output
    assert read_rgb(tmp_path / "crop.png").shape == read_rgb(crop_path).shape
    assert read_rgb(tmp_path / "att.png").shape == read_rgb(crop_path).shape


def test_sweep_writes_one_labelled_grid(invoke, trained_run, photos, tmp_path):
    run = trained_run.run
    out = tmp_path / "grid.png"
    res = invoke("edit", "sweep", photos["one"], "-c", run, "--au", "AU26", "--au", "1",
                 "--steps", "0,0.5,1", "--cell", "64", "-o", out)
    assert res.exit_code == 0, res.output
    grid = read_rgb(out)
    assert grid.shape[0] > 2 * 64 and grid.shape[1] > 4 * 64
    res = invoke("edit", "sweep", photos["one"], "-c", run, "--au", "AU12", "-o", out)
    assert "unknown AU" in one_error_line(res)  # the synthetic model has no AU12


# --- the target vector handed to G ------------------------------------------------------------


@pytest.fixture
def spy(monkeypatch):
    """Record the targets the generator is handed (then run the real thing)."""
    from ganimate.engines import gan

    calls = []
    real = gan.edit_crops

    def record(loaded, crops, targets, *args, **kwargs):
        calls.append(np.array(targets, dtype=np.float32))
        return real(loaded, crops, targets, *args, **kwargs)

    monkeypatch.setattr(gan, "edit_crops", record)
    return calls


@pytest.fixture(scope="module")
def y_r(photos, mesh):
    """The test photo's AUs, read independently of editing.py."""
    faces = mesh(read_rgb(photos["one"]))
    return default_estimator()(faces[0])


def target_for(invoke, model17, photos, tmp_path, spy, *options) -> np.ndarray:
    res = invoke("edit", "image", photos["one"], "-c", model17, "-o", tmp_path / "t.png",
                 *options)
    assert res.exit_code == 0, res.output
    assert len(spy) == 1 and spy[0].shape == (1, 17)
    out = spy[0][0]
    spy.clear()
    return out


def test_absolute_and_relative_au_targets(invoke, model17, photos, tmp_path, spy, y_r):
    i12, i04, i26 = (AU_NAMES.index(n) for n in ("AU12", "AU04", "AU26"))
    t = target_for(invoke, model17, photos, tmp_path, spy, "--au", "AU12=0.8", "--au", "26=0.3")
    expected = y_r.copy()
    expected[i12], expected[i26] = 0.8, 0.3
    assert np.allclose(t, expected, atol=1e-6)
    t = target_for(invoke, model17, photos, tmp_path, spy, "--au", "AU12+0.3", "--au", "AU04-0.2")
    expected = y_r.copy()
    expected[i12] = min(1.0, y_r[i12] + 0.3)
    expected[i04] = max(0.0, y_r[i04] - 0.2)
    assert np.allclose(t, expected, atol=1e-6)


def test_expression_presets(invoke, model17, photos, tmp_path, spy, y_r):
    i45 = AU_NAMES.index("AU45")
    happy = PRESETS["happy"].vector()
    t = target_for(invoke, model17, photos, tmp_path, spy, "--expression", "happy")
    expected = happy.copy()
    expected[i45] = y_r[i45]  # blinks are not part of an expression
    assert np.allclose(t, expected, atol=1e-6)
    assert t[AU_NAMES.index("AU12")] == pytest.approx(0.7)
    t = target_for(invoke, model17, photos, tmp_path, spy, "-e", "sad:0.5")
    expected = y_r + 0.5 * (PRESETS["sad"].vector() - y_r)
    expected[i45] = y_r[i45]
    assert np.allclose(t, expected, atol=1e-6)
    # combined: the preset first, then --au on top
    t = target_for(invoke, model17, photos, tmp_path, spy, "-e", "happy", "--au", "AU12=0.2")
    assert t[AU_NAMES.index("AU12")] == pytest.approx(0.2)
    assert t[AU_NAMES.index("AU06")] == pytest.approx(0.4)
    # relative: the preset's AUs added to the face's own, the others kept
    t = target_for(invoke, model17, photos, tmp_path, spy, "-e", "happy+0.3")
    expected = np.clip(y_r + 0.3 * happy, 0, 1)
    assert np.allclose(t, expected, atol=1e-6)


def test_like_copies_another_faces_aus(invoke, model17, photos, tmp_path, spy, mesh):
    other = default_estimator()(mesh(read_rgb(photos["smiling"]))[0])
    t = target_for(invoke, model17, photos, tmp_path, spy, "--like", photos["smiling"])
    assert np.allclose(t, other, atol=1e-6)


def test_aus_file_json_and_csv_rows(invoke, model17, photos, tmp_path, spy, y_r):
    i12 = AU_NAMES.index("AU12")
    js = tmp_path / "aus.json"
    js.write_text(json.dumps({"AU12": 0.7, "note": "ignored"}))
    t = target_for(invoke, model17, photos, tmp_path, spy, "--aus-file", js)
    expected = y_r.copy()
    expected[i12] = 0.7
    assert np.allclose(t, expected, atol=1e-6)
    # a CSV as `ganimate aus` writes it, two rows (the two faces of the pair), pick one
    res = invoke("aus", photos["pair"], "--format", "csv")
    assert res.exit_code == 0, res.output
    table = res.stdout
    rows = list(csv.DictReader(io.StringIO(table)))
    assert len(rows) == 2
    path = tmp_path / "aus.csv"
    path.write_text(table)
    t = target_for(invoke, model17, photos, tmp_path, spy, "--aus-file", path, "--row", "1")
    assert np.allclose(t, [float(rows[1][n]) for n in AU_NAMES], atol=1e-6)
    res = invoke("edit", "image", photos["one"], "-c", model17, "-o", tmp_path / "x.png",
                 "--aus-file", path)
    assert "--row" in one_error_line(res)


# --- bad input: one line, exit 1, nothing written or overwritten -------------------------------


def test_bad_input_is_one_clear_line_and_writes_nothing(invoke, model17, photos, tmp_path, spy):
    out = tmp_path / "out.png"
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((240, 320, 3), 128, np.uint8)).save(blank)
    cases = [
        ((blank, "-c", model17, "-e", "happy"), "no face found in"),
        ((photos["one"], "-c", model17, "-e", "joyful"), "unknown expression"),
        ((photos["one"], "-c", model17, "-e", "contempt"), "cannot be represented"),
        ((photos["one"], "-c", model17, "-e", "happy:3"), "strength"),
        ((photos["one"], "-c", model17, "--au", "AU12~0.3"), "expected NAME=VALUE"),
        ((photos["one"], "-c", model17, "--au", "AU12=1.5"), "outside [0, 1]"),
        ((photos["one"], "-c", model17, "--au", "AU99=0.5"), "unknown AU"),
        ((photos["one"], "-c", tmp_path / "missing.safetensors", "-e", "happy"),
         "no such checkpoint"),
        ((photos["one"], "-c", model17), "nothing to change"),
        ((photos["one"], "-c", model17, "--like", blank), "--like"),
        ((tmp_path / "nope.jpg", "-c", model17, "-e", "happy"), "no such photo"),
    ]
    for args, message in cases:
        res = invoke("edit", "image", *args, "-o", out)
        line = one_error_line(res)
        assert message in line, (args, line)
        assert not out.exists(), args
    assert "no face found in" in one_error_line(invoke("edit", "image", blank, "-c", model17,
                                                       "-e", "happy", "-o", out))
    assert spy == []  # G never ran


def test_a_batch_edits_what_it_can_and_fails_on_the_rest(invoke, model17, photos, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(photos["one"].read_bytes())
    Image.fromarray(np.full((240, 320, 3), 128, np.uint8)).save(folder / "b.png")
    res = invoke("edit", "image", folder, "-c", model17, "-e", "happy", "-o", tmp_path / "out")
    assert res.exit_code == 1, res.output
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "1 of 2 photos could not be edited" in errors[0], res.stderr
    assert "no face found" in errors[0]
    assert res.stdout.split() == [str(tmp_path / "out" / "a.jpg")]
    assert (tmp_path / "out" / "a.jpg").is_file() and not (tmp_path / "out" / "b.png").exists()


def test_output_equal_to_input_is_refused(invoke, model17, photos, tmp_path):
    victim = tmp_path / "me.jpg"
    victim.write_bytes(photos["one"].read_bytes())
    before = digest(victim)
    res = invoke("edit", "image", victim, "-c", model17, "-e", "happy", "-o", victim)
    assert "refusing to overwrite" in one_error_line(res)
    res = invoke("edit", "image", tmp_path, "-c", model17, "-e", "happy", "-o", tmp_path)
    assert "refusing to overwrite" in one_error_line(res)
    res = invoke("edit", "sweep", victim, "-c", model17, "--au", "AU12", "-o", victim)
    assert "refusing to overwrite" in one_error_line(res)
    assert digest(victim) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["me.jpg"]
