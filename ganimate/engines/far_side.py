"""Turned faces: the share of each landmark's shift kept where the face's outline turns away
from the camera (:attr:`ganimate.engines.warp_config.WarpConfig.far_band`, docs/engines.md).

MediaPipe's mesh stops short of a cheek that turns away (0.3-0.4 IOD inside the visible cheek on
WolfgangLanger_Pexels.mp4's three-quarter views), so the strip of cheek beyond it and the hair
beside it fell in the field's taper and were sheared. Shifts fade out toward the outline points
whose normals, turned into the face's pose, face the camera less than on a frontal face.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ganimate.engines.masks import smoothstep
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import FACE_OVAL, canonical_face, eye_centre_distance
from ganimate.faces.measures import INNER_LIPS, OUTER_LIPS

_MESH_POINTS = 468
# The lips (MediaPipe's inner and outer contours): a smile's far corner is within the band of a
# turned face's far outline, and fading it weakened the smile (synthetic yaw 25-35: P(happy)
# 0.58-0.81 -> 0.46-0.70 with the lips faded).
_LIPS = np.array(sorted(set(INNER_LIPS) | set(OUTER_LIPS)))


@lru_cache(maxsize=1)
def outline_normals() -> np.ndarray:
    """Unit normals (len(FACE_OVAL), 3) of the canonical face's surface at its outline points
    (x right, y up, z toward the camera), outward: the least-spread direction of each point's
    10 nearest neighbours on the face, turned away from a point 5 cm behind its deepest point."""
    c = canonical_face().astype(np.float64)
    at = c[FACE_OVAL]
    near = np.argsort(((at[:, None] - c[None]) ** 2).sum(-1), axis=1)[:, :10]
    spread = c[near] - c[near].mean(axis=1, keepdims=True)
    normals = np.linalg.eigh(np.einsum("nki,nkj->nij", spread, spread))[1][:, :, 0]
    behind = np.array([0.0, c[:, 1].mean(), c[:, 2].min() - 5.0])
    flip = np.einsum("ni,ni->n", normals, at - behind) < 0
    normals[flip] *= -1
    return normals


def far_side_weight(landmarks: np.ndarray, rotation: np.ndarray, config: WarpConfig
                    ) -> np.ndarray:
    """Share (468,) of each point's shift kept on a face turned by ``rotation`` (model frame):
    1 on a frontal face; on a turned one, falling to 0 toward the outline points that turn away
    from the camera (:attr:`WarpConfig.far_band`). Continuous in the pose and the landmarks (no
    point joins or leaves at a threshold), so that it does not flicker in video."""
    normals = outline_normals()
    facing = (normals @ np.asarray(rotation, np.float64).T)[:, 2]
    turn = normals[:, 2] - facing  # how much less each outline point faces the camera
    away = (smoothstep((turn - config.far_turn) / 0.1)
            * smoothstep((config.far_facing - facing) / 0.05))
    if not np.any(away > 0):
        return np.ones(_MESH_POINTS)
    pts = np.asarray(landmarks, np.float64)[:_MESH_POINTS, :2]
    far = FACE_OVAL[away > 0]
    distance = np.sqrt(((pts[:, None] - pts[far][None]) ** 2).sum(-1))  # (468, far)
    fade = smoothstep(distance / (config.far_band * eye_centre_distance(landmarks)))
    weight = (1.0 - away[away > 0] * (1.0 - fade)).min(axis=1)
    weight[_LIPS] = 1.0  # the expression's own features keep their whole shift
    return weight
