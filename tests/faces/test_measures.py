"""The face's scale measures: each distance named for what it measures."""

import numpy as np
import pytest

from ganimate.faces import eye_centre_distance, eye_corner_distance
from ganimate.faces.measures import (
    LEFT_EYE_INNER,
    LEFT_EYE_OUTER,
    RIGHT_EYE_INNER,
    RIGHT_EYE_OUTER,
)


def eyes(right_outer, right_inner, left_inner, left_outer) -> np.ndarray:
    lm = np.zeros((478, 3), np.float32)
    for index, xy in ((RIGHT_EYE_OUTER, right_outer), (RIGHT_EYE_INNER, right_inner),
                      (LEFT_EYE_INNER, left_inner), (LEFT_EYE_OUTER, left_outer)):
        lm[index, :2] = xy
    return lm


def test_eye_centre_distance_is_between_the_middles_of_each_eye():
    lm = eyes((100, 50), (130, 50), (170, 50), (200, 50))
    assert eye_centre_distance(lm) == pytest.approx(70.0)  # 115 -> 185


def test_eye_corner_distance_is_between_the_outer_corners():
    lm = eyes((100, 50), (130, 50), (170, 50), (200, 50))
    assert eye_corner_distance(lm) == pytest.approx(100.0)
    lm = eyes((100, 50), (130, 60), (170, 60), (160, 130))  # tilted: the hypotenuse
    assert eye_corner_distance(lm) == pytest.approx(100.0)
