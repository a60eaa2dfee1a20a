"""The skin of a smile (issue #31): real smiles' shading, laid on the warped face."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from ganimate.engines.geometry import warp_face
from ganimate.engines.skin import SMILE_AUS, canonical_uv, smile_ratio, smile_weight
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import AU_NAMES, FaceMesh
from ganimate.images import read_photo

PHOTO = Path(__file__).parents[1] / "data" / "faces" / "london" / "neutral" / "005.jpg"
NOSE_WINGS, MOUTH_CORNERS, CHEEKS = (129, 358), (61, 291), (205, 425)


def vec(**aus: float) -> np.ndarray:
    y = np.zeros(len(AU_NAMES), np.float32)
    for name, value in aus.items():
        y[AU_NAMES.index(name)] = value
    return y


def around(image: np.ndarray, point: np.ndarray, r: int = 2) -> float:
    x, y = np.round(point).astype(int)
    return float(image[y - r:y + r + 1, x - r:x + r + 1].mean())


def test_smile_weight_is_one_at_the_happy_preset_and_none_taking_a_smile_away():
    assert smile_weight(vec(), vec(**SMILE_AUS), AU_NAMES) == pytest.approx(1.0)
    assert smile_weight(vec(), vec(AU12=0.4), AU_NAMES) == pytest.approx(0.25)
    assert smile_weight(vec(), vec(AU06=1.0, AU12=1.0), AU_NAMES) == pytest.approx(1.5)
    assert smile_weight(vec(AU06=0.4, AU12=0.8), vec(), AU_NAMES) == 0.0
    assert smile_weight(vec(), vec(AU04=1.0, AU15=1.0), AU_NAMES) == 0.0  # not a smile
    assert smile_weight(np.zeros(2), np.ones(2), ["AU01", "AU02"]) == 0.0  # no smile AUs


def test_the_ratio_is_real_smiles_shading_and_nothing_off_skin():
    """The shipped texture (76 London people outside the holdout): the nasolabial folds darken,
    the cheeks do not darken, the teeth and the eyes are not skin (0)."""
    uv, ratio = canonical_uv(), smile_ratio().log_ratio
    with np.load(Path(__file__).parents[2] / "ganimate" / "assets" / "faces" /
                 "smile_ratio.npz") as data:
        assert int(data["people"]) == 76
    for wing, corner in zip(NOSE_WINGS, MOUTH_CORNERS, strict=True):
        assert around(ratio, (uv[wing] + uv[corner]) / 2) < -0.03  # 3% darker at least
    assert all(around(ratio, uv[i]) > -0.005 for i in CHEEKS)
    for i in (13, 14, 159, 386):  # inner lips, upper lids
        assert around(ratio, uv[i], 1) == 0.0
    assert np.abs(ratio).max() < 0.4  # shading, not paint


def test_the_warp_lays_the_smile_skin_on_a_smile_only():
    rgb = read_photo(PHOTO).rgb
    with FaceMesh() as mesh:
        landmarks = mesh(rgb)[0].landmarks
    y_r, y_g = vec(), vec(AU06=0.4, AU12=0.7, AU25=0.5, AU26=0.2)
    plain = dataclasses.replace(WarpConfig(), smile_skin=0.0)
    with_skin, warp = warp_face(rgb, landmarks, y_r, y_g, AU_NAMES, WarpConfig())
    without, _ = warp_face(rgb, landmarks, y_r, y_g, AU_NAMES, plain)
    grey = with_skin.astype(np.float32).mean(axis=2) - without.astype(np.float32).mean(axis=2)
    moved = landmarks[:468, :2] + warp.shifts
    for wing, corner in zip(NOSE_WINGS, MOUTH_CORNERS, strict=True):
        assert around(grey, (moved[wing] + moved[corner]) / 2, 3) < -2.0  # the folds deepen
    x0, y0 = np.floor(moved.min(axis=0)).astype(int)
    x1, y1 = np.ceil(moved.max(axis=0)).astype(int)
    outside = np.ones(grey.shape, bool)
    outside[y0:y1, x0:x1] = False
    assert np.abs(grey[outside]).max() <= 1  # only the face's skin
    # an edit that is not a smile gets none of it
    brows = vec(AU01=1.0, AU02=1.0)
    a, _ = warp_face(rgb, landmarks, y_r, brows, AU_NAMES, WarpConfig())
    b, _ = warp_face(rgb, landmarks, y_r, brows, AU_NAMES, plain)
    np.testing.assert_array_equal(a, b)
