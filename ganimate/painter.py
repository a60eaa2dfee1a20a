"""Route (b) of the mouth interior: GANimation's generator trained to paint an open mouth.

The warp parts the lips geometrically; what shows between them must come from somewhere. Route (a)
(:mod:`ganimate.teeth`) renders ICT-FaceKit's scanned teeth, gums and tongue. This module is the
learned alternative: GANimation's generator (:class:`ganimate.networks.Generator`, attention and
colour masks) sees a square patch around the mouth, aligned to the eye line, whose inner-lip
region is blanked out, the blank region as a mask channel and the mouth's AUs, and fills the
region. It is trained on real open mouths (``examples/mouth_painter``).

Patch geometry (:func:`mouth_patch_transform`): centred on the inner lips' centroid, x along the
eye line, ``PATCH_SPAN`` eye-corner distances wide, ``size`` pixels square.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from ganimate.config import ModelConfig
from ganimate.faces import LEFT_EYE_OUTER, RIGHT_EYE_OUTER
from ganimate.mouth import INNER_LIPS
from ganimate.networks import Generator, GeneratorOutput, compose

# The AUs of the lower face the painter is conditioned on (raw estimator scale, [0, 1]).
PAINTER_AUS = ("AU10", "AU12", "AU14", "AU15", "AU17", "AU20", "AU25", "AU26")
# Width of the patch in outer-eye-corner distances (a broad smile is ~0.75 of it).
PATCH_SPAN = 0.9


@dataclass(frozen=True)
class PainterConfig:
    """Shape of the painter network; stored with its weights."""

    # Side of the square mouth patch (pixels).
    size: int = 64
    # Generator width and residual blocks (the paper's 64 and 6 are for 128-px faces on a GPU).
    width: int = 32
    blocks: int = 4

    def model_config(self) -> ModelConfig:
        # the mask travels as one more conditioning channel after the AUs
        return replace(ModelConfig(), image_size=self.size, au_names=PAINTER_AUS + ("mask",),
                       g_width=self.width, g_residual_blocks=self.blocks, g_upsample="resize")


class MouthPainter(nn.Module):
    """G(I_masked | y, M): the generator with the mask M as a spatial conditioning channel."""

    def __init__(self, cfg: PainterConfig):
        super().__init__()
        self.cfg = cfg
        self.generator = Generator(cfg.model_config())

    def forward(self, images: torch.Tensor, aus: torch.Tensor,
                mask: torch.Tensor) -> GeneratorOutput:
        """images (B,3,S,S) in [-1,1] with the masked region zeroed; aus (B,K); mask (B,1,S,S)."""
        g = self.generator
        b, _, h, w = images.shape
        au_map = aus.to(images.dtype).view(b, -1, 1, 1).expand(b, aus.shape[1], h, w)
        features = g.body(torch.cat([images, au_map, mask.to(images.dtype)], dim=1))
        colour = g.colour_head(features)
        attention = g.attention_head(features)
        return GeneratorOutput(compose(images, colour, attention), colour, attention)


def mouth_patch_transform(landmarks: np.ndarray, size: int) -> np.ndarray:
    """2x3 affine from frame pixels to the mouth patch (for ``cv2.warpAffine``)."""
    pts = np.asarray(landmarks, np.float64)[:, :2]
    eye = pts[LEFT_EYE_OUTER] - pts[RIGHT_EYE_OUTER]
    iod = float(np.hypot(*eye))
    c, s = eye / iod
    scale = size / (PATCH_SPAN * iod)
    centre = pts[list(INNER_LIPS)].mean(axis=0)
    rot = scale * np.array([[c, s], [-s, c]])
    return np.hstack([rot, (size / 2.0 - rot @ centre)[:, None]])


def inner_lip_mask(landmarks: np.ndarray, transform: np.ndarray, size: int,
                   grow: int = 1) -> np.ndarray:
    """uint8 (size, size) mask of the inner-lip polygon in the patch, grown by ``grow`` px."""
    import cv2  # deferred: OpenCV's import is heavy

    pts = np.asarray(landmarks, np.float64)[list(INNER_LIPS), :2]
    pts = pts @ transform[:, :2].T + transform[:, 2]
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], 1, cv2.LINE_AA, shift=4)
    if grow:
        mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return mask
