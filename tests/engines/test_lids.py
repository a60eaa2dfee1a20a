"""Blinks that close the eye as a lid (issue #36): the upper lid comes down over the iris and
the lid skin above it with it; nothing changes for edits that do not raise AU45."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from ganimate.engines import geometry
from ganimate.engines.geometry import warp_face
from ganimate.engines.lids import EYES, LidConfig, blink_fraction, close_lids
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import AU_NAMES, FaceMesh, eye_centre_distance
from ganimate.images import read_photo

# Held-out London people whose eyes the old warp left open (MediaPipe re-read 0.19-0.23 of the
# eye's width open at AU45 = 1, a third to a half of the visible iris still dark).
PEOPLE = ("001", "115", "172")
OFF = dataclasses.replace(WarpConfig(), lids=LidConfig(close=False))


def vec(**aus: float) -> np.ndarray:
    y = np.zeros(len(AU_NAMES), np.float32)
    for name, value in aus.items():
        y[AU_NAMES.index(name)] = value
    return y


@pytest.fixture(scope="module")
def faces(media):
    """(photo, its landmarks, a function that re-reads an image's landmarks) per person."""
    mesh = FaceMesh()
    out = []
    for person in PEOPLE:
        rgb = read_photo(media / "faces" / "london" / "neutral" / f"{person}.jpg").rgb
        out.append((rgb, mesh(rgb)[0].landmarks))
    yield out, lambda rgb: mesh(rgb)[0].landmarks
    mesh.close()


def opening(landmarks: np.ndarray) -> float:
    """Upper to lower lash line (three pairs in the middle) over the eye's width, both eyes."""
    pairs = (((160, 144), (159, 145), (158, 153)), ((387, 373), (386, 374), (385, 380)))
    out = []
    for eye, eye_pairs in zip(EYES, pairs, strict=True):
        width = np.linalg.norm(landmarks[eye.corners[0], :2] - landmarks[eye.corners[1], :2])
        out += [np.linalg.norm(landmarks[a, :2] - landmarks[b, :2]) / width for a, b in eye_pairs]
    return float(np.mean(out))


def dark_iris(photo: np.ndarray, edited: np.ndarray, landmarks: np.ndarray) -> float:
    """Share of the photo's visible iris (its iris disc inside the lash lines) that is still
    dark in ``edited``: darker than 0.6 x the cheek under the eye."""
    grey = [cv2.cvtColor(im, cv2.COLOR_RGB2GRAY).astype(float) for im in (photo, edited)]
    shares = []
    for eye, iris in zip(EYES, (468, 473), strict=True):
        outline = [eye.corners[0], *eye.upper, eye.corners[1], *eye.lower[::-1]]
        inside = np.zeros(photo.shape[:2], np.uint8)
        cv2.fillPoly(inside, [np.round(landmarks[outline, :2]).astype(np.int32)], 1)
        centre = landmarks[iris, :2]
        radius = np.mean([np.linalg.norm(landmarks[iris + k, :2] - centre) for k in range(1, 5)])
        disc = np.zeros_like(inside)
        cv2.circle(disc, tuple(int(v) for v in np.round(centre)), int(round(radius)), 1, -1)
        where = (inside & disc).astype(bool)
        width = np.linalg.norm(landmarks[eye.corners[0], :2] - landmarks[eye.corners[1], :2])
        x, y = np.round(landmarks[list(eye.lower), :2].mean(0) + (0, 0.25 * width)).astype(int)
        r, c = int(0.1 * width), int(0.2 * width)
        cheek = np.median(grey[0][y - r:y + r, x - c:x + c])
        shares.append((grey[1][where] < 0.6 * cheek).sum() / max((grey[0][where] < 0.6 * cheek)
                                                                  .sum(), 1))
    return float(np.mean(shares))


def test_blink_fraction_is_the_way_from_the_own_value_to_shut():
    assert blink_fraction(vec(), vec(AU45=1.0), AU_NAMES) == 1.0
    assert blink_fraction(vec(AU45=0.2), vec(AU45=0.6), AU_NAMES) == pytest.approx(0.5)
    assert blink_fraction(vec(AU45=0.6), vec(AU45=0.2), AU_NAMES) == 0.0  # opening: the basis
    assert blink_fraction(vec(AU12=0.2), vec(AU12=0.9), AU_NAMES) == 0.0
    assert blink_fraction(np.zeros(1), np.ones(1), ["AU12"]) == 0.0


def test_a_full_blink_covers_the_iris_with_the_lid(faces):
    """Old warp on these people: 0.19-0.23 open, 33-50% of the iris dark; now under 0.1 and
    under 20% (the lash line that lies over the iris is dark too)."""
    photos, read = faces
    for rgb, lm in photos:
        out, _ = warp_face(rgb, lm, vec(), vec(AU45=1.0), AU_NAMES)
        assert opening(read(out)) < 0.1 < opening(lm)
        assert dark_iris(rgb, out, lm) < 0.2


def test_a_half_blink_closes_part_of_the_way(faces):
    photos, read = faces
    for rgb, lm in photos:
        half, _ = warp_face(rgb, lm, vec(), vec(AU45=0.5), AU_NAMES)
        full, _ = warp_face(rgb, lm, vec(), vec(AU45=1.0), AU_NAMES)
        assert opening(read(full)) + 0.06 < opening(read(half)) < opening(lm) - 0.03


def test_the_lid_skin_comes_down_with_the_lash_line_less_and_less_up_to_the_brow(faces):
    """The middle column of each eye: the lash line meets the lower one (it comes a little over
    it), the two rings of lid skin above follow it (the lashes' band nearly as far: translated,
    not stretched), the brow stays; the lower lid rises a little."""
    (_, lm), *_ = faces[0]
    points = lm[:468, :2].astype(np.float64)
    y_r, y_g = vec(), vec(AU45=1.0)
    shifts = geometry.mesh_displacement(lm, y_r, y_g, AU_NAMES)
    blink = geometry.blink_shifts(lm, y_r, y_g, AU_NAMES)
    closing = close_lids(points, shifts, blink, 1.0, eye_centre_distance(lm), (512, 512))
    moved = points + shifts + closing.shifts
    for eye in EYES:
        lash, low = eye.upper[3], eye.lower[3]
        drop = moved[:, 1] - points[:, 1]
        assert moved[lash, 1] >= moved[low, 1]  # closed
        assert drop[lash] >= drop[eye.rings[0][3]] > 0.8 * drop[lash]
        assert drop[eye.rings[0][3]] > drop[eye.rings[1][3]] > 0.3 * drop[lash]
        assert abs(drop[eye.brow[4]]) < 0.05 * drop[lash]
        assert 0 < -drop[low] < 0.6 * drop[lash]
    assert len(closing.fields) == 2


def test_the_null_edit_and_edits_that_do_not_raise_au45_are_unchanged(faces):
    (rgb, lm), *_ = faces[0]
    same, plan = warp_face(rgb, lm, vec(AU45=0.3), vec(AU45=0.3), AU_NAMES)
    assert plan.field is None and np.array_equal(same, rgb)
    for y_r, y_g in ((vec(), vec(AU06=0.4, AU12=0.7, AU25=0.4, AU26=0.2)),
                     (vec(AU45=0.8), vec(AU45=0.1, AU01=0.6))):
        on, _ = warp_face(rgb, lm, y_r, y_g, AU_NAMES)
        off, _ = warp_face(rgb, lm, y_r, y_g, AU_NAMES, OFF)
        assert np.array_equal(on, off)
    blink, _ = warp_face(rgb, lm, vec(), vec(AU45=1.0), AU_NAMES)
    old, _ = warp_face(rgb, lm, vec(), vec(AU45=1.0), AU_NAMES, OFF)
    assert not np.array_equal(blink, old)
