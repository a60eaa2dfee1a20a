"""The painted mouth's rim takes the photo's focus (:mod:`ganimate.engines.focus`), its gums and
tongue the lips' colour, its shadow falls in linear light (:mod:`ganimate.engines.palette`)."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from ganimate.engines import focus, palette
from ganimate.engines.masks import soft_inside
from ganimate.engines.teeth import draw_interior, skin_lightness
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces.measures import INNER_LIPS


def painted_step(blur: float) -> np.ndarray:
    """A dark lens painted on a light ground as the mouth's opening is (anti-aliased), blurred
    by ``blur`` px, in whole grey levels."""
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    lens = np.stack([50.3 + 30 * np.cos(t), 40.7 + 12 * np.sin(t)], axis=1)
    alpha, _ = soft_inside(lens, np.zeros(2), (80, 100), 0.5)
    grey = (200 * (1 - alpha) + 40 * alpha).astype(np.float32)
    if blur > 0:
        grey = cv2.GaussianBlur(grey, (0, 0), blur)
    return np.rint(grey).astype(np.float32)


def test_the_edge_reading_recovers_a_known_blur():
    """Zhuo & Sim's reading: a painted edge reads ``crisp``; blurred by sigma it reads
    sqrt(crisp^2 + sigma^2) within 0.25 px (0.07-0.2 measured up to 3 px)."""
    crisp = focus.FocusConfig().crisp
    assert focus.edge_blur(painted_step(0.0)) == pytest.approx(crisp, abs=0.05)
    reads = [focus.edge_blur(painted_step(s)) for s in (0.5, 1.0, 2.0, 3.0)]
    assert all(a < b for a, b in zip(reads, reads[1:], strict=False))
    for sigma, read in zip((0.5, 1.0, 2.0, 3.0), reads, strict=True):
        assert read == pytest.approx(np.hypot(crisp, sigma), abs=0.25), sigma
    assert focus.edge_blur(np.full((40, 40), 90, np.float32)) is None  # nothing to read


def test_the_rim_is_the_lips_roll_on_a_sharp_photo_and_the_photos_blur_on_a_soft_one():
    config = focus.FocusConfig()
    assert focus.edge_softness(0.5, 80.0) == pytest.approx(config.lip_edge * 80)  # sharp
    assert focus.edge_softness(2.0, 80.0) == pytest.approx(
        np.sqrt((config.lip_edge * 80) ** 2 + 4 - config.crisp ** 2))
    assert focus.edge_softness(9.0, 80.0) == config.most
    assert focus.edge_softness(2.0, 80.0, dataclasses.replace(config, strength=0.0)) == 0.0


def _mouth_reading(rgb: np.ndarray, lm: np.ndarray) -> float:
    inner = lm[list(INNER_LIPS), :2]
    x0, y0 = (inner.min(axis=0) - 4).astype(int)
    x1, y1 = (inner.max(axis=0) + [4, 30]).astype(int)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    return focus.edge_blur(grey.astype(np.float32))


def test_a_mouth_opened_on_a_soft_photo_is_as_soft_as_the_photo(media):
    """London 013 and 086 blurred by 2 px, `-e surprise`: the mouth's edges read 0.78 and 1.23
    px painted crisp against the photo's 1.89 and 2.09; with the rim in focus 1.51 and 1.99."""
    from ganimate import api
    from ganimate.engines import WarpEngine
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo

    crisp = WarpEngine(dataclasses.replace(WarpConfig(), focus=focus.FocusConfig(strength=0)))
    with FaceMesh() as mesh:
        for face in ("013", "086"):
            photo = read_photo(media / "faces" / "london" / "neutral" / f"{face}.jpg").rgb
            soft_photo = cv2.GaussianBlur(photo, (0, 0), 2.0)
            lm = mesh(soft_photo)[0].landmarks
            own = focus.camera_blur(soft_photo, lm)
            painted, in_focus = (
                _mouth_reading(api.edit_image(soft_photo, expression="surprise", hands=False,
                                              engine=engine), lm)
                for engine in (crisp, "warp"))
            assert own > 1.5, (face, own)
            assert in_focus > 0.7 * own and in_focus > painted + 0.4, (face, own, painted,
                                                                       in_focus)


def test_the_tongue_takes_the_lips_colour_and_the_shadow_stays_above_it(media):
    """`-e surprise` on London 013's and 061's closed mouths: the lower third of the opening (the
    tongue) is lit in the lips' hue and lighter than the top third (in the upper lip's shadow).
    The drawn gums and tongue alone: lighter in the lips' colour than in the lip seam's
    lightened (013: median L* 17.0 against 14.4; the seam of a darker mouth is darker still)."""
    from ganimate import api
    from ganimate.faces import FaceMesh, eye_centre_distance
    from ganimate.images import read_photo

    with FaceMesh() as mesh:
        for face in ("013", "061"):
            photo = read_photo(media / "faces" / "london" / "neutral" / f"{face}.jpg").rgb
            lm = mesh(photo)[0].landmarks
            lips = palette.lips_lab(photo, lm)
            edit = api.edit_image(photo, expression="surprise", hands=False)
            inner = mesh(edit)[0].landmarks[list(INNER_LIPS), :2]
            mask = np.zeros(photo.shape[:2], np.uint8)
            cv2.fillPoly(mask, [np.round(inner).astype(np.int32)], 1)
            ys, xs = np.nonzero(cv2.erode(mask, np.ones((5, 5), np.uint8)))
            lab = cv2.cvtColor(edit.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)[ys, xs]
            top = lab[ys < np.quantile(ys, 1 / 3)].mean(axis=0)
            tongue = lab[ys > np.quantile(ys, 2 / 3)].mean(axis=0)
            assert tongue[0] > top[0] + 8, (face, top, tongue)
            assert abs(_hue(tongue) - _hue(lips)) < 25, (face, tongue, lips)
            scale = eye_centre_distance(lm)
            centre = lm[[13, 14]].mean(axis=0)[:2].astype(int)
            box = (centre[0] - 40, centre[1] - 10, centre[0] + 40, centre[1] + 50)
            drawn = [_tissue(draw_interior(lm, 0.6, box, skin_lightness(photo, lm, scale),
                                           palette.seam_colour(photo, lm, scale), scale,
                                           tissue=t)) for t in (lips, None)]
            assert drawn[0][0] > 1.1 * drawn[1][0], (face, drawn)
            assert abs(_hue(drawn[0]) - _hue(lips)) < 20, (face, drawn, lips)


def _hue(lab: np.ndarray) -> float:
    return float(np.degrees(np.arctan2(lab[2], lab[1])))


def _tissue(interior) -> np.ndarray:
    """The median CIELAB colour of the drawn gums, palate and tongue (what is not teeth)."""
    lab = cv2.cvtColor(np.clip(interior.rgb / 255, 0, 1).astype(np.float32), cv2.COLOR_RGB2LAB)
    soft = (interior.coverage > 0.5) & (lab[..., 0] < 60)
    return np.median(lab[soft], axis=0)


def test_a_shadow_keeps_the_hue_and_loses_chroma_with_the_light():
    colour = np.array([150.0, 60.0, 70.0])
    lab = palette.colour_lab(colour)
    out = palette.shaded(colour, np.array([[1.0, 0.5, 0.2]], np.float32))
    seen = cv2.cvtColor(out / 255, cv2.COLOR_RGB2LAB)[0]
    assert np.allclose(seen[:, 0], lab[0] * np.array([1.0, 0.5, 0.2]), atol=0.5)
    chroma = np.hypot(seen[:, 1], seen[:, 2])
    assert chroma[0] == pytest.approx(np.hypot(lab[1], lab[2]), abs=0.5)
    assert chroma[0] > chroma[1] > chroma[2] > 0  # a darker red, not a grey
    hues = np.degrees(np.arctan2(seen[:, 2], seen[:, 1]))
    assert np.ptp(hues) < 6


def test_a_focus_config_refuses_what_cannot_be():
    for bad in (dict(strength=-1.0), dict(reblur=0.0), dict(edge_share=1.0), dict(most=-0.1)):
        with pytest.raises(ValueError, match="FocusConfig"):
            focus.FocusConfig(**bad)
