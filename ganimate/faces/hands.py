"""Hands in front of a face: found by mediapipe's hand tracker (its models ship in the wheel), and
drawn as a mask of the pixels they cover.

An edit moves the face's pixels; a hand over the mouth is not the face. Without this, the warp
parted the lips *through* the fingers and drew teeth on them (``WolfgangLanger_Pexels.mp4``,
frames ~85-135, where a hand rests on the mouth). The edited frame keeps the input's pixels where
a hand covers the face (:func:`ganimate.engines.blend.keep_in_front`), and a video's mouth track
holds its state while the mouth is covered.

The mask is the hand's skeleton drawn thick: each finger a chain of capsules along its joints, as
wide as a finger (an eighth of the palm's width, the knuckles of the index to the little finger,
plus a margin), the palm the polygon of the wrist and the knuckles. mediapipe's points lie inside
the fingers, so a capsule of that width covers the finger with a pixel or two to spare at the
usual sizes; a feather keeps the seam soft.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganimate.faces.mediapipe_graphs import import_mediapipe, quiet_call, warm_graph

# Imported in the functions that use them, on purpose (start-up): cv2 (where masks are drawn).

# mediapipe hand landmarks: 0 wrist; thumb 1-4, index 5-8, middle 9-12, ring 13-16, little 17-20.
_FINGERS = ((0, 1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (0, 17, 18, 19, 20))
_PALM = (0, 1, 5, 9, 13, 17)
# The bones between joints along the fingers (each drawn as a capsule): from, to.
_BONE_FROM = tuple(a for chain in _FINGERS for a in chain[:-1])
_BONE_TO = tuple(b for chain in _FINGERS for b in chain[1:])


@dataclass(frozen=True)
class HandConfig:
    """How hands are found and how much of the frame they are taken to cover."""

    # mediapipe's detection and tracking confidence.
    min_score: float = 0.5
    # Hands followed at once.
    max_hands: int = 2
    # 0: the lite models, 1: the full ones. On one core the lite palm detector takes about 11 ms
    # a frame (it runs while fewer than ``max_hands`` hands are followed), following a hand about
    # 7 ms.
    complexity: int = 0
    # Video: while no hand is followed, look for one on every n-th frame only (a hand coming into
    # view is found within n - 1 frames); every frame while one is followed.
    look_every: int = 3
    # A finger's half-width, as a share of the palm's width (index to little knuckle), and the
    # mask's soft edge in the same unit.
    finger: float = 0.16
    feather: float = 0.05
    # A hand counts only if the tracker finds it again (its points within half a palm's
    # width, median) in the mirrored image or in the image with a border of a quarter of its
    # size: on faces alone mediapipe's hands find fingers in the features (56 false hands in
    # 3,260 UTKFace crops and one of 26 surprised London faces, its fist on her chin kept
    # unedited, a torn mouth); confirmed, 16 of the 57 remain, not that one, while 28 of the 30
    # real hands of WolfgangLanger_Pexels.mp4 (every 5th frame, 50-240) and 5 of 8 in UTKFace
    # do (docs/engines.md). Videos: a hand the tracker newly finds is confirmed the same way
    # (by a still-image graph beside the tracker, built for the first); one followed on from a
    # confirmed hand is not checked again. False: every hand found counts.
    confirm: bool = True


@dataclass(frozen=True)
class Hand:
    """One hand in a frame: mediapipe's 21 points (x, y) in frame pixels."""

    points: np.ndarray  # float64 (21, 2)

    @property
    def palm_width(self) -> float:
        return float(np.hypot(*(self.points[5] - self.points[17])))

    def box(self, margin: float) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) around the points, grown by ``margin`` px."""
        lo, hi = self.points.min(axis=0) - margin, self.points.max(axis=0) + margin
        return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


class HandTracker:
    """mediapipe hands on the frames of one video, in order (``still=True``: each image on its
    own, for photos). Call it with an RGB frame; it returns the hands found."""

    def __init__(self, config: HandConfig = HandConfig(), still: bool = False):
        self.config = config
        self._still = still
        self._every = 1 if still else max(int(config.look_every), 1)
        self._idle = 0  # calls since the last look, while it found nothing (0: look now)
        self._graph = self._build(still)
        # Video: a still-image graph that confirms a hand the tracker newly finds, built on the
        # first such hand; and the hands confirmed at the last look, which a hand followed from
        # them need not be again.
        self._checker = self._graph if still else None
        self._kept: tuple[Hand, ...] = ()

    def _build(self, still: bool):
        mp = import_mediapipe()
        cfg = self.config
        return warm_graph(mp.solutions.hands.Hands, static_image_mode=still,
                          max_num_hands=cfg.max_hands, model_complexity=cfg.complexity,
                          min_detection_confidence=cfg.min_score,
                          min_tracking_confidence=cfg.min_score)

    def __enter__(self) -> HandTracker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._checker is not None and self._checker is not self._graph:
            quiet_call(self._checker.close)
        if self._graph is not None:
            quiet_call(self._graph.close)
        self._graph = self._checker = None

    def __call__(self, rgb: np.ndarray) -> tuple[Hand, ...]:
        if self._idle % self._every:
            self._idle += 1
            return ()
        frame = np.ascontiguousarray(np.asarray(rgb)[..., :3])
        hands = _found(self._graph, frame)
        self._idle = 0 if hands else self._idle + 1
        if hands and self.config.confirm:
            hands = tuple(h for h in hands
                          if any(_same(h, k) for k in self._kept) or self._confirmed(frame, h))
        self._kept = () if self._still else hands
        return hands

    def _confirmed(self, frame: np.ndarray, hand: Hand) -> bool:
        """Whether ``hand`` is found again in the mirrored ``frame`` or in ``frame`` with a border
        (:attr:`HandConfig.confirm`), by the still-image graph."""
        import cv2

        if self._checker is None:
            self._checker = self._build(True)
        h, w = frame.shape[:2]
        mirrored = _found(self._checker, np.ascontiguousarray(frame[:, ::-1]))
        if any(_same(hand, Hand(np.column_stack([w - 1 - f.points[:, 0], f.points[:, 1]])))
               for f in mirrored):
            return True
        pad = int(0.25 * max(h, w))
        border = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        return any(_same(hand, Hand(f.points - pad)) for f in _found(self._checker, border))


def _found(graph, frame: np.ndarray) -> tuple[Hand, ...]:
    """The hands mediapipe's ``graph`` finds in an RGB ``frame``."""
    result = quiet_call(graph.process, frame)
    h, w = frame.shape[:2]
    return tuple(Hand(np.array([(p.x * w - 0.5, p.y * h - 0.5) for p in found.landmark],
                               np.float64))
                 for found in result.multi_hand_landmarks or ())


def _same(a: Hand, b: Hand) -> bool:
    """Whether two findings are one hand: their points within half a palm's width (median)."""
    tol = 0.5 * max(a.palm_width, 1.0)
    return float(np.median(np.linalg.norm(a.points - b.points, axis=1))) < tol


def occluder_mask(hands: tuple[Hand, ...], box: tuple[int, int, int, int],
                  config: HandConfig = HandConfig()) -> np.ndarray | None:
    """float32 (h, w) in [0, 1] over ``box`` (x0, y0, x1, y1 frame pixels): how much of each pixel
    the ``hands`` cover (see the module docstring); None when none of them reaches the box."""
    import cv2

    x0, y0, x1, y1 = box
    shape = (max(y1 - y0, 0), max(x1 - x0, 0))
    mask = np.zeros(shape, np.uint8)
    drawn = False
    for hand in hands:
        palm = max(hand.palm_width, 1.0)
        radius = config.finger * palm
        hx0, hy0, hx1, hy1 = hand.box(radius + config.feather * palm)
        if hx1 < x0 or hy1 < y0 or hx0 >= x1 or hy0 >= y1 or not mask.size:
            continue
        pts = np.round((hand.points - (x0, y0)) * 16).astype(np.int32)
        cv2.fillPoly(mask, [pts[list(_PALM)]], 255, cv2.LINE_AA, 4)
        thick = max(1, int(round(2 * radius)))
        for a, b in zip(_BONE_FROM, _BONE_TO, strict=True):
            cv2.line(mask, tuple(map(int, pts[a])), tuple(map(int, pts[b])), 255, thick,
                     cv2.LINE_AA, 4)
        drawn = True
    if not drawn:
        return None
    out = mask.astype(np.float32) / 255
    soft = config.feather * max(h.palm_width for h in hands)
    if soft >= 0.5:
        out = np.maximum(out, cv2.GaussianBlur(out, (0, 0), soft / 2))
    return out


def covered_share(hands: tuple[Hand, ...], points: np.ndarray,
                  config: HandConfig = HandConfig()) -> float:
    """The mean of :func:`occluder_mask` at ``points`` ((N, 2+) frame pixels): 0 when no hand
    covers any of them, 1 when a hand covers them all."""
    if not hands:
        return 0.0
    pts = np.asarray(points, np.float64)[:, :2]
    x0, y0 = np.floor(pts.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 2
    mask = occluder_mask(hands, (int(x0), int(y0), int(x1), int(y1)), config)
    if mask is None:
        return 0.0
    ix = np.clip(np.round(pts - (x0, y0)).astype(int), 0, [mask.shape[1] - 1, mask.shape[0] - 1])
    return float(mask[ix[:, 1], ix[:, 0]].mean())


def hand_distance(hands: tuple[Hand, ...], points: np.ndarray,
                  config: HandConfig = HandConfig()) -> float:
    """How close the ``hands`` come to ``points`` ((N, 2+) frame pixels): the least distance
    (px) from any point to a hand as :func:`occluder_mask` draws it (a finger a capsule of
    :attr:`HandConfig.finger` half-width along its joints, the palm its polygon); 0 where one
    lies on a hand, ``inf`` without hands."""
    import cv2

    pts = np.asarray(points, np.float64)[:, :2]
    best = np.inf
    for hand in hands:
        radius = config.finger * max(hand.palm_width, 1.0)
        a = hand.points[list(_BONE_FROM)]
        ab = hand.points[list(_BONE_TO)] - a
        t = np.einsum("psk,sk->ps", pts[:, None] - a, ab) / np.maximum((ab * ab).sum(1), 1e-9)
        near = a + np.clip(t, 0, 1)[..., None] * ab
        best = min(best, float(np.linalg.norm(pts[:, None] - near, axis=2).min()) - radius)
        palm = hand.points[list(_PALM)].astype(np.float32)
        if any(cv2.pointPolygonTest(palm, (float(x), float(y)), False) >= 0 for x, y in pts):
            best = 0.0
    return max(best, 0.0)
