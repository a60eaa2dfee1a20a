"""The skin of a smile: how real faces' shading changes when they smile, laid on the warped face.

A warp moves a face's own pixels; it cannot make the skin a smile makes: the lower lids' bulge and
the crow's feet beside the eyes, the nasolabial folds that deepen, the cheeks' apples that catch
the light. ``assets/faces/smile_ratio.npz`` holds that change as real faces show it: an
*expression ratio image* (Liu, Shan & Zhang, SIGGRAPH 2001), the median over 76 people of the
Face Research Lab London Set (CC BY 4.0; none of the evaluation's holdout) of ``log(smiling /
neutral)`` in a texture space where a pixel is the same point of skin in every face
(``examples/face_models/build_smile_ratio.py``). A person's own skin colour and texture cancel in
the ratio; what is left is shading: at most about 10% lighter or darker.

Here the ratio is mapped through the face's *moved* landmarks (the smile's geometry) onto the
frame, scaled by how much the edit smiles (:func:`smile_weight`: 1 at the ``happy`` preset's
AU06 and AU12) and multiplied into the warp's
lightness (:attr:`ganimate.engines.geometry.Field.shade`), so that it moves with the skin frame
after frame. Only lightness changes (RGB scaled together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ganimate.faces import canonical_face

# Imported in the functions that use them, on purpose (start-up): cv2. No scipy: its
# interpolate and spatial packages take 0.5 s to import, more than a clip's first frame may wait.

RATIO_SIZE = 256  # the texture's side (px): the canonical face's frontal bounding box
# MediaPipe's eye outlines (right eye, left eye), where the ratio is not skin.
EYES = ((33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
        (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466))
# The edit's AU changes at which the ratio applies in full: the happy preset's AU06 and AU12
# from a neutral face (a smile whose dlib corner rise is 1.2x the London people's own smiles,
# whose median shading the ratio is).
SMILE_AUS = {"AU06": 0.4, "AU12": 0.8}


@lru_cache(maxsize=1)
def canonical_uv() -> np.ndarray:
    """(468, 2) float64: the canonical face's points in texture pixels (x right, y down)."""
    c = canonical_face()
    xy = np.stack([c[:, 0], -c[:, 1]], axis=1)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return (xy - lo) / float((hi - lo).max()) * (RATIO_SIZE - 1)


@dataclass(frozen=True)
class SmileRatio:
    """The shipped ratio and how it is laid on a face."""

    log_ratio: np.ndarray  # float32 (RATIO_SIZE, RATIO_SIZE): log lightness ratio, 0 off skin
    # The mesh points that map it onto a frame (160 of the 468, spread evenly over the face: the
    # texture coordinate of 99% of the face's pixels within 1.3% of the face of all 468 points'
    # map), their texture coordinates (px) and their triangles (rows of indices into them).
    points: np.ndarray
    uv: np.ndarray
    triangles: np.ndarray


@lru_cache(maxsize=1)
def smile_ratio() -> SmileRatio:
    """The median smile's shading, as ``examples/face_models/build_smile_ratio.py`` wrote it."""
    path = resources.files("ganimate") / "assets" / "faces" / "smile_ratio.npz"
    with resources.as_file(path) as p, np.load(p, allow_pickle=False) as data:
        return SmileRatio(data["log_ratio"].astype(np.float32), data["points"].astype(np.int64),
                          data["uv"].astype(np.float32), data["triangles"].astype(np.int32))


def smile_weight(y_r: np.ndarray, y_g: np.ndarray, au_names: Sequence[str]) -> float:
    """How much of the real smile's shading an edit from ``y_r`` to ``y_g`` makes: the mean of
    its AU06 and AU12 changes, each over :data:`SMILE_AUS` (1 for ``-e happy`` on a neutral face),
    within [0, 1.5]. An edit that takes a smile away gets none: the ratio's inverse would lighten
    the folds of a smile as it fades, but it was not measured to help (`-e surprise` on a clip of
    a man smiling: 8% more flicker added, and a sad or fearful photo read so a little less)."""
    names = list(au_names)
    parts = [(float(y_g[names.index(n)]) - float(y_r[names.index(n)])) / full
             for n, full in SMILE_AUS.items() if n in names]
    return float(np.clip(np.mean(parts), 0.0, 1.5)) if parts else 0.0


def smile_shade(dest: np.ndarray, box: tuple[int, int, int, int], step: float, weight: float
                ) -> np.ndarray | None:
    """Lightness factor (float32, the box's shape) of the smile's skin at ``weight``, for a face
    whose 468 mesh points are at ``dest`` (frame pixels, after the warp); None at weight 0.

    The texture coordinate of every pixel is the piecewise-linear map of the points' triangles
    (exact on a grid ``step`` px apart, bilinear between: the map is linear inside each
    triangle), and the ratio is read there, at the texture's own resolution at most, so that a
    crow's foot stays a line."""
    import cv2

    if abs(weight) < 1e-3:
        return None
    ratio = smile_ratio()
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    points = np.asarray(dest, np.float64)[ratio.points, :2] - (x0, y0)
    gw, gh = max(2, int(np.ceil(w / step)) + 1), max(2, int(np.ceil(h / step)) + 1)
    grid = points * ((gw - 1) / max(w - 1, 1), (gh - 1) / max(h - 1, 1))
    uv, on_mesh = _map_grid(grid, ratio, (gh, gw))
    f = min(1.0, RATIO_SIZE / max(float(np.ptp(points[:, 0])), 1.0))
    sw, sh = max(2, round(w * f)), max(2, round(h * f))
    on_mesh = cv2.resize(on_mesh.astype(np.float32), (sw, sh), interpolation=cv2.INTER_LINEAR)
    uv = cv2.resize(uv, (sw, sh), interpolation=cv2.INTER_LINEAR)
    log_ratio = cv2.remap(ratio.log_ratio, uv, None, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0.0) * (on_mesh >= 1.0)
    if (sw, sh) != (w, h):
        log_ratio = cv2.resize(log_ratio, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.exp(np.float32(weight) * log_ratio).astype(np.float32)


def _map_grid(grid: np.ndarray, ratio: SmileRatio, shape: tuple[int, int]
              ) -> tuple[np.ndarray, np.ndarray]:
    """Texture coordinates (float32 (gh, gw, 2); -1 off the mesh) of the nodes of a grid on
    which the mapping points lie at ``grid`` (node units), and whether each node is on it: each
    triangle rasterised with its number, then the node's barycentric weights in it."""
    import cv2

    corners = grid[ratio.triangles]  # (T, 3, 2)
    which = np.full(shape, -1, np.int32)
    fixed = np.round(corners * 16).astype(np.int32)
    for t, poly in enumerate(fixed):
        cv2.fillConvexPoly(which, poly, t, cv2.LINE_8, 4)
    uv = np.full((*shape, 2), -1.0, np.float32)
    on = which >= 0
    t = which[on]
    ys, xs = np.nonzero(on)
    a, b, c = corners[t, 0], corners[t, 1], corners[t, 2]
    v0, v1, v2 = b - a, c - a, np.stack([xs, ys], axis=1) - a
    det = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]
    det = np.where(np.abs(det) < 1e-9, 1e-9, det)
    wb = (v2[:, 0] * v1[:, 1] - v2[:, 1] * v1[:, 0]) / det
    wc = (v0[:, 0] * v2[:, 1] - v0[:, 1] * v2[:, 0]) / det
    tri_uv = ratio.uv[ratio.triangles[t]]  # (n, 3, 2)
    uv[on] = (1 - wb - wc)[:, None] * tri_uv[:, 0] + wb[:, None] * tri_uv[:, 1] \
        + wc[:, None] * tri_uv[:, 2]
    return uv, on
