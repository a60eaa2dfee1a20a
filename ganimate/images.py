"""Image files and the two crossings between image arrays and tensors.

Images are ``uint8`` HWC RGB arrays. Tensors are float BCHW in [-1, 1]. :func:`to_tensor` and
:func:`to_image` are the only places that convert between the two.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.files import atomic_path

# Imported in the functions that use them, on purpose (start-up): PIL (where files are decoded),
# torch (2 s: only where a network runs).

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


@dataclass
class Photo:
    """A decoded photo, upright (EXIF orientation applied)."""

    rgb: np.ndarray  # uint8 HxWx3
    alpha: np.ndarray | None  # uint8 HxW, or None when the file has no alpha channel
    path: Path

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]


# Larger images are refused before they are decoded (PIL's own guard ends in a traceback); the
# CLI's --max-megapixels raises it for a trusted file.
DEFAULT_MAX_PIXELS = 180_000_000
_max_pixels = DEFAULT_MAX_PIXELS

GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")


def set_max_pixels(pixels: int) -> None:
    """The largest image (width x height) that the readers decode."""
    global _max_pixels
    _max_pixels = int(pixels)


def _check_size(im, path: Path) -> None:
    w, h = im.size
    if w * h > _max_pixels:
        raise GanimateError(
            f"{path}: {w}x{h} is {w * h / 1e6:.0f} megapixels, over the limit of "
            f"{_max_pixels / 1e6:.0f} (a guard against decompression bombs); shrink the image, "
            f"or if you trust the file pass --max-megapixels {int(w * h / 1e6) + 1}"
        )


def _to_8bit(im):
    """Any PIL mode -> an 8-bit mode that converts to RGB(A) faithfully: 16/32-bit integer and
    float greyscale are scaled by their range, not clipped (PIL would turn them white)."""
    from PIL import Image

    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        a = np.asarray(im, dtype=np.float64)
        if im.mode.startswith("I;16"):
            top = 65535.0
        elif im.mode == "F" and a.size and a.max() <= 1.0:
            top = 1.0
        else:  # 32-bit ints: 16-bit PNGs come in as I; 8-bit values stay as they are
            peak = float(a.max()) if a.size else 0.0
            top = 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else peak
        a = np.clip(np.round(a * (255.0 / top)), 0, 255).astype(np.uint8)
        return Image.fromarray(a, "L")
    if im.mode == "CMYK":
        return im.convert("RGB")
    return im


def is_greyscale(path: str | os.PathLike) -> bool:
    """Whether an image file stores one grey channel (with or without alpha); reads its header."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.mode in GREY_MODES
    except (OSError, ValueError):
        return False


def photo_of(im, path: Path) -> Photo:
    """A decoded PIL image's pixels as a :class:`Photo` (as they are: no EXIF turn): every mode
    read, 16-bit and float greyscale scaled to 8 bits, palettes and CMYK converted, alpha kept
    aside."""
    has_alpha = im.mode in ("RGBA", "RGBa", "LA", "La", "PA") or (
        im.mode == "P" and "transparency" in im.info
    )
    if has_alpha:
        rgba = np.asarray(im.convert("RGBA"))
        return Photo(np.ascontiguousarray(rgba[..., :3]), rgba[..., 3].copy(), path)
    return Photo(np.asarray(_to_8bit(im).convert("RGB")).copy(), None, path)


def read_photo(path: str | os.PathLike) -> Photo:
    """Decode an image file into an upright RGB array (plus alpha if it has one).

    Every PIL mode is read: 16-bit and float greyscale are scaled to 8 bits, palettes and CMYK
    converted; images over the pixel limit (:func:`set_max_pixels`) are refused before decoding.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise GanimateError(f"{path}: no such file")
    Image.MAX_IMAGE_PIXELS = None  # the check below replaces PIL's warning and traceback
    try:
        with Image.open(path) as im:
            _check_size(im, path)
            im = ImageOps.exif_transpose(im)
            im.load()
            return photo_of(im, path)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise GanimateError(
            f"{path}: cannot decode image ({exc}); is it a complete JPEG/PNG file?"
        ) from exc


def read_rgb(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file into an upright uint8 HxWx3 RGB array (alpha dropped)."""
    return read_photo(path).rgb


def write_image(path: str | os.PathLike, rgb: np.ndarray, alpha: np.ndarray | None = None,
                quality: int = 95, grey: bool = False) -> Path:
    """Write an image atomically (temp file, then rename); the format follows the extension.

    Alpha is kept for formats that can store it (PNG, WebP, TIFF) and dropped for JPEG. ``grey``
    stores one luminance channel (for greyscale inputs: no colour fringes come back).
    """
    from PIL import Image

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise GanimateError(
            f"{path}: unknown image format {suffix!r}; use one of {', '.join(IMAGE_SUFFIXES)}"
        )
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected uint8 HxWx3, got {rgb.dtype} {rgb.shape}")
    if alpha is not None and suffix not in (".jpg", ".jpeg", ".bmp"):
        im = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    else:
        im = Image.fromarray(rgb, "RGB")
    if grey:
        im = im.convert("LA" if im.mode == "RGBA" else "L")
    fmt = Image.registered_extensions()[suffix]
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    with atomic_path(path, suffix=suffix) as tmp:
        im.save(tmp, format=fmt, **options)
    return path


def to_tensor(images: np.ndarray):
    """uint8 HWC (one image) or NHWC (a batch) -> float32 BCHW tensor in [-1, 1]."""
    import torch

    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"expected uint8 HWC/NHWC RGB, got {arr.dtype} {arr.shape}")
    t = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2).float()
    return t.div_(127.5).sub_(1.0)


def to_image(tensor) -> np.ndarray:
    """float BCHW (or CHW) tensor in [-1, 1] -> uint8 NHWC (or HWC) array, rounded and clipped.

    One-channel tensors (attention masks in [0, 1] mapped to [-1, 1] by the caller) come out as
    three identical channels so that every image array stays RGB.
    """
    import torch

    t = tensor.detach().float().cpu()
    single = t.ndim == 3
    if single:
        t = t[None]
    if t.shape[1] == 1:
        t = t.expand(-1, 3, -1, -1)
    arr = ((t.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    out = arr.permute(0, 2, 3, 1).contiguous().numpy()
    return out[0] if single else out
