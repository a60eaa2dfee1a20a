"""Frame-by-frame measures of ``ganimate eval video`` beside the mouth (:mod:`.mouth`): flicker of
the edit layer, expression reads by the FER-2013 classifier, and the strip image.

All are streaming: they keep the previous frame at most (the strip: its few sampled crops).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganimate.evaluation.emotion import LABELS, EmotionReading, SquareBox, read_emotions

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are resized),
# torch (through read_emotions).

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in frame pixels (the tracker's box)

# The FER classifier was used with OpenCV's Haar box (emotion.find_face). On the 204 London photos
# that box is, relative to the face mesh's tight box (forehead top to chin), centred horizontally
# (+0.001 of the width, sd 0.018), 0.084 of the height higher (sd 0.03) and 1.036 of the height
# wide (sd 0.064); read through a box built so, the classifier's top-1 agrees with Haar's on 90%
# of the photos and finds 41 of the 102 smiles happy (Haar's box: 37) and 1 of the neutral faces.
_HAAR_SIDE, _HAAR_RAISE = 1.036, 0.084


def square_box(box: Box) -> SquareBox:
    """The classifier's square face box (as its Haar detector would frame the face) from a face
    mesh box."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    side = _HAAR_SIDE * h
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - _HAAR_RAISE * h
    return SquareBox(round(cx - side / 2), round(cy - side / 2), max(1, round(side)))


# --- the edit layer ------------------------------------------------------------------------------


class EditFlickerMeter:
    """Flicker of the edit layer ``out - in`` (int16): mean |layer_t - layer_t-1| inside the face
    region of the later frame, in 8-bit levels per step. Unlike the output's frame change it does
    not see the input's own motion: a steady edit scores ~0 however much the face moves, as long
    as the edit moves with it."""

    def __init__(self) -> None:
        self._prev: np.ndarray | None = None
        self._sum = 0.0
        self._steps = 0

    def update(self, frame_in: np.ndarray, frame_out: np.ndarray,
               region: np.ndarray | None) -> None:
        if region is None or not np.any(region):
            self._prev = None
            return
        layer = frame_out.astype(np.int16) - frame_in.astype(np.int16)
        if self._prev is not None:
            self._sum += float(np.abs(layer[region] - self._prev[region]).mean())
            self._steps += 1
        self._prev = layer

    def result(self) -> EditFlicker:
        return EditFlicker(self._sum / self._steps if self._steps else math.nan, self._steps)


@dataclass(frozen=True)
class EditFlicker:
    """Flicker of the edit layer out - in inside the face region."""

    change: float  # levels per step
    steps: int


# --- expression reads ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelShare:
    """One label of the classifier over the frames read."""

    label: str
    output: float  # share of read frames whose top-1 on the output is this label
    input: float  # the same on the input
    output_p: float  # mean probability of the label, output
    input_p: float  # the same on the input


@dataclass(frozen=True)
class ExpressionReads:
    """The FER-2013 classifier on every ``every``-th face frame of both videos, through the input
    face's box (the same pixels region in both)."""

    every: int
    frames: int  # frames read
    labels: list[LabelShare]
    expected: LabelShare | None  # the label asked with --expect


def _label_shares(pairs: list[tuple[EmotionReading, EmotionReading]]) -> list[LabelShare]:
    rows = []
    for label in LABELS:
        rows.append(LabelShare(
            label, float(np.mean([o.top == label for _, o in pairs])),
            float(np.mean([i.top == label for i, _ in pairs])),
            float(np.mean([o.p(label) for _, o in pairs])),
            float(np.mean([i.p(label) for i, _ in pairs]))))
    return rows


class ExpressionMeter:
    """Streaming expression reads: the input and output of every ``every``-th frame with a face,
    in batches of ``batch`` frame pairs (only their classifier crops are kept)."""

    def __init__(self, every: int = 1, expect: str | None = None, batch: int = 32) -> None:
        if expect is not None and expect not in LABELS:
            raise ValueError(f"unknown expression label {expect!r}; one of {', '.join(LABELS)}")
        self.every, self.expect, self.batch = every, expect, batch
        self._frames: list[np.ndarray] = []
        self._boxes: list[SquareBox] = []
        self._reads: list[tuple[EmotionReading, EmotionReading]] = []

    def update(self, index: int, frame_in: np.ndarray, frame_out: np.ndarray,
               box: Box | None) -> None:
        if box is None or index % self.every:
            return
        square = square_box(box)
        self._frames += [_around(frame_in, square), _around(frame_out, square)]
        local = SquareBox(_MARGIN, _MARGIN, square.side)  # its place in the cut-out
        self._boxes += [local, local]
        if len(self._frames) >= 2 * self.batch:
            self._flush()

    def _flush(self) -> None:
        if self._frames:
            reads = read_emotions(self._frames, self._boxes)
            self._reads += list(zip(reads[0::2], reads[1::2], strict=True))
        self._frames, self._boxes = [], []

    def result(self) -> ExpressionReads | None:
        self._flush()
        if not self._reads:
            return None
        labels = _label_shares(self._reads)
        expected = next((s for s in labels if s.label == self.expect), None)
        return ExpressionReads(self.every, len(self._reads), labels, expected)


# Pixels kept around the classifier's box: it reads 10 px around it (emotion._OFFSET) and pads
# the image with black, as _cut does outside the frame.
_MARGIN = 12


def _around(rgb: np.ndarray, box: SquareBox) -> np.ndarray:
    """The square ``box`` with ``_MARGIN`` px all round: all the classifier reads, so that a batch
    keeps small cut-outs rather than frames."""
    return _cut(rgb, box.x - _MARGIN, box.y - _MARGIN, box.side + 2 * _MARGIN)


def _cut(rgb: np.ndarray, x: int, y: int, side: int) -> np.ndarray:
    """The ``side`` x ``side`` window at (x, y) of ``rgb``, black where it leaves the image."""
    h, w = rgb.shape[:2]
    out = np.zeros((side, side, 3), np.uint8)
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + side, w), min(y + side, h)
    if x1 > x0 and y1 > y0:
        out[y0 - y:y1 - y, x0 - x:x1 - x] = rgb[y0:y1, x0:x1]
    return out


# --- the strip -----------------------------------------------------------------------------------


class FrameStrip:
    """Every ``every``-th frame's face, input over output: a square around the input's face box,
    its side ``grow`` larger than the box's (the same crop for both videos), ``size`` px. A
    sampled frame without a face passes its turn to the next frame that has one."""

    def __init__(self, every: int, size: int = 160, grow: float = 0.3) -> None:
        self.every, self.size, self.grow = max(1, every), size, grow
        self._due = False
        self.frames: list[int] = []
        self.inputs: list[np.ndarray] = []
        self.outputs: list[np.ndarray] = []

    def update(self, index: int, frame_in: np.ndarray, frame_out: np.ndarray,
               box: Box | None) -> None:
        self._due = self._due or index % self.every == 0
        if not self._due or box is None:
            return
        self._due = False
        self.frames.append(index)
        self.inputs.append(self._crop(frame_in, box))
        self.outputs.append(self._crop(frame_out, box))

    def _crop(self, rgb: np.ndarray, box: Box) -> np.ndarray:
        import cv2

        x0, y0, x1, y1 = box
        side = max(x1 - x0, y1 - y0) * (1 + self.grow)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        cut = _cut(rgb, round(cx - side / 2), round(cy - side / 2), max(1, round(side)))
        return cv2.resize(cut, (self.size, self.size), interpolation=cv2.INTER_AREA)

    def image(self) -> np.ndarray | None:
        """The strip (rows: input, output; columns: the sampled frames), or None when empty."""
        from ganimate.editing import draw_grid

        if not self.frames:
            return None
        cells = np.stack([np.stack(self.inputs), np.stack(self.outputs)])
        return draw_grid(cells, ["input", "output"], [f"frame {t}" for t in self.frames])

    def write(self, path: str | Path) -> Path | None:
        """Write the strip image (format from the extension); None when no frame had a face."""
        from ganimate.images import write_image

        image = self.image()
        return None if image is None else write_image(path, image)
