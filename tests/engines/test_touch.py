"""A hand at the mouth (issue #30): the edit around the mouth is stilled, not drawn on the fingers;
a video track's touch rises before the hand arrives and fades after it leaves."""

from __future__ import annotations

import numpy as np
import pytest
from test_mouth import closed_mesh, lip_photo, target

from ganimate.engines import geometry
from ganimate.engines.mouth import INNER_LIPS
from ganimate.engines.mouth_track import MouthTrack
from ganimate.engines.touch import TouchConfig, hand_touch
from ganimate.faces import AU_NAMES, Hand, eye_centre_distance
from ganimate.faces.hands import HandConfig, hand_distance

BROWS = [70, 63, 105, 66, 107, 336, 296, 334, 293, 300]
SURPRISE = dict(AU01=1.0, AU02=1.0, AU05=0.6, AU25=1.0, AU26=1.0)


def straight_hand(wrist=(50.0, 95.0)) -> Hand:
    """Wrist at the bottom, five fingers up, 10 px apart at the knuckles (tips at y = 40)."""
    pts = np.zeros((21, 2))
    pts[0] = wrist
    pts[1:5] = [(30 + 2 * k, 80 - 6 * k) for k in range(4)]
    for f, x in enumerate((35, 45, 55, 65)):
        pts[5 + 4 * f:9 + 4 * f] = [(x, 70 - 10 * k) for k in range(4)]
    pts += np.subtract(wrist, (50.0, 95.0))
    return Hand(pts)


def across_the_mouth(lm: np.ndarray) -> Hand:
    """A flat hand laid across the mouth: wrist below-left, fingers up to the right."""
    lips = lm[list(INNER_LIPS), :2]
    centre, width = lips.mean(axis=0), np.ptp(lips[:, 0])
    return Hand(np.array([centre + (width * (0.4 * (k % 5) - 0.8), width * (0.6 - 0.3 * (k // 5)))
                          for k in range(21)], np.float64))


def test_how_close_a_hand_comes():
    hand = straight_hand()
    radius = HandConfig().finger * hand.palm_width
    assert hand_distance((hand,), np.array([[45.0, 50.0]])) == 0.0  # on the middle finger
    assert hand_distance((hand,), np.array([[50.0, 85.0]])) == 0.0  # inside the palm
    assert hand_distance((hand,), np.array([[45.0, 20.0]])) == pytest.approx(20 - radius)
    assert hand_distance((), np.array([[45.0, 20.0]])) == np.inf


def test_a_hand_on_the_lips_stills_the_mouths_edit_but_not_the_brows():
    """Surprise on a face whose mouth a hand covers: the lips are not parted (no dark hole drawn
    where the hand's mask misses a finger); the brows still rise. A hand well below the chin
    changes nothing."""
    lm = closed_mesh()
    photo = lip_photo(lm)
    y_r, y_g = target(**SURPRISE)
    scale = eye_centre_distance(lm)
    hand = across_the_mouth(lm)
    assert hand_touch((hand,), lm) == 1.0
    assert hand_touch((Hand(hand.points + (0, 3 * scale)),), lm) == 0.0
    lips = lm[list(INNER_LIPS), :2]
    x0, y0 = np.floor(lips.min(axis=0) - 0.15 * scale).astype(int)
    x1, y1 = np.ceil(lips.max(axis=0) + 0.15 * scale).astype(int)
    change, brows = {}, {}
    for touch in (0.0, 1.0):
        out, plan = geometry.warp_face(photo, lm, y_r, y_g, AU_NAMES, touch=touch)
        change[touch] = np.abs(out[y0:y1, x0:x1].astype(int) - photo[y0:y1, x0:x1]).mean()
        brows[touch] = np.linalg.norm(plan.shifts[BROWS], axis=1).mean()
        assert np.linalg.norm(plan.shifts[list(INNER_LIPS)], axis=1).max() < (
            0.01 * scale if touch else np.inf)
    assert change[0.0] > 10 and change[1.0] < 0.5, change
    assert brows[1.0] == pytest.approx(brows[0.0]) and brows[1.0] > 0.05 * scale


def test_a_tracks_touch_rises_before_the_hand_arrives_and_fades_after_it_leaves():
    """As the planner drives it: each frame observed ``ahead`` frames before its update. A hand
    on the mouth over frames 10-19: the touch ramps up over the frames observed ahead of it (the
    hand tracker may find a hand a frame or two late), is full while the hand is there, and
    falls over ``TouchConfig.release`` seconds after."""
    lm = closed_mesh()
    photo = lip_photo(lm)
    hand = (across_the_mouth(lm),)
    hands = [hand if 10 <= i < 20 else () for i in range(40)]
    track, ahead, touches = MouthTrack(30.0), 4, []
    for i in range(40 + ahead):
        if i < 40:
            track.observe(photo, lm, hands[i])
        if i >= ahead:
            touches.append(track.update(photo, lm, hands=hands[i - ahead]).touch)
    touches = np.array(touches)
    assert np.all(touches[:6] == 0)
    assert np.all(np.diff(touches[5:11]) > 0.1) and np.all(touches[10:20] == 1.0)
    fall = 1 / (TouchConfig().release * 30)
    assert touches[20] == pytest.approx(1 - fall) and np.all(np.diff(touches[19:29]) < 0)
    assert np.all(touches[29:] == 0)
