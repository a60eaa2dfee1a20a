"""A face's own lip parting read from its landmarks, on the warp's own scale: the share of y_r's
lip and jaw AUs (AU25, AU26) that the warp's basis needs to part the lips as far as they are.

The AU estimator reads a mouth's opening its own way, and the warp moves the lips by the
difference ``condition - y_r`` through the scanned basis: where the two disagree, the edit's lips
follow the person's partly. On ``single_face.mp4`` the estimator's AU25 and AU26, put through the
basis, part his lips up to 40% further than his landmarks are apart while his mouth opens (0.116
IOD for lips 0.084 apart), and they are smoothed over another window than the landmarks: a smile
held over the clip closed to 0.056 IOD on the frame his own mouth opened, then opened again.
Read through the basis instead, ``y_r`` parts the lips exactly as far as the landmarks show, so
the edit's lips are as far apart as the condition asks, from any start.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ganimate.engines.geometry import mesh_displacement
from ganimate.engines.mouth import INNER_LIPS, MouthMemory, gap_of
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import eye_centre_distance

# The AUs that part the lips, in the order a missing opening is given to them.
PARTING_AUS = ("AU25", "AU26")


def parting_per_au(landmarks: np.ndarray, au_names: Sequence[str],
                   config: WarpConfig = WarpConfig()) -> np.ndarray:
    """For each of :data:`PARTING_AUS`, how far (IOD) the warp's basis parts this face's inner
    lips when the AU goes from 0 to 1 (this face's pose and size)."""
    lm = np.asarray(landmarks, np.float64)
    scale = max(eye_centre_distance(lm), 1e-6)
    before = gap_of(lm[list(INNER_LIPS), :2])
    zero = np.zeros(len(au_names))
    out = []
    for name in PARTING_AUS:
        one = zero.copy()
        one[list(au_names).index(name)] = 1.0
        moved = lm[:468, :2] + mesh_displacement(lm, zero, one, au_names, config)
        out.append((gap_of(moved[list(INNER_LIPS)]) - before) / scale)
    return np.array(out)


def lips_from_landmarks(y_r: np.ndarray, landmarks: np.ndarray, au_names: Sequence[str],
                        config: WarpConfig = WarpConfig(), gap: float | None = None
                        ) -> np.ndarray:
    """``y_r`` with its lip-parting AUs set so that the basis parts the lips as far as the
    landmarks show: y_r's own proportions of AU25 and AU26 scaled to the gap, each at most 1;
    what is left (a parted mouth read as closed, or a part at 1) goes to AU25, then AU26; lips
    that meet (or press) read 0. ``gap``: the lips' gap (IOD) if not the landmarks' own."""
    if not all(name in au_names for name in PARTING_AUS):
        return y_r
    lm = np.asarray(landmarks, np.float64)
    if gap is None:
        gap = gap_of(lm[list(INNER_LIPS), :2]) / max(eye_centre_distance(lm), 1e-6)
    gap = max(gap, 0.0)
    index = [list(au_names).index(name) for name in PARTING_AUS]
    per = np.maximum(parting_per_au(lm, au_names, config), 1e-6)
    own = np.asarray(y_r, np.float64)[index]
    out = np.array(y_r, dtype=np.float32, copy=True)
    parts = np.zeros(len(index))
    if float(per @ own) > 1e-3:  # y_r's proportions, scaled to the gap
        parts = np.minimum(own * (gap / float(per @ own)), 1.0)
    for k in range(len(index)):  # what a part at 1 could not take: AU25 first, then AU26
        rest = gap - float(per @ parts)
        if rest <= 1e-9:
            break
        parts[k] = min(parts[k] + rest / per[k], 1.0)
    out[index] = np.clip(parts, 0.0, 1.0)
    return out


def tracked_lips(y_r: np.ndarray, landmarks: np.ndarray, memory: MouthMemory | None,
                 au_names: Sequence[str], config: WarpConfig) -> np.ndarray:
    """A video face's y_r with its lip parting read from its track's gap (the mouth track holds
    it while a hand covers the lips), with :attr:`WarpConfig.lips_from_landmarks`; a photo's
    (no track) from its own landmarks where its mouth is open
    (:attr:`WarpConfig.open_lips_from_landmarks`), else as the estimator read it. The planner
    asks before it builds the frame's condition (``Engine.own_aus``), so AUs a target leaves
    alone (``-e sad``: the lips) or changes by an amount (``AU26+0.2``) start from this reading
    too: the lips then stay as they are, or move by that amount."""
    if memory is None and config.open_lips_from_landmarks:
        lm = np.asarray(landmarks, np.float64)
        gap = gap_of(lm[list(INNER_LIPS), :2]) / max(eye_centre_distance(lm), 1e-6)
        if gap >= config.mouth.open_at:  # an open photo mouth (``open_lips_from_landmarks``)
            return lips_from_landmarks(y_r, lm, au_names, config, gap)
    if memory is None or memory.gap is None or not config.lips_from_landmarks:
        return y_r
    return lips_from_landmarks(y_r, landmarks, au_names, config, memory.gap)
