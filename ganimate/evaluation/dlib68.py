"""An independent expression reader: dlib's 68-point landmarks and geometric measures.

ganimate's AU estimator inverts the same AU -> mesh model that the warp engine is driven by, so it
would grade the warp by its own construction. This reader shares nothing with that model (another
detector, another landmark model, trained on other data: dlib's ``shape_predictor_68`` from the
``[eval]`` extra) and reports plain geometry, in inter-ocular distances (IOD, between the eye
centres), on the face rotated so that its eye line is horizontal:

- ``corner_eye``: height of the lip corners (48, 54) against the eye line (negative: below it),
  so it *rises* when the corners go up;
- ``corner_lip``: lip corners above the lip centre (inner lips 62/66): a smile raises it;
- ``mouth_width``: corner to corner;
- ``lip_gap``: inner upper to inner lower lip (62-66): parted lips / jaw drop;
- ``brow``: brow points (17-26) above the eye line; a brow lowerer (AU04) makes it smaller;
- ``eye_open``: the eyes' aperture, upper to lower lid (37-41 and 38-40, 43-47 and 44-46, mean of
  both eyes): the cheek raiser of a real (Duchenne) smile narrows it from below;
- ``mouth_dark``: the area (in IOD squared) inside the inner lips (60-67) darker than half the
  face's median grey level: an open mouth's interior. Stretched closed lips read as a lip gap but
  not as a dark interior;
- ``teeth``: the share of the pixels inside the inner lips (60-67) that are teeth-like: CIELAB
  L* above the cheeks' median L* + 10 and chroma under 22 (0 when the lips are closed).

Compare an edited photo with its input through :meth:`ExpressionReader.measure` with the input's
face box (``box=``) so that detector jitter does not count as expression.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ganimate.errors import GanimateError
from ganimate.evaluation.identity import FaceBox, identity_unavailable, models_dir

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn), dlib (the optional [eval] extra).

_SHAPE_68 = "shape_predictor_68_face_landmarks.dat"

MEASURES: tuple[str, ...] = ("corner_eye", "corner_lip", "mouth_width", "lip_gap", "brow",
                             "eye_open", "mouth_dark", "teeth")


@dataclass(frozen=True)
class Expression68:
    """Geometric expression measures of one face, in inter-ocular distances."""

    corner_eye: float
    corner_lip: float
    mouth_width: float
    lip_gap: float
    brow: float
    eye_open: float
    mouth_dark: float
    teeth: float
    iod: float  # the inter-ocular distance in pixels

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def mouth_dark_area(rgb: np.ndarray, points: np.ndarray, box: FaceBox, iod: float) -> float:
    """Area (IOD^2) inside the inner lips darker than half the median grey of the face box."""
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    face = grey[max(box.top, 0):box.bottom, max(box.left, 0):box.right]
    mask = np.zeros_like(grey)
    cv2.fillPoly(mask, [np.round(points[60:68]).astype(np.int32)], 1)
    dark = (grey < 0.5 * np.median(face)) & (mask > 0)
    return float(dark.sum()) / (iod * iod)


def teeth_share(rgb: np.ndarray, points: np.ndarray, iod: float) -> float:
    """Share of the pixels inside the inner lips (60-67) with L* > the cheeks' median + 10 and
    CIELAB chroma < 22 (teeth); the cheeks are discs of 0.1 IOD halfway between the jaw line
    (points 2, 14) and the nose wings (31, 35)."""
    import cv2

    lab = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2LAB).astype(np.float32)
    light, chroma = lab[..., 0] * (100 / 255), np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    cheeks = np.zeros(light.shape, np.uint8)
    for a, b in ((2, 31), (14, 35)):
        centre = np.round((points[a] + points[b]) / 2).astype(int)
        cv2.circle(cheeks, (int(centre[0]), int(centre[1])), max(2, int(0.1 * iod)), 1, -1)
    mouth = np.zeros(light.shape, np.uint8)
    cv2.fillPoly(mouth, [np.round(points[60:68]).astype(np.int32)], 1)
    if not cheeks.any() or not mouth.any():
        return 0.0
    inside = mouth > 0
    bright = light[inside] > np.median(light[cheeks > 0]) + 10
    return float(np.mean(bright & (chroma[inside] < 22)))


def _eyes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(left eye centre, right eye centre, inter-ocular distance) of 68 points."""
    left, right = points[36:42].mean(axis=0), points[42:48].mean(axis=0)
    return left, right, float(np.linalg.norm(right - left))


def measures(points: np.ndarray, mouth_dark: float = 0.0, teeth: float = 0.0) -> Expression68:
    """The measures of 68 (x, y) landmark points in pixels (y down)."""
    p = np.asarray(points, np.float64)
    left, right, iod = _eyes(p)
    angle = np.arctan2(right[1] - left[1], right[0] - left[0])
    c, s = np.cos(-angle), np.sin(-angle)
    centre = (left + right) / 2
    q = (p - centre) @ np.array([[c, s], [-s, c]]) / iod  # eye line horizontal, y down, IOD units
    corners = (q[48, 1] + q[54, 1]) / 2
    lip_centre = (q[62, 1] + q[66, 1]) / 2
    return Expression68(
        corner_eye=float(-corners),
        corner_lip=float(lip_centre - corners),
        mouth_width=float(np.linalg.norm(q[54] - q[48])),
        lip_gap=float(np.linalg.norm(q[66] - q[62])),
        brow=float(-q[17:27, 1].mean()),
        eye_open=float(np.mean([q[41, 1] - q[37, 1], q[40, 1] - q[38, 1], q[47, 1] - q[43, 1],
                                q[46, 1] - q[44, 1]])),
        mouth_dark=mouth_dark,
        teeth=teeth,
        iod=iod,
    )


class ExpressionReader:
    """dlib face detection + 68 landmarks -> :class:`Expression68`."""

    def __init__(self, upsample: int = 1):
        reason = identity_unavailable()
        if reason is not None:
            raise GanimateError(f"the dlib-68 expression reader is unavailable: {reason}")
        import dlib

        self._dlib = dlib
        self._detector = dlib.get_frontal_face_detector()
        self._shape = dlib.shape_predictor(str(models_dir() / _SHAPE_68))
        self.upsample = upsample

    def locate(self, rgb: np.ndarray) -> FaceBox | None:
        """The largest face dlib detects, or None."""
        rects = self._detector(np.ascontiguousarray(rgb), self.upsample)
        if not len(rects):
            return None
        r = max(rects, key=lambda r: r.width() * r.height())
        return FaceBox(r.left(), r.top(), r.right(), r.bottom(), True)

    def points(self, rgb: np.ndarray, box: FaceBox) -> np.ndarray:
        """(68, 2) landmark pixels of the face in ``box``."""
        rect = self._dlib.rectangle(box.left, box.top, box.right, box.bottom)
        shape = self._shape(np.ascontiguousarray(rgb), rect)
        return np.array([[shape.part(i).x, shape.part(i).y] for i in range(68)], np.float64)

    def measure(self, rgb: np.ndarray, box: FaceBox | None = None) -> Expression68 | None:
        """Measures of the face in ``box`` (the largest detected when None; None if no face)."""
        if box is None:
            box = self.locate(rgb)
            if box is None:
                return None
        points = self.points(rgb, box)
        iod = _eyes(points)[2]
        return measures(points, mouth_dark_area(rgb, points, box, iod),
                        teeth_share(rgb, points, iod))
