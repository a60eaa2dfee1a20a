"""Hands in front of a face (issue #30): mediapipe's hand tracker on the test clip where a woman's
hand rests on her mouth, and the mask of what the hand covers."""

from __future__ import annotations

import itertools

import numpy as np

from ganimate.engines.mouth import INNER_LIPS
from ganimate.faces import FaceMesh, Hand, HandTracker, largest_face, occluder_mask
from ganimate.faces.hands import covered_share
from ganimate.video import read_frames


def frames(media, *indices):
    clip = read_frames(media / "video" / "WolfgangLanger_Pexels.mp4")
    wanted = set(indices)
    return [f for i, f in enumerate(itertools.islice(clip, max(indices) + 1)) if i in wanted]


def test_the_hand_over_her_mouth_is_found_and_covers_the_lips(media):
    before, covered = frames(media, 10, 100)
    with HandTracker(still=True) as hands, FaceMesh() as mesh:
        assert hands(before) == ()  # no hand in view yet
        found = hands(covered)
        lips = largest_face(mesh(covered)).landmarks[list(INNER_LIPS), :2]
    assert len(found) >= 1 and found[0].points.shape == (21, 2)
    assert covered_share(found, lips) > 0.4
    assert covered_share(found, lips + (0, 150)) == 0.0  # the same lips well below the hand


def test_the_mask_covers_the_fingers_not_their_surroundings():
    # a straight hand: wrist at the bottom, five fingers up, 10 px apart at the knuckles
    pts = np.zeros((21, 2))
    pts[0] = (50, 95)
    pts[1:5] = [(30 + 2 * k, 80 - 6 * k) for k in range(4)]
    for f, x in enumerate((35, 45, 55, 65)):
        pts[5 + 4 * f:9 + 4 * f] = [(x, 70 - 10 * k) for k in range(4)]
    mask = occluder_mask((Hand(pts),), (0, 0, 100, 100))
    assert mask[40, 45] == 1.0 and mask[75, 50] == 1.0  # a finger, the palm
    assert mask[45, 68] > 0.5 and mask[45, 76] < 0.05  # the little finger's side, and beside it
    assert mask[5, 90] == 0.0 and mask[98, 5] == 0.0  # far from the hand
    assert occluder_mask((Hand(pts),), (200, 200, 300, 300)) is None  # a box it does not reach


def test_fingers_found_in_a_face_alone_are_not_taken_for_a_hand(media):
    """A surprised face (London 027 edited to surprise) in which mediapipe's hand tracker finds a
    fist on her chin: kept unedited, it tore a smile's mouth in two. Confirmed in the mirrored
    photo and in the photo with a border (HandConfig.confirm), it is not a hand; the hand over
    her mouth in the clip still is, and in video the tracker confirms a hand it newly finds."""
    from ganimate.faces.hands import HandConfig
    from ganimate.images import read_photo

    face = read_photo(media / "edited/london_027_surprise.jpg").rgb
    (covered,) = frames(media, 100)
    with HandTracker(HandConfig(confirm=False), still=True) as unchecked:
        assert len(unchecked(face)) == 1  # what mediapipe finds
    with HandTracker(still=True) as hands:
        assert hands(face) == ()
        assert len(hands(covered)) >= 1
    # a video of that face: the tracker finds the fist on some frames (a flash of the unedited
    # mouth each time), confirmed on none
    for confirm, expect_some in ((False, True), (True, False)):
        with HandTracker(HandConfig(confirm=confirm)) as video:
            seen = sum(bool(video(face)) for _ in range(12))
        assert (seen > 0) == expect_some, (confirm, seen)
