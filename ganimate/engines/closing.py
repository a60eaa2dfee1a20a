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

from ganimate.engines.masks import smoothstep
from ganimate.engines.mouth import (
    MouthConfig,
    MouthMemory,
    _increasing,
    _mouth_box,
    gap_of,
    own_teeth_lab,
    teeth_split,
)
from ganimate.faces.measures import INNER_LIPS, OUTER_LIPS

# MediaPipe's outer lip contours (corner to corner) and how far each follows its inner edge when
# :func:`seal_lips` moves it.
_OUTER_UPPER = OUTER_LIPS[:11]
_OUTER_LOWER = OUTER_LIPS[10:] + OUTER_LIPS[:1]
_CARRY = 0.8
# The AUs that part the lips.
_PARTING = ("AU25", "AU26", "AU27")
# MediaPipe's points inside the lips, between those contours (two rings on each lip).
_LIP_BODY = (11, 12, 15, 16, 38, 41, 42, 62, 72, 73, 74, 76, 77, 85, 86, 89, 90, 96, 179, 180,
             183, 184, 268, 271, 272, 292, 302, 303, 304, 306, 307, 315, 316, 319, 320, 325, 403,
             404, 407, 408)
# The inner lips' upper and lower halves, corner to corner (indices into ``INNER_LIPS``).
_UPPER, _LOWER = np.arange(0, 11), np.r_[10:20, 0]
# Overlap of a closed mouth's moved lips (IOD) below which :func:`press_weight` is 0: the
# tracker's own (neutral London faces' lips cross by up to 0.003 IOD as they are).
_PRESS_FROM = 0.005


def _inner(landmarks: np.ndarray, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inner lips (``INNER_LIPS`` order, px): in the photo, and as ``shifts`` move them."""
    src = np.asarray(landmarks, np.float64)[list(INNER_LIPS), :2]
    return src, src + np.asarray(shifts, np.float64)[list(INNER_LIPS)]


def narrows_dark_mouth(frame: np.ndarray, landmarks: np.ndarray, shifts: np.ndarray,
                       scale: float, skin_l: float, config: MouthConfig = MouthConfig()) -> bool:
    """Whether a photo's mouth is open, shows no teeth of its own (a dark cavity) and the edit
    narrows it (:attr:`MouthConfig.redraw_dark`): then its opening is drawn anew."""
    if config.redraw_dark <= 0:
        return False
    src, dest = _inner(landmarks, shifts)
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
    _, dest = _inner(landmarks, shifts)
    return _opened(landmarks, scale, config) * float(
        smoothstep(2.0 - 2.0 * (gap_of(dest) / scale) / config.seal_below))


def lay_lips(landmarks: np.ndarray, shifts: np.ndarray, scale: float,
             config: MouthConfig = MouthConfig(), shut: float = 0.0,
             closes: float = 0.0, bared: float = 0.0, closed: float | None = None
             ) -> tuple[np.ndarray, float]:
    """(``shifts`` with the lips laid on one seam where the edit seals an open mouth or presses
    a closed one's lips past each other, the open mouth's seal weight: what
    :func:`fold_cavity` folds by; a closed mouth has no cavity to fold). ``shut``, ``closes``
    (:func:`shut_of`): how much the target asks for lips that meet, and to part them less than
    the face does: with :attr:`MouthConfig.seal_shut`, an open mouth asked to close is sealed
    with no lens, however far the edit's own move leaves its lips apart, and a closed one the
    edit parts all the same is laid on one seam. A mouth the edit opens wide has its lower lip
    rounded (:func:`round_lips`, ``closed``), less as the target ``bared`` the lower teeth."""
    sealing = seal_weight(landmarks, shifts, scale, config)
    pressing = press_weight(landmarks, shifts, scale, config)
    forced, parted = forced_seal(landmarks, scale, config, shut, closes), 0.0
    if config.seal_shut and shut > 0:
        opened = _opened(landmarks, scale, config)
        # a closed mouth that the edit parts all the same (relaxing a closed smile parted London
        # 092's and 172's lips by 0.014 and 0.028 IOD under `neutral`: a line of drawn teeth)
        _, dest = _inner(landmarks, shifts)
        parted = shut * (1.0 - opened) * float(smoothstep(
            (gap_of(dest) / scale - _PRESS_FROM) / max(config.min_part - _PRESS_FROM, 1e-6)))
    sealing = max(sealing, forced)
    laid = seal_lips(landmarks, shifts, scale, config, max(sealing, pressing, parted),
                     1.0 - max(forced, parted))
    return round_lips(landmarks, laid, scale, config, 1.0 - bared, closed), sealing


def forced_seal(landmarks: np.ndarray, scale: float, config: MouthConfig, shut: float,
                closes: float) -> float:
    """How far (0-1) an open mouth is sealed because the target asks for lips that meet
    (:attr:`MouthConfig.seal_shut`; ``shut``, ``closes``: :func:`shut_of`): its lips then meet
    with no lens, and nothing is painted between them."""
    if not config.seal_shut or shut <= 0:
        return 0.0
    return shut * closes * _opened(landmarks, scale, config)


def shut_of(y_r: np.ndarray, y_g: np.ndarray, au_names) -> tuple[float, float]:
    """(How much a target ``y_g`` asks for lips that meet: 1 where its AU25, AU26 and AU27 are
    all 0, 0 from 0.3 of any of them, as `neutral`; how much it parts them less than the face's
    own ``y_r``: 0 for an edit that leaves them, 1 from 0.1 less.)"""
    names = list(au_names)
    if not any(a in names for a in _PARTING):
        return 0.0, 0.0

    def most(y):
        return max((float(y[names.index(a)]) for a in _PARTING if a in names), default=0.0)

    return (1.0 - float(smoothstep(most(y_g) / 0.3)),
            float(smoothstep((most(y_r) - most(y_g)) / 0.1)))


def wants_open(y_g: np.ndarray, au_names) -> float:
    """How much the target asks for parted lips (AU25 0 -> 0.3: none -> fully)."""
    if "AU25" not in au_names:
        return 0.0
    return float(smoothstep(float(y_g[list(au_names).index("AU25")]) / 0.3))


def lips_of(y_r: np.ndarray, y_g: np.ndarray, au_names, memory: MouthMemory | None = None
            ) -> tuple[float, float, float, float | None]:
    """:func:`shut_of`'s two, how much the target bares the lower teeth (AU16, all of it from
    0.3), and a video track's closedness (None: a photo): what :func:`lay_lips` takes."""
    names = list(au_names)
    bared = (float(smoothstep(float(y_g[names.index("AU16")]) / 0.3)) if "AU16" in names
             else 0.0)
    return (*shut_of(y_r, y_g, au_names), bared, None if memory is None else memory.closedness)


def _opened(landmarks: np.ndarray, scale: float, config: MouthConfig) -> float:
    """How open (0-1) a mouth is in the photo: from ``open_from`` to ``open_at`` IOD."""
    src = np.asarray(landmarks, np.float64)[list(INNER_LIPS), :2]
    return float(smoothstep((gap_of(src) / scale - config.open_from)
                            / max(config.open_at - config.open_from, 1e-6)))


def press_weight(landmarks: np.ndarray, shifts: np.ndarray, scale: float,
                 config: MouthConfig = MouthConfig()) -> float:
    """How far (0-1) the edit presses a closed mouth's lips past each other
    (:attr:`MouthConfig.press_cross`): a mouth closed in the photo (inner lips less than
    ``open_from`` IOD apart, fading out by ``open_at``) whose moved upper inner lip runs below
    the lower one, from 0.005 IOD of overlap (the tracker's own noise) to ``press_cross`` IOD.
    ``sad`` on the 26 held-out neutral faces crossed them by 0.064 IOD (median; up to 0.15): a
    smooth field folds there, and the lips showed a wavy, zig-zag seam. 0 for an open mouth
    (:func:`seal_weight`) and for lips that do not cross."""
    if config.press_cross <= 0:
        return 0.0
    # fading out as the seal fades in (a mouth 0.021 IOD open, London 042 smiling, was neither
    # pressed nor sealed: its lips crossed by 0.11 IOD under `sad`, a sawtooth seam)
    closed = 1.0 - _opened(landmarks, scale, config)
    if closed <= 0:
        return 0.0
    _, dest = _inner(landmarks, shifts)
    overlap = lip_overlap(dest) / scale
    return closed * float(smoothstep((overlap - _PRESS_FROM)
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
              config: MouthConfig = MouthConfig(), weight: float | None = None,
              lens: float = 1.0) -> np.ndarray:
    """``shifts`` (468, 2) with the inner lips of an open mouth that the edit narrows laid on
    one smooth seam, by :func:`seal_weight` (``weight`` if given); unchanged elsewhere, and
    wholly for a mouth that is closed already or stays open."""
    if weight is None:
        weight = seal_weight(landmarks, shifts, scale, config)
    if weight <= 0:
        return shifts
    _, dest = _inner(landmarks, shifts)
    moved_gap = gap_of(dest) / scale
    frame = _MouthFrame.of(dest)  # the moved mouth's own frame
    x, y, upper, lower = frame.x, frame.y, _UPPER, _LOWER
    lower_y, upper_y = frame.lip_y(lower, x[upper]), frame.lip_y(upper, x[lower])
    mid_x = np.r_[x[upper], x[lower]]
    mid_y = np.r_[(y[upper] + lower_y) / 2, (y[lower] + upper_y) / 2]
    seam = np.polyval(np.polyfit(mid_x, mid_y, 2), x)
    t = np.clip(x / frame.width, 0.0, 1.0)
    half = 0.5 * lens * max(moved_gap, 0.0) * scale * 4 * t * (1 - t)  # 0 at the corners
    side = np.where(np.isin(np.arange(20), upper[1:-1]), -1.0, 1.0)
    side[[0, 10]] = 0.0
    target_y = seam + side * half
    sealed = frame.origin + np.outer(x, frame.along) + np.outer(target_y, frame.down)
    out = np.array(shifts, dtype=np.float64, copy=True)
    out[list(INNER_LIPS)] += weight * (sealed - dest)
    return _carried(landmarks, shifts, out, frame, weight * (target_y - y))


def _carried(landmarks: np.ndarray, shifts: np.ndarray, out: np.ndarray, frame: _MouthFrame,
             moved: np.ndarray) -> np.ndarray:
    """``out`` with each lip carried along as a whole where its inner edge moves by ``moved``
    (20, square to the mouth in the moved mouth's ``frame``): its outer edge by ``_CARRY`` of
    that, its body between (:func:`_body_moves`). With the outer edges left where they were, a
    gaping mouth sealed stretched its lips to twice their height."""
    pts = np.asarray(landmarks, np.float64)[:len(shifts), :2] + np.asarray(shifts, np.float64)
    for outer, inner in ((_OUTER_UPPER, _UPPER), (_OUTER_LOWER, _LOWER)):
        ox = (pts[list(outer)] - frame.origin) @ frame.along
        order = np.argsort(frame.x[inner])
        out[list(outer)] += np.outer(
            _CARRY * np.interp(ox, frame.x[inner][order], moved[inner][order]), frame.down)
    out[list(_LIP_BODY)] += _body_moves(landmarks, pts, frame, moved)
    return out


def round_lips(landmarks: np.ndarray, shifts: np.ndarray, scale: float,
               config: MouthConfig = MouthConfig(), share: float = 1.0,
               closed: float | None = None) -> np.ndarray:
    """``shifts`` with the lower inner lip of a closed mouth that the edit opens wide laid on a
    parabola through the corners and its own middle depth (``config.round_lips`` of the way,
    fading in as the moved gap grows from ``round_from`` to twice it). The scanned jaw drop bends
    the lower lip's inner line at its middle point: a V, two straight lines meeting under the
    middle (`-e surprise`), where an open mouth's lower lip is a curve. ``share``: of that (a
    snarl's lower lip, pulled down at its sides, keeps its square: `anger` read 12 of 26 angry
    rounded, 13 not). Only a closed mouth: ``closed`` (a video track's
    :attr:`MouthMemory.closedness`, carried over frames), else as closed as the photo's lips
    are (gated by each frame's own lips, held surprise's mouth flicker rose 1.314 -> 1.321x the
    input's on single_face, by the track's 1.316x)."""
    if config.round_lips <= 0:
        return shifts
    _, dest = _inner(landmarks, shifts)
    wide = float(smoothstep((gap_of(dest) / scale - config.round_from)
                            / max(config.round_from, 1e-6)))
    if closed is None:
        closed = 1.0 - _opened(landmarks, scale, config)
    weight = config.round_lips * share * wide * closed
    if weight <= 0:
        return shifts
    frame = _MouthFrame.of(dest)
    depth = float(frame.lip_y(_LOWER, np.array([frame.width / 2]))[0])
    u = 2 * np.clip(frame.x / frame.width, 0.0, 1.0) - 1
    moved = np.zeros(len(INNER_LIPS))
    lower = _LOWER[1:-1]  # the corners stay
    moved[lower] = weight * np.maximum(depth * (1 - u[lower] ** 2) - frame.y[lower], 0.0)
    out = np.array(shifts, dtype=np.float64, copy=True)
    out[list(INNER_LIPS)] += np.outer(moved, frame.down)
    return _carried(landmarks, shifts, out, frame, moved)


def _body_moves(landmarks: np.ndarray, pts: np.ndarray, frame: _MouthFrame,
                moved: np.ndarray) -> np.ndarray:
    """The moves (len(_LIP_BODY), 2) of the lips' body points when :func:`seal_lips` moves the
    inner lips by ``moved`` (square to the mouth, in the moved mouth's ``frame``; ``pts``: every
    point as the edit moves it): between the inner edge's move and ``_CARRY`` of it at the outer
    edge, by where they lie across their lip in the photo (``landmarks``). Left alone, a lip
    whose inner edge the seal held back ran past it (`sad` on a closed smile moving the upper
    lip down 0.2 IOD, London 070: its body crossed the seam, a wavy edge)."""
    src = np.asarray(landmarks, np.float64)[:len(pts), :2]
    home = _MouthFrame.of(src[list(INNER_LIPS)])  # the photo's mouth, where each point belongs
    body = src[list(_LIP_BODY)] - home.origin
    hx, hy = body @ home.along, body @ home.down
    at = (pts[list(_LIP_BODY)] - frame.origin) @ frame.along  # where the edit puts them
    middle = 0.5 * (home.lip_y(_UPPER, hx) + home.lip_y(_LOWER, hx))
    moves = np.zeros(len(body))
    for outer, inner, below in ((_OUTER_UPPER, _UPPER, False), (_OUTER_LOWER, _LOWER, True)):
        o = src[list(outer)] - home.origin
        o_y = np.interp(hx, *_increasing(np.stack([o @ home.along, o @ home.down], axis=1)))
        i_y = home.lip_y(inner, hx)
        depth = np.where(np.abs(o_y - i_y) > 1e-6, o_y - i_y, 1e-6)
        share = np.clip((hy - i_y) / depth, 0.0, 1.0)
        order = np.argsort(frame.x[inner])
        move = np.interp(at, frame.x[inner][order], moved[inner][order])
        moves = np.where((hy > middle) == below, (1.0 - share * (1.0 - _CARRY)) * move, moves)
    return np.outer(moves, frame.down)


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
    src, dest = _inner(landmarks, shifts)
    box = _mouth_box(src, dest, field)
    if box is None:
        return
    x0, y0, x1, y1 = box
    pad = int(0.1 * scale)
    fx1, fy1 = field.x0 + field.dx.shape[1], field.y0 + field.dx.shape[0]
    box = max(x0 - pad, field.x0), max(y0 - pad, field.y0), min(x1 + pad, fx1), min(y1 + pad, fy1)
    rows, cols, xs, ys = _grid(field, box)
    rx, ry = xs + field.dx[rows, cols], ys + field.dy[rows, cols]
    upper, lower = src[_UPPER], src[_LOWER]
    top, bottom = (np.interp(rx, *_increasing(c)) for c in (upper, lower))
    reach = margin * scale
    top, bottom = top - reach, bottom + reach
    inside = ((rx > src[:, 0].min() - reach) & (rx < src[:, 0].max() + reach)
              & (ry > top) & (ry < bottom))
    m_top, m_bottom = (np.interp(xs, *_increasing(c)) for c in (dest[_UPPER], dest[_LOWER]))
    lens = (ys > m_top) & (ys < m_bottom)
    above = ys < 0.5 * (m_top + m_bottom)
    # a little into the lip (0.02 IOD): a tracker's inner-lip line can run a pixel or two inside
    # the mouth, over teeth just under the lip
    into = 0.02 * scale
    edge = np.where(above, top - into, bottom + into)
    fix = inside & ~lens
    dy = field.dy[rows, cols]
    dy[fix] += (weight * (edge - ry)[fix]).astype(dy.dtype)


def close_cavity(field, landmarks: np.ndarray, shifts: np.ndarray, scale: float, weight: float,
                 config: MouthConfig = MouthConfig()) -> None:
    """The field over lips that the edit seals (``weight``, :func:`seal_weight`) made to read
    lip, not the cavity they close over: :func:`fold_cavity`, then, with
    :attr:`MouthConfig.stretch_lips`, :func:`stretch_lips`."""
    fold_cavity(field, landmarks, shifts, scale, weight, config.fold_margin)
    if config.stretch_lips:
        stretch_lips(field, landmarks, shifts, scale, weight, config.fold_margin)
    if config.seam_shade > 0:
        shade_seam(field, landmarks, shifts, scale, weight * config.seam_shade,
                   config.seam_width)


def stretch_lips(field, landmarks: np.ndarray, shifts: np.ndarray, scale: float, weight: float,
                 margin: float = 0.0) -> None:
    """Sealed lips show their own lip from outer edge to seam, by ``weight`` (:func:`seal_weight`;
    ``field``'s dy changed in place, after :func:`fold_cavity`). In each column of the moved
    mouth, the band from the moved upper lip's outer edge down to the seam reads the photo's
    upper lip from its outer edge down to just short of its inner line (a stretch), the lower
    band likewise; short of the line by ``into`` (0.02 IOD) or half the lip at the middle, by
    ``margin`` more at the corners (the cavity lies 1-3 px past the tracker's line there: dark
    pockets). Folded alone, the pixels over the closed cavity read one row of the lip, 0.065 IOD
    past the line: a broad smile's upper lip is ~0.07 IOD tall, so that row lay on its pale
    outer border, and a smile closed by `-e neutral` showed a pale smeared band, no upper lip."""
    if weight <= 0 or field is None:
        return
    pts = np.asarray(landmarks, np.float64)[:len(shifts), :2]
    moved = pts + np.asarray(shifts, np.float64)
    box = _mouth_box(pts[list(OUTER_LIPS)], moved[list(OUTER_LIPS)], field)
    if box is None:
        return
    rows, cols, xs, ys = _grid(field, box)
    rx, ry = xs + field.dx[rows, cols], ys + field.dy[rows, cols]
    src, dest = _inner(landmarks, shifts)
    up_o, low_o = list(_OUTER_UPPER), list(_OUTER_LOWER)
    o_top, o_bot = _line(moved[up_o], xs), _line(moved[low_o], xs)  # where the lips are now
    seam = 0.5 * (_line(dest[_UPPER], xs) + _line(dest[_LOWER], xs))
    s_top, s_bot = _line(pts[up_o], rx), _line(pts[low_o], rx)  # the photo's lips, read there
    i_top, i_bot = _line(src[_UPPER], rx), _line(src[_LOWER], rx)
    left, right = dest[:, 0].min(), dest[:, 0].max()
    along = np.clip((xs - left) / max(right - left, 1e-6), 0.0, 1.0)
    corner = 1.0 - smoothstep(np.minimum(along, 1.0 - along) / 0.2)
    into, full = 0.02 * scale, (0.02 + margin) * scale
    reads = []
    for inside, outside in ((i_top, s_top), (i_bot, s_bot)):
        thick = np.abs(inside - outside)
        off = np.minimum(full, np.maximum(into, 0.5 * thick)) * (1 - corner) + full * corner
        edge = inside + np.sign(outside - inside) * off  # the lip's last row read
        reads.append((outside, edge))
    span = (xs > left) & (xs < right)
    up = span & (ys >= o_top) & (ys < seam)
    low = span & (ys >= seam) & (ys <= o_bot)
    t_up = np.clip((ys - o_top) / np.maximum(seam - o_top, 1e-6), 0.0, 1.0)
    t_low = np.clip((o_bot - ys) / np.maximum(o_bot - seam, 1e-6), 0.0, 1.0)
    (top_out, top_edge), (bot_out, bot_edge) = reads
    read_up = np.minimum(top_out + t_up * np.maximum(top_edge - top_out, 0.0), top_edge)
    read_low = np.maximum(bot_out - t_low * np.maximum(bot_out - bot_edge, 0.0), bot_edge)
    target = np.where(up, read_up, np.where(low, read_low, ry))
    dy = field.dy[rows, cols]
    dy += (weight * (target - ry)).astype(dy.dtype)


def shade_seam(field, landmarks: np.ndarray, shifts: np.ndarray, scale: float, depth: float,
               width: float) -> None:
    """Darken the line where sealed lips meet (``field.shade``, in place): by ``depth`` on the
    moved seam, a Gaussian ``width`` IOD wide (sigma), from corner to corner. Lips that meet
    show a dark line there (the 26 held-out London neutral faces: 15-33 L* below the lips'
    median); the stretched lips met without one, a smooth pink band."""
    if depth <= 0 or field is None:
        return
    _, dest = _inner(landmarks, shifts)
    sigma = max(width * scale, 0.5)
    box = _mouth_box(dest, dest, field)
    if box is None:
        return
    rows, cols, xs, ys = _grid(field, box)
    seam = 0.5 * (_line(dest[_UPPER], xs) + _line(dest[_LOWER], xs))
    left, right = dest[:, 0].min(), dest[:, 0].max()
    ends = smoothstep(np.minimum(xs - left, right - xs) / (2 * sigma) + 0.5)
    line = np.exp(-0.5 * ((ys - seam) / sigma) ** 2) * ends
    if field.shade is None:
        field.shade = np.ones_like(field.dx)
    field.shade[rows, cols] *= (1.0 - depth * line).astype(np.float32)


def _line(points: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The polyline through ``points`` (x, y), as y at ``at``."""
    return np.interp(at, *_increasing(points))


def _grid(field, box: tuple[int, int, int, int]):
    """(rows, cols) of ``field``'s arrays over ``box`` (x0, y0, x1, y1 frame pixels, within the
    field's box), and the frame coordinates (xs, ys) of its pixels."""
    x0, y0, x1, y1 = box
    rows, cols = np.s_[y0 - field.y0:y1 - field.y0], np.s_[x0 - field.x0:x1 - field.x0]
    xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    return rows, cols, xs, ys
