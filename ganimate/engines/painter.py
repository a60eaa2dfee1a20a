"""Route (b) of the mouth interior: GANimation's generator trained to paint an open mouth.

The warp parts the lips geometrically; what shows between them must come from somewhere. Route (a)
(:mod:`ganimate.engines.teeth`) renders ICT-FaceKit's scanned teeth, gums and tongue. This module
is the learned alternative: GANimation's generator (:class:`ganimate.model.networks.Generator`,
attention and colour masks) sees a square patch around the mouth, aligned to the eye line, whose
inner-lip region is blanked out, the blank region as a mask channel and the mouth's AUs, and fills
the region. It is trained on real open mouths (``examples/mouth_painter``).

Patch geometry (:func:`mouth_patch_transform`): centred on the inner lips' centroid, x along the
eye line, ``PATCH_SPAN`` eye-corner distances wide, ``size`` pixels square.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganimate.engines.mouth import INNER_LIPS
from ganimate.engines.teeth import Interior
from ganimate.errors import GanimateError
from ganimate.faces import LEFT_EYE_OUTER, RIGHT_EYE_OUTER
from ganimate.model import Generator, GeneratorOutput, ModelConfig, compose

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn).

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
                       g_width=self.width, g_residual_blocks=self.blocks, g_upsample="resize",
                       d_layers=4)  # the critic is not used: the painter trains its own


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


@lru_cache(maxsize=2)
def load_painter(path: str) -> MouthPainter:
    """A trained painter from a checkpoint of ``examples/mouth_painter/train_painter.py``."""
    if not Path(path).is_file():
        raise GanimateError(f"mouth painter {path!r} not found; train one with "
                            "examples/mouth_painter/train_painter.py or leave it unset")
    state = torch.load(path, map_location="cpu", weights_only=False)
    painter = MouthPainter(PainterConfig(**state.get("config", {})))
    painter.load_state_dict(state["painter"])
    return painter.eval()


def paint_interior(warped: np.ndarray, moved: np.ndarray, box: tuple[int, int, int, int],
                   y_g: np.ndarray, au_names: Sequence[str], path: str) -> Interior:
    """The painter's mouth for the opening ``box`` (x0, y0, x1, y1) of the warped frame, whose
    moved landmarks are ``moved``, conditioned on the target AUs ``y_g``."""
    import cv2

    painter = load_painter(path)
    size = painter.cfg.size
    t = mouth_patch_transform(moved, size)
    patch = cv2.warpAffine(np.ascontiguousarray(warped[..., :3]), t, (size, size),
                           flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
    mask = inner_lip_mask(moved, t, size).astype(np.float32)
    img = torch.from_numpy(patch).permute(2, 0, 1)[None].float() / 127.5 - 1
    m = torch.from_numpy(mask)[None, None]
    aus = torch.tensor([[float(y_g[list(au_names).index(a)]) if a in au_names else 0.0
                         for a in PAINTER_AUS]])
    with torch.no_grad():
        out = painter(img * (1 - m), aus, m).image[0]
    painted = ((out.permute(1, 2, 0).numpy() + 1) * 127.5).clip(0, 255).astype(np.float32)
    x0, y0, x1, y1 = box
    back = cv2.invertAffineTransform(t)
    back[:, 2] -= (x0, y0)
    rgb = cv2.warpAffine(painted, back, (x1 - x0, y1 - y0), flags=cv2.INTER_CUBIC,
                         borderMode=cv2.BORDER_REPLICATE)
    return Interior(x0, y0, rgb, np.ones((y1 - y0, x1 - x0), np.float32))
