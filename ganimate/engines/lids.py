"""Blinks that close the eye as a lid (issue #36): where an edit raises AU45, the upper lash line
comes down over the lower one and the lid skin above it comes down with it.

The scanned AU45 shape moves the upper lash line and the first ring of mesh points above it, but
not the second (the crease) nor the brow, and a spline through the mesh points cannot make two
lash lines meet: evaluated on a grid of 0.06 IOD (about half an eye's opening) and smoothed, it
read the iris between them. On the 26 held-out London people (``--au AU45=1``) MediaPipe re-read
the eyes 0.22 of their width open (0.31 before the edit), 57% of the visible iris still dark, and
the band of lashes was stretched over the eye in vertical streaks.

:func:`close_lids` adds to the basis' landmark shifts, per eye in the eye's own frame (x from the
outer corner to the inner one, y across):

1. the upper lash line comes down until the gap to the lower one is ``1 - f`` of the photo's own
   gap (``f``, :func:`blink_fraction`: how far AU45 goes from the face's own value towards 1),
   at ``f = 1`` a little past it (``gap``); the lower lid takes ``rise`` of the way;
2. the two rings of lid skin above the lash line (MediaPipe's ``EyeUpper1, 2``) come down as far
   as the lash point under them up to ``hold`` of the way to the brow's lower edge, linearly less
   above it: the band of lashes is translated, the stretch goes to the smooth skin under the brow
   (which stays);

and gives each eye a :class:`LidField`: a monotone map, column by column, through the eye's lines
(brow, rings, lash lines, the rings under the eye) that replaces the spline's move across the eye
around it and jumps where the lids meet, the pixels on that line mixing both lids (no staircase).

Measured on those 26 people with :func:`ganimate.api.edit_image` and MediaPipe on its output:
AU45 = 1 re-reads 0.076 open (0.22 before), 32% of the visible iris dark (57%; the closed lash
line that now lies over it is dark too); AU45 = 0.5 re-reads 0.21 (0.24). The null edit and every
edit that does not raise AU45 (the presets keep it) are bit-identical; opening a closed eye
(AU45 falling) is the basis' alone. What it cannot do: lashes keep pointing up, and where the
brow sits close over the lid (deep-set eyes) the skin under it is stretched to ~2.5x.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BLINK = "AU45"


@dataclass(frozen=True)
class LidConfig:
    """How a blink closes the lids; lengths in inter-ocular distances (IOD) unless said."""

    # Draw the upper lid down as a lid (off: the basis' AU45 alone).
    close: bool = True
    # Share of the closing that the lower lid takes: it rises a little in a real blink, and what
    # it takes the upper lid need not (0.3: the skin under the brow of 26 people stretched more,
    # by eye; the eyes closed as far).
    rise: float = 0.4
    # Gap left between the lash lines at a full blink, as a share of the eye's width; negative:
    # the upper lid comes down over the lower one's edge, whose MediaPipe points sit on the wet
    # line above it (with +0.03 a band of iris stayed under the closed lid).
    gap: float = -0.06
    # The lid skin above the lash line comes down with it, as far as the lash line up to
    # ``hold`` times the height of the brow's lower edge above it (the band of lashes: translated,
    # not stretched), linearly less above, none from ``reach`` times it on: the stretch goes to
    # the skin under the brow. The brow's lower edge itself moving down (a profile up to its
    # upper edge) stretched the brows' hair: worse by eye.
    hold: float = 0.4
    reach: float = 1.0
    # Margin (IOD) around each eye's points (moved or not) where the field is evaluated at every
    # pixel.
    margin: float = 0.12
    # The lid's own field (:class:`LidField`) fades into the face's spline over this share of
    # the eye's width at its corners.
    corner_fade: float = 0.15


@dataclass(frozen=True)
class Eye:
    """One eye's MediaPipe points (its face-mesh annotations): corners (outer, inner), the lash
    lines from the outer corner to the inner one (corners excluded: ``EyeUpper0``,
    ``EyeLower0``), the two rings of lid skin above the upper one, column for column with it
    (``EyeUpper1``, ``EyeUpper2``: the second near the crease) and the brow's lower edge."""

    corners: tuple[int, int]
    upper: tuple[int, ...]
    lower: tuple[int, ...]
    rings: tuple[tuple[int, ...], ...]
    brow: tuple[int, ...]
    below: tuple[tuple[int, ...], ...]  # the two rings under the lower lid (``EyeLower1, 2``)


# The subject's right eye (the image's left) and left eye.
EYES = (
    Eye((33, 133), (246, 161, 160, 159, 158, 157, 173), (7, 163, 144, 145, 153, 154, 155),
        ((247, 30, 29, 27, 28, 56, 190), (113, 225, 224, 223, 222, 221, 189)),
        (35, 124, 46, 53, 52, 65, 55),
        ((130, 25, 110, 24, 23, 22, 26, 112, 243), (226, 31, 228, 229, 230, 231, 232, 233, 244))),
    Eye((263, 362), (466, 388, 387, 386, 385, 384, 398), (249, 390, 373, 374, 380, 381, 382),
        ((467, 260, 259, 257, 258, 286, 414), (342, 445, 444, 443, 442, 441, 413)),
        (265, 353, 276, 283, 282, 295, 285),
        ((359, 255, 339, 254, 253, 252, 256, 341, 463),
         (446, 261, 448, 449, 450, 451, 452, 453, 464))),
)


@dataclass
class LidField:
    """One eye's own backward field, column by column across the eye: each dest pixel reads
    from the same column, at the height that a piecewise-linear map through the eye's lines
    gives (top to bottom: the brow's lower edge, the two rings of lid skin, the upper lash line;
    the lower lash line and the two rings under it; each at its moved height -> its photo
    height). A spline through the mesh points folded and smeared there (the lines' shifts change
    sharply from one ring to the next and the lash lines meet), reading rows of lashes over and
    over (streaks) and the iris between the lash lines; this map is monotone on each side, and
    where the upper lash line comes down over the lower one it jumps from the lower lid (below)
    to the upper lid (above), as closed lids do. ``box`` (frame px) is where it applies; it fades
    into the face's spline above the upper ring, below the lower ring and at the corners."""

    box: tuple[int, int, int, int]
    origin: np.ndarray  # the eye's frame: outer corner, x axis (to the inner corner), y axis
    ex: np.ndarray
    ey: np.ndarray
    xs: np.ndarray  # x (eye frame, px) of the columns where the lines are sampled
    dest: np.ndarray  # (lines, len(xs)): each line's height in the output (eye frame, px)
    src: np.ndarray  # (lines, len(xs)): ... and in the photo
    split: int  # the upper lash line's row (the lower one's is the next)
    fade: float  # px

    def backward(self, gx: np.ndarray, gy: np.ndarray) -> LidRead:
        """This field over the pixel grid ``gx`` x ``gy`` (frame px)."""
        from ganimate.engines.masks import smoothstep

        rel_x = gx[None, :] - self.origin[0]
        rel_y = gy[:, None] - self.origin[1]
        u = rel_x * self.ex[0] + rel_y * self.ex[1]
        v = rel_x * self.ey[0] + rel_y * self.ey[1]
        k = np.stack([np.interp(u, self.xs, line) for line in self.dest])
        s = np.stack([np.interp(u, self.xs, line) for line in self.src])
        u_, l_ = self.split, self.split + 1  # the upper and the lower lash line
        above, below = _chain(v, k[:l_], s[:l_]), _chain(v, k[l_:], s[l_:])
        read = np.where(v < k[u_], above,
                        np.where(v < k[l_], _chain(v, k[u_:l_ + 1], s[u_:l_ + 1]), below))
        # where the lids meet, the pixels the line crosses show both sides: the other side's
        # share of the pixel (the line is taken as horizontal across it), so it is not a
        # staircase
        off = v - k[u_]
        share = np.where(k[u_] >= k[l_], np.clip(0.5 - np.abs(off), 0.0, 0.5), 0.0)
        other = np.where(off < 0, below, above)
        span = self.xs[-1] - self.xs[0]
        ends = smoothstep(0.5 + np.minimum(u - self.xs[0], self.xs[-1] - u) / self.fade)
        top = smoothstep((v - k[0]) / np.maximum(k[1] - k[0], 1.0))
        bottom = smoothstep((k[-1] - v) / np.maximum(k[-1] - k[-2], 1.0))
        weight = (ends * top * bottom * (span > 0)).astype(np.float32)
        f32 = np.float32
        return LidRead((read - v).astype(f32), weight, (other - v).astype(f32),
                       (share * weight).astype(f32))


@dataclass
class LidRead:
    """A :class:`LidField` over a grid of pixels, float32 arrays: ``across``, the move across
    the eye (eye frame y, px) to where each pixel reads; ``weight`` of this field against the
    face's spline; on the line where the lids meet, ``other``: the move to the other lid, and
    ``share``: how much of the pixel shows it."""

    across: np.ndarray
    weight: np.ndarray
    other: np.ndarray
    share: np.ndarray


def _chain(v: np.ndarray, knots: np.ndarray, src: np.ndarray) -> np.ndarray:
    """The photo height read at output height ``v`` through knots (n, ...) ascending in the
    output with their photo heights ``src``: linear between them, a constant shift beyond."""
    n = len(knots)
    i = np.clip((v[None] >= knots).sum(0) - 1, 0, n - 2)
    k0 = np.take_along_axis(knots, i[None], 0)[0]
    k1 = np.take_along_axis(knots, i[None] + 1, 0)[0]
    s0 = np.take_along_axis(src, i[None], 0)[0]
    s1 = np.take_along_axis(src, i[None] + 1, 0)[0]
    t = (v - k0) / np.maximum(k1 - k0, 1e-6)
    out = s0 + t * (s1 - s0)
    out = np.where(v < knots[0], v + src[0] - knots[0], out)
    return np.where(v > knots[-1], v + src[-1] - knots[-1], out)


@dataclass
class LidClosing:
    """What :func:`close_lids` adds: landmark shifts (468, 2) px, and each eye's field."""

    shifts: np.ndarray
    fields: list[LidField]


def blink_fraction(y_r: np.ndarray, y_g: np.ndarray, au_names: Sequence[str]) -> float:
    """How far an edit takes AU45 from the face's own value towards 1 (eyes shut), in [0, 1]; 0
    when AU45 does not rise (or is not an AU of the edit)."""
    if BLINK not in au_names:
        return 0.0
    k = list(au_names).index(BLINK)
    own, target = float(y_r[k]), float(y_g[k])
    if target <= own:
        return 0.0
    return float(np.clip((target - own) / max(1.0 - own, 1e-3), 0.0, 1.0))


def _frame(points: np.ndarray, eye: Eye) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The eye's frame: origin (outer corner), x axis (to the inner corner), y axis (towards the
    lower lid), width (px)."""
    a, b = points[eye.corners[0]], points[eye.corners[1]]
    width = float(np.linalg.norm(b - a))
    ex = (b - a) / width
    ey = np.array([-ex[1], ex[0]])
    if (points[list(eye.lower)].mean(0) - a) @ ey < (points[list(eye.upper)].mean(0) - a) @ ey:
        ey = -ey
    return a, ex, ey, width


def _line(points: np.ndarray, ids: Sequence[int], at: np.ndarray) -> np.ndarray:
    """y of the polyline through ``points[ids]`` (eye frame, sorted by x) at x = ``at``."""
    p = points[list(ids)]
    order = np.argsort(p[:, 0])
    return np.interp(at, p[order, 0], p[order, 1])


def _close_eye(points: np.ndarray, shifts: np.ndarray, blink: np.ndarray, eye: Eye,
               fraction: float, config: LidConfig) -> np.ndarray:
    """The shifts (468, 2) px that close one eye by ``fraction`` (see the module's steps)."""
    origin, ex, ey, width = _frame(points, eye)
    basis = np.stack([ex, ey], axis=1)
    p0 = (points - origin) @ basis  # eye frame, px
    p1 = (points + shifts - origin) @ basis
    b = blink @ basis  # the basis' own AU45 shifts, eye frame
    lower = [eye.corners[0], *eye.lower, eye.corners[1]]
    inner = list(eye.upper)
    gap0 = _line(p0, lower, p0[inner, 0]) - p0[inner, 1]
    gap1 = _line(p1, lower, p1[inner, 0]) - p1[inner, 1]
    target = (1 - fraction) * np.maximum(gap0, 0) + fraction * config.gap * width
    close = np.maximum(gap1 - target, 0.0)  # still to close at each upper lash point
    xs = np.concatenate([[p0[eye.corners[0], 0]], p0[inner, 0], [p0[eye.corners[1], 0]]])
    close_at = np.concatenate([[0.0], close, [0.0]])
    extra = np.zeros(len(points))
    extra[inner] = (1 - config.rise) * close
    extra[list(eye.lower)] = -config.rise * np.interp(p0[list(eye.lower), 0], xs, close_at)
    # the rings of lid skin above each lash point: translated with it, less with height
    brow = p0[list(eye.brow)]
    order = np.argsort(brow[:, 0])
    height = p0[inner, 1] - np.interp(p0[inner, 0], brow[order, 0], brow[order, 1])
    height = np.maximum(height, 1.0)
    drop = b[inner, 1] + (1 - config.rise) * close
    for ring in eye.rings:
        above = p0[inner, 1] - p0[list(ring), 1]
        t = np.clip((config.reach - above / height) / (config.reach - config.hold), 0.0, 1.0)
        extra[list(ring)] = np.maximum(drop * t - b[list(ring), 1], 0.0)
    return extra[:, None] * ey[None, :]


def close_lids(points: np.ndarray, shifts: np.ndarray, blink: np.ndarray, fraction: float,
               scale: float, frame_size: tuple[int, int], config: LidConfig = LidConfig()
               ) -> LidClosing:
    """Shifts to add to ``shifts`` (468, 2) px of ``points`` (468, 2) so that both eyes close by
    ``fraction`` (:func:`blink_fraction`), the lid skin coming down with the lash line, and the
    eyes' own fields; ``blink``: the basis' own shifts for the edit's AU45 alone (468, 2) px;
    ``scale``: IOD px."""
    extra = np.zeros_like(shifts)
    fields = []
    for eye in EYES:
        extra += _close_eye(points, shifts, blink, eye, fraction, config)
    for eye in EYES:
        field = _lid_field(points, points + shifts + extra, eye, scale, frame_size, config)
        if field is not None:
            fields.append(field)
    return LidClosing(extra, fields)


def _lid_field(points: np.ndarray, moved: np.ndarray, eye: Eye, scale: float,
               frame_size: tuple[int, int], config: LidConfig) -> LidField | None:
    """The eye's :class:`LidField` (None: its box is outside the frame)."""
    origin, ex, ey, width = _frame(points, eye)
    axes = np.stack([ex, ey], axis=1)
    p0, p1 = (points - origin) @ axes, (moved - origin) @ axes
    corners = list(eye.corners)
    lines = [eye.brow, eye.rings[1], eye.rings[0], [corners[0], *eye.upper, corners[1]],
             [corners[0], *eye.lower, corners[1]], *eye.below]
    split = 3
    xs = np.linspace(p1[corners[0], 0], p1[corners[1], 0], 24)
    dest, src = np.empty((len(lines), len(xs))), np.empty((len(lines), len(xs)))
    for j, ids in enumerate(lines):
        order = np.argsort(p1[list(ids), 0])
        at = p1[list(ids), 0][order]
        dest[j] = np.interp(xs, at, p1[list(ids), 1][order])
        src[j] = np.interp(xs, at, p0[list(ids), 1][order])
    # each side ascending (lines that cross in a squeezed corner: kept in order)
    for rows in (slice(0, split + 1), slice(split + 1, None)):
        dest[rows] = np.maximum.accumulate(dest[rows], axis=0)
        src[rows] = np.maximum.accumulate(src[rows], axis=0)
    ids = [i for line in lines for i in line]
    both = np.concatenate([points[ids], moved[ids]])
    lo = np.floor(both.min(0) - config.margin * scale).astype(int)
    hi = np.ceil(both.max(0) + config.margin * scale).astype(int)
    w, h = frame_size
    box = (max(lo[0], 0), max(lo[1], 0), min(hi[0], w), min(hi[1], h))
    if box[0] >= box[2] or box[1] >= box[3]:
        return None
    return LidField(box, origin, ex, ey, xs, dest, src, split, config.corner_fade * width)
