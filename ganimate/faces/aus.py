"""AU estimators: y_r of faces from their 478 mediapipe landmarks, in an engine's AU order.

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
  blink); AU26 (jaw drop) at most AU25, since a dropped jaw parts the lips (on faces that look up
  the inversion reads closed mouths as jaw drops).

:func:`source_aus` reads faces in an :class:`AUSpace` (an engine's AU names, the AUs it moves but
cannot read, its calibration). ``docs/aus.md`` lists which AUs are reliable, with measured
accuracies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces.align import FaceCrop
from ganimate.faces.au_model import MESH_POINTS, geometric_au, geometric_features, mesh_model
from ganimate.faces.au_names import AU_NAMES, RELIABLE_AUS
from ganimate.faces.au_vectors import reorder
from ganimate.faces.calibration import AUCalibration
from ganimate.faces.config import DEFAULT_ESTIMATOR, ESTIMATORS
from ganimate.faces.mesh import FaceMesh

if TYPE_CHECKING:
    from ganimate.faces.mesh import Face, FaceMesh


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
        if landmarks.shape[0] < MESH_POINTS or landmarks.shape[-1] != 3:
            raise ValueError(f"expected (478, 3) landmarks, got {landmarks.shape}")
        if self.method == "geometric":
            feats = geometric_features(landmarks)
            return np.array([geometric_au(name, feats) for name in AU_NAMES], np.float32)
        x, _ = self._model.solve(landmarks)
        out = reorder(x, self._model.inputs, AU_NAMES, fill=0.0).astype(np.float32)
        if self.method == "inversion":
            # eyes closed: the nearest the model has to a blink
            out[AU_NAMES.index("AU45")] = x[self._model.index["AU43"]]
            return np.clip(out, 0.0, 1.0)
        feats = geometric_features(landmarks)
        for name in ("AU25", "AU45"):
            out[AU_NAMES.index(name)] = geometric_au(name, feats)
        # A jaw that drops parts the lips: no more jaw drop than the lips' gap says. On faces
        # that look up the inversion reads a closed mouth as AU26 0.46-0.49 (3 of 12 held-out
        # people at -27 degrees of pitch), which an absolute preset then *closes* (happy asks
        # 0.2): P(happy) of their smiles 0.33 -> 0.51 with the cap (examples/pose/au26_cap.py).
        i25, i26 = AU_NAMES.index("AU25"), AU_NAMES.index("AU26")
        out[i26] = min(out[i26], out[i25])
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


def model_au_index(au_names: Sequence[str], unread: Sequence[str] = ()) -> np.ndarray:
    """Positions in the estimator's AU_NAMES of a model's AUs (by name), -1 for the ``unread``
    ones (AUs an engine moves but the estimator cannot read: taken as 0); refuses others."""
    missing = [n for n in au_names if n not in AU_NAMES and n not in unread]
    if missing:
        raise GanimateError(
            f"the model is conditioned on {' '.join(missing)}, which the AU estimator cannot "
            f"read (it reads {' '.join(AU_NAMES)}); give the targets explicitly or use a model "
            "trained on those AUs"
        )
    return np.array([AU_NAMES.index(n) if n in AU_NAMES else -1 for n in au_names],
                    dtype=np.int64)


@dataclass(frozen=True)
class AUSpace:
    """The AUs a reader of faces must answer in: an engine's or a model's AU names, the AUs it
    moves but the estimator cannot read (taken as 0), and the calibration that puts the
    estimator's raw readings on its scale (a model's training labels, the scanned basis)."""

    names: tuple[str, ...] = AU_NAMES
    unread: tuple[str, ...] = ()
    calibration: AUCalibration | None = None


def source_aus(faces: Sequence[Face | FaceCrop], space: AUSpace = AUSpace(),
               method: str = DEFAULT_ESTIMATOR) -> np.ndarray:
    """AU intensities y_r of faces (or crops: their landmarks) in ``space`` (F, K): read by the
    ``method`` estimator, calibrated, reordered to its names, 0 for its unread AUs."""
    index = model_au_index(space.names, space.unread)
    raw = default_estimator(method).many(faces)
    if space.calibration is not None:
        raw = space.calibration.apply(raw, AU_NAMES)
    out = np.where(index >= 0, raw[:, np.maximum(index, 0)], 0.0)  # unread AUs: 0
    return np.ascontiguousarray(out, dtype=np.float32)


