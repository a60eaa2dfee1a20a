"""A face's own brow and upper-lid raise read from its landmarks, on the warp's own scale, where
the face shows surprise's other sign (a dropped jaw).

The AU estimator hardly sees the scanned basis' raisers: the basis' AU01, AU02 and AU05 at 1
move its readings by 0.08, 0.09 and 0.02 (``assets/faces/scanned_au_scale.json``, "response"),
and its calibration maps the surprised London faces' brows to 0. A preset that does not want
them raised (``happy``: AU01, AU02, AU05 at 0) then leaves them where they are: ``happy`` on 26
held-out people first edited ``-e surprise`` kept the surprised brows and wide eyes, and 14 of
26 read neutral or surprise instead of happy.

Read through the basis instead: how far the brows and upper lids stand above the eye line (the
geometric estimator's frontalised distances) beyond the mean of 102 neutral London faces,
divided by how far the basis' AU01, AU02 and AU05 move them on this face. A high brow is not
always a raised one: neutral faces reach 0.78 of the geometric AU01 with brows that are simply
high. So the reading counts only as far as the face shows the jaw drop that comes with surprise
(FACS 1+2+5+26): 0 on a closed or smiling mouth (no London neutral face, and one smiling face
by 0.002, reaches the gate), all of it on a gaping one, and it only adds to the estimator's
own reading.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ganimate.engines.geometry import mesh_displacement
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces.au_model import box_lstsq, geometric_features, neutral_feature

# The raisers read here (each on its geometric feature: inner brow, outer brow, upper lid).
RAISER_AUS = ("AU01", "AU02", "AU05")
_JAW = "AU26"


def raise_per_au(landmarks: np.ndarray, au_names: Sequence[str],
                 config: WarpConfig = WarpConfig()) -> np.ndarray:
    """(3, 3): row k is how far the basis moves this face's features (inner brow, outer brow,
    upper lid) when :data:`RAISER_AUS`[k] goes from 0 to 1."""
    lm = np.asarray(landmarks, np.float64)
    before = _features(lm)
    zero = np.zeros(len(au_names))
    rows = []
    for name in RAISER_AUS:
        one = zero.copy()
        one[list(au_names).index(name)] = 1.0
        moved = lm.copy()
        moved[:468, :2] += mesh_displacement(lm, zero, one, au_names, config)
        rows.append(_features(moved) - before)
    return np.array(rows)


def _features(landmarks: np.ndarray) -> np.ndarray:
    f = geometric_features(landmarks)
    return np.array([f[neutral_feature(name)[0]] for name in RAISER_AUS])


def own_raise(landmarks: np.ndarray, au_names: Sequence[str],
              config: WarpConfig = WarpConfig()) -> np.ndarray:
    """AU01, AU02, AU05 (each in [0, 1]) that raise a neutral face's brows and lids as far as
    this face's stand above the neutral mean: non-negative least squares on
    :func:`raise_per_au` (each AU moves mostly its own feature: a well-posed 3 x 3 system)."""
    lm = np.asarray(landmarks, np.float64)
    excess = _features(lm) - np.array([neutral_feature(n)[1] for n in RAISER_AUS])
    none = np.zeros(len(RAISER_AUS))
    if not np.any(excess > 0):
        return none
    q, r = np.linalg.qr(raise_per_au(lm, au_names, config).T)
    diagonal = np.abs(np.diag(r))
    if not np.all(np.isfinite(r)) or diagonal.min() < 1e-6 * max(diagonal.max(), 1e-12):
        return none
    # non-negative, then each at most 1 (bounded at 1 inside the solve, a clipped AU01 pushed
    # its excess into AU02 and AU05: happy from surprised read 14 of 26 instead of 16)
    values = box_lstsq(r, q.T @ np.maximum(excess, 0.0), none, np.full(len(RAISER_AUS), np.inf))
    return np.clip(values, 0.0, 1.0)


def raisers_from_landmarks(y_r: np.ndarray, landmarks: np.ndarray, au_names: Sequence[str],
                           config: WarpConfig = WarpConfig()) -> np.ndarray:
    """``y_r`` with its raisers at least :func:`own_raise`'s, in the share the face's jaw drop
    (y_r's AU26 between ``config.raisers_jaw`` and 1) vouches for them."""
    names = list(au_names)
    if not config.raisers_from_landmarks or not all(n in names for n in (*RAISER_AUS, _JAW)):
        return y_r
    low = config.raisers_jaw
    share = float(np.clip((y_r[names.index(_JAW)] - low) / max(1.0 - low, 1e-6), 0.0, 1.0))
    if share <= 0.0:
        return y_r
    read = own_raise(landmarks, au_names, config) * share
    out = np.array(y_r, np.float32, copy=True)
    for name, value in zip(RAISER_AUS, read, strict=True):
        i = names.index(name)
        out[i] = max(out[i], np.float32(value))
    return out
