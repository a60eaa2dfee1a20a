"""The clip's first seconds scanned for each person's own teeth (issue #30): drawn teeth in the
person's colour from the first frame, not a studio photo's until their mouth first opens."""

from __future__ import annotations

import numpy as np
import pytest

from ganimate.animation.clip import ClipPlans
from ganimate.animation.config import AnimateConfig
from ganimate.animation.scan import ScannedFace, TeethScan
from ganimate.api import demo_clip
from ganimate.engines import WarpEngine

A, B = np.array([60.0, 10, 10]), np.array([80.0, 2, 6])


def _face(index: int, x: float, teeth: np.ndarray | None) -> ScannedFace:
    return ScannedFace(index, np.array([x, 100.0]), 50.0, teeth)


def test_a_face_is_followed_to_its_own_teeth_not_its_neighbours():
    """Two people side by side (150 px apart, IOD 50): each track gets its own sights, followed
    as its face drifts; frames before the track began and a face too far away are left out."""
    scan = TeethScan((
        _face(0, 100, B), _face(0, 250, B),  # before the track below begins
        _face(6, 110, A), _face(6, 260, B),
        _face(12, 135, None), _face(12, 285, B),  # the left face drifts, mouth closed
        _face(18, 170, A), _face(18, 320, B),  # 70 px from where it started: followed
        _face(24, 400, A),  # only a face far from both (the left one lost)
    ))
    left = scan.sights_for(3, np.array([105.0, 100.0]), 50.0)
    right = scan.sights_for(3, np.array([255.0, 100.0]), 50.0)
    assert len(left) == 2 and all(np.array_equal(s, A) for s in left)
    assert len(right) == 3 and all(np.array_equal(s, B) for s in right)
    assert TeethScan().sights_for(0, np.zeros(2), 50.0) == []


@pytest.fixture(scope="module")
def plans():
    """single_face.mp4 planned as the render plans it, with the scan and without."""
    made = {s: ClipPlans(demo_clip(), WarpEngine(), AnimateConfig(teeth_scan=s))
            for s in (3.0, 0.0)}
    yield made
    for p in made.values():
        p.close()


def test_drawn_teeth_have_the_persons_colour_from_the_first_frame(plans):
    """He smiles with his teeth from frame ~19 on (L* ~65); with the scan his track has their
    colour on frame 0, without it the drawn teeth keep the studio prior (cheeks + 40, L* >= 85
    before shading) until then."""
    later = plans[0.0].plan(40).faces[0].mouth.teeth  # learnt from his own smile by now
    assert later is not None and 55 < later[0] < 75
    assert plans[0.0].plan(0).faces[0].mouth.teeth is None
    first = plans[3.0].plan(0).faces[0].mouth.teeth
    assert first is not None and np.abs(first - later).max() < 5, (first, later)
