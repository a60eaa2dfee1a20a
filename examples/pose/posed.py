"""Synthetic head poses from a frontal photo: turn (yaw) or pitch the face by a few tens of degrees.

The face's 478 mediapipe landmarks (x, y in pixels, z in about the same units, away from the
camera) are rotated in 3-D about the face's centroid (a rotation about the head's centre followed
by the translation that keeps the face where it was: the same pose), projected orthographically,
and the photo is warped with ganimate's own backward thin-plate field so that each landmark moves
from its 2-D position to its rotated one. The field is 1 over the face and tapers to 0 over
``outer`` IOD outside it, so hair and background stay (a 2.5-D approximation: no occlusion, no
re-shading, the face's far side is compressed rather than hidden).

Angles in degrees, ganimate's convention (``ganimate.faces.head_pose``): pitch > 0 = the face looks
down (nose moves down in the image), yaw > 0 = the face turns toward the image's right (+x).

    .venv/bin/python examples/pose/posed.py tests/data/faces/london/neutral/001.jpg \
        --pitch 25 -o /tmp/pose/001_p25.png
    .venv/bin/python examples/pose/posed.py tests/data/faces/london/neutral/001.jpg \
        --sheet /tmp/pose/sheet_001.png      # contact sheet of the measured poses
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from ganimate.engines.geometry import displacement_field
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import eye_centre_distance, head_pose

# Posing warp: wider taper (hair and neck follow a little), no fold shading, no dead zone.
POSE_WARP = dataclasses.replace(WarpConfig(), folds=0.0, deadzone=0.0, inner=0.1, outer=0.9,
                                grid=0.04)


def rotation(pitch: float, yaw: float) -> np.ndarray:
    """3x3 rotation in image coordinates (x right, y down, z away from the camera): pitch about
    x (positive: nose down), then yaw about y (positive: nose toward +x)."""
    p, y = math.radians(pitch), math.radians(yaw)
    # pitch: a point in front of the centre (z < 0) moves down (y up in value) for p > 0
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    # yaw: a point in front (z < 0) moves to +x for y > 0
    ry = np.array([[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]])
    return ry @ rx


def posed_landmarks(landmarks: np.ndarray, pitch: float, yaw: float) -> np.ndarray:
    """(478, 3) landmarks rotated about their centroid by ``pitch`` then ``yaw`` (image frame)."""
    lm = np.asarray(landmarks, np.float64)
    centre = lm[:468].mean(axis=0)
    return (lm - centre) @ rotation(pitch, yaw).T + centre


@lru_cache(maxsize=1)
def triangles() -> np.ndarray:
    """(T, 3) triangles over the 468 mesh points: Delaunay of the canonical face seen from the
    front (a height field from there), so eyes and mouth are covered too."""
    from scipy.spatial import Delaunay

    from ganimate.faces import canonical_face

    return Delaunay(canonical_face()[:, :2]).simplices.astype(np.int64)


def _face_map(src: np.ndarray, dst: np.ndarray, depth: np.ndarray, box, shape
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mesh rendered with occlusion: (map_x, map_y, covered) over ``box`` (x0, y0, x1, y1):
    each pixel covered by a moved triangle reads the photo at the same barycentric place of the
    triangle before the move; triangles are drawn far to near (painter's algorithm)."""
    import cv2

    x0, y0, x1, y1 = box
    tri = triangles()
    order = np.argsort(-depth[tri].mean(axis=1))  # far first (z away from the camera)
    ids = np.full((y1 - y0, x1 - x0), -1, np.int32)
    for k in order:
        pts = np.round((dst[tri[k]] - [x0, y0]) * 16).astype(np.int32)
        cv2.fillConvexPoly(ids, pts, int(k), lineType=cv2.LINE_8, shift=4)
    # per triangle the affine map destination -> source (2 x 3)
    d = np.concatenate([dst[tri], np.ones((len(tri), 3, 1))], axis=2)  # (T, 3, 3)
    s = src[tri]  # (T, 3, 2)
    ok = np.abs(np.linalg.det(d)) > 1e-6
    aff = np.zeros((len(tri), 3, 2))
    aff[ok] = np.linalg.solve(d[ok], s[ok])
    covered = ids >= 0
    ys, xs = np.nonzero(covered)
    a = aff[ids[ys, xs]]
    px, py = xs + x0, ys + y0
    mx = np.zeros(ids.shape, np.float32)
    my = np.zeros(ids.shape, np.float32)
    mx[ys, xs] = px * a[:, 0, 0] + py * a[:, 1, 0] + a[:, 2, 0]
    my[ys, xs] = px * a[:, 0, 1] + py * a[:, 1, 1] + a[:, 2, 1]
    return mx, my, covered & ok[np.maximum(ids, 0)]


def pose_photo(rgb: np.ndarray, landmarks: np.ndarray, pitch: float, yaw: float,
               config: WarpConfig = POSE_WARP) -> tuple[np.ndarray, np.ndarray]:
    """(the photo with its face turned, the rotated landmarks (478, 3) it should show).

    Inside the moved face the mesh is rendered with occlusion (:func:`_face_map`); around it a
    thin-plate field through the same moves (tapering to 0 over ``config.outer`` IOD) carries
    hair and neck along; the two backward maps are cross-faded over 2 px at the face's edge."""
    import cv2

    lm = np.asarray(landmarks, np.float64)
    moved = posed_landmarks(lm, pitch, yaw)
    h, w = rgb.shape[:2]
    field = displacement_field(lm[:468, :2], moved[:468, :2] - lm[:468, :2], (w, h),
                               eye_centre_distance(lm), config)
    if field is None:
        return rgb.copy(), moved
    x0, y0, x1, y1 = field.box
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    map_x, map_y = xs + field.dx, ys + field.dy
    fx, fy, covered = _face_map(lm[:468, :2], moved[:468, :2], moved[:468, 2], field.box,
                                rgb.shape[:2])
    edge = cv2.GaussianBlur(covered.astype(np.float32), (0, 0), 1.0) * covered
    map_x = map_x * (1 - edge) + fx * edge
    map_y = map_y * (1 - edge) + fy * edge
    out = rgb.copy()
    src = rgb.astype(np.float32)
    out[y0:y1, x0:x1] = np.clip(np.rint(cv2.remap(src, map_x, map_y, cv2.INTER_LANCZOS4,
                                                   borderMode=cv2.BORDER_REFLECT_101)),
                                0, 255).astype(np.uint8)
    return out, moved


def measured_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(pitch, yaw, roll) in degrees of a face's landmarks: the canonical face's rigid points
    fitted onto them (``ganimate.faces.head_pose``: umeyama on RIGID_3D)."""
    yaw, pitch, roll = head_pose(landmarks)
    return pitch, yaw, roll


def sign_check() -> None:
    """The rotation's angles read back by ganimate's head_pose from the canonical face itself
    (rotated exactly, no photo): confirms the sign conventions agree."""
    from ganimate.faces import canonical_face

    c = canonical_face()
    img = np.stack([c[:, 0], -c[:, 1], -c[:, 2]], axis=1) * 20 + [256, 256, 0]  # pixels
    lm = np.concatenate([img, np.zeros((10, 3))])
    for p, y in ((20, 0), (-20, 0), (0, 20), (0, -20)):
        got = measured_pose(posed_landmarks(lm, p, y))
        print(f"asked pitch {p:+d} yaw {y:+d} -> head_pose pitch {got[0]:+.1f} yaw {got[1]:+.1f}")


def _label(img: np.ndarray, text: str) -> np.ndarray:
    import cv2

    out = img.copy()
    cv2.putText(out, text, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0), 2, cv2.LINE_AA)
    return out


def main() -> None:
    import cv2

    from ganimate.faces import FaceMesh, largest_face
    from ganimate.images import read_rgb

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("photo", nargs="?")
    ap.add_argument("--pitch", type=float, default=0.0)
    ap.add_argument("--yaw", type=float, default=0.0)
    ap.add_argument("-o", "--out")
    ap.add_argument("--sheet", help="contact sheet of pitch/yaw -25..25 with the measured pose")
    ap.add_argument("--sign-check", action="store_true")
    a = ap.parse_args()
    if a.sign_check:
        sign_check()
        return
    rgb = read_rgb(a.photo)
    with FaceMesh() as mesh:
        face = largest_face(mesh(rgb))
        base = measured_pose(face.landmarks)
        if a.out:
            out, _ = pose_photo(rgb, face.landmarks, a.pitch, a.yaw)
            cv2.imwrite(a.out, cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
            got = mesh(out)
            if got:
                m = measured_pose(largest_face(got).landmarks)
                print(f"asked pitch {a.pitch:+.0f} yaw {a.yaw:+.0f}; measured (minus the photo's "
                      f"own) pitch {m[0] - base[0]:+.1f} yaw {m[1] - base[1]:+.1f}")
            else:
                print("no face re-detected")
        if a.sheet:
            cells = []
            for p, y in ((-25, 0), (-15, 0), (0, 0), (15, 0), (25, 0),
                         (0, -25), (0, -15), (0, 15), (0, 25)):
                out, _ = pose_photo(rgb, face.landmarks, p, y)
                got = mesh(out)
                m = (measured_pose(largest_face(got).landmarks) if got else (np.nan,) * 3)
                text = f"p{p:+d} y{y:+d} -> {m[0] - base[0]:+.0f} {m[1] - base[1]:+.0f}"
                cells.append(_label(cv2.resize(out, (256, 256), interpolation=cv2.INTER_AREA),
                                    text))
            cells.append(np.zeros_like(cells[0]))
            sheet = np.concatenate([np.concatenate(cells[i:i + 5], axis=1) for i in (0, 5)], axis=0)
            Path(a.sheet).parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(a.sheet, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
