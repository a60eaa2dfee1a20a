"""A face's scale from its mediapipe landmarks: one function per distance, named for what it
measures (the eye centres' distance, the unit of the warp and the readers; the outer corners').
"""

from __future__ import annotations

import numpy as np

# mediapipe's eye corners. "Left"/"right" are the image's left and right, so for a frontal face
# RIGHT_EYE_OUTER (33) has the smaller x.
RIGHT_EYE_OUTER, RIGHT_EYE_INNER = 33, 133
LEFT_EYE_INNER, LEFT_EYE_OUTER = 362, 263


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
