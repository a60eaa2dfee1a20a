"""The colours a painted mouth takes from the photo: the lip seam's (the cavity's), the lips' own
(the tongue's and gums'), and shadow as light falls off into the mouth.
"""

from __future__ import annotations

import numpy as np

from ganimate.faces.measures import INNER_LIPS, OUTER_LIPS

# Imported in the functions that use them, on purpose (start-up): cv2.


def seam_colour(frame: np.ndarray, landmarks: np.ndarray, scale: float) -> np.ndarray:
    """The mean colour of the darkest tenth of pixels along the photo's inner lips (float32)."""
    src = np.asarray(landmarks, np.float64)[list(INNER_LIPS), :2]
    pad = max(2, int(round(0.02 * scale)))
    h, w = frame.shape[:2]
    x0, y0 = np.maximum(np.floor(src.min(axis=0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(src.max(axis=0)).astype(int) + pad + 1, [w, h])
    patch = np.asarray(frame[y0:y1, x0:x1], np.float32).reshape(-1, frame.shape[2])
    if len(patch) == 0:
        return np.zeros(frame.shape[2], np.float32)
    luma = patch[:, :3].mean(axis=1)
    darkest = patch[luma <= np.quantile(luma, 0.1)]
    return darkest.mean(axis=0)


def lips_lab(frame: np.ndarray, landmarks: np.ndarray) -> np.ndarray | None:
    """The lips' own colour (CIELAB, L 0-100, float32 (3,)): the median of the pixels between
    the outer and the inner lip outlines; None where no pixel lies between them."""
    import cv2

    lm = np.asarray(landmarks, np.float64)
    outer, inner = lm[list(OUTER_LIPS), :2], lm[list(INNER_LIPS), :2]
    h, w = frame.shape[:2]
    x0, y0 = np.maximum(np.floor(outer.min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(outer.max(axis=0)).astype(int) + 1, [w, h])
    if x1 <= x0 or y1 <= y0:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round(outer - [x0, y0]).astype(np.int32)], 1)
    cv2.fillPoly(mask, [np.round(inner - [x0, y0]).astype(np.int32)], 0)
    lips = np.ascontiguousarray(frame[y0:y1, x0:x1, :3])[mask > 0]
    if len(lips) == 0:
        return None
    lab = cv2.cvtColor(lips.reshape(1, -1, 3).astype(np.float32) / 255, cv2.COLOR_RGB2LAB)[0]
    return np.median(lab, axis=0).astype(np.float32)


def colour_lab(colour: np.ndarray) -> np.ndarray:
    """One RGB colour (0-255; extra channels ignored) in CIELAB (L 0-100), float32 (3,)."""
    import cv2

    rgb = np.clip(np.asarray(colour[:3], np.float32) / 255, 0, 1).reshape(1, 1, 3)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[0, 0]


def _luminance(lightness: np.ndarray) -> np.ndarray:
    """CIE relative luminance Y (0-1) of CIELAB lightness L* (0-100)."""
    lightness = np.asarray(lightness, np.float64)
    return np.where(lightness > 8.0, ((lightness + 16.0) / 116.0) ** 3, lightness / 903.3)


def _linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _encoded(linear: np.ndarray) -> np.ndarray:
    linear = np.maximum(linear, 0.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def shaded(colour: np.ndarray, shade: np.ndarray) -> np.ndarray:
    """``colour`` (RGB 0-255) in shadow: its CIELAB lightness times ``shade`` (h, w), reached by
    scaling its light (linear RGB), as less light on the same surface does: the hue stays, and
    the chroma falls with the lightness. Float32 (h, w, 3), 0-255.

    With its chroma kept whole instead, the cavity's deep shadow was a saturated wine red, a
    painted fill beside the photo's dim mouth corners (a blind review of open mouths)."""
    lightness = float(colour_lab(colour)[0])
    light = _luminance(lightness * np.asarray(shade, np.float64)) / max(
        float(_luminance(lightness)), 1e-9)
    rgb = _linear(np.clip(np.asarray(colour[:3], np.float64) / 255, 0, 1))
    return (np.clip(_encoded(light[..., None] * rgb), 0, 1) * 255).astype(np.float32)
