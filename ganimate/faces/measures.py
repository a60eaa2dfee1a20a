"""A face's scale from its mediapipe landmarks: one function per distance, named for what it
measures (the eye centres' distance, the unit of the warp and the readers; the outer corners'),
and the landmarks those and the mouth's readers use (eye corners, lip outlines).
"""

from __future__ import annotations

import numpy as np

# mediapipe's eye corners. "Left"/"right" are the image's left and right, so for a frontal face
# RIGHT_EYE_OUTER (33) has the smaller x.
RIGHT_EYE_OUTER, RIGHT_EYE_INNER = 33, 133
LEFT_EYE_INNER, LEFT_EYE_OUTER = 362, 263
# mediapipe's inner lip outline: left corner, upper lip to the right corner, lower lip back.
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308,
              324, 318, 402, 317, 14, 87, 178, 88, 95)
# And its outer lip outline, the same way round.
OUTER_LIPS = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291,
              375, 321, 405, 314, 17, 84, 181, 91, 146)


def eye_centre_distance(landmarks: np.ndarray) -> float:
    """The inter-ocular distance (IOD): between the eye centres (each the middle of its inner
    and outer corner) of mediapipe landmarks, in their units (pixels)."""
    lm = np.asarray(landmarks, np.float64)
    right = lm[[RIGHT_EYE_OUTER, RIGHT_EYE_INNER], :2].mean(axis=0)
    left = lm[[LEFT_EYE_INNER, LEFT_EYE_OUTER], :2].mean(axis=0)
    return float(np.linalg.norm(right - left))


def eye_corner_distance(landmarks: np.ndarray) -> float:
    """The distance between the outer eye corners, in the landmarks' units and precision: a
    face's size, robust to pose."""
    return float(np.hypot(*(landmarks[RIGHT_EYE_OUTER, :2] - landmarks[LEFT_EYE_OUTER, :2])))
