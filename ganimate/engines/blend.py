"""Paste edited face crops back into full-resolution frames, without seams.

An edited crop is warped back through its crop's ``to_frame`` transform (crop pixel -> frame
pixel) and mixed with the frame under a soft weight, built in crop space from two parts:

- the **change weight** ``1 - A``, from the generator's attention mask A (A = 1 means "keep the
  input pixel"), lightly smoothed: pixels the generator did not change keep the frame's own,
  full-resolution pixel instead of a twice-resampled copy of it;
- the **face region**: the convex hull of the face's mesh landmarks in the crop (or, without
  landmarks, the canonical face ellipse of :func:`ganimate.faces.align.face_ellipse`), grown or
  shrunk a little, kept away from the crop's border, and feathered with a Gaussian, so neither the
  region's edge nor the crop's border ever shows as a seam.

Only the bounding box of the weight's footprint in the frame is touched; every pixel where the
weight is 0, in particular everything outside that footprint, is bit-identical to the input.
Several faces are pasted one after the other. Frames are RGB: callers keep an alpha channel aside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ganimate.engines.config import BlendConfig
from ganimate.faces import FaceCrop, apply_transform, face_ellipse, invert_transform

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn).

# Landmarks the face region is built from: the 468 mesh points (the irises add nothing to a hull).
_MESH_POINTS = 468


def _gaussian(mask: np.ndarray, sigma_px: float) -> np.ndarray:
    import cv2

    if sigma_px <= 0:
        return mask
    return cv2.GaussianBlur(mask, (0, 0), sigmaX=sigma_px, sigmaY=sigma_px,
                            borderType=cv2.BORDER_CONSTANT)


def face_mask(size: int, landmarks: np.ndarray | None = None,
              config: BlendConfig = BlendConfig()) -> np.ndarray:
    """Feathered face-region weight in crop space: float32 (size, size) in [0, 1].

    It is 0 on and near the crop's border (so the crop's edge can never show), 1 well inside the
    face and falls off smoothly in between.
    """
    import cv2

    sigma = config.feather * size
    # Supersampled polygon fill: sub-pixel accurate outlines for small crops.
    ss = 4
    big = np.zeros((size * ss, size * ss), np.uint8)
    if landmarks is not None and config.region == "hull":
        pts = np.asarray(landmarks, dtype=np.float64)[:_MESH_POINTS, :2]
        hull = cv2.convexHull(((pts + 0.5) * ss).astype(np.float32)).reshape(-1, 2)
        cv2.fillConvexPoly(big, np.round(hull).astype(np.int32), 255, lineType=cv2.LINE_8)
    else:
        (cx, cy), (ax, ay) = face_ellipse(size)
        cv2.ellipse(big, (round((cx + 0.5) * ss), round((cy + 0.5) * ss)),
                    (round(ax * ss), round(ay * ss)), 0, 0, 360, 255, thickness=-1)
    region = cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    grow_px = config.grow * size
    if abs(grow_px) >= 0.5:
        k = int(round(abs(grow_px)))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
        region = (cv2.dilate if grow_px > 0 else cv2.erode)(region, kernel)
    # Keep the binary region 3 sigma + 1 px away from the crop's border: after feathering the
    # weight there is below 0.2 %, and we then cut it to exactly 0.
    margin = int(np.ceil(3 * sigma)) + 1
    if 2 * margin < size:
        inner = np.zeros_like(region)
        inner[margin:size - margin, margin:size - margin] = 1
        region *= inner
    mask = _gaussian(region, sigma)
    # Within half a grey level of 0 or 1: exactly 0 (the frame stays identical) or 1.
    mask[mask < 1 / 512] = 0
    mask[mask > 1 - 1 / 512] = 1
    mask[:1, :] = mask[-1:, :] = 0
    mask[:, :1] = mask[:, -1:] = 0
    return np.clip(mask, 0, 1).astype(np.float32)


def change_weight(attention: np.ndarray, config: BlendConfig = BlendConfig()) -> np.ndarray:
    """1 - A, smoothed: float32 (H, W) in [0, 1]. ``attention``: float in [0, 1] or uint8."""
    a = np.asarray(attention)
    if a.ndim == 3 and a.shape[-1] in (1, 3):
        a = a[..., 0]
    if a.ndim != 2:
        raise ValueError(f"attention: expected (H, W) or (H, W, 1), got {a.shape}")
    a = a.astype(np.float32) / 255 if a.dtype == np.uint8 else a.astype(np.float32)
    w = 1.0 - np.clip(a, 0.0, 1.0)
    return np.clip(_gaussian(w, config.attention_blur * a.shape[0]), 0, 1).astype(np.float32)


def blend_weight(crop: FaceCrop, attention: np.ndarray | None = None,
                 config: BlendConfig = BlendConfig()) -> np.ndarray:
    """The crop-space weight of the edited crop: face region x change weight, (size, size)."""
    region = face_mask(crop.size, crop.landmarks, config)
    if attention is None or not config.use_attention:
        return region
    change = change_weight(attention, config)
    if change.shape != region.shape:
        raise ValueError(f"attention is {change.shape}, the crop is {region.shape}")
    return region * change


def footprint(to_frame: np.ndarray, weight: np.ndarray, frame_size: tuple[int, int]
              ) -> tuple[int, int, int, int] | None:
    """Frame box (x0, y0, x1, y1), end-exclusive, that the weight's non-zero part maps into.

    ``frame_size`` is (width, height). None when the weight is all 0 or falls outside the frame.
    """
    ys, xs = np.nonzero(weight)
    if len(xs) == 0:
        return None
    x_lo, x_hi, y_lo, y_hi = xs.min() - 1, xs.max() + 1, ys.min() - 1, ys.max() + 1
    corners = np.array([[x_lo, y_lo], [x_hi, y_lo], [x_lo, y_hi], [x_hi, y_hi]], np.float64)
    pts = apply_transform(to_frame, corners)
    w, h = frame_size
    x0 = max(int(np.floor(pts[:, 0].min())), 0)
    y0 = max(int(np.floor(pts[:, 1].min())), 0)
    x1 = min(int(np.ceil(pts[:, 0].max())) + 1, w)
    y1 = min(int(np.ceil(pts[:, 1].max())) + 1, h)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def _check_frame(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(
            f"expected a uint8 HxWx3 RGB frame, got {frame.dtype} {frame.shape} (keep an alpha "
            "channel aside and pass RGB)"
        )
    return frame


def paste_back(frame: np.ndarray, edited: np.ndarray, to_frame: np.ndarray,
               weight: np.ndarray, out: np.ndarray | None = None,
               original: np.ndarray | None = None) -> np.ndarray:
    """Mix ``edited`` (an N x N crop) into ``frame`` under ``weight`` (N x N, crop space).

    With ``original`` (the crop as it was cut), only the change ``edited - original`` is warped
    and added to the frame's own pixels (``BlendConfig.residual``). Returns a new frame (or writes
    into ``out``, which may be ``frame`` itself). Pixels whose warped weight is 0 are left exactly
    as they are.
    """
    import cv2

    frame = _check_frame(frame)
    edited = np.asarray(edited)
    n = edited.shape[0]
    if edited.dtype != np.uint8 or edited.shape != (n, n, 3) or weight.shape != (n, n):
        raise ValueError(f"edited crop must be uint8 NxNx3 with an NxN weight; got "
                         f"{edited.dtype} {edited.shape} and {weight.shape}")
    if out is None:
        out = frame.copy()
    elif out is not frame:
        out[...] = frame
    h, w = frame.shape[:2]
    box = footprint(to_frame, weight, (w, h))
    if box is None:
        return out
    to_frame = np.asarray(to_frame, dtype=np.float64)
    src, wsrc = edited, weight.astype(np.float32)
    if original is not None:
        src = edited.astype(np.float32) - original.astype(np.float32)
    scale = float(np.sqrt(abs(np.linalg.det(to_frame[:, :2]))))  # frame px per crop px
    if scale < 2 / 3:
        # Shrinking: bilinear sampling would alias, so area-resize first to ~1.5x the target.
        m = max(8, int(np.ceil(n * scale * 1.5)))
        src = cv2.resize(src, (m, m), interpolation=cv2.INTER_AREA)
        wsrc = cv2.resize(wsrc, (m, m), interpolation=cv2.INTER_AREA)
        f = n / m  # small-crop pixel x' -> crop pixel (x' + 0.5) f - 0.5
        pre = np.array([[f, 0, 0.5 * f - 0.5], [0, f, 0.5 * f - 0.5], [0, 0, 1]])
        to_frame = (np.vstack([to_frame, [0, 0, 1]]) @ pre)[:2]
    x0, y0, x1, y1 = box
    # Frame ROI pixel (u, v) is frame pixel (x0 + u, y0 + v); map it into the crop.
    to_crop = invert_transform(to_frame)
    m_roi = to_crop.copy()
    m_roi[:, 2] += to_crop[:, :2] @ np.array([x0, y0], np.float64)
    size = (x1 - x0, y1 - y0)
    flags = (cv2.INTER_CUBIC if scale > 1.25 else cv2.INTER_LINEAR) | cv2.WARP_INVERSE_MAP
    patch = cv2.warpAffine(src, m_roi, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    wpatch = cv2.warpAffine(wsrc, m_roi, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    wpatch = np.clip(wpatch, 0, 1)[..., None]
    roi = out[y0:y1, x0:x1]
    base = frame[y0:y1, x0:x1].astype(np.float32)
    change = patch if original is not None else patch.astype(np.float32) - base
    mixed = base + wpatch * change
    # Where the weight is 0 this is exactly the input value again.
    roi[...] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return out


def paste_face(frame: np.ndarray, crop: FaceCrop, edited: np.ndarray,
               attention: np.ndarray | None = None, config: BlendConfig = BlendConfig(),
               out: np.ndarray | None = None) -> np.ndarray:
    """Paste one edited crop back into the frame it was cut from (see the module docstring)."""
    original = crop.image if config.residual else None
    return paste_back(frame, edited, crop.to_frame, blend_weight(crop, attention, config), out,
                      original)


@dataclass
class FaceEdit:
    """One face to paste: its crop (transform, landmarks), the edited crop, the attention mask."""

    crop: FaceCrop
    edited: np.ndarray  # uint8 (size, size, 3)
    attention: np.ndarray | None = None  # float (size, size) in [0, 1]; 1 = input kept


def paste_faces(frame: np.ndarray, edits: Sequence[FaceEdit],
                config: BlendConfig = BlendConfig()) -> np.ndarray:
    """Paste several faces into one frame, one after the other; returns a new frame."""
    out = _check_frame(frame).copy()
    for e in edits:
        paste_face(out, e.crop, e.edited, e.attention, config, out=out)
    return out


def keep_in_front(original: np.ndarray, edited: np.ndarray, hands) -> np.ndarray:
    """``edited`` with ``original``'s pixels back wherever ``hands``
    (:class:`ganimate.faces.hands.Hand`) cover the frame: a hand over the face stays as it was,
    in front of the edit (in place; ``edited`` is returned). Where no hand is, nothing changes."""
    from ganimate.faces.hands import occluder_mask

    if not hands or edited is original:
        return edited
    h, w = edited.shape[:2]
    boxes = np.array([hand.box(0.5 * hand.palm_width) for hand in hands])
    x0, y0 = np.maximum(np.floor(boxes[:, :2].min(axis=0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(boxes[:, 2:].max(axis=0)).astype(int) + 1, [w, h])
    if x0 >= x1 or y0 >= y1:
        return edited
    mask = occluder_mask(tuple(hands), (int(x0), int(y0), int(x1), int(y1)))
    if mask is None:
        return edited
    a = mask[..., None]
    roi = edited[y0:y1, x0:x1]
    mixed = roi.astype(np.float32) * (1 - a) + original[y0:y1, x0:x1].astype(np.float32) * a
    roi[...] = np.clip(np.rint(mixed), 0, 255).astype(edited.dtype)
    return edited
