"""editing.py: the frame API (crops, source AUs, batched edit + paste-back) and the photo path.

Generators here are seeded random ones (the ``save_generator`` fixture, conftest.py) or small
modules with a known output, so that each test knows exactly what G does and can bound what the
pipeline around it may change. Faces come from real photos through the real face mesh.
"""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import torch
from torch import nn

from ganimate import editing
from ganimate.editing import outputs
from ganimate.engines import BlendConfig, GanEngine, edit_frame
from ganimate.errors import GanimateError
from ganimate.faces import (
    AU_NAMES,
    AUCalibration,
    AUSpace,
    FaceCrop,
    FaceMesh,
    align,
    default_estimator,
    source_aus,
)
from ganimate.images import read_rgb, write_image
from ganimate.model import Generator, GeneratorOutput, LoadedGenerator, ModelConfig, load_generator

CFG = ModelConfig(image_size=32, g_width=8, g_residual_blocks=1, d_width=8, d_layers=3)


def attention_near(logit: float):
    """A tweak for the ``save_generator`` fixture: the last feature map pushed positive and the
    attention head's weights set so that A is about sigmoid(logit) everywhere (a generator that
    changes the face little for a large logit)."""

    def tweak(g: Generator) -> None:
        with torch.no_grad():
            last_norm = g.body[-2]  # InstanceNorm of the last upsampling block
            last_norm.weight.fill_(0.25)
            last_norm.bias.fill_(4.0)
            taps = g.attention_head[0].weight.numel()
            g.attention_head[0].weight.fill_(logit / (4.0 * taps))

    return tweak


class ColourIsInput(nn.Module):
    """G with A = 0 and C = I: the output is the input crop, but through the colour path, so
    every face pixel is replaced by its crop-then-paste round trip (the worst case for blurring
    and misplacement)."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, images, aus):
        return GeneratorOutput(images, images, torch.zeros_like(images[:, :1]))


@pytest.fixture(scope="module")
def london(media):
    return media / "faces" / "london"


@pytest.fixture(scope="module")
def mesh():
    with FaceMesh() as m:
        yield m


@pytest.fixture(scope="module")
def photo(london, mesh):
    rgb = read_rgb(london / "neutral" / "003.jpg")
    faces = mesh(rgb)
    assert len(faces) == 1
    return rgb, faces


def test_colour_round_trip_keeps_the_face_and_everything_else(photo, tmp_path):
    """Paste-back geometry: a generator that returns its input through the colour mask (A = 0)
    must give back the photo up to resampling blur inside the face and bit-identical pixels
    outside it. A crop or paste transform off by 2 px must fail the same bound."""
    rgb, faces = photo
    # The colour mask comes at model resolution; at 256 px (the crop's) no up-sampling blurs it.
    cfg = ModelConfig(image_size=256, g_width=8, g_residual_blocks=1, d_width=8, d_layers=3)
    loaded = GanEngine(LoadedGenerator(ColourIsInput(), cfg, cfg.au_names, {}))
    crops = align.crop_faces(rgb, faces, 256, max_crop=256)
    aus = np.zeros((1, 17), np.float32)
    # The default paste adds only the change (edited - crop): an identity round trip is exact.
    same = edit_frame(rgb, crops, aus, aus, loaded)
    assert np.array_equal(same.frame, rgb)
    # Pasting the edited crop itself (the paper's composite) resamples the face twice.
    whole = BlendConfig(residual=False)
    out = edit_frame(rgb, crops, aus, aus, loaded, whole)
    assert out.frame.shape == rgb.shape and out.edits.images.shape[0] == 1
    assert np.all(out.edits.attention == 0)
    box = faces[0].box
    x0, y0, x1, y1 = (int(v) for v in box.as_tuple())
    diff = np.abs(out.frame.astype(int) - rgb.astype(int))
    inside = diff[y0:y1, x0:x1]
    assert inside.mean() < 2.0, inside.mean()
    assert (diff > 0).any(), "the face must really have gone through the generator"
    # outside the face box grown by a quarter of its size nothing changes
    m = int(0.25 * max(box.width, box.height))
    keep = np.ones(rgb.shape[:2], bool)
    keep[max(0, y0 - m):y1 + m, max(0, x0 - m):x1 + m] = False
    assert np.array_equal(out.frame[keep], rgb[keep])
    # the same bound catches a misplaced paste: shift the transform by 2 px
    shifted = [FaceCrop(c.image, c.to_frame + np.array([[0, 0, 2.0], [0, 0, 2.0]]),
                                c.size, c.landmarks) for c in crops]
    bad = edit_frame(rgb, shifted, aus, aus, loaded, whole)
    assert np.abs(bad.frame.astype(int) - rgb.astype(int))[y0:y1, x0:x1].mean() > 2.0


def test_neutral_target_with_attention_near_one_changes_the_face_little(save_generator, london,
                                                                        tmp_path, mesh):
    """y_g = y_r through the whole photo path (checkpoint file, load, detect, estimate, crop,
    G, paste). An untrained generator is no identity, so this model's attention is forced toward
    1 (over 0.97 even at the crop's corners, where zero padding weakens it). The test shows that
    the pipeline adds at most what G changes, weighted by 1 - A (no seam, no crop border, no
    misplacement), not that a trained model reconstructs faces."""
    ckpt = save_generator(tmp_path / "keep.safetensors", tweak=attention_near(12.0))
    loaded = GanEngine(load_generator(ckpt, device="cpu"))
    edit = editing.edit_photo(london / "neutral" / "003.jpg", editing.EditConfig(), loaded, mesh)
    rgb = read_rgb(london / "neutral" / "003.jpg")
    assert np.array_equal(edit.target, edit.source)  # no target options: y_g = y_r
    a = edit.edits.attention
    assert a.min() > 0.97, a.min()
    # |edited crop - crop| <= (1 - A) * |C - I| <= (1 - A) * 255, plus rounding and resampling
    bound = (1 - a.min()) * 255 + 2
    diff = np.abs(edit.rgb.astype(int) - rgb.astype(int))
    assert diff.max() <= bound, (diff.max(), bound)
    assert diff.mean() < 0.5


def test_source_aus_follow_the_model_au_order_and_calibration(photo):
    rgb, faces = photo
    raw = default_estimator().many(faces)
    names = ("AU26", "AU12", "AU01")
    y = source_aus(faces, AUSpace(names))
    assert y.shape == (1, 3) and y.dtype == np.float32
    assert np.allclose(y[0], [raw[0, AU_NAMES.index(n)] for n in names])
    # a model that carries its training data's calibration gets calibrated y_r
    cal = AUCalibration(np.full(17, 0.1, np.float32), np.full(17, 0.6, np.float32))
    model = LoadedGenerator(ColourIsInput(), CFG, AU_NAMES, {"au_calibration": cal.to_dict()})
    assert np.allclose(source_aus(faces, GanEngine(model).au_space), cal.apply(raw), atol=1e-6)
    with pytest.raises(GanimateError, match="AU16"):
        source_aus(faces, AUSpace(("AU12", "AU16")))


def test_crop_size_follows_the_face_and_is_capped(photo, media, mesh):
    rgb, faces = photo
    size = align.crop_size_for(faces, 32)
    assert size % 8 == 0 and 128 < size < 512  # a 512 px London face is ~300 px tall
    big = mesh(read_rgb(media / "photos" / "zoom_15cm.jpg"))
    assert align.crop_size_for(big, 32) == align.MAX_CROP
    assert align.crop_size_for(big, 32, max_crop=64) == 64
    assert align.crop_size_for([], 32) == 32


def test_edit_frame_without_faces_and_with_mixed_sizes(photo):
    rgb, faces = photo
    loaded = GanEngine(LoadedGenerator(ColourIsInput(), CFG, CFG.au_names, {}))
    y0 = np.zeros((0, 17), np.float32)
    none = edit_frame(rgb, [], y0, y0, loaded)
    assert np.array_equal(none.frame, rgb) and none.crops == [] and none.edits is None
    # Crops of two sizes are batched by size, each edited at its own size.
    a = align.crop_faces(rgb, faces, 32, size=64)[0]
    b = align.crop_faces(rgb, faces, 32, size=96)[0]
    y2 = np.zeros((2, 17), np.float32)
    both = edit_frame(rgb, [a, b], y2, y2, loaded)
    assert [e.shape[0] for e in both.edits.images] == [64, 96]


def test_resolve_checkpoint(save_generator, tmp_path, monkeypatch):
    from ganimate.model import bundled

    shipped = bundled.bundled_model(warn=False)
    assert shipped is not None and bundled.resolve_checkpoint(None) == shipped
    monkeypatch.setattr(bundled, "bundled_model", lambda warn=True: None)
    with pytest.raises(GanimateError, match="--checkpoint"):
        bundled.resolve_checkpoint(None)
    with pytest.raises(GanimateError, match="no such checkpoint"):
        bundled.resolve_checkpoint(tmp_path / "missing.safetensors")
    with pytest.raises(GanimateError, match="without checkpoints"):
        bundled.resolve_checkpoint(tmp_path)
    run = tmp_path / "run" / "checkpoints"
    run.mkdir(parents=True)
    for step in (3, 12):
        save_generator(run / f"step_{step:08d}.safetensors")
    assert bundled.resolve_checkpoint(tmp_path / "run").name == "step_00000012.safetensors"


def test_plan_outputs_never_overwrites_an_input(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.jpg"
    write_image(a, np.zeros((8, 8, 3), np.uint8))
    write_image(b, np.zeros((8, 8, 3), np.uint8))
    assert outputs.plan_outputs([a], tmp_path / "out.jpg") == [(a, tmp_path / "out.jpg")]
    out = tmp_path / "out"
    assert outputs.plan_outputs([tmp_path], out) == [(a, out / "a.png"), (b, out / "b.jpg")]
    with pytest.raises(GanimateError, match="refusing to overwrite"):
        outputs.plan_outputs([a], a)
    with pytest.raises(GanimateError, match="refusing to overwrite"):
        outputs.plan_outputs([tmp_path], tmp_path)  # results into the photos' own folder
    os.link(a, tmp_path / "hard.png")
    with pytest.raises(GanimateError, match="refusing to overwrite"):
        outputs.plan_outputs([a], tmp_path / "hard.png")  # another name for the same file
    with pytest.raises(GanimateError, match="output folder"):
        outputs.plan_outputs([a, b], tmp_path / "x.png")
    with pytest.raises(GanimateError, match="image extension"):
        outputs.plan_outputs([a], tmp_path / "x.txt")


def test_parse_steps():
    assert editing.parse_steps("0, 0.33,0.66,1") == (0.0, 0.33, 0.66, 1.0)
    for bad in ("", "a,b", "0,1.5", "-0.1"):
        with pytest.raises(GanimateError, match="--steps"):
            editing.parse_steps(bad)


def test_write_image_honours_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_image(tmp_path / "x.png", np.zeros((4, 4, 3), np.uint8))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_sweep_grid_rows_columns_and_targets(save_generator, london, tmp_path, mesh):
    ckpt = save_generator(tmp_path / "g.safetensors")
    loaded = GanEngine(load_generator(ckpt, device="cpu"))
    config = editing.SweepConfig(aus=("AU12", "AU04"), steps=(0.0, 0.5, 1.0), cell=64)
    result = editing.sweep_photo(london / "neutral" / "003.jpg", config, loaded, mesh)
    assert result.cells.shape == (2, 4, 64, 64, 3)
    assert result.targets.shape == (2, 3, 17)
    i12, i04 = AU_NAMES.index("AU12"), AU_NAMES.index("AU04")
    assert np.allclose(result.targets[0, :, i12], [0, 0.5, 1])
    assert np.allclose(result.targets[1, :, i04], [0, 0.5, 1])
    others = np.ones(17, bool)
    others[i12] = False
    assert np.allclose(result.targets[0][:, others], result.source[others])
    assert np.array_equal(result.cells[0, 0], result.cells[1, 0])  # the input column
    assert not np.array_equal(result.cells[0, 1], result.cells[0, 0])  # edited cells differ
    h, w = result.grid.shape[:2]
    assert h > 2 * 64 and w > 4 * 64  # cells plus labels
    # the grid is on white with dark label text left of the first cell
    assert result.grid[0, 0].tolist() == [255, 255, 255]
    assert (result.grid[:, : w - 4 * 64 - 5].min(axis=2) < 100).any()

