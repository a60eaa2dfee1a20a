"""A synthetic "bar face" dataset whose two AUs are visible and measurable.

Each image is a skin-coloured oval with two eyes, two brow bars and a mouth bar, drawn with numpy.
Identity varies (skin and background colour, eye colour, pixel noise); two AUs control geometry:

- ``AU01`` (inner brow raiser) moves the brow bars up: 0 = low, 1 = high;
- ``AU26`` (jaw drop) opens the mouth bar: 0 = a thin line, 1 = wide open.

:func:`measure` reads both back from any image (a generated one too), so a test can check that a
model edited to a target really moved the face toward it. Bars are drawn with sub-pixel coverage so
that the measured values are continuous. ``ganimate synthetic`` writes the dataset in ganimate's
format (``docs/dataset-format.md``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.images import write_image
from ganimate.training.config import SyntheticConfig
from ganimate.version import __version__

SYNTHETIC_AUS: tuple[str, ...] = ("AU01", "AU26")

# Geometry as fractions of the image side (pixel centres at integer coordinates).
_FACE_CY, _FACE_RX, _FACE_RY = 0.50, 0.46, 0.50
_EYE_Y, _EYE_DX, _EYE_R = 0.52, 0.17, 0.05
_BROW_LOW, _BROW_HIGH, _BROW_THICK = 0.40, 0.16, 0.08  # brow centre row at AU01 = 0 and 1
_BROW_X = ((0.26, 0.45), (0.55, 0.74))
_BROW_MEASURE_X = ((0.31, 0.44), (0.56, 0.69))
_BROW_MEASURE_Y = (0.06, 0.46)
_MOUTH_Y, _MOUTH_X = 0.76, (0.32, 0.68)
_MOUTH_MIN, _MOUTH_MAX = 0.04, 0.22  # mouth height at AU26 = 0 and 1
_MOUTH_MEASURE_X = (0.36, 0.64)
_MOUTH_MEASURE_Y = (0.60, 0.93)
_CHEEK_X, _CHEEK_Y = (0.12, 0.26), (0.62, 0.72)

_BROW_RGB = np.array([40.0, 25.0, 15.0])
_MOUTH_RGB = np.array([110.0, 10.0, 30.0])


def _lum(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _span(lo: float, hi: float, n: int) -> slice:
    return slice(int(round(lo * n)), int(round(hi * n)))


def _row_coverage(n: int, top: float, bottom: float) -> np.ndarray:
    """Fraction of each pixel row (centres at 0..n-1) covered by the band [top, bottom] in px."""
    y = np.arange(n, dtype=np.float64)
    return np.clip(np.minimum(y + 0.5, bottom) - np.maximum(y - 0.5, top), 0.0, 1.0)


def draw_face(size: int, aus: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One bar face (uint8 HxWx3) with AU01 = aus[0], AU26 = aus[1]; identity drawn from rng."""
    au01, au26 = float(aus[0]), float(aus[1])
    skin = np.array([rng.uniform(170, 235), rng.uniform(125, 190), rng.uniform(95, 160)])
    background = rng.uniform(20, 255, size=3)
    eye = rng.uniform(20, 90, size=3)
    n = size
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float64)
    img = np.empty((n, n, 3), dtype=np.float64)
    img[:] = background
    inside = (((xx - (n - 1) / 2) / (_FACE_RX * n)) ** 2
              + ((yy - _FACE_CY * n) / (_FACE_RY * n)) ** 2)
    img[inside <= 1.0] = skin
    for sign in (-1, 1):
        d2 = (xx - (0.5 + sign * _EYE_DX) * n) ** 2 + (yy - _EYE_Y * n) ** 2
        img[d2 <= (_EYE_R * n) ** 2] = eye

    def bar(x_range, centre, height, colour):
        cov = _row_coverage(n, (centre - height / 2) * n, (centre + height / 2) * n)[:, None, None]
        cols = _span(*x_range, n)
        img[:, cols] = img[:, cols] * (1 - cov) + colour * cov

    brow_centre = _BROW_LOW + (_BROW_HIGH - _BROW_LOW) * au01
    for x_range in _BROW_X:
        bar(x_range, brow_centre, _BROW_THICK, _BROW_RGB)
    bar(_MOUTH_X, _MOUTH_Y, _MOUTH_MIN + (_MOUTH_MAX - _MOUTH_MIN) * au26, _MOUTH_RGB)
    img += rng.normal(0.0, 3.0, size=img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def measure(images: np.ndarray) -> np.ndarray:
    """Read (AU01, AU26) back from bar faces: uint8 (N, H, W, 3) or (H, W, 3) -> float32 (N, 2).

    Darkness of a pixel is how far its luminance has moved from the face's skin (estimated on the
    cheek) toward the bar colour. The mouth's AU is its mean dark height, the brows' the weighted
    centroid of their dark rows; both are mapped back through the drawing geometry, unclipped.
    """
    imgs = np.asarray(images, dtype=np.float64)
    if imgs.ndim == 3:
        imgs = imgs[None]
    n = imgs.shape[1]
    lum = _lum(imgs)
    skin = np.median(lum[:, _span(*_CHEEK_Y, n), _span(*_CHEEK_X, n)].reshape(len(lum), -1), axis=1)
    skin = skin[:, None, None]

    def darkness(colour):
        return np.clip((skin - lum) / np.maximum(skin - _lum(colour), 1.0), 0.0, 1.0)

    mouth = darkness(_MOUTH_RGB)[:, _span(*_MOUTH_MEASURE_Y, n), _span(*_MOUTH_MEASURE_X, n)]
    height = mouth.sum(axis=1).mean(axis=1) / n
    au26 = (height - _MOUTH_MIN) / (_MOUTH_MAX - _MOUTH_MIN)

    brow_dark = darkness(_BROW_RGB)
    rows = _span(*_BROW_MEASURE_Y, n)
    band = sum(brow_dark[:, rows, _span(*x, n)].sum(axis=2) for x in _BROW_MEASURE_X)
    y = np.arange(rows.start, rows.stop, dtype=np.float64)
    centre = (band * y).sum(axis=1) / np.maximum(band.sum(axis=1), 1e-6) / n
    au01 = (centre - _BROW_LOW) / (_BROW_HIGH - _BROW_LOW)
    return np.stack([au01, au26], axis=1).astype(np.float32)


def make_synthetic_dataset(out: str | os.PathLike, count: int = SyntheticConfig.count,
                           size: int = SyntheticConfig.size,
                           test_fraction: float = SyntheticConfig.test_fraction,
                           seed: int = SyntheticConfig.seed) -> Path:
    """Write ``count`` bar faces in ganimate's dataset format (PNG crops) and return the folder."""
    out = Path(out)
    if count < 2:
        raise GanimateError("a synthetic dataset needs at least 2 images")
    if size < 16:
        raise GanimateError("synthetic faces need at least 16 px")
    if not 0 < test_fraction < 1:
        raise GanimateError("the test fraction must lie strictly between 0 and 1")
    if (out / "meta.json").exists():
        raise GanimateError(f"{out}: already holds a dataset; choose another folder")
    rng = np.random.default_rng(seed)
    aus = rng.uniform(0.0, 1.0, size=(count, 2)).astype(np.float32)
    ids = [f"syn{i:06d}" for i in range(count)]
    (out / "images").mkdir(parents=True, exist_ok=True)
    for i, ident in enumerate(ids):
        write_image(out / "images" / f"{ident}.png", draw_face(size, aus[i], rng))
    n_test = max(1, int(round(count * test_fraction)))
    with (out / "aus.csv").open("w") as f:
        f.write("id," + ",".join(SYNTHETIC_AUS) + "\n")
        for ident, row in zip(ids, aus, strict=True):
            f.write(ident + "," + ",".join(f"{v:.4f}" for v in row) + "\n")
    (out / "train.txt").write_text("".join(i + "\n" for i in ids[:-n_test]))
    (out / "test.txt").write_text("".join(i + "\n" for i in ids[-n_test:]))
    (out / "sources.csv").write_text("id,source,frame,face\n" +
                                     "".join(f"{i},synthetic,0,0\n" for i in ids))
    (out / "rejected.csv").write_text("source,frame,reason\n")
    meta = {"format": "ganimate-dataset", "version": 1, "size": size, "image_ext": "png",
            "au_names": list(SYNTHETIC_AUS), "au_source": "synthetic",
            "created_by": f"ganimate {__version__}", "count": count, "seed": seed}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out
