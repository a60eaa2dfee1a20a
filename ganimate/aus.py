"""Action Units: the one AU order of the package, name parsing, estimators, calibration, AU files.

An AU vector is float32 intensities in [0, 1] (FACS intensity 0-5 divided by 5) in AU_NAMES order.

Estimation works on a face's 478 mediapipe landmarks, so video reuses the tracker's landmarks:

- ``inversion``: inverts py-feat's linear model from AUs + head pose to the face mesh
  (``assets/faces/au_to_mesh_pls_v4.npz``). The zero-AU reference is MediaPipe's canonical neutral
  face aligned into the model's frame, not the model's intercept (which came from another mesh and
  reads as AU15/24/26/28 of 0.3-0.4 on neutral faces); bounded ridge least squares, re-aligned on
  rigid points between solves.
- ``geometric``: distances on the frontalised mesh (lip-corner height, lip gap, eyelid opening,
  brow height, ...) mapped linearly to [0, 1]; fast and transparent, but a smile leaks into AU20,
  AU09 and AU10.
- ``mesh`` (the default): inversion for the AUs it measures, the geometric lip gap for AU25 (the
  linear model cannot tell AU25 from AU26/AU10) and the eyelid opening for AU45 (the model has no
  blink).

Raw estimates are on the estimator's own scale. :class:`AUCalibration` maps a dataset's robust
percentiles to [0, 1] (training labels); :class:`NeutralBaseline` removes a person's resting face
in video. ``docs/aus.md`` lists which AUs are reliable, with measured accuracies.
"""

from __future__ import annotations

import csv
import math
import os
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ganimate.errors import GanimateError

if TYPE_CHECKING:
    from ganimate.faces import Face, FaceMesh

# The 17 intensity AUs that OpenFace 2.x reports (the set GANimation was trained on), in its order.
AU_NAMES: tuple[str, ...] = (
    "AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
    "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45",
)

# Human-readable FACS names, for tables and help texts.
AU_DESCRIPTIONS: dict[str, str] = {
    "AU01": "inner brow raiser", "AU02": "outer brow raiser", "AU04": "brow lowerer",
    "AU05": "upper lid raiser", "AU06": "cheek raiser", "AU07": "lid tightener",
    "AU09": "nose wrinkler", "AU10": "upper lip raiser", "AU12": "lip corner puller",
    "AU14": "dimpler", "AU15": "lip corner depressor", "AU17": "chin raiser",
    "AU20": "lip stretcher", "AU23": "lip tightener", "AU25": "lips part",
    "AU26": "jaw drop", "AU45": "blink",
    "AU16": "lower lip depressor", "AU18": "lip pucker", "AU22": "lip funneler",
    "AU24": "lip pressor", "AU27": "mouth stretch",
}

# AUs beyond the 17 that the warp's scanned basis can move (ICT-FaceKit has their shapes). The
# estimator cannot read them, so a face's own value is taken as 0; models keep the 17.
SCANNED_EXTRA_AUS: tuple[str, ...] = ("AU16", "AU18", "AU22", "AU24", "AU27")


def canonical_au_name(name: str, au_names: tuple[str, ...] = AU_NAMES) -> str:
    """'au12', 'AU12', '12' and 'AU12_r' all mean 'AU12'; unknown names raise GanimateError."""
    raw = name.strip().upper().removesuffix("_R")
    digits = raw.removeprefix("AU")
    if digits.isdigit():
        candidate = f"AU{int(digits):02d}"
        if candidate in au_names:
            return candidate
    raise GanimateError(
        f"unknown AU {name!r}; known AUs: {' '.join(au_names)}"
    )


def reorder(values: np.ndarray | Sequence[float], from_names: Sequence[str],
            to_names: Sequence[str], fill: float | None = None) -> np.ndarray:
    """AU values in ``to_names`` order, picked by name from ``values`` in ``from_names`` order.

    ``values`` is (..., len(from_names)); the result is (..., len(to_names)), same dtype. A name of
    ``to_names`` that ``from_names`` lacks gets ``fill``, or, when ``fill`` is None, raises
    GanimateError naming every missing AU. The one place AU vectors change order by name.
    """
    values = np.asarray(values)
    if values.shape[-1:] != (len(from_names),):
        raise ValueError(f"expected values (..., {len(from_names)}), got {values.shape}")
    index = {n: i for i, n in enumerate(from_names)}
    missing = [n for n in to_names if n not in index]
    if missing and fill is None:
        raise GanimateError(f"no values for {' '.join(missing)}; "
                            f"the AUs given are {' '.join(from_names)}")
    padded = np.concatenate([values, np.full(values.shape[:-1] + (1,), fill or 0, values.dtype)],
                            axis=-1)
    return padded[..., [index.get(n, len(from_names)) for n in to_names]]


# =============================================================================================
# Estimators
# =============================================================================================

ESTIMATORS: tuple[str, ...] = ("mesh", "inversion", "geometric")
DEFAULT_ESTIMATOR = "mesh"

# AUs the default estimator measures well enough to score and to edit: pairwise accuracy on the
# London neutral/smiling pairs >= 0.8 and rising with the smile, or (AU45) a direct measure.
# See docs/aus.md. The others are estimated but weak (brows) or rarely exercised by our test data.
RELIABLE_AUS: tuple[str, ...] = ("AU06", "AU10", "AU12", "AU14", "AU25", "AU45")

# Rigid landmarks for the 3-D similarity between an observed mesh and the reference: eye corners,
# nose bridge and tip, glabella, forehead, temples. They barely move with expressions.
RIGID_3D = np.array([33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 9, 151, 10,
                      234, 454, 127, 356])
# The face outline (jaw and forehead contour) is the least precise part of the mesh.
_FACE_OVAL = np.array([10, 21, 54, 58, 67, 93, 103, 109, 127, 132, 136, 148, 149, 150, 152, 162,
                       172, 176, 234, 251, 284, 288, 297, 323, 332, 338, 356, 361, 365, 377, 378,
                       379, 389, 397, 400, 454])
_N = 468  # the canonical face has no iris points; they are not used
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
    from ganimate.align import canonical_face

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
    lm = np.asarray(landmarks, dtype=np.float64)[:_N]
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
        self.ref = apply_similarity(umeyama(_canonical(), intercept[:_N]), _canonical())
        # Rows in the axis-major order x0..x467, y0.., z0..
        self.basis = coef.reshape(n_in, 3, -1)[:, :, :_N].transpose(1, 2, 0).reshape(3 * _N, n_in)
        w = np.ones(_N)
        w[_FACE_OVAL] = _OUTLINE_WEIGHT
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
            target = self.ref + (self.basis @ x).reshape(3, _N).T
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


def _geometric_au(name: str, features: dict[str, float]) -> float:
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


class AUEstimator:
    """AU intensities (raw, in [0, 1]) from a face's landmarks; ``method`` is one of ESTIMATORS.

    ``est(face)`` or ``est(landmarks)`` returns a float32 vector in AU_NAMES order. Cheap to call
    per frame (about 2-5 ms a face on a laptop CPU); create one and reuse it.
    """

    au_names: tuple[str, ...] = AU_NAMES

    def __init__(self, method: str = DEFAULT_ESTIMATOR):
        if method not in ESTIMATORS:
            raise GanimateError(
                f"unknown AU estimator {method!r}; choose one of {', '.join(ESTIMATORS)}"
            )
        self.method = method
        self._model = mesh_model() if method != "geometric" else None

    def __call__(self, face: Face | np.ndarray) -> np.ndarray:
        landmarks = face.landmarks if hasattr(face, "landmarks") else np.asarray(face)
        if landmarks.shape[0] < _N or landmarks.shape[-1] != 3:
            raise ValueError(f"expected (478, 3) landmarks, got {landmarks.shape}")
        if self.method == "geometric":
            feats = geometric_features(landmarks)
            return np.array([_geometric_au(name, feats) for name in AU_NAMES], np.float32)
        x, _ = self._model.solve(landmarks)
        out = reorder(x, self._model.inputs, AU_NAMES, fill=0.0).astype(np.float32)
        if self.method == "inversion":
            # eyes closed: the nearest the model has to a blink
            out[AU_NAMES.index("AU45")] = x[self._model.index["AU43"]]
            return np.clip(out, 0.0, 1.0)
        feats = geometric_features(landmarks)
        for name in ("AU25", "AU45"):
            out[AU_NAMES.index(name)] = _geometric_au(name, feats)
        return np.clip(out, 0.0, 1.0)

    def many(self, faces: Iterable[Face | np.ndarray]) -> np.ndarray:
        """(N, 17) float32 for several faces."""
        rows = [self(f) for f in faces]
        return np.stack(rows) if rows else np.zeros((0, len(AU_NAMES)), np.float32)


@lru_cache(maxsize=len(ESTIMATORS))
def default_estimator(method: str = DEFAULT_ESTIMATOR) -> AUEstimator:
    """A shared estimator instance (the model is loaded once per process)."""
    return AUEstimator(method)


@dataclass
class FaceAUs:
    """One face found in an image and its AU intensities."""

    face: Face
    aus: np.ndarray  # float32 (17,), AU_NAMES order


def estimate_aus(rgb: np.ndarray, method: str = DEFAULT_ESTIMATOR,
                 mesh: FaceMesh | None = None) -> list[FaceAUs]:
    """AUs of every face of an RGB image (a photo or a small aligned crop), left to right.

    Small images (aligned 64-256 px crops) are padded and upscaled before the mesh, so the AUs of
    generated crops can be read back. Pass a ``mesh`` to reuse its graphs across calls.
    """
    from ganimate.faces import FaceMesh

    est = default_estimator(method)
    own = mesh is None
    mesh = FaceMesh() if own else mesh
    try:
        return [FaceAUs(face, est(face)) for face in mesh(rgb)]
    finally:
        if own:
            mesh.close()


class CropAUReader:
    """Reads AUs from batches of aligned crops (the AU reader of `ganimate eval`).

    ``read(crops)`` takes uint8 (N, H, W, 3) and returns float32 (N, 17), a NaN row where no face
    is found; when a crop holds several faces, the one nearest its centre counts.
    """

    au_names: tuple[str, ...] = AU_NAMES
    reliable: tuple[str, ...] = RELIABLE_AUS

    def __init__(self, method: str = DEFAULT_ESTIMATOR):
        self.estimator = AUEstimator(method)
        self._mesh: FaceMesh | None = None

    def read(self, crops: np.ndarray) -> np.ndarray:
        from ganimate.faces import FaceMesh

        if self._mesh is None:
            self._mesh = FaceMesh(max_faces=2)
        crops = np.asarray(crops)
        out = np.full((len(crops), len(AU_NAMES)), np.nan, dtype=np.float32)
        for i, crop in enumerate(crops):
            faces = self._mesh(crop)
            if faces:
                h, w = crop.shape[:2]
                face = min(faces, key=lambda f: (f.box.center[0] - w / 2) ** 2
                           + (f.box.center[1] - h / 2) ** 2)
                out[i] = self.estimator(face)
        return out

    def close(self) -> None:
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None


# =============================================================================================
# Calibration
# =============================================================================================


@dataclass
class AUCalibration:
    """Per-dataset linear map of raw estimates to [0, 1]: ``(raw - low) / (high - low)``, clipped.

    ``low`` is a low percentile (the dataset's resting level of each AU) and ``high`` a high one
    (its strongest expressions); ``high - low`` is at least ``min_span``, so an AU that barely moves
    in a dataset is not stretched into noise.
    """

    low: np.ndarray  # float32 (K,)
    high: np.ndarray  # float32 (K,)
    au_names: tuple[str, ...] = AU_NAMES
    low_percentile: float = 5.0
    high_percentile: float = 99.0

    @classmethod
    def fit(cls, aus: np.ndarray, low_percentile: float = 5.0, high_percentile: float = 99.0,
            min_span: float = 0.5, au_names: Sequence[str] = AU_NAMES) -> AUCalibration:
        aus = np.asarray(aus, dtype=np.float64)
        if aus.ndim != 2 or len(aus) == 0:
            raise GanimateError("AU calibration needs at least one AU vector")
        low = np.percentile(aus, low_percentile, axis=0)
        high = np.maximum(np.percentile(aus, high_percentile, axis=0), low + min_span)
        return cls(low.astype(np.float32), high.astype(np.float32), tuple(au_names),
                   low_percentile, high_percentile)

    def apply(self, aus: np.ndarray, au_names: Sequence[str] | None = None) -> np.ndarray:
        """Raw estimates (..., K) in ``au_names`` order (default: the calibration's own) mapped
        to [0, 1]; AUs the calibration does not name pass through, clipped to [0, 1]."""
        aus = np.asarray(aus, dtype=np.float32)
        names = self.au_names if au_names is None else tuple(au_names)
        low = reorder(self.low, self.au_names, names, fill=0.0)
        high = reorder(self.high, self.au_names, names, fill=1.0)
        return np.clip((aus - low) / (high - low), 0.0, 1.0).astype(np.float32)

    def invert(self, values: np.ndarray, au_names: Sequence[str]) -> np.ndarray:
        """Values on the calibrated scale (``au_names`` order) back on the raw estimator's scale;
        AUs the calibration does not name pass unchanged (the inverse of :meth:`apply` inside
        [0, 1])."""
        names = tuple(au_names)
        low = reorder(self.low, self.au_names, names, fill=0.0)
        high = reorder(self.high, self.au_names, names, fill=1.0)
        return (np.asarray(values, np.float32) * (high - low) + low).astype(np.float32)

    def to_dict(self) -> dict:
        return {
            "method": "percentile",
            "au_names": list(self.au_names),
            "low_percentile": self.low_percentile,
            "high_percentile": self.high_percentile,
            "low": [round(float(v), 5) for v in self.low],
            "high": [round(float(v), 5) for v in self.high],
        }

    @classmethod
    def from_dict(cls, data: dict) -> AUCalibration:
        try:
            return cls(np.asarray(data["low"], np.float32), np.asarray(data["high"], np.float32),
                       tuple(data["au_names"]), float(data.get("low_percentile", 5.0)),
                       float(data.get("high_percentile", 99.0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise GanimateError(f"malformed AU calibration ({exc})") from exc

    @classmethod
    def from_meta(cls, meta: dict) -> AUCalibration | None:
        """The calibration stored in a dataset's meta.json (``au_calibration``), if any."""
        data = meta.get("au_calibration")
        return None if data is None else cls.from_dict(data)


@dataclass
class NeutralBaseline:
    """A person's resting face in video: subtract it so that only expression changes remain.

    The baseline of each AU is a low percentile of the frames seen so far (a person is at rest
    most of the time, and a percentile ignores the moments they are not). Until ``warmup`` frames
    have been seen the baseline is what is known so far, so the first frames may read low.
    ``apply(y) = clip((y - b) / (1 - b), 0, 1)`` keeps 1 reachable.

    A baseline fitted on a face's first few frames is those frames themselves, and would read a
    face that starts out smiling as neutral; ``apply(y, fade_in=True)`` (video editing) subtracts
    only ``seen / warmup`` of it until the warm-up is over.
    """

    percentile: float = 10.0
    warmup: int = 15
    window: int = 900  # frames remembered (30 s at 30 fps); older ones are forgotten
    seen: int = 0  # frames given to update() so far
    _history: deque = field(default_factory=deque, repr=False)

    def update(self, aus: np.ndarray) -> None:
        self.seen += 1
        self._history.append(np.asarray(aus, dtype=np.float32))
        while len(self._history) > self.window:
            self._history.popleft()

    @property
    def ready(self) -> bool:
        return len(self._history) >= self.warmup

    @property
    def baseline(self) -> np.ndarray:
        if not self._history:
            return np.zeros(len(AU_NAMES), np.float32)
        return np.percentile(np.stack(self._history), self.percentile, axis=0).astype(np.float32)

    def apply(self, aus: np.ndarray, fade_in: bool = False) -> np.ndarray:
        b = np.minimum(self.baseline, 0.95)
        if fade_in:
            b = b * np.float32(min(1.0, self.seen / max(self.warmup, 1)))
        return np.clip((np.asarray(aus, np.float32) - b) / (1.0 - b), 0.0, 1.0).astype(np.float32)

    def __call__(self, aus: np.ndarray) -> np.ndarray:
        """Update with this frame, then return it baselined (the streaming use)."""
        self.update(aus)
        return self.apply(aus)

    @classmethod
    def fit(cls, frames: np.ndarray, **kwargs) -> NeutralBaseline:
        """A baseline from all frames of a person at once (offline use)."""
        base = cls(**kwargs)
        for row in np.asarray(frames, np.float32)[-base.window:]:
            base.update(row)
        return base


# =============================================================================================
# AU files
# =============================================================================================


@dataclass
class OpenFaceTable:
    """The AU intensities of an OpenFace 2.x CSV (FeatureExtraction or FaceLandmarkImg output)."""

    path: Path
    frames: np.ndarray  # int (N,): OpenFace's 1-based frame number (0 when the file has none)
    faces: np.ndarray  # int (N,): face_id (0 when the file has none)
    timestamps: np.ndarray  # float (N,) seconds (NaN when the file has none)
    success: np.ndarray  # bool (N,): OpenFace tracked the face in that row
    confidence: np.ndarray  # float (N,)
    aus: np.ndarray  # float32 (N, 17) in [0, 1]: the AUxx_r columns (0-5) divided by 5
    au_names: tuple[str, ...] = AU_NAMES
    extra: dict[str, list[str]] = field(default_factory=dict)  # other text columns (file names)


def read_openface_csv(path: str | os.PathLike,
                      au_names: Sequence[str] = AU_NAMES) -> OpenFaceTable:
    """Read OpenFace's CSV (``AU01_r``... 0-5 columns, spaces after the commas) to [0, 1]."""
    path = Path(path)
    if not path.is_file():
        raise GanimateError(f"{path}: no such OpenFace CSV file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, skipinitialspace=True)
            header = [h.strip() for h in next(reader, [])]
            rows = [r for r in reader if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise GanimateError(f"{path}: cannot read as CSV ({exc})") from exc
    col = {h: i for i, h in enumerate(header)}
    missing = [n for n in au_names if f"{n}_r" not in col]
    if missing:
        raise GanimateError(
            f"{path}: not an OpenFace AU file: no intensity columns "
            f"{', '.join(m + '_r' for m in missing)} (run OpenFace's FeatureExtraction with -aus)"
        )

    def numbers(name: str, default: float) -> np.ndarray:
        if name not in col:
            return np.full(len(rows), default, dtype=np.float64)
        i = col[name]
        out = np.empty(len(rows), dtype=np.float64)
        for k, r in enumerate(rows):
            try:
                out[k] = float(r[i])
            except (IndexError, ValueError):
                raise GanimateError(
                    f"{path}: row {k + 2}, column {name}: {r[i] if i < len(r) else ''!r} "
                    "is not a number"
                ) from None
        return out

    aus = np.stack([numbers(f"{n}_r", 0.0) for n in au_names], axis=1) / 5.0 \
        if rows else np.zeros((0, len(au_names)))
    extra = {}
    for name in ("filename", "file", "input", "image", "name", "path"):
        if name in col:
            extra[name] = [r[col[name]].strip() if col[name] < len(r) else "" for r in rows]
    return OpenFaceTable(
        path=path,
        frames=numbers("frame", 0).astype(np.int64),
        faces=numbers("face_id", 0).astype(np.int64) if "face_id" in col
        else numbers("face", 0).astype(np.int64),
        timestamps=numbers("timestamp", math.nan),
        success=numbers("success", 1) > 0.5,
        confidence=numbers("confidence", 1.0),
        aus=np.clip(aus, 0.0, 1.0).astype(np.float32),
        au_names=tuple(au_names),
        extra=extra,
    )
