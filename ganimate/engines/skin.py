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
from functools import lru_cache
from importlib import resources

import numpy as np

from ganimate.faces import canonical_face

# Imported in the functions that use them, on purpose (start-up): cv2, scipy.

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


@lru_cache(maxsize=1)
def mapping_points(count: int = 160) -> np.ndarray:
    """The mesh points that map the texture onto a frame: the face's outline and, from there,
    each next point the one farthest from those chosen (spread evenly over the face). The texture
    coordinate of 99% of the face's pixels is then within 3.4 texels (1.3% of the face) of all
    468 points' map, median 0.2, at 1 ms a face instead of 3.1 (Delaunay and its barycentric
    transforms grow with the points)."""
    from scipy.spatial import ConvexHull

    uv = canonical_uv()
    chosen = list(ConvexHull(uv).vertices)
    dist = np.min(np.linalg.norm(uv[:, None] - uv[chosen][None], axis=2), axis=1)
    while len(chosen) < count:
        i = int(np.argmax(dist))
        chosen.append(i)
        dist = np.minimum(dist, np.linalg.norm(uv - uv[i], axis=1))
    return np.array(sorted(chosen))


@lru_cache(maxsize=1)
def uv_triangulation():
    """scipy's Delaunay triangulation of :func:`canonical_uv` (the unwrapping's triangles)."""
    from scipy.spatial import Delaunay

    return Delaunay(canonical_uv())


@lru_cache(maxsize=1)
def smile_ratio() -> np.ndarray:
    """The median smile's log lightness ratio, float32 (RATIO_SIZE, RATIO_SIZE); 0 off skin."""
    path = resources.files("ganimate") / "assets" / "faces" / "smile_ratio.npz"
    with resources.as_file(path) as p, np.load(p, allow_pickle=False) as data:
        return data["log_ratio"].astype(np.float32)


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

    The texture coordinate of every pixel is the piecewise-linear map of the points (exact on a
    grid ``step`` px apart, bilinear between: the map is linear inside each triangle), and the
    ratio is read there at full resolution, so that a crow's foot stays a line."""
    import cv2
    from scipy.interpolate import LinearNDInterpolator
    from scipy.spatial import Delaunay

    if abs(weight) < 1e-3:
        return None
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    points = np.asarray(dest, np.float64)[mapping_points(), :2] - (x0, y0)
    # read at the texture's own resolution at most (a face wider than it gains nothing from more)
    f = min(1.0, RATIO_SIZE / max(float(np.ptp(points[:, 0])), 1.0))
    sw, sh = max(2, round(w * f)), max(2, round(h * f))
    gx = np.linspace(0, w - 1, max(2, int(np.ceil(w / step)) + 1))
    gy = np.linspace(0, h - 1, max(2, int(np.ceil(h / step)) + 1))
    uv = LinearNDInterpolator(Delaunay(points), canonical_uv()[mapping_points()])(
        *np.meshgrid(gx, gy)).astype(np.float32)
    # outside the mesh: no skin (and no texture coordinate to interpolate toward)
    on_mesh = cv2.resize(np.isfinite(uv[..., 0]).astype(np.float32), (sw, sh),
                         interpolation=cv2.INTER_LINEAR) >= 1.0
    uv = cv2.resize(np.nan_to_num(uv, nan=-1.0), (sw, sh), interpolation=cv2.INTER_LINEAR)
    log_ratio = cv2.remap(smile_ratio(), uv, None, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0.0) * on_mesh
    if (sw, sh) != (w, h):
        log_ratio = cv2.resize(log_ratio, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.exp(np.float32(weight) * log_ratio).astype(np.float32)
