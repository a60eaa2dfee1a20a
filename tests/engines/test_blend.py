"""Paste-back: untouched pixels stay identical, the transform round-trips, edges are soft."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ganimate.engines import BlendConfig
from ganimate.engines.blend import (
    FaceEdit,
    blend_weight,
    change_weight,
    face_mask,
    footprint,
    paste_face,
    paste_faces,
)
from ganimate.faces import FaceCrop, align_face, apply_transform, face_ellipse, invert_transform

N = 64
# Paste the edited crop itself (not the change from the crop): what tests of where and how softly
# a constant colour lands need. The default (residual) paste is tested in test_editing.py.
WHOLE = BlendConfig(residual=False)


def smooth_frame(h=300, w=400, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 20, w // 20, 3), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def similarity(angle_deg: float, scale: float, tx: float, ty: float) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    r = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return np.hstack([r, [[tx], [ty]]])


def hand_crop(frame: np.ndarray, to_frame: np.ndarray, size: int = N) -> FaceCrop:
    """Cut a crop the way align does (warpAffine with frame -> crop), no landmarks."""
    image = cv2.warpAffine(frame, invert_transform(to_frame), (size, size),
                           flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return FaceCrop(image, to_frame, size, None)


def weight_in_frame(frame, crop, config=BlendConfig(), attention=None):
    """The effective frame-space weight, measured by pasting a white crop (as a whole, not as a
    change from the crop) onto black."""
    import dataclasses

    black = np.zeros_like(frame)
    white = np.full((crop.size, crop.size, 3), 255, np.uint8)
    whole = dataclasses.replace(config, residual=False)
    return paste_face(black, crop, white, attention, whole)[..., 0] / 255.0


def test_outside_the_footprint_is_bit_identical():
    frame = smooth_frame()
    crop = hand_crop(frame, similarity(20, 2.5, 150, 60))
    edited = np.random.default_rng(1).integers(0, 256, (N, N, 3), dtype=np.uint8)
    out = paste_face(frame, crop, edited, np.zeros((N, N)))
    assert out.shape == frame.shape and out is not frame
    w = weight_in_frame(frame, crop)
    changed = np.any(out != frame, axis=-1)
    assert changed.any()
    assert not np.any(changed & (w == 0))  # nothing changes where the weight is 0
    x0, y0, x1, y1 = footprint(crop.to_frame, blend_weight(crop), (400, 300))
    outside = np.ones(frame.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    np.testing.assert_array_equal(out[outside], frame[outside])
    # a mask that keeps every input pixel (A = 1) changes nothing at all
    np.testing.assert_array_equal(paste_face(frame, crop, edited, np.ones((N, N))), frame)


def test_pasting_the_unedited_crop_changes_little():
    frame = smooth_frame()
    crop = hand_crop(frame, similarity(-15, 2.0, 140, 40))
    out = paste_face(frame, crop, crop.image, np.zeros((N, N)))
    inside = weight_in_frame(frame, crop) > 0
    diff = np.abs(out.astype(int) - frame.astype(int))[inside]
    assert diff.mean() < 1.0 and diff.max() <= 12  # only resampling error


def test_transform_round_trip_puts_the_face_where_it_was():
    frame = smooth_frame()
    to_frame = similarity(30, 2.2, 250, 30)
    crop = hand_crop(frame, to_frame)
    w = weight_in_frame(frame, crop)
    ys, xs = np.nonzero(w > 0.5)
    centroid = np.array([np.average(xs, weights=w[ys, xs]), np.average(ys, weights=w[ys, xs])])
    (cx, cy), (ax, ay) = face_ellipse(N)
    expected = apply_transform(to_frame, np.array([[cx, cy]]))[0]
    assert np.linalg.norm(centroid - expected) < 1.0
    # the crop's border never shows: its outline maps to weight 0 in the frame
    edge = np.concatenate([np.stack([np.arange(N), np.zeros(N)], 1),
                           np.stack([np.zeros(N), np.arange(N)], 1),
                           np.stack([np.arange(N), np.full(N, N - 1)], 1),
                           np.stack([np.full(N, N - 1), np.arange(N)], 1)])
    pts = np.rint(apply_transform(to_frame, edge)).astype(int)
    ok = (pts[:, 0] >= 0) & (pts[:, 0] < 400) & (pts[:, 1] >= 0) & (pts[:, 1] < 300)
    assert np.all(w[pts[ok, 1], pts[ok, 0]] == 0)


def test_small_faces_and_faces_at_the_frame_edge():
    frame = smooth_frame()
    small = hand_crop(frame, similarity(0, 0.4, 10, 10))  # 64 crop px -> ~26 frame px
    w = weight_in_frame(frame, small)
    assert w.max() > 0.9 and np.count_nonzero(w) < 30 * 30
    half_out = hand_crop(frame, similarity(0, 3.0, -90, 150))  # left half beyond the frame
    w = weight_in_frame(frame, half_out)
    assert w[:, 0].max() > 0.9 and np.count_nonzero(w[:, 150:]) == 0


def test_face_mask_shapes():
    ellipse = face_mask(N)
    assert ellipse.dtype == np.float32 and ellipse.shape == (N, N)
    assert ellipse[N // 2, N // 2] == 1.0 and ellipse[0].max() == 0 and ellipse[:, -1].max() == 0
    hard = face_mask(N, config=BlendConfig(feather=0, grow=0))
    soft = face_mask(N, config=BlendConfig(feather=0.05, grow=0))
    assert np.count_nonzero((hard > 0) & (hard < 1)) < np.count_nonzero((soft > 0) & (soft < 1))
    change = change_weight(np.full((N, N, 1), 255, np.uint8))
    assert change.shape == (N, N) and change.max() == 0
    with pytest.raises(ValueError, match="attention"):
        change_weight(np.zeros((2, N, N)))
    with pytest.raises(ValueError):
        BlendConfig(region="square")


def test_rgba_frames_are_refused():
    frame = smooth_frame()
    crop = hand_crop(frame, similarity(0, 2, 100, 50))
    rgba = np.dstack([frame, np.full(frame.shape[:2], 255, np.uint8)])
    with pytest.raises(ValueError, match="alpha"):
        paste_face(rgba, crop, crop.image)


# --- real faces (mediapipe) --------------------------------------------------------------------


@pytest.fixture(scope="module")
def london(media):
    from ganimate.faces import FaceMesh
    from ganimate.images import read_rgb

    a = read_rgb(media / "faces/london/neutral/001.jpg")
    b = read_rgb(media / "faces/london/neutral/002.jpg")
    pair = np.hstack([a, b])
    with FaceMesh() as mesh:
        return a, mesh(a), pair, mesh(pair)


def test_constant_edit_on_a_real_face_has_a_soft_edge(london):
    img, faces, _, _ = london
    crop = align_face(img, faces[0], 128)
    grey = np.full_like(img, 128)
    red = np.zeros((128, 128, 3), np.uint8)
    red[..., 0] = 255
    out = paste_face(grey, crop, red, np.zeros((128, 128), np.float32), WHOLE)
    nose = np.rint(faces[0].landmarks[1, :2]).astype(int)
    assert tuple(out[nose[1], nose[0]]) == (255, 0, 0)
    assert tuple(out[5, 5]) == (128, 128, 128)
    # walk right from the nose tip out of the face: the weight falls smoothly to 0
    row = (out[nose[1], nose[0]:, 0].astype(float) - 128) / 127
    assert row[-1] == 0
    assert np.all(np.diff(row) <= 1.5 / 127)  # never rises (beyond rounding)
    assert np.abs(np.diff(row)).max() < 0.1  # no hard edge: < 10 % per pixel
    falloff = np.nonzero((row > 0.02) & (row < 0.98))[0]
    assert len(falloff) > 10
    # the region covers the face: brows, eyes, mouth fully; the outline (chin, cheeks) at
    # least half, the top of the forehead (near the crop's border) partly
    weight = (out[..., 0].astype(float) - 128) / 127
    for points, least in (((55, 285, 105, 334, 33, 263, 61, 291, 17), 0.98),
                          ((152, 234, 454), 0.5), ((10,), 0.25)):
        for i in points:
            x, y = np.rint(faces[0].landmarks[i, :2]).astype(int)
            assert weight[y, x] >= least, i


def test_unedited_real_crop_is_nearly_invisible(london):
    img, faces, _, _ = london
    crop = align_face(img, faces[0], 128)
    out = paste_face(img, crop, crop.image, np.zeros((128, 128), np.float32))
    inside = weight_in_frame(img, crop) > 0
    diff = np.abs(out.astype(int) - img.astype(int))
    assert diff[inside].mean() < 3.0  # the twice-resampled crop is only slightly softer
    assert np.all(diff[~inside] == 0)


def test_two_faces_pasted_in_one_frame(london):
    _, _, pair, faces = london
    assert len(faces) == 2
    edits = []
    for face in faces:
        crop = align_face(pair, face, 96)
        edits.append(FaceEdit(crop, np.full((96, 96, 3), (0, 255, 0), np.uint8),
                              np.zeros((96, 96), np.float32)))
    out = paste_faces(pair, edits, WHOLE)
    for face in faces:
        x, y = np.rint(face.landmarks[1, :2]).astype(int)
        assert tuple(out[y, x]) == (0, 255, 0)
    seam = pair.shape[1] // 2  # between the two people, away from both faces
    np.testing.assert_array_equal(out[:, seam - 20:seam + 20], pair[:, seam - 20:seam + 20])
    # attention decides per face: a face whose mask keeps everything stays identical
    edits[1] = FaceEdit(edits[1].crop, edits[1].edited, np.ones((96, 96), np.float32))
    out = paste_faces(pair, edits, WHOLE)
    np.testing.assert_array_equal(out[:, seam:], pair[:, seam:])
