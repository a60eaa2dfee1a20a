"""The warp engine's geometry as pure functions: known displacements on synthetic meshes and
images, zero displacement is the identity, the field ends where it says, the AU -> mesh step moves
the right landmarks the right way in any pose."""

from __future__ import annotations

import numpy as np
import pytest

from ganimate.engines import far_side, geometry
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


def test_the_fast_spline_of_video_is_the_spline_to_a_thousandth_of_a_pixel():
    """Video's spline (``fast``: OpenCV's logarithm, one product for the distances) against
    photos' on a face's worth of centres (516, IOD units) and a 512 px face's grid (3752 points
    in 15 blocks): the same values within 1e-3 px (the warp's fields on 59 frames of the 512 px
    benchmark clip: 0.006 px at most); the video config uses it, photos do not."""
    rng = np.random.default_rng(1)
    centres = rng.uniform(0, 3, (516, 2))
    # a smooth field of shifts up to 8 px, as a face's are
    values = np.stack([8 * np.sin(1.3 * centres[:, 0]) * np.cos(centres[:, 1]),
                       5 * np.cos(centres[:, 0] + centres[:, 1])], axis=1)
    exact = ThinPlateSpline.fit(centres, values, smoothing=1e-3)
    fast = ThinPlateSpline.fit(centres, values, smoothing=1e-3, fast=True)
    probe = rng.uniform(-0.5, 3.5, (3752, 2))
    assert fast.fast and not exact.fast
    assert np.abs(fast(probe) - exact(probe)).max() < 1e-3  # 7e-5
    assert np.abs(fast(centres) - values).max() < 0.02  # through its centres as the other: 0.007
    assert WarpConfig().for_video().fast_spline and not WarpConfig().fast_spline


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


def _turned(degrees: float) -> np.ndarray:
    """The synthetic mesh turned about the vertical axis (yaw), projected orthographically."""
    c = canonical_face().astype(np.float64)
    t = np.radians(degrees)
    rot = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])
    turned = c @ rot.T
    lm = synthetic_mesh()
    lm[:468, 0] = 300 + 20 * turned[:, 0]
    lm[:468, 1] = 320 - 20 * turned[:, 1]
    lm[:468, 2] = -20 * turned[:, 2]
    return lm


def test_a_frontal_face_keeps_every_shift_and_a_turned_one_fades_its_far_side():
    """far_side_weight: exactly 1 on a frontal face (its edits are unchanged, bit for bit); on a
    face turned by 30 degrees, 0 on the outline that turns away, 1 on the near side; weights
    grow smoothly with the turn (no jump between video frames)."""
    from ganimate.faces import FACE_OVAL, RIGID_3D, to_model_frame, umeyama

    def weights(lm, config=WarpConfig()):
        obs = to_model_frame(lm)
        _, rot, _ = umeyama(canonical_face().astype(np.float64)[RIGID_3D], obs[RIGID_3D])
        return far_side.far_side_weight(lm, rot, config)

    assert np.array_equal(weights(synthetic_mesh()), np.ones(468))
    turned = _turned(30.0)
    w = weights(turned)
    nose = turned[1, 0]
    outline = turned[FACE_OVAL, 0]
    far, near = FACE_OVAL[outline > nose + 40], FACE_OVAL[outline < nose - 40]
    assert w[far].min() == 0.0 and w[near].min() == 1.0
    assert np.median(w[far]) < 0.5
    steps = [weights(_turned(d)).min() for d in np.arange(0.0, 30.5, 1.0)]
    assert np.abs(np.diff(steps)).max() < 0.35, np.round(steps, 2)
    off = geometry.mesh_displacement(turned, *_smile(), AU_NAMES, WarpConfig(far_band=0.0))
    on = geometry.mesh_displacement(turned, *_smile(), AU_NAMES)
    assert np.allclose(on, off * w[:, None])


def _smile() -> tuple[np.ndarray, np.ndarray]:
    y_r = np.zeros(len(AU_NAMES), np.float32)
    y_g = y_r.copy()
    y_g[[AU_NAMES.index("AU12"), AU_NAMES.index("AU26")]] = (0.8, 0.6)
    return y_r, y_g


def test_a_turned_face_keeps_its_far_cheek_and_the_hair_beside_it(media):
    """WolfgangLanger_Pexels.mp4's frame 413 (a three-quarter view, laughing) edited to
    surprise: the mesh stops ~0.3 IOD inside her far cheek, and the field's taper sheared the
    cheek's strip and the hair beside it (a dented, wavy contour, dark hair and background pulled
    into the skin, blotches of fold shading). With the far side faded, the skin near the far
    outline keeps its lightness, and the mouth still opens."""
    import cv2

    from ganimate import api
    from ganimate.engines import WarpEngine
    from ganimate.faces import FACE_OVAL, FaceMesh
    from ganimate.video import read_frames

    frames = read_frames(media / "video" / "WolfgangLanger_Pexels.mp4")
    frame = next(f for i, f in enumerate(frames) if i == 413)
    frames.close()
    with FaceMesh() as mesh:
        lm = mesh(frame)[0].landmarks.astype(np.float64)
    iod = eye_centre_distance(lm)
    inside = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, cv2.convexHull(lm[:468, :2].astype(np.float32)).astype(np.int32), 1)
    beyond = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    within = cv2.distanceTransform(inside, cv2.DIST_L2, 5)
    grey = frame.mean(axis=2)
    skin_level = np.median(grey[inside == 1])
    # the input's skin within 0.35 IOD of the mesh's outline, on the far side (image right)
    skin = (beyond < 0.35 * iod) & (within < 0.35 * iod) & (grey > skin_level - 25)
    skin[:, : int(lm[FACE_OVAL, 0].max() - 0.5 * iod)] = False
    assert skin.sum() > 2000

    def edit(**kw):
        out = api.edit_image(frame, expression="surprise", engine=WarpEngine(WarpConfig(**kw)))
        with FaceMesh() as mesh:
            moved = mesh(out)[0].landmarks
        darker = (grey - out.mean(axis=2))[skin]
        return darker.mean(), (darker > 50).mean(), (moved[14, 1] - moved[13, 1]) / iod

    (drop_on, dark_on, gap_on), (drop_off, dark_off, gap_off) = edit(), edit(far_band=0.0)
    # measured 4.5 vs 13.6 levels darker, 2.6% vs 6.2% of the skin turned hair-dark
    assert drop_on < 0.5 * drop_off, (drop_on, drop_off)
    assert dark_on < 0.6 * dark_off, (dark_on, dark_off)
    assert gap_on > 0.8 * gap_off > 0.05, (gap_on, gap_off)
