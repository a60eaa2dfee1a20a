"""Generator and critic: shapes, ranges, the paper's architecture, and the attention composition."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganimate.errors import GanimateError
from ganimate.model import Critic, Generator, ModelConfig, compose


def small(size: int, k: int = 17, **kw) -> ModelConfig:
    from ganimate.faces import AU_NAMES

    return ModelConfig(image_size=size, au_names=AU_NAMES[:k], g_width=8, g_residual_blocks=2,
                       d_width=8, **kw)


@pytest.mark.parametrize("size", [64, 128])
def test_output_shapes_and_ranges(size):
    torch.manual_seed(0)
    cfg = small(size)
    g, d = Generator(cfg), Critic(cfg)
    x = torch.rand(2, 3, size, size) * 2 - 1
    y = torch.rand(2, 17)
    out = g(x, y)
    assert out.image.shape == (2, 3, size, size)
    assert out.colour.shape == (2, 3, size, size)
    assert out.attention.shape == (2, 1, size, size)
    assert out.attention.min() >= 0 and out.attention.max() <= 1
    assert out.colour.min() >= -1 and out.colour.max() <= 1
    assert out.image.min() >= -1 and out.image.max() <= 1
    scores, aus = d(out.image)
    # six stride-2 convs: size / 64 patches per side, and one AU vector per image
    assert scores.shape == (2, 1, size // 64, size // 64)
    assert aus.shape == (2, 17)


def test_output_is_composed_from_its_masks():
    torch.manual_seed(1)
    g = Generator(small(64, k=3))
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    out = g(x, torch.rand(2, 3))
    by_hand = (1 - out.attention) * out.colour + out.attention * x
    torch.testing.assert_close(out.image, by_hand)


def test_composition_by_hand():
    image = torch.tensor([0.5, -0.2, 1.0]).view(1, 3, 1, 1)
    colour = torch.tensor([-1.0, 0.4, 0.0]).view(1, 3, 1, 1)
    attention = torch.tensor([0.25]).view(1, 1, 1, 1)
    # (1 - A) * C + A * I, per channel
    expected = torch.tensor([0.75 * -1.0 + 0.25 * 0.5, 0.75 * 0.4 + 0.25 * -0.2, 0.25 * 1.0])
    torch.testing.assert_close(compose(image, colour, attention).flatten(), expected)


def test_saturated_attention_returns_the_input():
    g = Generator(small(64, k=2))
    with torch.no_grad():
        g.attention_head[0].weight.zero_()
        g.attention_head[0].weight[0, 0, 3, 3] = 1e4  # huge logits: A == 1 wherever features > 0
        g.body[-1].inplace = False
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    out = g(x, torch.zeros(1, 2))
    kept = out.attention == 1.0
    assert kept.any()
    torch.testing.assert_close(out.image[kept.expand_as(x)], x[kept.expand_as(x)])


def test_the_conditioning_changes_the_output():
    torch.manual_seed(2)
    g = Generator(small(64, k=2))
    x = torch.rand(1, 3, 64, 64) * 2 - 1
    a = g(x, torch.tensor([[0.0, 0.0]])).image
    b = g(x, torch.tensor([[1.0, 1.0]])).image
    assert (a - b).abs().max() > 1e-3


def test_paper_architecture():
    cfg = ModelConfig()  # 128 px, 17 AUs, width 64, 6 residual blocks, 6 critic layers
    g, d = Generator(cfg), Critic(cfg)
    g_convs = [m for m in g.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert all(m.bias is None for m in g_convs)
    assert g_convs[0].kernel_size == (7, 7) and g_convs[0].in_channels == 3 + 17
    norms = [m for m in g.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert norms and all(m.affine for m in norms)
    assert sum(1 for m in g.modules() if type(m).__name__ == "ResidualBlock") == 6
    assert sum(1 for m in g_convs if isinstance(m, nn.ConvTranspose2d)) == 2
    assert isinstance(g.colour_head[1], nn.Tanh) and isinstance(g.attention_head[1], nn.Sigmoid)
    body = [m for m in d.body if isinstance(m, nn.Conv2d)]
    assert len(body) == 6 and all(m.kernel_size == (4, 4) and m.stride == (2, 2) for m in body)
    assert all(m.negative_slope == 0.01 for m in d.body if isinstance(m, nn.LeakyReLU))
    assert d.au_head.kernel_size == (2, 2) and d.au_head.out_channels == 17
    assert Critic(ModelConfig(image_size=256, d_width=4)).au_head.kernel_size == (4, 4)


def test_config_validation_and_round_trip():
    cfg = ModelConfig(image_size=64, au_names=("AU01", "AU12"), g_width=16)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    for bad in (dict(image_size=100), dict(au_names=()), dict(image_size=32),
                dict(g_width=0), dict(au_names=("AU01", "AU01"))):
        with pytest.raises(GanimateError):
            ModelConfig(**bad)


def test_resize_upsampling_has_no_transposed_convs_and_loads_old_configs():
    torch.manual_seed(0)
    cfg = small(64, g_upsample="resize")
    g = Generator(cfg)
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in g.modules())
    assert sum(isinstance(m, nn.Upsample) for m in g.modules()) == 2
    out = g(torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 17))
    assert out.image.shape == (2, 3, 64, 64) and out.attention.shape == (2, 1, 64, 64)
    # the paper's upsampling stays the default, also for checkpoints older than the field
    old = cfg.to_dict()
    del old["g_upsample"]
    assert ModelConfig.from_dict(old).g_upsample == "transposed"
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(GanimateError, match="upsampling 'bilinear'"):
        small(64, g_upsample="bilinear")
