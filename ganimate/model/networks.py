"""GANimation's generator and critic as pure ``nn.Module``s (architecture of the paper's code).

Generator G(I | y): the image and the AU vector tiled to a map go in; a 7x7 conv, two stride-2
downsamplings, residual blocks, two transposed-conv upsamplings (or, with ``g_upsample="resize"``,
nearest-neighbour x2 and a 3x3 conv each), then two 7x7 heads: colour C
(tanh, 3 channels) and attention A (sigmoid, 1 channel). The output is ``(1 - A) * C + A * I``, so
A = 1 keeps the input pixel. Convs carry no bias and are followed by affine InstanceNorm.

Critic D(I): six 4x4 stride-2 convs with LeakyReLU(0.01), then a 3x3 patch head (the WGAN score
map) and an AU regression head whose kernel covers the remaining feature map.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ganimate.model.config import ModelConfig


class GeneratorOutput(NamedTuple):
    image: torch.Tensor  # (B, 3, H, W) in [-1, 1]: (1 - A) * C + A * I
    colour: torch.Tensor  # (B, 3, H, W) in [-1, 1]
    attention: torch.Tensor  # (B, 1, H, W) in [0, 1]; 1 keeps the input pixel


def compose(images: torch.Tensor, colour: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    """GANimation's composition: attention selects the input, its complement the colour mask."""
    return (1 - attention) * colour + attention * images


def init_weights(module: nn.Module) -> None:
    """The released code's initialisation: conv weights N(0, 0.02), conv biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.main(x)


def upsample(c_in: int, c_out: int, kind: str) -> list[nn.Module]:
    """Layers that double the resolution: the paper's transposed conv, or resize then conv."""
    if kind == "resize":
        return [nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False)]
    return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)]


class Generator(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.g_width
        layers: list[nn.Module] = [
            nn.Conv2d(3 + cfg.num_aus, w, 7, 1, 3, bias=False),
            nn.InstanceNorm2d(w, affine=True),
            nn.ReLU(inplace=True),
        ]
        for _ in range(2):
            layers += [
                nn.Conv2d(w, w * 2, 4, 2, 1, bias=False),
                nn.InstanceNorm2d(w * 2, affine=True),
                nn.ReLU(inplace=True),
            ]
            w *= 2
        layers += [ResidualBlock(w) for _ in range(cfg.g_residual_blocks)]
        for _ in range(2):
            layers += [
                *upsample(w, w // 2, cfg.g_upsample),
                nn.InstanceNorm2d(w // 2, affine=True),
                nn.ReLU(inplace=True),
            ]
            w //= 2
        self.body = nn.Sequential(*layers)
        self.colour_head = nn.Sequential(nn.Conv2d(w, 3, 7, 1, 3, bias=False), nn.Tanh())
        self.attention_head = nn.Sequential(nn.Conv2d(w, 1, 7, 1, 3, bias=False), nn.Sigmoid())
        init_weights(self)

    def forward(self, images: torch.Tensor, aus: torch.Tensor) -> GeneratorOutput:
        b, _, h, w = images.shape
        au_map = aus.to(images.dtype).view(b, -1, 1, 1).expand(b, aus.shape[1], h, w)
        features = self.body(torch.cat([images, au_map], dim=1))
        colour = self.colour_head(features)
        attention = self.attention_head(features)
        return GeneratorOutput(compose(images, colour, attention), colour, attention)


class Critic(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.d_width
        layers: list[nn.Module] = [nn.Conv2d(3, w, 4, 2, 1), nn.LeakyReLU(0.01, inplace=True)]
        for _ in range(cfg.d_layers - 1):
            layers += [nn.Conv2d(w, w * 2, 4, 2, 1), nn.LeakyReLU(0.01, inplace=True)]
            w *= 2
        self.body = nn.Sequential(*layers)
        self.patch_head = nn.Conv2d(w, 1, 3, 1, 1, bias=False)
        self.au_head = nn.Conv2d(w, cfg.num_aus, cfg.image_size // 2**cfg.d_layers, bias=False)
        init_weights(self)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (patch scores (B, 1, h, w), AU regression (B, K))."""
        h = self.body(images)
        return self.patch_head(h), self.au_head(h).flatten(1)
