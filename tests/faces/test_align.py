"""Alignment: crop framing, the crop <-> frame transform, and stability across face sizes."""

from __future__ import annotations

import numpy as np
import pytest

from ganimate.faces import (
    FaceCrop,
    FaceMesh,
    align_face,
    apply_transform,
    face_ellipse,
    invert_transform,
)
from ganimate.faces.align import canonical_landmarks
from ganimate.images import read_rgb


@pytest.fixture(scope="module")
def mesh():
    with FaceMesh() as m:
        yield m


@pytest.fixture(scope="module")
def zoom_crops(media, mesh):
    crops = []
    for d in (15, 30, 45, 60):
        rgb = read_rgb(media / "photos" / f"zoom_{d}cm.jpg")
        faces = mesh(rgb)
        assert len(faces) == 1, d
        crops.append((rgb, faces[0], align_face(rgb, faces[0], 128)))
    return crops


def test_crop_round_trip_puts_landmarks_back(zoom_crops):
    for _, face, crop in zoom_crops:
        assert isinstance(crop, FaceCrop)
        assert crop.image.shape == (128, 128, 3) and crop.image.dtype == np.uint8
        assert crop.to_frame.shape == (2, 3) and crop.to_frame.dtype == np.float64
        back = apply_transform(crop.to_frame, crop.landmarks)
        assert np.abs(back - face.landmarks[:, :2]).max() < 1.0
        assert crop.inside == 1.0


def test_remeshing_the_crop_lands_on_the_frame_landmarks(zoom_crops, mesh):
    # The pixels of the crop really are the face at to_frame: the mesh found on the crop alone,
    # mapped through to_frame, matches the mesh of the full photo.
    for _, face, crop in zoom_crops:
        again = mesh(crop.image)
        assert len(again) == 1
        in_frame = apply_transform(crop.to_frame, again[0].landmarks)
        err = np.linalg.norm(in_frame - face.landmarks[:, :2], axis=1) / crop.scale
        assert np.median(err) < 1.0  # crop pixels


def test_same_face_at_four_distances_gives_the_same_crop(zoom_crops):
    lms = np.stack([c.landmarks[:468, :2] for _, _, c in zoom_crops])
    spread = np.linalg.norm(lms - lms.mean(axis=0), axis=2)
    assert np.median(spread) < 1.5 and np.percentile(spread, 95) < 4.0  # pixels of a 128 crop


def test_framing_is_documented_and_keeps_forehead_and_chin(media, mesh):
    t = canonical_landmarks(1000) + 0.5
    assert t[10, 1] == pytest.approx(90, abs=1) and t[152, 1] == pytest.approx(910, abs=1)
    assert t[33, 1] == pytest.approx(350, abs=2) and t[61, 1] == pytest.approx(675, abs=2)
    rgb = read_rgb(media / "faces/london/smiling/005.jpg")
    crop = align_face(rgb, mesh(rgb)[0], 128)
    lm = crop.landmarks
    assert 0 < lm[10, 1] < 30 and 100 < lm[152, 1] < 127  # forehead top and chin inside
    eyes_y = (lm[33, 1] + lm[263, 1]) / 2
    assert abs(eyes_y - 0.35 * 128) < 6
    (cx, cy), (rx, ry) = face_ellipse(128)
    inside = ((lm[:468, 0] - cx) / rx) ** 2 + ((lm[:468, 1] - cy) / ry) ** 2 <= 1.1
    assert inside.mean() > 0.97


def test_sizes_and_inverse(zoom_crops):
    rgb, face, _ = zoom_crops[1]
    for size in (64, 256):
        crop = align_face(rgb, face, size)
        assert crop.image.shape == (size, size, 3)
        full = np.vstack([crop.to_frame, [0, 0, 1]]) @ np.vstack([crop.to_crop, [0, 0, 1]])
        assert np.allclose(full, np.eye(3), atol=1e-9)
    m = np.array([[2.0, 0.5, 3.0], [-0.5, 2.0, -7.0]])
    assert np.allclose(invert_transform(invert_transform(m)), m)


def test_face_at_the_edge_reports_how_much_is_inside(media, mesh):
    rgb = read_rgb(media / "photos" / "lisa1.jpg")
    face = mesh(rgb)[0]
    cut = rgb[:, : int(face.landmarks[1, 0]) + 60]  # cut the frame just right of the nose
    faces = mesh(cut)
    assert len(faces) == 1
    crop = align_face(cut, faces[0], 128)
    assert 0.3 < crop.inside < 0.8
