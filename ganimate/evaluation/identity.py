"""Identity distance: dlib's ResNet face-recognition embedding (the optional ``[eval]`` extra).

dlib's ``dlib_face_recognition_resnet_model_v1`` maps a face to a 128-d vector; the Euclidean
distance between two vectors is small for one person (dlib's own threshold for "same person" is
0.6). On the London set a neutral/smiling pair of one person is about 0.14-0.26 apart and two
different people about 0.67-0.90, so an expression edit that keeps the identity should stay well
under 0.6.

``dlib`` (wheel ``dlib-bin``) and ``face_recognition_models`` (which ships the model files) are
optional: they are imported only here and only when an embedder is built. When they are missing,
:func:`identity_unavailable` says why and how to install them, and the evaluation skips the metric.
The ``face_recognition_models`` package is never imported: its ``__init__`` needs
``pkg_resources``, which recent setuptools no longer ship; the model files are found through the
package's location instead.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError

# Imported in the functions that use them, on purpose (start-up): dlib (the optional [eval] extra).

INSTALL_HINT = "pip install 'ganimate[eval]' (installs dlib-bin and face_recognition_models)"

# dlib's published decision threshold: descriptors closer than this are the same person.
SAME_PERSON_THRESHOLD = 0.6

_RECOGNITION_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
_SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"


def models_dir() -> Path | None:
    """The folder of face_recognition_models' .dat files, found without importing the package."""
    try:
        spec = importlib.util.find_spec("face_recognition_models")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "models"
        if (folder / _RECOGNITION_MODEL).is_file() and (folder / _SHAPE_MODEL).is_file():
            return folder
    return None


def identity_unavailable() -> str | None:
    """None when the identity metric can run, else a one-line reason with the fix."""
    try:
        import dlib  # noqa: F401
    except ImportError:
        return f"dlib is not installed; {INSTALL_HINT}"
    if models_dir() is None:
        return f"face_recognition_models (dlib's model files) is not installed; {INSTALL_HINT}"
    return None


@dataclass(frozen=True)
class FaceBox:
    """A face rectangle in pixel coordinates (inclusive left/top, exclusive right/bottom)."""

    left: int
    top: int
    right: int
    bottom: int
    detected: bool  # False: dlib found no face and the whole-image fallback box is used


class FaceEmbedder:
    """128-d dlib face descriptors of RGB images or aligned crops.

    ``embed(rgb, box)`` uses the given box; without one it runs dlib's HOG face detector and, on a
    tight crop where the detector finds nothing, falls back to a box covering the image. Comparing
    an input with an edited output should reuse the input's box (:meth:`locate` once, then
    :meth:`embed` twice) so that the distance measures the edit and not detector jitter.
    """

    def __init__(self, upsample: int = 1, jitter: int = 0):
        reason = identity_unavailable()
        if reason is not None:
            raise GanimateError(f"identity metric unavailable: {reason}")
        import dlib

        folder = models_dir()
        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._shape = dlib.shape_predictor(str(folder / _SHAPE_MODEL))
        self._net = dlib.face_recognition_model_v1(str(folder / _RECOGNITION_MODEL))
        # Upsampling once lets the HOG detector find faces down to ~40 px.
        self.upsample = upsample
        # dlib's num_jitters: >0 averages descriptors of perturbed chips (slower, a bit steadier).
        self.jitter = jitter

    def locate(self, rgb: np.ndarray) -> FaceBox:
        """The largest detected face, or the fallback box for a crop that is all face."""
        rgb = _check_rgb(rgb)
        rects = self._detector(rgb, self.upsample)
        if len(rects):
            r = max(rects, key=lambda r: r.width() * r.height())
            return FaceBox(r.left(), r.top(), r.right(), r.bottom(), True)
        h, w = rgb.shape[:2]
        # On ganimate's aligned crops dlib finds the face at this box every time (measured on the
        # London set at 64 and 128 px); reusing it keeps the 5-point shape model on eyes and nose.
        return FaceBox(round(0.125 * w), round(0.133 * h), round(0.828 * w), round(0.828 * h),
                       False)

    def embed(self, rgb: np.ndarray, box: FaceBox | None = None) -> np.ndarray:
        """The float32 (128,) descriptor of the face in ``box`` (located when None)."""
        rgb = _check_rgb(rgb)
        if box is None:
            box = self.locate(rgb)
        rect = self._dlib.rectangle(box.left, box.top, box.right, box.bottom)
        shape = self._shape(rgb, rect)
        desc = self._net.compute_face_descriptor(rgb, shape, self.jitter)
        return np.asarray(desc, dtype=np.float32)

    def distance(self, a: np.ndarray, b: np.ndarray) -> float:
        """Identity distance between two images of one face, located on the first."""
        box = self.locate(a)
        return embedding_distance(self.embed(a, box), self.embed(b, box))


def embedding_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two descriptors (dlib's metric; 0.6 = same-person limit)."""
    return float(np.linalg.norm(np.asarray(a, np.float64) - np.asarray(b, np.float64)))


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected uint8 HxWx3 RGB, got {rgb.dtype} {rgb.shape}")
    return np.ascontiguousarray(rgb)
