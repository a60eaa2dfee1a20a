"""Build ``ganimate/assets/faces/smile_ratio.npz``: how skin shading changes when a person smiles,
measured on real faces (an expression ratio image, Liu, Shan & Zhang, SIGGRAPH 2001).

For every person of the Face Research Lab London Set (``tests/data/faces/london``, CC BY 4.0)
outside the demo models' holdout (``examples/demo_model/holdout.txt``: the people the evaluation
reads), the neutral and the smiling photo are each unwrapped into the same texture space: MediaPipe
Face Mesh's 468 points of the photo mapped onto the canonical face's frontal (x, y), piecewise
linearly (a Delaunay triangulation of the canonical points). Pixel for pixel the texture then
holds the same point of skin in both photos, so ``log(smiling / neutral)`` (grey, lightly blurred)
is how that skin's shading changes with the smile, and the skin's own colour and texture cancel.
Each person's ratio is centred (its median over the face set to 0: the two photos' exposure), and
the median over the people is kept: crow's feet and the lower lids' bulge, the nasolabial folds,
the cheeks' lit apples, as real smiles shade them, with no one person's skin in it.

Inside the inner lips (teeth) and the eyes (the iris moves) the ratio is not skin: it is set to 0
there, feathered, and faded out toward the face's outline, where the unwrapping reads background.

    python examples/face_models/build_smile_ratio.py            # writes the asset
    python examples/face_models/build_smile_ratio.py --show x.png   # and a picture of it
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from calibrate_scanned_scale import holdout as holdout_ids  # this folder: one reading of it
from scipy.spatial import ConvexHull, Delaunay

from ganimate.engines.mouth import INNER_LIPS
from ganimate.engines.skin import EYES, RATIO_SIZE, canonical_uv
from ganimate.faces import FaceMesh
from ganimate.images import read_photo

ROOT = Path(__file__).resolve().parents[2]
LONDON = ROOT / "tests" / "data" / "faces" / "london"
OUT = ROOT / "ganimate" / "assets" / "faces" / "smile_ratio.npz"


def mapping_points(count: int = 160) -> np.ndarray:
    """The mesh points that lay the texture on a frame at edit time: the face's outline and,
    from there, each next point the one farthest from those chosen (spread evenly over the
    face). Measured on a London face against all 468 points' piecewise-linear map: the texture
    coordinate of 99% of the face's pixels within 3.4 texels (1.3% of the face), median 0.2."""
    uv = canonical_uv()
    chosen = list(ConvexHull(uv).vertices)
    dist = np.min(np.linalg.norm(uv[:, None] - uv[chosen][None], axis=2), axis=1)
    while len(chosen) < count:
        i = int(np.argmax(dist))
        chosen.append(i)
        dist = np.minimum(dist, np.linalg.norm(uv - uv[i], axis=1))
    return np.array(sorted(chosen))


def unwrap_maps() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every texture pixel: its triangle's three point indices (S*S, 3), its barycentric
    weights (S*S, 3) and whether it is on the face (S, S)."""
    tri = Delaunay(canonical_uv())
    s = RATIO_SIZE
    ys, xs = np.mgrid[0:s, 0:s]
    pts = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float64)
    simplex = tri.find_simplex(pts)
    t = tri.transform[simplex]
    b = np.einsum("nij,nj->ni", t[:, :2, :], pts - t[:, 2, :])
    return tri.simplices[simplex], np.c_[b, 1 - b.sum(axis=1)], (simplex >= 0).reshape(s, s)


def unwrap(rgb: np.ndarray, landmarks: np.ndarray, maps) -> np.ndarray:
    """The photo's face in texture space (float32 grey, S x S)."""
    verts, bary, on_face = maps
    src = (np.asarray(landmarks, np.float64)[:468, :2][verts] * bary[..., None]).sum(axis=1)
    s = RATIO_SIZE
    mx = src[:, 0].reshape(s, s).astype(np.float32)
    my = src[:, 1].reshape(s, s).astype(np.float32)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return cv2.remap(grey, mx, my, cv2.INTER_LINEAR)


def not_skin(uv: np.ndarray, on_face: np.ndarray) -> np.ndarray:
    """1 on skin, 0 inside the inner lips and the eyes and off the face, feathered."""
    s = RATIO_SIZE
    keep = on_face.astype(np.uint8)
    for ring in (INNER_LIPS, *EYES):
        cv2.fillPoly(keep, [np.round(uv[list(ring)]).astype(np.int32)], 0)
    keep = cv2.erode(keep, np.ones((3, 3), np.uint8), iterations=int(0.02 * s))
    inside = cv2.distanceTransform(keep, cv2.DIST_L2, 5)
    return np.clip(inside / (0.08 * s), 0.0, 1.0).astype(np.float32)


def build(show: str | None = None) -> Path:
    holdout = holdout_ids()
    maps = unwrap_maps()
    on_face = maps[2]
    ratios = []
    with FaceMesh() as mesh:
        for neutral in sorted((LONDON / "neutral").glob("*.jpg")):
            if neutral.stem in holdout:
                continue
            pair = [read_photo(p).rgb for p in (neutral, LONDON / "smiling" / neutral.name)]
            faces = [mesh(rgb) for rgb in pair]
            if not all(faces):
                continue
            a, b = (cv2.GaussianBlur(unwrap(rgb, f[0].landmarks, maps), (0, 0), 1.0)
                    for rgb, f in zip(pair, faces, strict=True))
            log_ratio = np.log((b + 1) / (a + 1))
            ratios.append(log_ratio - np.median(log_ratio[on_face]))
    median = np.zeros(on_face.shape, np.float64)
    median[on_face] = np.median(np.stack(ratios)[:, on_face], axis=0)
    median *= not_skin(canonical_uv(), on_face)
    median = cv2.GaussianBlur(median.astype(np.float32), (0, 0), 1.0)
    points = mapping_points()
    triangles = Delaunay(canonical_uv()[points]).simplices
    np.savez_compressed(OUT, log_ratio=median.astype(np.float16), people=np.int32(len(ratios)),
                        points=points.astype(np.int32), triangles=triangles.astype(np.int32),
                        uv=canonical_uv()[points].astype(np.float32))
    if show:
        cv2.imwrite(show, np.clip(128 + median * 400, 0, 255).astype(np.uint8))
    return OUT


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", help="also write a picture of the ratio (grey 128 = no change)")
    print(build(parser.parse_args().show))
