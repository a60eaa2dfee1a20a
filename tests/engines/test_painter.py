"""Route (b) of the mouth interior: the GANimation generator as a mouth painter."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from test_mouth import closed_mesh, lens, lip_photo, target

from ganimate.engines import geometry
from ganimate.engines.painter import (
    PAINTER_AUS,
    MouthPainter,
    PainterConfig,
    inner_lip_mask,
    load_painter,
    mouth_patch_transform,
)
from ganimate.engines.teeth import TeethConfig
from ganimate.engines.warp_config import WarpConfig
from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES


def test_the_patch_is_centred_on_the_mouth_and_the_mask_covers_the_opening():
    lm = lens(8.0)  # inner lips open 16 px around (300, 300)
    lm[33, :2], lm[263, :2] = (250, 200), (350, 200)  # eye corners: 100 px apart
    t = mouth_patch_transform(lm, 64)
    assert np.allclose(np.array([300, 300]) @ t[:, :2].T + t[:, 2], 32, atol=1)  # centred
    assert np.isclose(np.linalg.norm(t[0, :2]), 64 / 90)  # 0.9 IOD across the patch
    mask = inner_lip_mask(lm, t, 64, grow=0)
    assert mask[32, 32] == 1 and mask[2, 2] == 0 and mask[62, 62] == 0


def test_painter_keeps_the_unmasked_patch_learnable_and_conditions_on_mask_and_aus():
    torch.manual_seed(0)
    painter = MouthPainter(PainterConfig(size=32, width=8, blocks=1)).eval()
    img = torch.zeros(2, 3, 32, 32)
    mask = torch.zeros(2, 1, 32, 32)
    mask[1, :, 10:20, 8:24] = 1
    aus = torch.zeros(2, len(PAINTER_AUS))
    out = painter(img, aus, mask)
    assert out.image.shape == (2, 3, 32, 32) and out.attention.shape == (2, 1, 32, 32)
    assert not torch.allclose(out.image[0], out.image[1])  # the mask is an input
    aus[1] = 1
    assert not torch.allclose(painter(img, aus, mask).image[1], out.image[1])  # so are the AUs


def test_a_trained_painter_fills_only_the_opening(tmp_path):
    torch.manual_seed(0)
    cfg = PainterConfig(size=32, width=8, blocks=1)
    path = tmp_path / "painter.pt"
    torch.save({"painter": MouthPainter(cfg).state_dict(), "config": dataclasses.asdict(cfg)},
               path)
    lm = closed_mesh()
    photo = lip_photo(lm)
    y_r, y_g = target(AU25=1.0, AU26=0.6)
    scanned, _ = geometry.warp_face(photo, lm, y_r, y_g, AU_NAMES)
    painted, _ = geometry.warp_face(photo, lm, y_r, y_g, AU_NAMES, dataclasses.replace(
        WarpConfig(), teeth=TeethConfig(painter=str(path))))
    differs = np.any(painted != scanned, axis=2)
    assert differs.any()
    ys, xs = np.nonzero(differs)
    mouth = lm[[61, 291, 0, 17], :2]  # outer lip corners, top and bottom
    assert xs.min() >= mouth[:, 0].min() - 2 and xs.max() <= mouth[:, 0].max() + 2
    assert ys.min() >= mouth[:, 1].min() - 2 and ys.max() <= mouth[:, 1].max() + 30
    load_painter.cache_clear()


def test_a_missing_painter_names_the_fix(tmp_path):
    with pytest.raises(GanimateError, match="train one with examples/mouth_painter"):
        load_painter(str(tmp_path / "nope.pt"))
