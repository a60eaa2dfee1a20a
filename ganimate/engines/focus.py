"""A soft rim for what the warp paints into a mouth: the lips' own, and the photo's focus.

The cavity and drawn teeth are painted with an edge anti-aliased to a fraction of a pixel. A real
mouth's rim is softer: the inner lip rolls into the mouth, and the photo's lens, sensor and
compression blur every edge, more in a webcam frame or a video than in a studio photo. Against
such a face the painted mouth read as a cut-out, a crisp dark outline round the hole (a blind
review of four ways of painting six open mouths ranked the crisp edge last on every face).

:func:`camera_blur` reads how soft the face's sharpest edges are, as a Gaussian's sigma in pixels
(Zhuo & Sim, "Defocus map estimation from a single image", Pattern Recognition 2011: a step edge
blurred by sigma, blurred again by a known sigma_0, loses gradient by the ratio
R = sqrt(sigma^2 + sigma_0^2) / sigma at the edge, so sigma = sigma_0 / sqrt(R^2 - 1)), on the
eyes and the mouth, where a face's finest edges are (lashes, lid lines, lips): the median over
the strongest edges. On London photos blurred by a known sigma of 1 and 2 px it reads
sqrt(read^2 + sigma^2) within 0.25 px; natural edges are not steps, so it reads in its own units,
and a painted edge is measured in the same ones (:attr:`FocusConfig.crisp`).

:func:`in_focus` blurs the painted layer's coverage, not its colours (the photographed teeth carry
their own photo's blur), by :func:`edge_softness`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganimate.engines.mouth import Opening
from ganimate.engines.teeth import Interior

# Imported in the functions that use them, on purpose (start-up): cv2.

# MediaPipe points round the eyes, the brows and the mouth: the box whose edges are read.
_EDGE_POINTS = (33, 133, 159, 145, 362, 263, 386, 374, 70, 300, 105, 334, 61, 291, 13, 14, 0, 17)


@dataclass(frozen=True)
class FocusConfig:
    """How a painted mouth takes the photo's focus; 0 ``strength`` paints a crisp edge."""

    # Share of the photo's blur given to the painted edge (1: all of it).
    strength: float = 1.0
    # The known blur (px) of Zhuo & Sim's second look at the edges.
    reblur: float = 1.0
    # Edges counted: those whose gradient is among the strongest ``1 - edge_share`` of the box.
    edge_share: float = 0.95
    # A real mouth's rim is not a step: the inner lip rolls into the mouth over about half a
    # millimetre. The painted edge is blurred by this much (IOD) on any photo: 0.7 px at the
    # London photos' 77 px IOD, which a blind review of six open mouths preferred to the crisp
    # edge on every face (it hid the thin dark outline of a cut-out), and 1.5 px (a photo's
    # blur on top) looked out of focus.
    lip_edge: float = 0.009
    # What :func:`camera_blur` reads on a painted edge that is not blurred (the 4x
    # anti-aliasing and ``MouthConfig.feather``; 0.81-0.82 px on synthetic openings at any IOD
    # and sub-pixel offset): a photo whose edges read softer than this adds its excess.
    crisp: float = 0.81
    # At most this much blur is added (px): a face out of focus by more is rare, and the
    # reading of very soft edges is the least sure.
    most: float = 3.0

    def __post_init__(self):
        if (min(self.strength, self.lip_edge, self.crisp, self.most) < 0 or self.reblur <= 0
                or not 0.0 < self.edge_share < 1.0):
            raise ValueError("FocusConfig: strength, lip_edge, crisp, most >= 0, reblur > 0, "
                             "0 < edge_share < 1")


def edge_blur(grey: np.ndarray, config: FocusConfig = FocusConfig()) -> float | None:
    """The Gaussian sigma (px) of the strongest edges of a grey image (float32), their median;
    None where it has no edge to read."""
    import cv2

    def gradient(image: np.ndarray) -> np.ndarray:
        return cv2.magnitude(cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3),
                             cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3))

    if min(grey.shape[:2]) < 8:
        return None
    sharp = gradient(grey)
    soft = gradient(cv2.GaussianBlur(grey, (0, 0), config.reblur))
    peak = sharp >= cv2.dilate(sharp, np.ones((3, 3), np.uint8))  # across the edge's width
    strong = peak & (sharp > np.quantile(sharp, config.edge_share)) & (sharp > 0)
    ratio = sharp[strong] / np.maximum(soft[strong], 1e-6)
    ratio = ratio[ratio > 1.01]
    if len(ratio) < 8:
        return None
    return float(np.median(config.reblur / np.sqrt(ratio ** 2 - 1)))


def camera_blur(frame: np.ndarray, landmarks: np.ndarray,
                config: FocusConfig = FocusConfig()) -> float:
    """How soft (Gaussian sigma, px) the face's own sharpest edges are: :func:`edge_blur` over
    the box round its eyes, brows and mouth; 0 where nothing can be read."""
    import cv2

    points = np.asarray(landmarks, np.float64)[list(_EDGE_POINTS), :2]
    h, w = frame.shape[:2]
    x0, y0 = np.maximum(np.floor(points.min(axis=0)).astype(int) - 4, 0)
    x1, y1 = np.minimum(np.ceil(points.max(axis=0)).astype(int) + 5, [w, h])
    if x1 - x0 < 8 or y1 - y0 < 8:
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(frame[y0:y1, x0:x1, :3]), cv2.COLOR_RGB2GRAY)
    sigma = edge_blur(grey.astype(np.float32), config)
    return 0.0 if sigma is None else sigma


def edge_softness(blur: float, scale: float, config: FocusConfig = FocusConfig()) -> float:
    """How much (Gaussian sigma, px) the painted edge of a face whose IOD is ``scale`` px and
    whose own edges read ``blur`` (:func:`camera_blur`) is blurred: the lips' roll into the
    mouth (:attr:`FocusConfig.lip_edge`) and what the photo's blur adds to a crisp painted
    edge's (:attr:`FocusConfig.crisp`), composed as the root of the sum of their squares."""
    camera = max(blur * blur - config.crisp * config.crisp, 0.0)
    sigma = np.sqrt((config.lip_edge * scale) ** 2 + camera) * config.strength
    return float(min(sigma, config.most))


def in_focus(opening: Opening, interior: Interior | None, sigma: float,
             frame_size: tuple[int, int]) -> tuple[Opening, Interior | None]:
    """``opening`` with its coverage blurred by ``sigma`` px, over a box grown to hold the blur
    (within ``frame_size``, (w, h)), and ``interior`` (drawn over the opening's own box) on the
    grown one; unchanged under 0.2 px."""
    if sigma < 0.2:
        return opening, interior
    import cv2

    pad = int(np.ceil(2.5 * sigma))
    h, w = opening.alpha.shape
    x0, y0 = max(opening.x0 - pad, 0), max(opening.y0 - pad, 0)
    x1, y1 = min(opening.x0 + w + pad, frame_size[0]), min(opening.y0 + h + pad, frame_size[1])
    dy, dx = opening.y0 - y0, opening.x0 - x0

    def grown(a: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return None
        out = np.zeros((y1 - y0, x1 - x0) + a.shape[2:], np.float32)
        out[dy:dy + h, dx:dx + w] = a
        return out

    def blurred(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else cv2.GaussianBlur(grown(a), (0, 0), sigma)

    moved = Opening(x0, y0, blurred(opening.alpha), grown(opening.inside),
                    blurred(opening.turned))
    if interior is None:
        return moved, None
    return moved, Interior(x0, y0, grown(interior.rgb), grown(interior.coverage))
