"""The warp engine's geometry as pure functions: known displacements on synthetic meshes and
images, zero displacement is the identity, the field ends where it says, the AU -> mesh step moves
the right landmarks the right way in any pose."""

from __future__ import annotations

import numpy as np
import pytest

from ganimate.engines import geometry
from ganimate.engines.geometry import Field, ThinPlateSpline
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import AU_NAMES, canonical_face, eye_centre_distance


def synthetic_mesh(scale: float = 20.0, centre=(300.0, 320.0)) -> np.ndarray:
    """The canonical face as mediapipe-style landmarks (468, 3): pixels, y down, z away."""
    c = canonical_face()
    lm = np.zeros((478, 3))
    lm[:468, 0] = centre[0] + scale * c[:, 0]
    lm[:468, 1] = centre[1] - scale * c[:, 1]
    lm[:468, 2] = -scale * c[:, 2]
    lm[468:] = lm[:10]  # iris points: unused
    return lm


def blob_image(points: np.ndarray, size=(640, 600)) -> np.ndarray:
    """Grey image with a small bright Gaussian blob at each point."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w))
    for x, y in points:
        img += np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 1.5 ** 2))
    return np.repeat(np.clip(40 + 200 * img, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def centroid(img: np.ndarray, near: np.ndarray, radius: int = 6) -> np.ndarray:
    x0, y0 = (int(round(v)) for v in near)
    patch = img[y0 - radius:y0 + radius + 1, x0 - radius:x0 + radius + 1, 0].astype(float) - 40
    patch = np.clip(patch, 0, None)
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return np.array([x0 + (xx * patch).sum() / patch.sum(), y0 + (yy * patch).sum() / patch.sum()])


def test_thin_plate_spline_interpolates_its_centres_and_affine_functions():
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 4, (60, 2))
    affine = np.stack([1 + 2 * centres[:, 0] - centres[:, 1], 0.5 * centres[:, 1]], axis=1)
    spline = ThinPlateSpline.fit(centres, affine)
    probe = rng.uniform(0, 4, (100, 2))
    expected = np.stack([1 + 2 * probe[:, 0] - probe[:, 1], 0.5 * probe[:, 1]], axis=1)
    assert np.allclose(spline(probe), expected, atol=1e-3)  # affine data: reproduced exactly
    bumpy = np.sin(centres) * 3
    assert np.allclose(ThinPlateSpline.fit(centres, bumpy)(centres), bumpy, atol=1e-3)


def test_known_displacement_moves_blobs_to_their_targets():
    """A synthetic mesh whose mouth corners (61, 291) move by known amounts, their neighbours
    along with them (a Gaussian falloff, as real expressions do): the warped image shows the
    blobs that sat at the corners at the new places, within 0.3 px."""
    lm = synthetic_mesh()
    points = lm[:468, :2]
    iod = eye_centre_distance(lm)
    shifts = np.zeros((468, 2))
    for i, move in ((61, (-3.0, -4.0)), (291, (3.0, -4.0))):
        d2 = ((points - points[i]) ** 2).sum(axis=1)
        shifts += np.exp(-d2 / (2 * (0.3 * iod) ** 2))[:, None] * np.array(move)
    img = blob_image(points[[61, 291]])
    field = geometry.displacement_field(points, shifts, (img.shape[1], img.shape[0]), iod,
                                        WarpConfig(grid=0.04))
    out = geometry.warp_region(img, field)
    for i in (61, 291):
        moved = centroid(out, points[i] + shifts[i])
        assert np.linalg.norm(moved - (points[i] + shifts[i])) < 0.3, (i, moved)
        # and nothing bright is left where the blob was
        assert out[int(round(points[i, 1])), int(round(points[i, 0])), 0] < 120
    # a field that moved nothing would fail: the blobs are where they were
    still = geometry.warp_region(img, None)
    assert np.linalg.norm(centroid(still, points[61]) - points[61]) < 0.3


def test_zero_displacement_is_the_identity():
    lm = synthetic_mesh()
    img = np.random.default_rng(1).integers(0, 256, (640, 600, 3), dtype=np.uint8)
    assert geometry.displacement_field(lm[:468, :2], np.zeros((468, 2)), (600, 640), 50.0) is None
    assert np.array_equal(geometry.warp_region(img, None), img)
    y = np.random.default_rng(2).uniform(0, 1, len(AU_NAMES)).astype(np.float32)
    out, warp = geometry.warp_face(img, lm, y, y, AU_NAMES)
    assert warp.field is None and not np.any(warp.shifts)
    assert np.array_equal(out, img)


def test_field_is_zero_outside_its_region_and_pixels_there_are_bit_identical():
    lm = synthetic_mesh()
    img = np.random.default_rng(3).integers(0, 256, (640, 600, 3), dtype=np.uint8)
    y_r = np.zeros(len(AU_NAMES), np.float32)
    y_g = y_r.copy()
    y_g[AU_NAMES.index("AU12")] = 1.0
    out, warp = geometry.warp_face(img, lm, y_r, y_g, AU_NAMES)
    f = warp.field
    x0, y0, x1, y1 = f.box
    assert np.all(f.weight[0] == 0) and np.all(f.weight[-1] == 0)  # zero at the box's edge
    outside = np.ones(img.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[outside], img[outside])
    # inside the box, only pixels that move or are shaded (skin that folds) change
    written = np.zeros(img.shape[:2], bool)
    written[y0:y1, x0:x1] = (f.magnitude >= 1 / 64) | (np.abs(f.shade - 1) >= 1 / 512)
    assert np.array_equal(out[~written], img[~written])
    assert not np.array_equal(out[written], img[written])
    assert np.all(f.shade[0] == 1) and np.all(f.shade[-1] == 1)  # no shading where it fades


def test_au12_raises_and_widens_the_mouth_corners_in_any_roll():
    """Lip corner puller: corners (61, 291) up (y down in pixels) and apart; the same shifts,
    rotated, for the face rolled by 90 degrees."""
    lm = synthetic_mesh()
    y_r = np.zeros(len(AU_NAMES), np.float32)
    y_g = y_r.copy()
    y_g[AU_NAMES.index("AU12")] = 0.8
    s = geometry.mesh_displacement(lm, y_r, y_g, AU_NAMES)
    assert s[61, 1] < -0.5 and s[291, 1] < -0.5  # up
    assert s[61, 0] < 0 < s[291, 0]  # apart (61 is the face's right corner, image left)
    assert np.abs(s[[33, 133, 362, 263]]).max() < 0.25 * np.abs(s[61]).max()  # eyes stay
    # roll the face by 90 degrees about (300, 320): shifts rotate with it
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])
    rolled = lm.copy()
    rolled[:, :2] = (lm[:, :2] - (300, 320)) @ rot.T + (300, 320)
    s_rolled = geometry.mesh_displacement(rolled, y_r, y_g, AU_NAMES)
    assert np.allclose(s_rolled, s @ rot.T, atol=0.05 * np.abs(s).max())


@pytest.mark.parametrize("au", ["AU25", "AU26"])
def test_lips_part_and_jaw_drop_open_the_inner_lips(au):
    """The fitted model's AU25 closes the lips; the warp drives it through half of AU26."""
    lm = synthetic_mesh()
    y_r = np.zeros(len(AU_NAMES), np.float32)
    y_g = y_r.copy()
    y_g[AU_NAMES.index(au)] = 1.0
    s = geometry.mesh_displacement(lm, y_r, y_g, AU_NAMES)
    gap = (s[14, 1] - s[13, 1]) / eye_centre_distance(lm)  # lower inner lip moves away, IOD
    assert gap > 0.05, gap


def test_brow_lowerer_lowers_the_brows():
    lm = synthetic_mesh()
    y_r = np.zeros(len(AU_NAMES), np.float32)
    y_g = y_r.copy()
    y_g[AU_NAMES.index("AU04")] = 1.0
    s = geometry.mesh_displacement(lm, y_r, y_g, AU_NAMES)
    brows = [70, 63, 105, 66, 107, 336, 296, 334, 293, 300]
    assert s[brows, 1].mean() > 0.5  # down in the image


def test_soft_clamp_limits_each_shift_on_its_own():
    shifts = np.array([[0.0, 10.0], [5.0, 0.0], [0.0, 1.0]])
    out = geometry.soft_clamp(shifts, 6.0)
    assert np.linalg.norm(out, axis=1).max() <= 6.0
    assert np.allclose(out[0] / np.linalg.norm(out[0]), [0, 1])  # direction kept
    assert out[0, 1] > out[1, 0] > 0  # order kept
    np.testing.assert_allclose(out[2], shifts[2])  # below the knee (0.6 x 6): unchanged
    assert out[1, 0] > 3.6  # a shift just over the knee is barely touched
    lm = synthetic_mesh()
    y_r = np.zeros(len(AU_NAMES), np.float32)
    y_g = np.ones(len(AU_NAMES), np.float32)  # every AU at once: would be a caricature
    s = geometry.mesh_displacement(lm, y_r, y_g, AU_NAMES, WarpConfig(max_shift=0.1))
    assert np.linalg.norm(s, axis=1).max() <= 0.1 * eye_centre_distance(lm) + 1e-9


def test_a_jaw_drop_does_not_shrink_the_brows():
    """The limit works per point: a jaw drop large enough to be limited leaves the brows' own
    shift as it is (one factor for all points, as before, took ~25% off them)."""
    lm = synthetic_mesh()
    brows = [70, 63, 105, 66, 107, 336, 296, 334, 293, 300]
    y_r = np.zeros(len(AU_NAMES), np.float32)
    y_brow = y_r.copy()
    y_brow[AU_NAMES.index("AU01")] = y_brow[AU_NAMES.index("AU02")] = 1.0
    y_both = y_brow.copy()
    y_both[AU_NAMES.index("AU26")] = 1.0
    brow_only = geometry.mesh_displacement(lm, y_r, y_brow, AU_NAMES)[brows]
    with_jaw = geometry.mesh_displacement(lm, y_r, y_both, AU_NAMES)
    np.testing.assert_allclose(with_jaw[brows], brow_only, atol=0.02 * np.abs(brow_only).max())
    whole = geometry.mesh_displacement(lm, y_r, y_both, AU_NAMES, WarpConfig(max_shift=0.2))
    assert np.linalg.norm(whole, axis=1).max() <= 0.2 * eye_centre_distance(lm) + 1e-9


def test_sampling_keeps_detail_where_pixels_move():
    """Half-pixel shifts of a fine texture: Lanczos (photos) and bicubic (video frames) with the
    detail restore keep its Laplacian variance near the input's; bilinear (what the prototype
    used) loses about half."""
    import cv2

    from ganimate.evaluation.photos import laplacian_variance

    rng = np.random.default_rng(4)
    noise = cv2.GaussianBlur(rng.normal(0, 60, (120, 120, 3)), (0, 0), 1.0)  # skin-like texture
    img = np.clip(128 + noise, 0, 255).astype(np.uint8)
    h, w = 100, 100
    field = Field(10, 10, np.full((h, w), 0.5, np.float32), np.full((h, w), 0.5, np.float32),
                  np.ones((h, w), np.float32))
    base = laplacian_variance(img[10:110, 10:110])
    sharp = geometry.warp_region(img, field)[10:110, 10:110]
    soft = geometry.warp_region(img, field, WarpConfig(sampling="linear", restore=0))[10:110,
                                                                                      10:110]
    assert 0.9 < laplacian_variance(sharp) / base < 1.25  # neither softened nor over-sharpened
    video = geometry.warp_region(img, field, WarpConfig().for_video())[10:110, 10:110]
    assert 0.9 < laplacian_variance(video) / base < 1.25
    assert not np.array_equal(video, sharp)  # bicubic, not Lanczos
    assert laplacian_variance(soft) / base < 0.6


def test_warp_config_refuses_nonsense():
    with pytest.raises(ValueError):
        WarpConfig(sampling="nearest")
    with pytest.raises(ValueError):
        WarpConfig(max_shift=0)
