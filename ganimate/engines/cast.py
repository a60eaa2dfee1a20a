"""The picture's colour cast, read on the whites of the eyes: what drawn teeth take on a warm
painting or under a cold light (:attr:`ganimate.engines.teeth.TeethConfig.cast`)."""

from __future__ import annotations

import numpy as np

from ganimate.engines.masks import smoothstep

# The eyes' outlines (MediaPipe, each from its outer corner round) and their irises (centre,
# then four points on the rim): the whites of the eyes are the photo's neutral reference.
_EYES = ((33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),
         (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249))
_IRISES = (468, 473)
# The whites' CIELAB a*, b* in the 204 London photos (studio light): median 5.1, 3.2 (as this
# module reads them); every one of the 204 lies within 8.2 (a*) and 9.1 (b*) of it, the bundled
# clips' frames within 12, so an offset under 12 counts as ordinary light, one of 20 or more as
# a cast (a warm cast, R x1.12 and B x0.78, puts the whites 18-23 b* off; a cold one, R x0.88
# and B x1.15, 10-17).
_WHITES_AB = np.array([5.1, 3.2])
_NEUTRAL, _CAST = 12.0, 20.0
# Fewer white pixels than this (both eyes) read nothing: a squint's few whites are mostly lash
# and shadow (single_face.mp4's smile read a* +4 on two frames from them).
_MIN_WHITES = 40


def colour_cast(frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The photo's colour cast (CIELAB a*, b*) read on the whites of the eyes: their median
    chroma (:func:`whites`) less the London photos', 0 within 12 (ordinary light: every London
    photo and bundled clip; also when the eyes are narrowed, shut or their points missing), all
    of it from 20, smoothly between. A warm painting's whites are yellow, a cold one's blue;
    drawn teeth take the same cast (:attr:`TeethConfig.cast`)."""
    return cast_of(whites(frame, landmarks))


def cast_of(seen: np.ndarray | None) -> np.ndarray:
    """:func:`colour_cast` from the whites already read (:func:`whites`; None: no reading)."""
    if seen is None:
        return np.zeros(2)
    off = np.median(seen, axis=0)[1:] - _WHITES_AB
    # none within ordinary light's range, all of it from twice that, smoothly between
    return off * smoothstep((np.abs(off) - _NEUTRAL) / (_CAST - _NEUTRAL))


def whites(frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    """The whites of the eyes (CIELAB, L 0-100; (N, 3)): the brightest third of each eye's
    pixels outside the iris; None when there are too few (eyes narrowed or shut, points
    missing)."""
    import cv2

    lm = np.asarray(landmarks, np.float64)
    if len(lm) <= max(_IRISES) + 4:
        return None
    found = []
    for eye, iris in zip(_EYES, _IRISES, strict=True):
        pts = lm[list(eye), :2]
        lo = np.floor(pts.min(axis=0)).astype(int)
        hi = np.ceil(pts.max(axis=0)).astype(int) + 1
        patch = np.asarray(frame[max(lo[1], 0):hi[1], max(lo[0], 0):hi[0], :3])
        if patch.size == 0 or patch.shape[:2] != (hi[1] - lo[1], hi[0] - lo[0]):
            continue
        mask = np.zeros(patch.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(pts - lo).astype(np.int32)], 1)
        radius = 0.55 * np.linalg.norm(lm[iris + 1, :2] - lm[iris + 3, :2])
        centre = np.round(lm[iris, :2] - lo).astype(int)
        cv2.circle(mask, (int(centre[0]), int(centre[1])), int(np.ceil(radius)), 0, -1)
        lab = cv2.cvtColor(np.ascontiguousarray(patch).astype(np.float32) / 255,
                           cv2.COLOR_RGB2LAB)[mask == 1]
        if len(lab) >= 10:
            found.append(lab[lab[:, 0] >= np.percentile(lab[:, 0], 67)])
    if sum(len(w) for w in found) < _MIN_WHITES:
        return None
    return np.concatenate(found)
