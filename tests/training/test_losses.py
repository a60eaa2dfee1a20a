"""Each loss on known inputs; the gradient penalty against a direct autograd computation."""

from __future__ import annotations

import pytest
import torch

from ganimate.model import Critic, ModelConfig
from ganimate.training import losses


def test_wgan_losses():
    real = torch.tensor([[1.0, 3.0]])
    fake = torch.tensor([[-2.0, 0.0, 1.0]])
    assert losses.critic_wgan_loss(real, fake).item() == pytest.approx(-1 / 3 - 2.0)
    assert losses.generator_wgan_loss(fake).item() == pytest.approx(1 / 3)


def test_au_mse_and_cycle_l1():
    pred = torch.tensor([[0.0, 0.5], [1.0, 1.0]])
    target = torch.tensor([[0.5, 0.5], [0.0, 1.0]])
    assert losses.au_mse_loss(pred, target).item() == pytest.approx((0.25 + 1.0) / 4)
    assert losses.cycle_l1_loss(pred, target).item() == pytest.approx((0.5 + 1.0) / 4)


def test_colour_prior():
    images = torch.tensor([[0.5, -0.5], [0.0, 1.0]]).view(1, 1, 2, 2)
    assert losses.colour_prior_loss(images, images).item() == 0.0
    colour = torch.tensor([[0.0, -0.5], [0.5, 0.0]]).view(1, 1, 2, 2)
    assert losses.colour_prior_loss(colour, images).item() == pytest.approx((0.5 + 0.5 + 1) / 4)


def test_total_variation_and_attention_loss():
    mask = torch.tensor([[0.0, 1.0, 1.0], [0.0, 0.0, 0.5]]).view(1, 1, 2, 3)
    # horizontal |1-0| + |1-1| + |0-0| + |0.5-0| = 1.5; vertical |0-0| + |0-1| + |0.5-1| = 1.5
    assert losses.total_variation(mask).item() == pytest.approx(3.0)
    # summed over the batch, as the released code does
    assert losses.total_variation(torch.cat([mask, mask])).item() == pytest.approx(6.0)
    expected = 0.1 * mask.mean().item() + 1e-5 * 3.0
    assert losses.attention_loss(mask).item() == pytest.approx(expected)
    assert losses.attention_loss(mask, lambda_a=2.0, lambda_tv=0.5).item() == pytest.approx(
        2.0 * 2.5 / 6 + 0.5 * 3.0)


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = sum(w * x): the gradient is w everywhere, so the penalty is (||w|| - 1)^2.
    w = torch.randn(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))

    def critic(x):
        return (x * w).sum(dim=(1, 2, 3), keepdim=True), None

    real, fake = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4)
    gp = losses.gradient_penalty(critic, real, fake, torch.rand(2, 1, 1, 1))
    assert gp.item() == pytest.approx((w.norm().item() - 1) ** 2, rel=1e-5)


def test_gradient_penalty_matches_direct_autograd():
    torch.manual_seed(0)
    d = Critic(ModelConfig(image_size=32, au_names=("AU01", "AU12"), d_width=8, d_layers=3))
    real, fake = torch.rand(3, 3, 32, 32) * 2 - 1, torch.rand(3, 3, 32, 32) * 2 - 1
    alpha = torch.rand(3, 1, 1, 1)
    gp = losses.gradient_penalty(d, real, fake, alpha)

    direct = 0.0
    for i in range(3):  # one sample at a time, straight from the definition
        x = (alpha[i] * real[i] + (1 - alpha[i]) * fake[i])[None].requires_grad_(True)
        (grad,) = torch.autograd.grad(d(x)[0].sum(), x)
        direct += (grad.flatten().norm() - 1) ** 2 / 3
    torch.testing.assert_close(gp, direct)
    # it is differentiable with respect to the critic (create_graph), as training needs
    gp.backward()
    assert d.body[0].weight.grad is not None and d.body[0].weight.grad.abs().sum() > 0
