"""A hand at the mouth: the edit around the mouth stilled.

Where a hand lies on or beside the lips, mediapipe draws the lips on the fingers, and the hand's
mask (:func:`ganimate.faces.hands.occluder_mask`, which keeps the input's pixels in front of the
edit) misses parts of fingers seen edge-on or half out of the frame. An edit that parts the lips
then drew a dark hole on the fingers (``WolfgangLanger_Pexels.mp4``, `-e surprise`, frames 59-68,
where her hand comes up to her mouth). The edit's landmark shifts are instead faded out around
the mouth as much as a hand touches it: the lips, jaw and cheeks stay as the input has them, the
brows and eyes are still edited. A video's mouth track carries the touch over time
(:class:`ganimate.engines.mouth_track.MouthTrack`), rising before the hand arrives; a photo
reads it from its own hands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganimate.engines.masks import smoothstep
from ganimate.faces import eye_centre_distance
from ganimate.faces.hands import Hand, hand_distance
from ganimate.faces.measures import INNER_LIPS, OUTER_LIPS


@dataclass(frozen=True)
class TouchConfig:
    """When a hand counts as touching the mouth, and what of the edit it stills (IOD)."""

    # A hand this close to the outer lips (:func:`ganimate.faces.hands.hand_distance`) touches
    # the mouth in full, one ``far`` away not at all. On WolfgangLanger_Pexels.mp4 every hand
    # found (frames 59-229) lies on her lips or beside them: 0 IOD. A hand under the chin, its
    # knuckles a third of an IOD below the lips, leaves the edit alone.
    near: float = 0.03
    far: float = 0.2
    # A touching hand stills the edit of the face's points within ``inner`` IOD of the inner
    # lips' centre, and less out to ``outer`` (the lips, jaw and cheeks; not the eyes or brows,
    # about 1.1 IOD away). 0 turns the stilling off.
    inner: float = 0.6
    outer: float = 1.0
    # Video: after the hand has gone, the stilling fades over this long (seconds).
    release: float = 0.3


def hand_touch(hands: tuple[Hand, ...], landmarks: np.ndarray,
               config: TouchConfig = TouchConfig()) -> float:
    """How much ``hands`` touch the mouth of a face (its landmarks in frame pixels): 1 within
    :attr:`TouchConfig.near` of its outer lips, 0 from :attr:`TouchConfig.far` on."""
    if not hands or config.outer <= 0:
        return 0.0
    lm = np.asarray(landmarks, np.float64)
    d = hand_distance(hands, lm[list(OUTER_LIPS)]) / max(eye_centre_distance(lm), 1e-6)
    return float(smoothstep((config.far - d) / max(config.far - config.near, 1e-6)))


def still_near_mouth(shifts: np.ndarray, landmarks: np.ndarray, touch: float, scale: float,
                     config: TouchConfig = TouchConfig()) -> np.ndarray:
    """The landmark ``shifts`` (468, 2) faded out around the mouth by ``touch`` (0: as they
    are): in full within :attr:`TouchConfig.inner` IOD of the inner lips' centre, not from
    :attr:`TouchConfig.outer` on."""
    if touch <= 0 or config.outer <= 0:
        return shifts
    points = np.asarray(landmarks, np.float64)[:len(shifts), :2]
    centre = points[list(INNER_LIPS)].mean(axis=0)
    d = np.linalg.norm(points - centre, axis=1) / max(scale, 1e-6)
    near = smoothstep((config.outer - d) / max(config.outer - config.inner, 1e-6))
    return shifts * (1.0 - min(float(touch), 1.0) * near)[:, None]


def fade_opening(opening, touch: float):
    """A painted mouth opening (:class:`ganimate.engines.mouth.Opening`, or None) faded by
    ``touch``: a track may count a mouth that parts between the fingers as closed and fill it
    with drawn teeth; under a hand nothing is drawn (None at ``touch`` 1)."""
    if opening is None or touch <= 0:
        return opening
    if touch >= 1:
        return None
    opening.alpha = opening.alpha * np.float32(1.0 - touch)
    return opening
