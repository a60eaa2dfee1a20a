"""An open mouth that the edit narrows (:class:`ganimate.engines.mouth.MouthConfig`'s
``redraw_dark`` and ``seal_below``; docs/engines.md).

A mouth already open keeps what the field reads from inside it (:mod:`ganimate.engines.mouth`).
Where the edit narrows it, a smooth field squeezes instead: a dark cavity became a dark slit
between crumpled lips, lips pushed together crossed in a jagged zig-zag, and the cavity was read
into the lips beside the seam. Here: a dark open mouth is drawn anew between the moved lips
(:func:`narrows_dark_mouth`); lips nearly closed are laid on one smooth seam, each moved as a whole
(:func:`seal_weight`, :func:`seal_lips`); and pixels outside the sealed opening that read the
photo's cavity read their lip's edge instead (:func:`fold_cavity`). A closed mouth is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganimate.engines.mouth import (
    INNER_LIPS,
    OUTER_LIPS,
    MouthConfig,
    _increasing,
    _mouth_box,
    gap_of,
    own_teeth_lab,
    smoothstep,
    teeth_split,
)

# MediaPipe's outer lip contours (corner to corner) and how far each follows its inner edge when
# :func:`seal_lips` moves it.
_OUTER_UPPER = OUTER_LIPS[:11]
_OUTER_LOWER = OUTER_LIPS[10:] + OUTER_LIPS[:1]
_CARRY = 0.8
# The inner lips' upper and lower halves, corner to corner (indices into ``INNER_LIPS``).
_UPPER, _LOWER = np.arange(0, 11), np.r_[10:20, 0]
# Overlap of a closed mouth's moved lips (IOD) below which :func:`press_weight` is 0: the
# tracker's own (neutral London faces' lips cross by up to 0.003 IOD as they are).
_PRESS_FROM = 0.005


def narrows_dark_mouth(frame: np.ndarray, landmarks: np.ndarray, shifts: np.ndarray,
                       scale: float, skin_l: float, config: MouthConfig = MouthConfig()) -> bool:
    """Whether a photo's mouth is open, shows no teeth of its own (a dark cavity) and the edit
    narrows it (:attr:`MouthConfig.redraw_dark`): then its opening is drawn anew."""
    if config.redraw_dark <= 0:
        return False
    src = np.asarray(landmarks, np.float64)[list(INNER_LIPS), :2]
    dest = src + np.asarray(shifts, np.float64)[list(INNER_LIPS)]
    gap = gap_of(src) / scale
    if gap < config.open_at or gap_of(dest) / scale > gap - config.min_part:
        return False
    own = own_teeth_lab(frame, src, teeth_split(frame, src))
    return own is None or float(own[0]) < config.redraw_dark * skin_l


def seal_weight(landmarks: np.ndarray, shifts: np.ndarray, scale: float,
                config: MouthConfig = MouthConfig()) -> float:
    """How far (0-1) the edit seals the lips (:attr:`MouthConfig.seal_below`): an open mouth
    (fading in from ``open_from`` to ``open_at`` IOD) narrowed below ``seal_below`` (in full at
    half of it); 0 for a mouth closed already or one that stays open."""
    if config.seal_below <= 0:
        return 0.0
    src = np.asarray(landmarks, np.float64)[list(INNER_LIPS), :2]
    dest = src + np.asarray(shifts, np.float64)[list(INNER_LIPS)]
    return float(smoothstep((gap_of(src) / scale - config.open_from)
                            / (config.open_at - config.open_from))
                 * smoothstep(2.0 - 2.0 * (gap_of(dest) / scale) / config.seal_below))


def lay_lips(landmarks: np.ndarray, shifts: np.ndarray, scale: float,
             config: MouthConfig = MouthConfig()) -> tuple[np.ndarray, float]:
    """(``shifts`` with the lips laid on one seam where the edit seals an open mouth or presses
    a closed one's lips past each other, the open mouth's seal weight: what
    :func:`fold_cavity` folds by; a closed mouth has no cavity to fold)."""
    sealing = seal_weight(landmarks, shifts, scale, config)
    pressing = press_weight(landmarks, shifts, scale, config)
    return seal_lips(landmarks, shifts, scale, config, max(sealing, pressing)), sealing


def press_weight(landmarks: np.ndarray, shifts: np.ndarray, scale: float,
                 config: MouthConfig = MouthConfig()) -> float:
    """How far (0-1) the edit presses a closed mouth's lips past each other
    (:attr:`MouthConfig.press_cross`): a mouth closed in the photo (inner lips less than
    ``open_from`` IOD apart) whose moved upper inner lip runs below the lower one, from 0.005
    IOD of overlap (the tracker's own noise) to ``press_cross`` IOD. ``sad`` on the 26 held-out
    neutral faces crossed them by 0.064 IOD (median; up to 0.15): a smooth field folds there,
    and the lips showed a wavy, zig-zag seam. 0 for an open mouth (:func:`seal_weight`) and
    for lips that do not cross."""
    if config.press_cross <= 0:
        return 0.0
    src = np.asarray(landmarks, np.float64)[list(INNER_LIPS), :2]
    if gap_of(src) / scale >= config.open_from:
        return 0.0
    dest = src + np.asarray(shifts, np.float64)[list(INNER_LIPS)]
    overlap = lip_overlap(dest) / scale
    return float(smoothstep((overlap - _PRESS_FROM)
                            / max(config.press_cross - _PRESS_FROM, 1e-6)))


def lip_overlap(inner: np.ndarray) -> float:
    """How far (px) the upper inner lip (``INNER_LIPS`` order, 20 points) runs below the lower
    one at most, square to the line through the corners, over the middle 80% of the mouth; <= 0
    where they do not cross."""
    frame = _MouthFrame.of(inner)
    xs = np.linspace(0.1 * frame.width, 0.9 * frame.width, 33)
    return float(np.max(frame.lip_y(_UPPER, xs) - frame.lip_y(_LOWER, xs)))


@dataclass(frozen=True)
class _MouthFrame:
    """The mouth's own frame of 20 inner-lip points (``INNER_LIPS`` order): x along the line
    through the corners (from the first), y square to it (down); px."""

    origin: np.ndarray
    along: np.ndarray
    down: np.ndarray
    width: float
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def of(cls, inner: np.ndarray) -> _MouthFrame:
        origin, axis = inner[0], inner[10] - inner[0]
        width = max(float(np.linalg.norm(axis)), 1e-6)
        along = axis / width
        down = np.array([-along[1], along[0]])
        return cls(origin, along, down, width, (inner - origin) @ along, (inner - origin) @ down)

    def lip_y(self, lip: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """The ``lip`` (indices of the points, corner to corner) line's y at ``xs``."""
        return np.interp(xs, *_increasing(np.stack([self.x[lip], self.y[lip]], axis=1)))


def seal_lips(landmarks: np.ndarray, shifts: np.ndarray, scale: float,
              config: MouthConfig = MouthConfig(), weight: float | None = None) -> np.ndarray:
    """``shifts`` (468, 2) with the inner lips of an open mouth that the edit narrows laid on
    one smooth seam, by :func:`seal_weight` (``weight`` if given); unchanged elsewhere, and
    wholly for a mouth that is closed already or stays open."""
    if weight is None:
        weight = seal_weight(landmarks, shifts, scale, config)
    if weight <= 0:
        return shifts
    idx = list(INNER_LIPS)
    src = np.asarray(landmarks, np.float64)[idx, :2]
    dest = src + np.asarray(shifts, np.float64)[idx]
    moved_gap = gap_of(dest) / scale
    frame = _MouthFrame.of(dest)  # the moved mouth's own frame
    x, y, upper, lower = frame.x, frame.y, _UPPER, _LOWER
    lower_y, upper_y = frame.lip_y(lower, x[upper]), frame.lip_y(upper, x[lower])
    mid_x = np.r_[x[upper], x[lower]]
    mid_y = np.r_[(y[upper] + lower_y) / 2, (y[lower] + upper_y) / 2]
    seam = np.polyval(np.polyfit(mid_x, mid_y, 2), x)
    t = np.clip(x / frame.width, 0.0, 1.0)
    half = 0.5 * max(moved_gap, 0.0) * scale * 4 * t * (1 - t)  # a lens, 0 at the corners
    side = np.where(np.isin(np.arange(20), upper[1:-1]), -1.0, 1.0)
    side[[0, 10]] = 0.0
    target_y = seam + side * half
    sealed = frame.origin + np.outer(x, frame.along) + np.outer(target_y, frame.down)
    out = np.array(shifts, dtype=np.float64, copy=True)
    out[idx] += weight * (sealed - dest)
    # each lip comes along as a whole (its outer edge by ``carry`` of its inner edge's move): with
    # the outer edges left where they were, a gaping mouth sealed stretched its lips to twice
    # their height
    moved = weight * (target_y - y)
    pts = np.asarray(landmarks, np.float64)[:len(shifts), :2] + np.asarray(shifts, np.float64)
    for outer, inner in ((_OUTER_UPPER, upper), (_OUTER_LOWER, lower)):
        ox = (pts[list(outer)] - frame.origin) @ frame.along
        order = np.argsort(x[inner])
        out[list(outer)] += np.outer(_CARRY * np.interp(ox, x[inner][order], moved[inner][order]),
                                     frame.down)
    return out


def fold_cavity(field, landmarks: np.ndarray, shifts: np.ndarray, scale: float,
                weight: float, margin: float = 0.0) -> None:
    """Lips that the edit seals meet: where a pixel outside the moved (sealed) opening reads
    the photo's own cavity, it reads the edge of the lip it is on instead (just inside the
    upper inner lip above the seam, the lower one below), by ``weight`` (:func:`seal_weight`);
    ``field``'s dy is changed in place. A smooth field cannot fold: squeezing a gaping mouth
    shut, it read the cavity into the lips beside the seam (dark blobs in the upper lip, `-e sad`
    on a surprised face). ``margin`` (IOD, :attr:`MouthConfig.fold_margin`): how far the cavity
    reaches beyond the inner-lip line."""
    if weight <= 0 or field is None:
        return
    idx = list(INNER_LIPS)
    src = np.asarray(landmarks, np.float64)[idx, :2]
    dest = src + np.asarray(shifts, np.float64)[idx]
    box = _mouth_box(src, dest, field)
    if box is None:
        return
    x0, y0, x1, y1 = box
    pad = int(0.1 * scale)
    fx1, fy1 = field.x0 + field.dx.shape[1], field.y0 + field.dx.shape[0]
    x0, y0 = max(x0 - pad, field.x0), max(y0 - pad, field.y0)
    x1, y1 = min(x1 + pad, fx1), min(y1 + pad, fy1)
    rows, cols = np.s_[y0 - field.y0:y1 - field.y0], np.s_[x0 - field.x0:x1 - field.x0]
    xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    rx, ry = xs + field.dx[rows, cols], ys + field.dy[rows, cols]
    upper, lower = src[:11], src[[10, *range(11, 20), 0]]
    top, bottom = (np.interp(rx, *_increasing(c)) for c in (upper, lower))
    reach = margin * scale
    top, bottom = top - reach, bottom + reach
    inside = ((rx > src[:, 0].min() - reach) & (rx < src[:, 0].max() + reach)
              & (ry > top) & (ry < bottom))
    m_top, m_bottom = (np.interp(xs, *_increasing(c)) for c in (dest[:11],
                                                                dest[[10, *range(11, 20), 0]]))
    lens = (ys > m_top) & (ys < m_bottom)
    above = ys < 0.5 * (m_top + m_bottom)
    # a little into the lip (0.02 IOD): a tracker's inner-lip line can run a pixel or two inside
    # the mouth, over teeth just under the lip
    into = 0.02 * scale
    edge = np.where(above, top - into, bottom + into)
    fix = inside & ~lens
    dy = field.dy[rows, cols]
    dy[fix] += (weight * (edge - ry)[fix]).astype(dy.dtype)
