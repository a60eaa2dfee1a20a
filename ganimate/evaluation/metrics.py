"""Pure metric functions on arrays with known answers: image and background change, attention,
AU error and direction accuracy, identity, frame change and flicker.

Units: image differences are mean absolute differences in 8-bit grey levels (0-255) over pixels
and channels; AU errors are on the [0, 1] intensity scale (FACS 0-5 divided by 5).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import face_ellipse

# Attention values beyond these count as saturated: A ~ 1 keeps the input pixel (the generator does
# nothing there), A ~ 0 repaints it entirely from the colour mask. A mask that is all one or all
# the other is GANimation's known failure mode.
SATURATED_HIGH = 0.99
SATURATED_LOW = 0.01


# ---------------------------------------------------------------------------------------------
# 1. Pure metrics
# ---------------------------------------------------------------------------------------------


def image_l1(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean |a - b| in 8-bit levels over the pixels where ``mask`` is true (all when None).

    ``a`` and ``b`` are uint8 HWC or NHWC arrays of one shape; ``mask`` is boolean HW or NHW. NaN
    when the mask selects no pixel.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"image shapes differ: {a.shape} vs {b.shape}")
    diff = np.abs(a.astype(np.float32) - b.astype(np.float32))
    if mask is None:
        return float(diff.mean()) if diff.size else math.nan
    mask = np.broadcast_to(np.asarray(mask, bool), diff.shape[:-1])
    picked = diff[mask]
    return float(picked.mean()) if picked.size else math.nan


def background_change(before: np.ndarray, after: np.ndarray, paste_mask: np.ndarray) -> float:
    """Mean |after - before| in 8-bit levels outside the paste mask (where the mask is exactly 0).

    ``paste_mask`` is the float [0, 1] (or boolean) mask that blends the edit in; its feathered
    border counts as inside, so a correct paste-back reports 0 here.
    """
    return image_l1(before, after, np.asarray(paste_mask) <= 0)


@dataclass(frozen=True)
class AttentionStats:
    """Summary of attention masks A (1 keeps the input pixel)."""

    mean: float  # mean of A over all pixels
    saturated: float  # share of pixels with A > SATURATED_HIGH or A < SATURATED_LOW
    near_one: float  # share with A > SATURATED_HIGH (pixels left untouched)
    near_zero: float  # share with A < SATURATED_LOW (pixels fully repainted)


def attention_stats(attention: np.ndarray) -> AttentionStats:
    """Mean and saturated shares of attention values in [0, 1] (any shape)."""
    a = np.asarray(attention, dtype=np.float64)
    if a.size == 0:
        return AttentionStats(math.nan, math.nan, math.nan, math.nan)
    high = float((a > SATURATED_HIGH).mean())
    low = float((a < SATURATED_LOW).mean())
    return AttentionStats(float(a.mean()), high + low, high, low)


@dataclass(frozen=True)
class AUError:
    """Mean absolute AU error on the [0, 1] scale, per AU and over all entries."""

    per_au: dict[str, float]
    overall: float
    count: int  # number of (edit, AU) entries that were readable


def au_mae(targets: np.ndarray, measured: np.ndarray, au_names: Sequence[str],
           reliable: Sequence[str] | None = None, weights: np.ndarray | None = None) -> AUError:
    """|measured - target| per AU and overall, over the ``reliable`` AUs only.

    ``targets`` and ``measured`` are (N, K) in ``au_names`` order; NaN entries in ``measured`` (no
    face found by the reader) are left out. ``weights`` (N, K) of 0/1 restricts which entries count
    (for example only the AU that a sweep target set).
    """
    targets = np.asarray(targets, np.float64)
    measured = np.asarray(measured, np.float64)
    if targets.shape != measured.shape or targets.ndim != 2 or targets.shape[1] != len(au_names):
        raise ValueError(f"expected two (N, {len(au_names)}) arrays, got {targets.shape} and "
                         f"{measured.shape}")
    use = np.isfinite(measured)
    if weights is not None:
        use &= np.asarray(weights, bool)
    per_au, overall, count = _per_au_means(np.abs(measured - targets), use, au_names, reliable)
    return AUError(per_au, overall, count)


def _per_au_means(values: np.ndarray, use: np.ndarray, au_names: Sequence[str],
                  reliable: Sequence[str] | None) -> tuple[dict[str, float], float, int]:
    """Mean of ``values`` (N, K) where ``use``, per AU (reliable ones only, if given) and over all
    of them pooled; NaN where nothing was usable."""
    names = list(au_names) if reliable is None else [n for n in au_names if n in set(reliable)]
    per_au: dict[str, float] = {}
    total, count = 0.0, 0
    for name in names:
        k = list(au_names).index(name)
        sel = values[use[:, k], k]
        per_au[name] = float(sel.mean()) if sel.size else math.nan
        total += float(sel.sum())
        count += int(sel.size)
    return per_au, total / count if count else math.nan, count


@dataclass(frozen=True)
class DirectionAccuracy:
    """Share of asked AU changes (|target - source| >= threshold) that moved the right way."""

    per_au: dict[str, float]
    overall: float
    count: int  # number of asked changes that were readable
    threshold: float


def direction_accuracy(sources: np.ndarray, targets: np.ndarray, measured_in: np.ndarray,
                       measured_out: np.ndarray, au_names: Sequence[str],
                       reliable: Sequence[str] | None = None,
                       threshold: float = 0.3) -> DirectionAccuracy:
    """Did each AU asked to change by at least ``threshold`` move that way?

    The asked change is ``targets - sources`` (what the generator was told: its condition minus
    the face's own label); the achieved change is ``measured_out - measured_in`` (what the AU reader
    sees on the output and on a reference), so that a constant reader bias cancels. The protocol's
    reference is the generator's own output at the face's label (its reconstruction), not the
    input: an untrained generator that blurs every face toward an average would otherwise score
    on regression to the mean. A change counts as right when it has the asked sign and is not
    zero. All arrays are (N, K) in ``au_names`` order.
    """
    sources, targets, m_in, m_out = (np.asarray(x, np.float64)
                                     for x in (sources, targets, measured_in, measured_out))
    asked = targets - sources
    moved = m_out - m_in
    use = (np.abs(asked) >= threshold - 1e-9) & np.isfinite(moved)
    right = (np.sign(moved) * np.sign(asked) > 0).astype(np.float64)
    per_au, overall, count = _per_au_means(right, use, au_names, reliable)
    return DirectionAccuracy(per_au, overall, count, threshold)


@dataclass(frozen=True)
class IdentityStats:
    """Face-embedding distances between inputs and outputs (dlib's metric, see identity.py)."""

    mean: float
    median: float
    share_under: float  # share of pairs closer than `threshold` (dlib: same person)
    threshold: float
    count: int


def identity_stats(distances: Sequence[float], threshold: float = 0.6) -> IdentityStats:
    """Summary of embedding distances; NaN entries (no face) are left out."""
    d = np.asarray(distances, np.float64)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return IdentityStats(math.nan, math.nan, math.nan, threshold, 0)
    return IdentityStats(float(d.mean()), float(np.median(d)), float((d < threshold).mean()),
                         threshold, int(d.size))


def frame_change(prev: np.ndarray, cur: np.ndarray, region: np.ndarray | None = None) -> float:
    """Mean |cur - prev| in 8-bit levels inside ``region`` (boolean HW; all pixels when None)."""
    return image_l1(prev, cur, region)


@dataclass(frozen=True)
class FlickerStats:
    """Temporal flicker inside the face region, in 8-bit levels per frame step."""

    output_change: float  # mean |frame-to-frame change| of the output
    input_change: float  # the same on the input (the motion that is really there)
    flicker: float  # output_change - input_change: what the edit adds (~0 when stable)
    steps: int  # frame pairs measured (both frames with a face)


class FlickerMeter:
    """Streaming flicker measurement: feed (input, output, face region) frame by frame.

    A step is measured between consecutive frames that both have a region; the region of the
    later frame is used for both, so the input's own motion is measured on the same pixels.
    ``region=None`` (no face in this frame) breaks the chain.
    """

    def __init__(self) -> None:
        self._prev: tuple[np.ndarray, np.ndarray] | None = None
        self._out_sum = 0.0
        self._in_sum = 0.0
        self._steps = 0

    def update(self, frame_in: np.ndarray, frame_out: np.ndarray,
               region: np.ndarray | None) -> None:
        if frame_in.shape != frame_out.shape:
            raise GanimateError(
                f"input and output frames differ in size ({frame_in.shape[1]}x{frame_in.shape[0]}"
                f" vs {frame_out.shape[1]}x{frame_out.shape[0]}); compare a video with its own edit"
            )
        if region is None or not np.any(region):
            self._prev = None
            return
        if self._prev is not None:
            prev_in, prev_out = self._prev
            self._in_sum += frame_change(prev_in, frame_in, region)
            self._out_sum += frame_change(prev_out, frame_out, region)
            self._steps += 1
        self._prev = (frame_in, frame_out)

    def result(self) -> FlickerStats:
        if self._steps == 0:
            return FlickerStats(math.nan, math.nan, math.nan, 0)
        out_c = self._out_sum / self._steps
        in_c = self._in_sum / self._steps
        return FlickerStats(out_c, in_c, out_c - in_c, self._steps)


def face_region_mask(size: int) -> np.ndarray:
    """Boolean (size, size) mask of the face in an aligned crop: ``align.face_ellipse``.

    The ellipse runs through the forehead top, the chin and the face sides of ganimate's canonical
    framing, so hair, ears, neck and background lie outside it. Used to measure how much the raw
    generator output changes outside the face.
    """
    (cx, cy), (rx, ry) = face_ellipse(size)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    return ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0


def finite_mean(values: Sequence[float]) -> float:
    """The mean of the finite values; NaN when there are none."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else math.nan
