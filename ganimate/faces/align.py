"""Face alignment: a similarity transform from a face's landmarks to one canonical framing.

Every crop, whatever the size of the face in the frame, has the same framing. The template is
MediaPipe's canonical (neutral) face seen from the front, scaled so that its face outline, from the
top of the forehead (landmark 10) to the chin (152), spans 82% of the crop height, centred. In
fractions of the crop side N (x to the right, y down, pixel centres at integers, so a crop spans
-0.5 .. N - 0.5):

    top of forehead (10)       y = 0.090 N
    eye line (outer corners)   y = 0.350 N, x = 0.294 N and 0.706 N  (about 0.41 N apart)
    nose tip (1)               y = 0.526 N
    mouth corners (61, 291)    y = 0.675 N, x = 0.386 N and 0.614 N
    chin (152)                 y = 0.910 N
    face sides (234, 454)      x = 0.144 N and 0.856 N, y = 0.442 N

so the forehead and the chin, where expressions live, stay inside the crop. A canonical face
region for masks (``face_ellipse``) is the ellipse through those extremes.

The transform is fitted (weighted least squares, rotation + uniform scale + translation) on rigid
points only: eye corners, the nose bridge and tip, the glabella and the forehead. Mouth, brows and
jaw are left out so that an expression moves inside the crop instead of moving the crop, which
keeps video crops steady while someone smiles.

A crop transform ``to_frame`` is a 2x3 float64 matrix taking crop pixel coordinates (x, y) to
frame pixel coordinates; :func:`invert_transform` gives frame -> crop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from ganimate.faces.config import MAX_CROP
from ganimate.faces.mesh import Face

if TYPE_CHECKING:
    from ganimate.faces.mesh import Face

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn).


# The crop's face outline (forehead top to chin) as a fraction of its height.
FACE_HEIGHT_FRACTION = 0.82

# Rigid landmarks the similarity is fitted on, with weights: eye corners dominate (they fix the
# roll and the scale), the nose line and forehead keep the vertical placement.
_RIGID = {
    33: 2.0, 133: 2.0, 362: 2.0, 263: 2.0,  # eye corners
    168: 1.0, 6: 1.0, 197: 1.0, 195: 1.0, 5: 1.0, 4: 1.0, 1: 1.0,  # nose bridge to tip
    9: 1.0, 151: 1.0, 10: 0.5,  # glabella, forehead
}
RIGID_INDICES = np.array(list(_RIGID), dtype=np.int64)
_RIGID_WEIGHTS = np.array(list(_RIGID.values()), dtype=np.float64)


@lru_cache(maxsize=1)
def canonical_face() -> np.ndarray:
    """MediaPipe's canonical neutral face, (468, 3) in cm: x right, y up, z toward the camera."""
    path = resources.files("ganimate") / "assets" / "faces" / "mediapipe_canonical_face_468.txt"
    with resources.as_file(path) as p:
        return np.loadtxt(p, dtype=np.float64)


@lru_cache(maxsize=8)
def _template_unit() -> np.ndarray:
    """The canonical face in crop coordinates of a crop of side 1 (x right, y down), (468, 2)."""
    c = canonical_face()
    xy = np.stack([c[:, 0], -c[:, 1]], axis=1)
    top, chin = xy[10, 1], xy[152, 1]
    scale = FACE_HEIGHT_FRACTION / (chin - top)
    centre = np.array([0.0, (top + chin) / 2])
    return (xy - centre) * scale + 0.5


def canonical_landmarks(size: int) -> np.ndarray:
    """Where a neutral frontal face's 468 mesh points land in a ``size`` crop, (468, 2) pixels."""
    return _template_unit() * size - 0.5


def face_ellipse(size: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """((cx, cy), (half width, half height)) in crop pixels of the canonical face region."""
    t = canonical_landmarks(size)
    cx = (t[234, 0] + t[454, 0]) / 2
    cy = (t[10, 1] + t[152, 1]) / 2
    return (float(cx), float(cy)), (float(t[454, 0] - cx), float(t[152, 1] - cy))


@dataclass
class FaceCrop:
    """An aligned N x N face crop and the transform back to the frame it came from."""

    image: np.ndarray  # uint8 (size, size, 3) RGB
    to_frame: np.ndarray  # float64 2x3: crop pixel (x, y) -> frame pixel
    size: int
    landmarks: np.ndarray  # float32 (478, 3): the face's landmarks in crop pixels (z scaled too)
    # Share of the crop that lies inside the frame (1.0 unless the face is at the frame's edge).
    inside: float = 1.0

    @property
    def to_crop(self) -> np.ndarray:
        return invert_transform(self.to_frame)

    @property
    def scale(self) -> float:
        """Frame pixels per crop pixel."""
        return float(np.sqrt(abs(np.linalg.det(self.to_frame[:, :2]))))


def invert_transform(m: np.ndarray) -> np.ndarray:
    """Inverse of a 2x3 affine transform."""
    m = np.asarray(m, dtype=np.float64)
    full = np.vstack([m, [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def apply_transform(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine transform to (N, 2) points (extra columns are ignored)."""
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    return pts @ np.asarray(m, dtype=np.float64)[:, :2].T + np.asarray(m)[:, 2]


def similarity(src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted least-squares similarity (Umeyama, no reflection) taking 2-D src to dst, 2x3."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    w = np.ones(len(src)) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    ms, md = w @ src, w @ dst
    s0, d0 = src - ms, dst - md
    cov = (d0 * w[:, None]).T @ s0
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    r = u @ np.diag(d) @ vt
    var = (w * (s0**2).sum(axis=1)).sum()
    scale = (sig * d).sum() / var
    t = md - scale * r @ ms
    return np.hstack([scale * r, t[:, None]])


def crop_transform(face: Face, size: int) -> np.ndarray:
    """The ``to_frame`` transform (crop pixel -> frame pixel) of a face for a ``size`` crop."""
    template = canonical_landmarks(size)[RIGID_INDICES]
    observed = np.asarray(face.landmarks, dtype=np.float64)[RIGID_INDICES, :2]
    return similarity(template, observed, _RIGID_WEIGHTS)


def align_face(rgb: np.ndarray, face: Face, size: int = 128) -> FaceCrop:
    """Cut the aligned ``size`` x ``size`` crop of a face out of an RGB frame."""
    if size < 8:
        raise ValueError(f"crop size {size} is too small")
    return crop_with_transform(rgb, crop_transform(face, size), size, face.landmarks)


def _inside_fraction(to_frame: np.ndarray, size: int, width: int, height: int) -> float:
    g = (np.arange(8) + 0.5) * size / 8 - 0.5
    xs, ys = np.meshgrid(g, g)
    pts = apply_transform(to_frame, np.stack([xs.ravel(), ys.ravel()], axis=1))
    ok = (pts[:, 0] >= -0.5) & (pts[:, 0] <= width - 0.5) & (pts[:, 1] >= -0.5) & (
        pts[:, 1] <= height - 0.5)
    return float(ok.mean())


# --- crops through a given transform (animation: smoothed transforms) ---------------------------


def _cut(rgb: np.ndarray, to_crop: np.ndarray, scale: float, size: int) -> np.ndarray:
    """The crop's pixels: ``rgb`` through ``to_crop`` (frame pixel -> crop pixel)."""
    import cv2

    src = np.ascontiguousarray(rgb)
    m = to_crop
    if scale > 2.0:
        # warpAffine samples without an area filter: shrink the frame by an integer factor first
        # so that big faces do not alias into a small crop.
        k = int(scale / 1.5)
        h, w = rgb.shape[:2]
        src = cv2.resize(src, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
        fx, fy = src.shape[1] / w, src.shape[0] / h
        # frame -> shrunk frame, pixel centres at integers: x' = (x + 0.5) f - 0.5
        pre = np.array([[fx, 0, 0.5 * fx - 0.5], [0, fy, 0.5 * fy - 0.5]])
        m = (np.vstack([to_crop, [0, 0, 1]]) @ np.vstack([invert_transform(pre), [0, 0, 1]]))[:2]
    return cv2.warpAffine(src, m, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def crop_with_transform(rgb: np.ndarray, to_frame: np.ndarray, size: int,
                        landmarks: np.ndarray | None = None, pixels: bool = True) -> FaceCrop:
    """Cut the ``size`` crop that ``to_frame`` (crop pixel -> frame pixel) describes.

    :func:`align_face` fits the transform to one frame's landmarks; video smooths the transforms
    over time first (so crops do not jitter) and cuts through the smoothed transform with this.
    The frame ``landmarks`` (478, 3), if given, are mapped
    into the crop (z scaled); without them the crop has no landmarks (an empty (0, 3) array).
    ``pixels=False`` skips cutting the image (an empty (0, 0, 3) array): for an engine that
    only reads the landmarks and the transform (the warp).
    """
    if size < 8:
        raise ValueError(f"crop size {size} is too small")
    to_frame = np.asarray(to_frame, dtype=np.float64)
    to_crop = invert_transform(to_frame)
    scale = np.sqrt(abs(np.linalg.det(to_frame[:, :2])))
    image = _cut(rgb, to_crop, scale, size) if pixels else np.zeros((0, 0, 3), np.uint8)
    if landmarks is None:
        crop_lm = np.zeros((0, 3), np.float32)
    else:
        lm = np.asarray(landmarks, dtype=np.float64)
        crop_lm = np.empty_like(lm)
        crop_lm[:, :2] = apply_transform(to_crop, lm)
        crop_lm[:, 2] = lm[:, 2] / scale
    return FaceCrop(image, to_frame, size, crop_lm.astype(np.float32),
                    _inside_fraction(to_frame, size, rgb.shape[1], rgb.shape[0]))


# =============================================================================================
# The crops of a frame's faces, one size for all
# =============================================================================================


def crop_size_for(faces: Sequence[Face], model_size: int, max_crop: int = MAX_CROP) -> int:
    """One crop side for all ``faces`` of a frame: the largest face's own resolution, rounded up
    to a multiple of 8, within [model_size, max(model_size, max_crop)]."""
    if not faces:
        return model_size
    # frame pixels per crop pixel of a model-size crop = how much larger the face is in the frame
    scale = max(np.sqrt(abs(np.linalg.det(crop_transform(f, model_size)[:, :2]))) for f in faces)
    natural = int(np.ceil(model_size * scale / 8) * 8)
    return int(min(max(model_size, natural), max(model_size, max_crop)))


def crop_faces(rgb: np.ndarray, faces: Sequence[Face], model_size: int,
               max_crop: int = MAX_CROP, size: int | None = None) -> list[FaceCrop]:
    """Aligned crops of ``faces`` (same order), all of one size so they edit in one batch.

    ``size`` forces the crop side (animation keeps it fixed over a clip); by default
    :func:`crop_size_for` picks it from the largest face.
    """
    if size is None:
        size = crop_size_for(faces, model_size, max_crop)
    return [align_face(rgb, f, size) for f in faces]
