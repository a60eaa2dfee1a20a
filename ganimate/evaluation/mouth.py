"""The inner mouth of a video, frame to frame: a teeth reader, teeth pops and mouth flicker.

Each video is read with its *own* landmarks (a face tracker on the input frames, another on the
output frames), so an edit that moves the lips is measured inside the lips it drew.

**Teeth reader** (:func:`read_mouth`). The inner mouth is MediaPipe's 20 inner-lip points
(``INNER_LIPS``). A pixel inside it is *teeth* when, in CIELAB (D65, ``L*`` 0-100)::

    L* >= skin L* - 5     and     a* <= skin a* - 2

where *skin* is the median ``L*`` and ``a*`` of six cheek disks (``CHEEKS``, radius 0.06
inter-ocular distance, IOD) of the same frame: teeth are about as bright as the face's own skin or
brighter (much brighter on dark skin), and less red than it; lips, tongue and gums are redder than
skin, the cavity is dark. Both thresholds follow the face's own skin, so the rule holds across
skin tones and lighting. The *teeth share* is the share of inner-mouth pixels that pass, faded
out as the mouth closes: times 0 below an opening (the polygon's area) of 0.005 IOD², times 1 above
0.02, linearly between. A closed mouth's sliver polygon lies on the lips, and no smile showed
teeth (share > 0.1) below 0.022 IOD²; a hard gate made the share jump between 0 and ~0.4 where a
tracker's lips jitter around it (a hand over the mouth), counting pops that were not there.

Calibrated on the 102 London people (``tests/data/faces/london``, studio photos, cheek ``L*``
27-79), each mouth checked by eye with its teeth pixels painted: the neutral (closed) mouths open
0.0003 IOD² (median; 0.0035 at the 95th percentile) and read 0 teeth, all 102 (without the fade:
mean 0.001, at most 0.08, on one dark-skinned face's lips); of the smiles, 58 are open wider than
0.01 IOD² and read a mean share of 0.35, 86% of them above 0.1: 0.31-0.56 on the 8 dark-skinned
ones (cheek ``L*`` < 50), 0.03 / 0.35 / 0.54 (10th / 50th / 90th percentile) on the others, the low
ones a glimpse of teeth between parted lips. The core of a row of teeth is found; shaded side teeth
(darker than the cheek by more than 5) are not, so a share above ~0.6 is rare. A looser rule
(``L* >= skin - 10``, or ``a* <= skin a*``) lit up 4-8 closed dark-skinned mouths (lips lighter
than the skin minus 10 and hardly red); a stricter one (``L* >= skin``, ``a* <= skin a* - 6``) lost
the shaded teeth. Chroma (``b*``) separated nothing that ``a*`` did not. Darkening a photo to 60%
or 40% of its levels, or a warm cast (red x1.1, blue x0.8), moves the share by 0.02 at most on five
smiles (two dark-skinned), except a pale face at 40% (0.33 -> 0.19); closed mouths stay at 0.

**Teeth pops** (:class:`TeethPopMeter`): a step between two consecutive face frames where the
output's share jumps by more than 0.2 while the input's changes by less than 0.1: teeth that
appear or vanish in the edit without the input's mouth doing so. The input's own jumps (> 0.2)
give the scale.

**Mouth flicker** (:class:`MouthFlickerMeter`): mean |frame-to-frame change| (8-bit levels, RGB
mean) inside the union of the inner-mouth polygons of the two frames, each video with its own
polygons; the ratio output / input says how much the edit adds. The ratio is also given over
the steps where the input's own mouth is open in both frames and over those where it is closed
in both (the teeth reader's ``open_above`` / ``closed_below``): an edit that opens a closed mouth
shows teeth and cavity where the input shows lips, so its change there is several times the
input's whatever it does; where the mouth was open already, like is compared with like. The
mouth's *level* flicker (:func:`mouth_level`) is the change of the mean grey level inside each
frame's own polygon: what the eye sees as a mouth that flashes (teeth appearing and vanishing, an
interior that darkens for a frame), which a row of teeth moving with the head does not change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ganimate.faces import eye_corner_distance

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are converted
# or drawn).

# MediaPipe face mesh's inner lip outline (the same tuple as ganimate.engines.mouth.INNER_LIPS,
# restated so that evaluation does not depend on an engine): left corner, upper lip to the right
# corner, lower lip back.
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308,
              324, 318, 402, 317, 14, 87, 178, 88, 95)
# MediaPipe points on both cheeks (below the eyes, beside the nose and the mouth): the skin
# reference of the teeth reader.
CHEEKS = (50, 280, 101, 330, 205, 425)


@dataclass(frozen=True)
class TeethRule:
    """The teeth reader's thresholds (see the module docstring for how they were measured)."""

    lightness_margin: float = 5.0  # teeth: L* >= skin L* - this
    redness_margin: float = 2.0  # teeth: a* <= skin a* - this
    closed_below: float = 0.005  # polygon area in IOD^2 below which the share fades to 0
    open_above: float = 0.02  # ... and above which it counts in full
    cheek_radius: float = 0.06  # cheek disks, in IOD


@dataclass(frozen=True)
class MouthRead:
    """One face's inner mouth in one frame."""

    polygon: np.ndarray  # int32 (20, 2): the inner-lip outline in frame pixels
    opening: float  # polygon area / IOD^2
    teeth: float  # share of the inner mouth read as teeth, faded out as the mouth closes


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of uint8 RGB: L* in 0-100, a* and b* signed."""
    import cv2

    return cv2.cvtColor(np.ascontiguousarray(rgb, np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def _bounds(points: np.ndarray, pad: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Integer (x0, y0, x1, y1) around ``points`` grown by ``pad`` px, clipped to the image."""
    h, w = shape[:2]
    x0, y0 = np.floor(points.min(axis=0) - pad).astype(int)
    x1, y1 = np.ceil(points.max(axis=0) + pad).astype(int) + 1
    return max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)


def polygon_mask(polygon: np.ndarray, shape: tuple[int, ...],
                 bounds: tuple[int, int, int, int]) -> np.ndarray:
    """Boolean mask of ``polygon`` (frame pixels) over the window ``bounds`` (x0, y0, x1, y1)."""
    import cv2

    x0, y0, x1, y1 = bounds
    mask = np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), np.uint8)
    if mask.size:
        cv2.fillPoly(mask, [np.asarray(polygon, np.int32) - (x0, y0)], 1)
    return mask.astype(bool)


def skin_reference(rgb: np.ndarray, landmarks: np.ndarray, radius: float) -> tuple[float, float]:
    """Median (L*, a*) of the cheek disks (``CHEEKS``, ``radius`` px) of one face."""
    import cv2

    pts = np.asarray(landmarks, np.float64)[list(CHEEKS), :2]
    x0, y0, x1, y1 = _bounds(pts, radius + 1, rgb.shape)
    mask = np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), np.uint8)
    for x, y in np.round(pts - (x0, y0)).astype(int):
        cv2.circle(mask, (int(x), int(y)), max(2, round(radius)), 1, -1)
    picked = _lab(rgb[y0:y1, x0:x1])[mask.astype(bool)]
    if not picked.size:
        return math.nan, math.nan
    return float(np.median(picked[:, 0])), float(np.median(picked[:, 1]))


def read_mouth(rgb: np.ndarray, landmarks: np.ndarray, rule: TeethRule = TeethRule()
               ) -> MouthRead:
    """The inner mouth of the face with ``landmarks`` (478, 2+) in ``rgb``: outline, opening and
    teeth share (the rule in the module docstring)."""
    lm = np.asarray(landmarks, np.float64)
    outline = lm[list(INNER_LIPS), :2]
    polygon = np.round(outline).astype(np.int32)
    iod = eye_corner_distance(lm)
    x, y = outline[:, 0], outline[:, 1]
    area = 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))
    opening = area / iod ** 2 if iod > 0 else 0.0
    fade = float(np.clip((opening - rule.closed_below) / (rule.open_above - rule.closed_below),
                         0.0, 1.0))
    if fade == 0:
        return MouthRead(polygon, opening, 0.0)
    bounds = _bounds(outline, 1, rgb.shape)
    inside = polygon_mask(polygon, rgb.shape, bounds)
    x0, y0, x1, y1 = bounds
    lab = _lab(rgb[y0:y1, x0:x1])[inside]
    skin_l, skin_a = skin_reference(rgb, lm, rule.cheek_radius * iod)
    if not lab.size or not math.isfinite(skin_l):
        return MouthRead(polygon, opening, 0.0)
    teeth = (lab[:, 0] >= skin_l - rule.lightness_margin) & (lab[:, 1] <= skin_a
                                                               - rule.redness_margin)
    return MouthRead(polygon, opening, fade * float(teeth.mean()))


def _per_100(count: int, steps: int) -> float:
    return 100.0 * count / steps if steps else math.nan


@dataclass(frozen=True)
class TeethPops:
    """Teeth that appear or vanish between consecutive frames (module docstring)."""

    steps: int  # consecutive frame pairs with a face in both videos, both frames
    pops: int  # output share jumps > jump while the input's changes < steady
    pops_per_100: float  # per 100 steps
    input_jumps: int  # the input's own share jumps > jump (for scale)
    input_jumps_per_100: float
    output_teeth: float  # mean teeth share over the face frames, output
    input_teeth: float  # the same on the input
    jump: float
    steady: float


class TeethPopMeter:
    """Streaming teeth pops: feed the two videos' mouth reads frame by frame (None: no face,
    which breaks the chain)."""

    def __init__(self, jump: float = 0.2, steady: float = 0.1) -> None:
        self.jump, self.steady = jump, steady
        self._prev: tuple[float, float] | None = None
        self._steps = self._pops = self._input_jumps = 0
        self._shares: list[tuple[float, float]] = []

    def update(self, read_in: MouthRead | None, read_out: MouthRead | None) -> None:
        if read_in is None or read_out is None:
            self._prev = None
            return
        cur = (read_in.teeth, read_out.teeth)
        self._shares.append(cur)
        if self._prev is not None:
            d_in, d_out = abs(cur[0] - self._prev[0]), abs(cur[1] - self._prev[1])
            self._steps += 1
            self._pops += d_out > self.jump and d_in < self.steady
            self._input_jumps += d_in > self.jump
        self._prev = cur

    def result(self) -> TeethPops:
        shares = np.asarray(self._shares, np.float64).reshape(-1, 2)
        mean_in, mean_out = (float(v) for v in shares.mean(axis=0)) if len(shares) else (
            math.nan, math.nan)
        return TeethPops(self._steps, self._pops, _per_100(self._pops, self._steps),
                         self._input_jumps, _per_100(self._input_jumps, self._steps), mean_out,
                         mean_in, self.jump, self.steady)


@dataclass(frozen=True)
class MouthFlicker:
    """Frame-to-frame change inside the inner mouth, 8-bit levels per step."""

    output_change: float
    input_change: float
    ratio: float  # output / input; 1 when both are equal (0 included), NaN when only input is 0
    steps: int
    # The same after the previous frame is carried onto the current one by the input's optical
    # flow (the warping error, :func:`warped_change`), inside the current polygon: what changes
    # that the face's motion does not explain. A mouth opened wide by an edit shows
    # high-contrast teeth where the input shows a lens of lips, so its raw change grows with
    # every movement of the head even when nothing flickers.
    aligned_output: float = math.nan
    aligned_input: float = math.nan
    aligned_ratio: float = math.nan
    # The raw ratio over the steps where the input's own mouth is open in both frames (teeth
    # reader's opening >= TeethRule.open_above), and over those where it is closed in both
    # (< closed_below): an edit that opens a closed mouth shows teeth and cavity where the input
    # shows lips, so its change there is several times the input's whatever it does; the open
    # steps compare like with like.
    open_ratio: float = math.nan
    open_steps: int = 0
    closed_ratio: float = math.nan
    closed_steps: int = 0
    # The mouth's *level*: mean |change of the mean grey level inside each frame's own inner-mouth
    # polygon| (levels a step), output and input, and their ratio: teeth that appear or vanish,
    # an interior that darkens or lightens from one frame to the next. A row of teeth that
    # moves with the head changes many pixels (the raw ratio above) but not its level.
    level_output: float = math.nan
    level_input: float = math.nan
    level_ratio: float = math.nan


def mouth_change(prev: np.ndarray, cur: np.ndarray, poly_prev: np.ndarray,
                 poly_cur: np.ndarray) -> float:
    """Mean |cur - prev| (levels, RGB mean) inside the union of the two polygons."""
    bounds = _bounds(np.vstack([poly_prev, poly_cur]).astype(np.float64), 1, cur.shape)
    union = (polygon_mask(poly_prev, cur.shape, bounds)
             | polygon_mask(poly_cur, cur.shape, bounds))
    if not union.any():
        return math.nan
    x0, y0, x1, y1 = bounds
    a = prev[y0:y1, x0:x1][union].astype(np.float32)
    b = cur[y0:y1, x0:x1][union].astype(np.float32)
    return float(np.abs(b - a).mean())


def mouth_level(rgb: np.ndarray, polygon: np.ndarray) -> float:
    """Mean grey level (RGB mean) inside ``polygon``; NaN when it covers no pixel."""
    bounds = _bounds(np.asarray(polygon, np.float64), 1, rgb.shape)
    inside = polygon_mask(polygon, rgb.shape, bounds)
    if not inside.any():
        return math.nan
    x0, y0, x1, y1 = bounds
    return float(rgb[y0:y1, x0:x1][inside].astype(np.float32).mean())


def input_flow(prev_in: np.ndarray, cur_in: np.ndarray, bounds: tuple[int, int, int, int]
               ) -> np.ndarray:
    """Dense optical flow (Farneback) of the *input* over ``bounds``, from the current frame to
    the previous one: where each current pixel was (float32 (h, w, 2), window pixels)."""
    import cv2

    x0, y0, x1, y1 = bounds
    grey = [cv2.cvtColor(np.ascontiguousarray(f[y0:y1, x0:x1, :3]), cv2.COLOR_RGB2GRAY)
            for f in (cur_in, prev_in)]
    return cv2.calcOpticalFlowFarneback(grey[0], grey[1], None, 0.5, 3, 15, 3, 5, 1.2, 0)


def warped_change(prev: np.ndarray, cur: np.ndarray, flow: np.ndarray,
                  bounds: tuple[int, int, int, int], polygon: np.ndarray) -> float:
    """Mean |cur - prev carried along ``flow``| (levels) inside ``polygon``: the change that the
    input's motion does not explain (the "warping error" of video temporal consistency, Lai et
    al., ECCV 2018, with the input's flow for both videos)."""
    import cv2

    x0, y0, x1, y1 = bounds
    inside = polygon_mask(polygon, cur.shape, bounds)
    if not inside.any():
        return math.nan
    h, w = inside.shape
    grid = np.mgrid[0:h, 0:w].astype(np.float32)
    carried = cv2.remap(np.ascontiguousarray(prev[y0:y1, x0:x1]), grid[1] + flow[..., 0],
                        grid[0] + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    a = carried[inside].astype(np.float32)
    b = cur[y0:y1, x0:x1][inside].astype(np.float32)
    return float(np.abs(b - a).mean())


def _ratio(out_c: float, in_c: float) -> float:
    return 1.0 if out_c == in_c else (out_c / in_c if in_c > 0 else math.nan)


class MouthFlickerMeter:
    """Streaming mouth flicker: feed both frames and both mouth reads (None: no face in a video,
    which breaks the chain of both, so that output and input are measured on the same steps)."""

    def __init__(self, rule: TeethRule = TeethRule()) -> None:
        self._rule = rule
        self._prev: tuple[np.ndarray, np.ndarray, MouthRead, MouthRead] | None = None
        self._out: list[float] = []
        self._in: list[float] = []
        self._open: list[bool | None] = []  # the input's mouth: open, closed, or between
        self._aligned: list[tuple[float, float]] = []
        self._levels: list[tuple[float, float]] = []  # |level change|, output and input

    def update(self, frame_in: np.ndarray, frame_out: np.ndarray, read_in: MouthRead | None,
               read_out: MouthRead | None) -> None:
        if read_in is None or read_out is None:
            self._prev = None
            return
        if self._prev is not None:
            p_in, p_out, r_in, r_out = self._prev
            c_in = mouth_change(p_in, frame_in, r_in.polygon, read_in.polygon)
            c_out = mouth_change(p_out, frame_out, r_out.polygon, read_out.polygon)
            if math.isfinite(c_in) and math.isfinite(c_out):
                self._in.append(c_in)
                self._out.append(c_out)
                level = (abs(mouth_level(frame_out, read_out.polygon)
                             - mouth_level(p_out, r_out.polygon)),
                         abs(mouth_level(frame_in, read_in.polygon)
                             - mouth_level(p_in, r_in.polygon)))
                if all(math.isfinite(v) for v in level):
                    self._levels.append(level)
                both = (r_in.opening, read_in.opening)
                self._open.append(True if min(both) >= self._rule.open_above else
                                  False if max(both) < self._rule.closed_below else None)
            polygons = np.vstack([r_in.polygon, read_in.polygon, r_out.polygon,
                                  read_out.polygon]).astype(np.float64)
            span = float(np.ptp(polygons[:, 0]))
            bounds = _bounds(polygons, 0.3 * span + 8, frame_in.shape)
            flow = input_flow(p_in, frame_in, bounds)
            a_in = warped_change(p_in, frame_in, flow, bounds, read_in.polygon)
            a_out = warped_change(p_out, frame_out, flow, bounds, read_out.polygon)
            if math.isfinite(a_in) and math.isfinite(a_out):
                self._aligned.append((a_out, a_in))
        self._prev = (frame_in, frame_out, read_in, read_out)

    def result(self) -> MouthFlicker:
        if not self._out:
            return MouthFlicker(math.nan, math.nan, math.nan, 0)
        out_c, in_c = float(np.mean(self._out)), float(np.mean(self._in))
        aligned = np.array(self._aligned).reshape(-1, 2)
        a_out, a_in = (float(v) for v in aligned.mean(axis=0)) if len(aligned) else (math.nan,) * 2
        split = {}
        for state in (True, False):
            picked = [k for k, s in enumerate(self._open) if s is state]
            ratio = (_ratio(float(np.mean([self._out[k] for k in picked])),
                            float(np.mean([self._in[k] for k in picked]))) if picked else math.nan)
            split[state] = (ratio, len(picked))
        levels = np.array(self._levels).reshape(-1, 2)
        l_out, l_in = ((float(v) for v in levels.mean(axis=0)) if len(levels)
                       else (math.nan,) * 2)
        return MouthFlicker(out_c, in_c, _ratio(out_c, in_c), len(self._out), a_out, a_in,
                            _ratio(a_out, a_in), *split[True], *split[False], l_out, l_in,
                            _ratio(l_out, l_in) if len(levels) else math.nan)
