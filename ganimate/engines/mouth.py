"""A mouth interior for the warp: where the warp parts the lips, paint the opening as a cavity.

A warp only moves pixels that exist. When it parts closed lips (AU25 lips part, AU26 jaw drop) the
opening between the moved inner lips reads the photo's lip seam, stretched: lips that look swollen,
not a mouth that opens. This module finds that opening and paints it as a shadowed cavity:

1. the opening is the polygon of the *moved* inner lip outline (MediaPipe's 20 inner-lip points),
   minus what the warp reads from inside the photo's own inner-lip polygon; a mouth that is
   already open (0.04 IOD between the inner lips; fading in from 0.02) is not painted: it keeps
   its own teeth and tongue, moved by the warp;
2. its colour is the darkest part of the photo's own lip seam (so it matches the skin tone, the
   lighting and the camera), its CIELAB lightness lowered further with depth into the opening,
   like the shadow of a real mouth, its hue and chroma kept (a dark red, as mouths are); its
   edge is feathered over a few pixels (``feather``, in IOD) so the lips keep their own edge.

This module paints the cavity only; :mod:`ganimate.engines.teeth` draws ICT-FaceKit's scanned
teeth, gums and tongue over it (``paint_opening``'s ``interior``), lit and coloured from the face
(``TeethConfig(strength=0)`` leaves the cavity alone). :func:`rigid_teeth` moves the teeth that a
photo already shows rigidly with the skull (the nose) and the jaw.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ganimate.engines.masks import polygon_mask, smoothstep, soft_inside
from ganimate.engines.palette import shaded
from ganimate.faces.measures import INNER_LIPS

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn).


@dataclass(frozen=True)
class MouthConfig:
    """How the opening is painted; lengths in inter-ocular distances (IOD)."""

    # Opacity of the painted interior (0 turns the cavity off: the warp's stretched seam shows).
    strength: float = 1.0
    # Width of the soft edge inside the moved lips (at least half a pixel), over an edge
    # anti-aliased on a 4x finer grid (:func:`ganimate.engines.masks.soft_inside`). The edge was
    # the pixels' own, 0.012 wide: a staircase round a dark opening. Anti-aliased at 0.012 it
    # dimmed the drawn teeth's edge (26 held-out `-e happy`: P(happy) 0.568 -> 0.540); at 0.005,
    # 0.555, the same 17 reads.
    feather: float = 0.005
    # Brightness of the interior relative to the darkest tenth of the photo's lip seam: at the
    # lips' edge and at full depth (depth reached ``depth`` IOD inside the opening).
    edge_shade: float = 0.55
    deep_shade: float = 0.3
    depth: float = 0.04
    # A photo's mouth counts as closed (nothing of its interior to keep) while its inner lips are
    # less than this far apart at the middle (MediaPipe draws closed lips as a thin lens).
    closed: float = 0.03
    # The interior is painted in full on mouths closed to within ``open_from`` IOD and fades out
    # by ``open_at``: an open mouth already shows its own interior, which the warp moves, and a
    # painted rim around it flickers in video with the landmarks (single_face.mp4, `-e happy`:
    # output/input frame change 1.13 with the rim, 1.02 without).
    open_from: float = 0.02
    open_at: float = 0.04
    # Paint only when the warp parts the lips at their middle by at least this much (the AU ->
    # mesh model moves the lips a little for many AUs: AU01 or AU25=0.3 alone close them).
    min_part: float = 0.01
    # A video track's change between closed and open wipes the drawn teeth in or out from the
    # middle of the mouth to its corners, over this soft edge (share of the half width).
    wipe: float = 0.3
    # During that wipe the one of the two mouths (drawn, or the person's own as the warp moves
    # it) that shows more teeth inside the opening (:func:`teeth_in_middle`) takes the middle:
    # teeth missing from the middle of a row read as lost front teeth, missing at the sides as
    # the sides' shade. `-e surprise` on single_face.mp4 draws the upper teeth mostly under the
    # lip while his own smile's teeth show: as his mouth opened, his teeth came in at the sides
    # with a dark hole between for 3 frames. False: the drawn mouth always in the middle.
    wipe_teeth_middle: bool = True
    # Teeth and gums (:mod:`ganimate.engines.teeth`) are shadowed by the lips: this much of their
    # light at the lips' edge, all of it ``shadow_width`` IOD inside the opening.
    lip_shadow: float = 0.55
    shadow_width: float = 0.03
    # Teeth a photo already shows (:func:`rigid_teeth`): the lower teeth follow the jaw only
    # where the darkest band between the inner lips (:func:`teeth_split`, 0 at the upper lip, 1
    # at the lower) lies above this; lower down, that band is the shadow under the upper teeth.
    lower_teeth: float = 0.75
    # ... and they move rigidly once the edit parts the lips this much further (IOD), fading in
    # from 0; below that, the spline moves the mouth as a whole.
    rigid_from: float = 0.04
    # ... the upper ones with the nose (fixed to the skull: a lip that comes down covers them),
    # not with the upper lip (surprise on a smile left the whole row hanging below the lip over a
    # black crescent; single_face.mp4 held surprise read 83% -> 100%, docs/evaluation.md).
    teeth_on_skull: bool = True
    # A photo's open mouth that shows no teeth of its own (the brightest low-chroma pixels below
    # the upper lip, :func:`own_teeth_lab`, darker than this share of the cheeks' L*, or none: a
    # dark cavity, as a surprised or shouting mouth shows) and that the edit *narrows* by
    # ``min_part`` or more is drawn anew between the moved lips, as a closed mouth that the edit
    # parts: cavity and scanned teeth hung from the moved lips. Squeezed instead, the cavity
    # became a dark slit between crumpled lips, and a smile from a surprised face showed no teeth
    # (happy read on 3 of 26 surprised London faces; drawn anew: 12). 0 turns it off.
    redraw_dark: float = 0.8
    # Lips that meet: where the edit narrows an open mouth (inner lips ``open_at`` IOD apart or
    # more, fading in from ``open_from``) to less than ``seal_below`` IOD at the middle, the
    # moved inner lips are laid on one smooth line (a quadratic through their midpoints along
    # the mouth, the frown or smile of the edit kept) opened by a lens as wide as the edit's
    # middle gap (0 at the corners), fading in as the gap falls from ``seal_below`` to half of
    # it. Moved point by point, an open mouth squeezed shut crossed its upper and lower lips: a
    # jagged, black-edged seam (`-e sad` from a surprised face). 0 turns it off.
    seal_below: float = 0.03
    # ... and, where the target asks for lips that meet (AU25-27 at 0, less than the face has),
    # in full with no lens, however far apart the edit's move leaves them. False: as it does.
    seal_shut: bool = True
    # Sealed lips read their own edge where the field would read the cavity they closed over
    # (:func:`ganimate.engines.closing.fold_cavity`); the cavity is taken to reach this far (IOD)
    # beyond the tracker's inner-lip line, and the lip's edge read that far beyond it: near the
    # corners of a broad smile the dark of the mouth lies 1-3 px past the line (0.045 IOD).
    fold_margin: float = 0.045
    # ... and their bands, from each lip's outer edge to the seam, read the photo's lip from its
    # outer edge to (nearly) its inner line (:func:`ganimate.engines.closing.stretch_lips`):
    # folded alone, a broad smile closed by `-e neutral` showed a pale smeared band where its
    # thin, stretched upper lip was. False: the fold alone (``WarpConfig.video_stretch_lips``).
    stretch_lips: bool = True
    # ... and meet on a dark line: lightness times 1 - ``seam_shade`` on the moved seam, a
    # Gaussian ``seam_width`` IOD wide (:func:`.closing.shade_seam`). 0: none (video: off).
    seam_shade: float = 0.3
    seam_width: float = 0.008
    # A closed mouth whose moved inner lips cross (the upper below the lower) by this much (IOD)
    # is laid on one seam in full, less from 0 (:func:`.closing.press_weight`); 0: left crossed.
    press_cross: float = 0.02
    # A closed mouth opened past ``round_from`` IOD, all from twice it (surprise 0.30-0.38, fear
    # 0.17-0.26; not happy's 0.04-0.12, whose video mouth flicker rounding raised 1.5%), has its
    # lower inner lip laid on a curve this much (:func:`.closing.round_lips`): not a V.
    round_lips: float = 1.0
    round_from: float = 0.12


@dataclass(frozen=True)
class MouthMemory:
    """One face's mouth at one frame, as its video track has it
    (:class:`ganimate.engines.mouth_track.MouthTrack`): the warp uses it instead of deciding from
    the frame alone."""

    # 1: the mouth counts as closed (the edit's opening gets drawn teeth); 0: open (its own
    # teeth move rigidly); between: a cross-fade of the two.
    closedness: float
    # Where the person's own upper teeth end between the inner lips (0 upper lip, 1 lower), or
    # None before the mouth was first seen open.
    split: float | None
    skin_l: float  # the cheeks' CIELAB L*: the drawn teeth's light
    # The person's own upper teeth (CIELAB, L 0-100) once the track has seen them (before that,
    # the drawn teeth's colour in the picture's colour cast if it has one), else None: drawn
    # teeth take this colour, so that drawn and own teeth beside each other match.
    teeth: np.ndarray | None
    seam: np.ndarray  # float32 (C,): the lip seam's colour, the cavity's
    # The lip seam at rest in the canonical face's frame (cm): where the drawn upper teeth hang,
    # or None before the mouth was first seen closed (then the frame's own seam is used).
    anchor: np.ndarray | None
    # How far apart the inner lips are (IOD) in the landmarks the warp moves, held while a hand
    # covers them: the face's own lip parting (:func:`ganimate.engines.lips.tracked_lips`).
    gap: float | None = None
    # A hand covers the lips: the track holds what it had (no wipe is turned round meanwhile).
    held: bool = False
    # How far the mouth moved since the track's last frame (px, frame), in the landmarks the
    # warp moves: the drawn teeth's motion blur (:attr:`TeethConfig.motion_blur`).
    move: np.ndarray | None = None
    # How much a hand touches the mouth (0-1): the edit around the mouth is stilled so much
    # (:func:`ganimate.engines.mouth.still_near_mouth`).
    touch: float = 0.0
    # The lips' own colour (CIELAB, :func:`ganimate.engines.palette.lips_lab`), the tongue's
    # and gums', and how soft the face's edges read (:func:`ganimate.engines.focus.camera_blur`,
    # px), both averaged over the track; None / 0 before they were read.
    lips: np.ndarray | None = None
    blur: float = 0.0


@dataclass
class Opening:
    """Where the cavity goes, in a box of the frame: ``alpha`` (float32 (h, w) in [0, 1]) and
    the distance inside the opening (px), for the shading."""

    x0: int
    y0: int
    alpha: np.ndarray
    inside: np.ndarray
    # During a track's wipe (:attr:`MouthConfig.wipe_teeth_middle`): the alpha with the wipe
    # turned round, the person's own mouth in the middle; else None.
    turned: np.ndarray | None = None


def find_opening(landmarks: np.ndarray, shifts: np.ndarray, field, scale: float,
                 config: MouthConfig = MouthConfig(), closedness: float | None = None,
                 wants_open: float = 0.0, redraw: bool = False) -> Opening | None:
    """The part of the moved mouth that the warp fills from outside the photo's mouth interior.

    ``landmarks`` are the face's points in frame pixels, ``shifts`` the warp's (468, 2) landmark
    shifts, ``field`` its backward field (x0, y0, dx, dy) and ``scale`` the IOD in pixels.
    ``closedness`` (video: a track's :class:`ganimate.engines.mouth_track.MouthMemory`) replaces
    the photo's own decision of how closed the mouth is, and the edit's parting then fades in
    over ``min_part`` instead of switching on at it; with ``wants_open`` (0-1: the target asks
    for parted lips) an opening the person makes themselves counts as the edit's too, so drawn
    teeth do not vanish on the frames where a smile of their own catches up with the target.
    ``redraw`` (a photo's dark open mouth that the edit narrows,
    :func:`ganimate.engines.closing.narrows_dark_mouth`):
    the whole moved opening is drawn anew.
    """

    if field is None or config.strength <= 0:
        return None
    idx = list(INNER_LIPS)
    src = np.asarray(landmarks, np.float64)[idx, :2]
    dest = src + np.asarray(shifts, np.float64)[idx]
    gap = gap_of(src) / scale  # IOD
    decided = ((1.0, 1.0) if redraw else
               _how_closed(gap, gap_of(dest) / scale, config, closedness, wants_open))
    if decided is None:
        return None
    amount, parting = decided
    margin = 2
    lo = np.floor(dest.min(axis=0)).astype(int) - margin
    hi = np.ceil(dest.max(axis=0)).astype(int) + margin
    fx1, fy1 = field.x0 + field.dx.shape[1], field.y0 + field.dx.shape[0]
    x0, y0 = max(lo[0], field.x0), max(lo[1], field.y0)
    x1, y1 = min(hi[0], fx1), min(hi[1], fy1)
    if x0 >= x1 or y0 >= y1:
        return None
    origin = np.array([x0, y0], np.float64)
    shape = (y1 - y0, x1 - x0)
    edge, inside = soft_inside(dest, origin, shape, max(config.feather * scale, 0.5))
    if closedness is None:  # a photo: where the photo's own interior lands, it shows
        reads_own = 0.0  # a closed mouth has no interior of its own to keep
        if gap >= config.closed and not redraw:
            reads_own = _reads_inside(src, field, (x0, y0, x1, y1))
        weight = amount * (1 - reads_own)
    else:  # a track's change of state wipes the drawn teeth across the mouth (:func:`reveal`)
        weight = reveal(dest, origin, shape, amount, config.wipe)
    base = config.strength * parting * edge
    alpha = (base * weight).astype(np.float32)
    turned = None
    if closedness is not None and 0 < amount < 1 and config.wipe_teeth_middle:
        turned = (base * (1 - reveal(dest, origin, shape, 1 - amount, config.wipe))
                  ).astype(np.float32)
    if not np.any(np.maximum(alpha, 0 if turned is None else turned) * 255 >= 0.5):
        return None
    return Opening(x0, y0, alpha, inside.astype(np.float32), turned)


def _how_closed(gap: float, moved_gap: float, config: MouthConfig, closedness: float | None,
                wants_open: float) -> tuple[float, float] | None:
    """(how closed the mouth counts, how far the edit parts it; both 0-1) from the inner lips'
    gap before and after the warp (IOD), or None when nothing is to be drawn (see
    :func:`find_opening`)."""
    part = moved_gap - gap
    if closedness is None:
        if part < config.min_part:  # the lips do not part
            return None
        if gap >= config.open_at:  # an open mouth shows its own interior
            return None
        return 1.0 - float(smoothstep((gap - config.open_from)
                                      / (config.open_at - config.open_from))), 1.0
    parting = float(smoothstep(part / config.min_part - 0.5))
    if wants_open > 0:
        parting = max(parting, wants_open * float(smoothstep(moved_gap / config.min_part - 0.5)))
    if parting <= 0 or closedness <= 0:
        return None
    return closedness, parting


def reveal(lips: np.ndarray, origin: np.ndarray, shape: tuple[int, int], amount: float,
           soft: float) -> np.ndarray:
    """How far drawn teeth cover each pixel of a box (``origin``, ``shape``) of the mouth with
    inner ``lips`` (INNER_LIPS order, frame pixels) when a track's mouth is ``amount`` closed
    (0-1): from the middle of the mouth out to its corners as ``amount`` grows, over a soft edge
    ``soft`` of the half width.

    A cross-fade (the drawn teeth at ``amount`` opacity over the cavity or the person's own mouth)
    shows grey teeth half-way, which no eye (or teeth reader) takes for teeth: the teeth were
    there or not, and they popped on the frame where the fade crossed half. A wipe shows a part
    of the row, whole: the share of teeth that shows grows or shrinks over the fade's frames, as
    teeth appear from the middle out when lips part.
    """
    corner_l, corner_r = lips[0], lips[10]
    axis = corner_r - corner_l
    half = max(float(np.linalg.norm(axis)) / 2, 1e-6)
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    mid = (corner_l + corner_r) / 2 - origin
    r = np.abs((xs - mid[0]) * axis[0] + (ys - mid[1]) * axis[1]) / (2 * half * half)
    width = float(np.interp(amount, _lens_areas(soft), _WIDTHS))
    return smoothstep((width * (1 + soft) - r) / soft).astype(np.float32)


_WIDTHS = np.linspace(0.0, 1.0, 101)


@lru_cache(maxsize=4)
def _lens_areas(soft: float) -> np.ndarray:
    """For each of ``_WIDTHS``, the share of a lens-shaped opening's area (its height falls as
    1 - r^2 from the middle, r = 0, to the corners, r = 1) that :func:`reveal` shows: the wipe's
    ``amount`` is an area, so that equal steps of a fade show equal shares of teeth (the middle
    quarter of the width holds 37% of the area)."""
    r = np.linspace(0.0, 1.0, 401)
    height = 1 - r ** 2
    shown = smoothstep((_WIDTHS[:, None] * (1 + soft) - r[None, :]) / soft)
    areas = (shown * height).sum(axis=1) / height.sum()
    return np.maximum.accumulate(areas)


def _reads_inside(polygon: np.ndarray, field, box: tuple[int, int, int, int]) -> np.ndarray:
    """For the pixels of ``box`` (x0, y0, x1, y1), the share that the backward ``field`` reads
    from inside ``polygon`` (frame coordinates): the photo's own mouth opening, moved."""
    import cv2

    x0, y0, x1, y1 = box
    dx = field.dx[y0 - field.y0:y1 - field.y0, x0 - field.x0:x1 - field.x0]
    dy = field.dy[y0 - field.y0:y1 - field.y0, x0 - field.x0:x1 - field.x0]
    lo = np.floor(np.minimum(polygon.min(axis=0), [x0 + dx.min(), y0 + dy.min()])).astype(int) - 2
    hi = np.ceil(np.maximum(polygon.max(axis=0), [x1 + dx.max(), y1 + dy.max()])).astype(int)
    own = polygon_mask(polygon, lo.astype(np.float64), (hi[1] - lo[1] + 2, hi[0] - lo[0] + 2))
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] - lo[0]
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - lo[1]
    return cv2.remap(own.astype(np.float32) / 255, xs + dx, ys + dy, cv2.INTER_LINEAR,
                     borderValue=0)


def paint_opening(out: np.ndarray, opening: Opening, colour: np.ndarray, scale: float,
                  config: MouthConfig = MouthConfig(), interior=None) -> None:
    """Blend the shaded interior into ``out`` (uint8 frame) in place; ``interior`` (a
    :class:`ganimate.engines.teeth.Interior` over the opening's box) is drawn over the dark cavity,
    shadowed toward the lips' edge."""
    h, w = opening.alpha.shape
    roi = out[opening.y0:opening.y0 + h, opening.x0:opening.x0 + w]
    fill = _fill(opening, colour, scale, config, interior)
    if roi.shape[2] > 3:  # alpha: kept
        fill = np.concatenate([fill, roi[..., 3:].astype(np.float32)], axis=2)
    a = opening.alpha[..., None]
    mixed = roi.astype(np.float32) * (1 - a) + fill * a
    changed = opening.alpha * 255 >= 0.5
    roi[changed] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)[changed]


def _fill(opening: Opening, colour: np.ndarray, scale: float, config: MouthConfig,
          interior=None) -> np.ndarray:
    """What :func:`paint_opening` paints (float32 RGB over the opening's box): the shaded
    cavity, the interior over it."""
    depth = smoothstep(opening.inside / max(config.depth * scale, 1.0))
    shade = config.edge_shade + (config.deep_shade - config.edge_shade) * depth
    fill = shaded(colour, shade.astype(np.float32))
    if interior is not None:
        lip_shadow = config.lip_shadow + (1 - config.lip_shadow) * smoothstep(
            opening.inside / max(config.shadow_width * scale, 1.0))
        c = interior.coverage[..., None]
        fill = fill * (1 - c) + interior.rgb * lip_shadow[..., None] * c
    return fill


def _teeth_share(rgb: np.ndarray, skin_l: float) -> float:
    """The share of ``rgb`` pixels ((N, 3) float, 0-255) that look like teeth: at least 0.8 of
    the cheeks' CIELAB L* ``skin_l`` and of chroma under 20 (lips and a lit tongue are redder,
    the cavity darker)."""
    import cv2

    lab = cv2.cvtColor(np.clip(rgb, 0, 255).astype(np.uint8)[None], cv2.COLOR_RGB2LAB)[0]
    lab = lab.astype(np.float32)
    light = lab[:, 0] * (100 / 255) >= 0.8 * skin_l
    grey = np.hypot(lab[:, 1] - 128, lab[:, 2] - 128) < 20
    return float(np.mean(light & grey)) if len(lab) else 0.0


def teeth_in_middle(out: np.ndarray, opening: Opening, colour: np.ndarray, scale: float,
                    skin_l: float, config: MouthConfig = MouthConfig(), interior=None) -> Opening:
    """``opening`` with its wipe turned round (:attr:`Opening.turned`) where the person's own
    mouth in ``out`` (the warped frame) shows more teeth inside it than the drawn one
    (:attr:`MouthConfig.wipe_teeth_middle`)."""
    if opening.turned is None:
        return opening
    h, w = opening.alpha.shape
    inside = opening.inside > 0
    if not np.any(inside):
        return opening
    own = out[opening.y0:opening.y0 + h, opening.x0:opening.x0 + w, :3][inside]
    drawn = _fill(opening, colour, scale, config, interior)[..., :3][inside]
    if _teeth_share(own.astype(np.float32), skin_l) <= _teeth_share(drawn, skin_l) + 0.1:
        return opening
    return Opening(opening.x0, opening.y0, opening.turned, opening.inside)


def gap_of(inner_lips: np.ndarray) -> float:
    """How far the middle of the lower inner lip (point 14) is below the upper's (13), along the
    face's down direction (square to the line between the mouth corners); < 0: the lips cross."""
    axis = inner_lips[10] - inner_lips[0]
    down = np.array([-axis[1], axis[0]]) / max(float(np.linalg.norm(axis)), 1e-9)
    return float(np.dot(inner_lips[15] - inner_lips[5], down))


# Upper and lower lip points of INNER_LIPS whose mean shift carries the teeth behind them.
_UPPER_MIDDLE = (3, 4, 5, 6, 7)
_SKULL = (1, 4, 5, 195)  # the nose: what the upper teeth are fixed to
_LOWER_MIDDLE = (13, 14, 15, 16, 17)


def _mouth_middle(frame: np.ndarray, inner_lips: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The frame's pixels over the inner lips' box (uint8 RGB), the mouth coordinate s there
    (:func:`_mouth_coordinate`) and the middle half of the mouth's width inside the lips; None
    where the box leaves the frame."""
    lo = np.floor(inner_lips.min(axis=0)).astype(int)
    s, inside = _mouth_coordinate(inner_lips, lo, np.ceil(inner_lips.max(axis=0)).astype(int) + 1)
    (x0, y0), (h, w) = lo, s.shape
    patch = np.asarray(frame[max(y0, 0):y0 + h, max(x0, 0):x0 + w, :3])
    if patch.shape[:2] != s.shape:
        return None
    middle = inside & (np.abs(np.arange(w) - (w - 1) / 2) <= w / 4)[None, :]
    return patch, s, middle


def teeth_split(frame: np.ndarray, inner_lips: np.ndarray) -> float:
    """Where, between the upper (0) and the lower (1) inner lip, the photo's upper teeth end:
    the darkest band of the middle half of the mouth (the line between the rows of teeth, the
    shadow under the upper teeth, or the dark cavity), searched from 0.2 down."""
    found = _mouth_middle(frame, inner_lips)
    if found is None:
        return 1.0
    patch, s, middle = found
    luma = patch.astype(np.float32).mean(axis=2)
    bins = np.linspace(0.2, 1.0, 9)
    bands = [middle & (s >= a) & (s < b) for a, b in zip(bins[:-1], bins[1:], strict=True)]
    means = [luma[band].mean() if band.any() else np.inf for band in bands]
    k = int(np.argmin(means))
    return float((bins[k] + bins[k + 1]) / 2) if np.isfinite(means[k]) else 1.0


def own_teeth_lab(frame: np.ndarray, inner_lips: np.ndarray, split: float) -> np.ndarray | None:
    """The CIELAB colour (L 0-100) of the upper teeth a photo shows: the median of the brighter
    half of the low-chroma pixels between the upper inner lip and ``split`` (the middle half of
    the mouth's width); None when too few pixels show (a closed or dark mouth)."""
    import cv2

    found = _mouth_middle(frame, inner_lips)
    if found is None:
        return None
    patch, s, middle = found
    band = middle & (s >= 0.1) & (s < max(split - 0.05, 0.1))
    if band.sum() < 20:
        return None
    lab = cv2.cvtColor(np.ascontiguousarray(patch).astype(np.float32) / 255,
                       cv2.COLOR_RGB2LAB)[band]
    lab = lab[np.hypot(lab[:, 1], lab[:, 2]) < 30]
    if len(lab) < 10:
        return None
    bright = lab[lab[:, 0] >= np.median(lab[:, 0])]
    return np.median(bright, axis=0).astype(np.float32)


def _mouth_coordinate(inner_lips: np.ndarray, lo: np.ndarray, hi: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Over the pixels of [lo, hi): s, 0 on the upper inner lip and 1 on the lower one (linear
    along each column between the two outlines), and the inside of the polygon."""
    w, h = int(hi[0] - lo[0]), int(hi[1] - lo[1])
    xs = np.arange(lo[0], hi[0], dtype=np.float64)
    upper = inner_lips[:11]
    lower = inner_lips[[10, *range(11, 20), 0]][::-1]
    uy = np.interp(xs, *_increasing(upper))
    ly = np.interp(xs, *_increasing(lower))
    ys = np.arange(lo[1], hi[1], dtype=np.float64)[:, None]
    s = (ys - uy[None, :]) / np.maximum(ly - uy, 1e-6)[None, :]
    inside = polygon_mask(inner_lips, lo.astype(np.float64), (h, w)) > 127
    return s.astype(np.float32), inside


def _increasing(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(points[:, 0], kind="stable")
    return points[order, 0], points[order, 1]


def _mouth_box(src: np.ndarray, dest: np.ndarray, field) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the inner lips before and after the move, 2 px around, within the
    field's box; None when they do not meet."""
    margin = 2
    lo = np.floor(np.minimum(dest.min(axis=0), src.min(axis=0))).astype(int) - margin
    hi = np.ceil(np.maximum(dest.max(axis=0), src.max(axis=0))).astype(int) + margin + 1
    fx1, fy1 = field.x0 + field.dx.shape[1], field.y0 + field.dx.shape[0]
    x0, y0 = max(lo[0], field.x0), max(lo[1], field.y0)
    x1, y1 = min(hi[0], fx1), min(hi[1], fy1)
    return None if x0 >= x1 or y0 >= y1 else (x0, y0, x1, y1)


def _translated(mask: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``mask`` moved by ``t`` px (bilinear)."""
    import cv2

    m = np.float32([[1, 0, t[0]], [0, 1, t[1]]])
    return cv2.warpAffine(mask, m, (mask.shape[1], mask.shape[0]), flags=cv2.INTER_LINEAR)


# The gap a photo's own teeth leave is painted with a soft edge this wide (IOD), cut from the
# pixels' own mask, and its lower teeth kept this far off the lower lip's edge. Anti-aliased as
# :func:`find_opening`'s edge, `-e surprise` on single_face.mp4 (his own smile's teeth) read
# surprise on 72% of frames instead of 81%.
_RIGID_FEATHER = 0.012


def rigid_teeth(frame: np.ndarray, landmarks: np.ndarray, shifts: np.ndarray, field,
                scale: float, config: MouthConfig = MouthConfig(), memory=None
                ) -> Opening | None:
    """Teeth a photo already shows move rigidly: on a mouth open in the photo, the backward
    ``field`` inside the moved inner lips is replaced (in place) by two translations, the upper
    teeth with the nose (``teeth_on_skull``), the lower with the lower lip (the jaw), split at
    :func:`teeth_split`; where neither reads the photo's mouth (the teeth part, the mouth
    widens) the returned Opening is painted as the dark cavity. None: nothing to do.

    With a track's ``memory`` (video, :class:`ganimate.engines.mouth_track.MouthMemory`), the
    track decides whether the mouth is open (not while it counts as wholly closed) and where its
    teeth split; while it changes state, :func:`find_opening`'s wipe is painted over this at
    full strength (a cross-fade of the two showed neither)."""
    import cv2

    if field is None or config.strength <= 0:
        return None
    idx = list(INNER_LIPS)
    src = np.asarray(landmarks, np.float64)[idx, :2]
    moves = np.asarray(shifts, np.float64)
    move = moves[idx]
    if memory is None and gap_of(src) / scale < config.open_at:  # closed: find_opening's
        return None
    openness = 1.0 if memory is None else 1.0 - memory.closedness
    if openness <= 0:
        return None
    if openness < 1 and gap_of(src) / scale < config.closed:
        # a track's mouth turning closed on lips that have met: nothing of its own to move, and
        # the gap this path paints (the drawn upper teeth in front of the cavity) would show a
        # whole row at once; find_opening's wipe brings the drawn teeth in
        return None
    t_up = (moves[list(_SKULL)] if config.teeth_on_skull else move[list(_UPPER_MIDDLE)]).mean(
        axis=0)
    t_low = move[list(_LOWER_MIDDLE)].mean(axis=0)
    dest = src + move
    # on in full once the lips part rigid_from IOD further than in the photo: a smile that
    # keeps the mouth as open as it was is left to the spline (per-frame splits of a talking
    # mouth flicker: single_face.mp4 with AU06=0.6 AU12=0.8, frame change x1.14 instead of x1.0)
    on = float(smoothstep((gap_of(dest) - gap_of(src)) / (config.rigid_from * scale)))
    if on <= 0:
        return None
    box = _mouth_box(src, dest, field)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    origin = np.array([x0, y0])
    s, inside = _mouth_coordinate(src, origin, np.array([x1, y1]))
    split = teeth_split(frame, src) if memory is None or memory.split is None else memory.split
    upper = (inside & (s < split)).astype(np.float32)
    # the lower teeth, kept off the lower lip's edge (landmarks put a little lip inside the
    # polygon); a dark band low in the mouth means no lower teeth show: nothing follows the jaw
    rim = max(1, int(round(_RIGID_FEATHER * scale)))
    core = cv2.erode(inside.astype(np.uint8), np.ones((2 * rim + 1, 2 * rim + 1), np.uint8))
    lower = (core.astype(bool) & (s >= split)).astype(np.float32) * (split < config.lower_teeth)
    up, down = _translated(upper, t_up), _translated(lower, t_low)
    down = down * (1 - up)
    mouth = polygon_mask(dest, origin.astype(np.float64), s.shape) / np.float32(255)
    fy, fx = slice(y0 - field.y0, y1 - field.y0), slice(x0 - field.x0, x1 - field.x0)
    weight = mouth * np.float32(on)
    for d, k in ((field.dx, 0), (field.dy, 1)):
        rigid = -(up * t_up[k] + down * t_low[k])
        d[fy, fx] = d[fy, fx] * (1 - weight * (up + down)) + weight * rigid
    inside_d = cv2.distanceTransform((mouth > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    edge = smoothstep(inside_d / max(_RIGID_FEATHER * scale, 1.0)) * weight
    alpha = (config.strength * edge * np.clip(1 - up - down, 0, 1)).astype(np.float32)
    if not np.any(alpha * 255 >= 0.5):
        return None
    return Opening(x0, y0, alpha, inside_d.astype(np.float32))
