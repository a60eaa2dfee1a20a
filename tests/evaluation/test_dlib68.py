"""The independent expression reader's geometry (dlib's 68-point layout), without dlib."""

from __future__ import annotations

import numpy as np
import pytest

from ganimate.evaluation.dlib68 import measures


def face68() -> np.ndarray:
    """A schematic frontal face in dlib's 68-point order, eyes 100 px apart."""
    p = np.zeros((68, 2))
    p[36:42] = [[150 + 8 * np.cos(t), 200 + 4 * np.sin(t)] for t in np.linspace(0, 5, 6)]
    p[42:48] = [[250 + 8 * np.cos(t), 200 + 4 * np.sin(t)] for t in np.linspace(0, 5, 6)]
    p[17:27, 0] = np.linspace(130, 270, 10)
    p[17:27, 1] = 170
    p[48], p[54] = (165, 330), (235, 330)  # lip corners
    p[60:68, 0] = np.linspace(170, 230, 8)
    p[60:68, 1] = 330
    p[62], p[66] = (200, 328), (200, 332)  # inner lip centres, 4 px apart
    return p


def test_measures_in_eye_distances():
    m = measures(face68())
    assert m.iod == pytest.approx(100, abs=0.5)
    assert m.corner_eye == pytest.approx(-1.30, abs=0.01)
    assert m.mouth_width == pytest.approx(0.70, abs=0.01)
    assert m.lip_gap == pytest.approx(0.04, abs=0.005)
    assert m.brow == pytest.approx(0.30, abs=0.01)


def test_a_smile_raises_the_corners_and_the_measures_ignore_pose():
    base, smile = face68(), face68()
    smile[[48, 54], 1] -= 8
    smile[48, 0] -= 5
    smile[54, 0] += 5
    a, b = measures(base), measures(smile)
    assert b.corner_eye - a.corner_eye == pytest.approx(0.08, abs=0.005)
    assert b.corner_lip > a.corner_lip and b.mouth_width > a.mouth_width
    # rotated by 25 degrees and scaled x2: the same numbers in IOD units
    t = np.deg2rad(25)
    rot = 2 * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    turned = measures(smile @ rot.T + (40, -10))
    for name in ("corner_eye", "corner_lip", "mouth_width", "lip_gap", "brow"):
        assert getattr(turned, name) == pytest.approx(getattr(b, name), abs=1e-9), name
    lowered = face68()
    lowered[17:27, 1] += 5
    assert measures(lowered).brow == pytest.approx(a.brow - 0.05, abs=0.005)


def test_eye_open_is_the_lids_distance_and_a_raised_lower_lid_narrows_it():
    p = face68()
    # dlib's eye: 36/39 corners, 37/38 upper lid, 40/41 lower lid (right to left), 42-47 alike
    for e in (36, 42):
        p[e + 1], p[e + 2] = p[e] + (5, -4), p[e] + (11, -4)
        p[e + 5], p[e + 4] = p[e] + (5, 4), p[e] + (11, 4)
    a = measures(p)
    assert a.eye_open == pytest.approx(0.08, abs=1e-6)
    p[[40, 41, 46, 47], 1] -= 2  # lower lids raised by 2 px (a cheek raiser)
    assert measures(p).eye_open == pytest.approx(0.06, abs=1e-6)
