"""GANimation's losses as pure functions of tensors (weights are applied by the caller).

WGAN-GP adversarial terms, the gradient penalty, the conditional AU regression loss, the cycle
(identity) loss and the attention regulariser. Conventions and weights: see ``config.TrainConfig``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def critic_wgan_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The critic minimises E[D(fake)] - E[D(real)] (means over batch and patches)."""
    return fake_scores.float().mean() - real_scores.float().mean()


def generator_wgan_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    """The generator minimises -E[D(G(I|y))]."""
    return -fake_scores.float().mean()


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor,
                     alpha: torch.Tensor | None = None) -> torch.Tensor:
    """WGAN-GP: E[(||grad_x D(x)||_2 - 1)^2] at x = alpha * real + (1 - alpha) * fake.

    ``critic`` returns (patch scores, AUs); the gradient is that of the summed patch scores, per
    sample, over all pixels and channels. ``alpha`` is (B, 1, 1, 1) in [0, 1], drawn uniformly when
    not given (the trainer passes its own draws so that runs are reproducible). The graph is kept
    (create_graph) so the penalty can be backpropagated into the critic.
    """
    if alpha is None:
        alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
    alpha = alpha.to(device=real.device, dtype=real.dtype)
    x = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores, _ = critic(x)
    (grad,) = torch.autograd.grad(scores.float().sum(), x, create_graph=True)
    norm = grad.float().flatten(1).norm(2, dim=1)
    return ((norm - 1) ** 2).mean()


def au_mse_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Conditional expression loss: mean squared error of the critic's AU head to the AU vector."""
    return F.mse_loss(predicted.float(), target.float())


def cycle_l1_loss(reconstructed: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Identity loss: mean absolute difference between G(G(I|y_f)|y_o) and I."""
    return F.l1_loss(reconstructed.float(), original.float())


def identity_l1_loss(unchanged: torch.Tensor, original: torch.Tensor) -> torch.Tensor:
    """Identity term: mean absolute difference between G(I | y_o) and I (not in the paper)."""
    return F.l1_loss(unchanged.float(), original.float())


def colour_prior_loss(colour: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Colour-mask prior: mean absolute difference between the colour mask C and the input I
    (not in the paper), so C holds the input's colours wherever no change is asked."""
    return F.l1_loss(colour.float(), images.float())


def total_variation(mask: torch.Tensor) -> torch.Tensor:
    """Sum of absolute differences between horizontally and vertically adjacent mask values,
    over the whole batch (the released code's smoothness term)."""
    m = mask.float()
    horizontal = (m[:, :, :, 1:] - m[:, :, :, :-1]).abs().sum()
    vertical = (m[:, :, 1:, :] - m[:, :, :-1, :]).abs().sum()
    return horizontal + vertical


def attention_loss(mask: torch.Tensor, lambda_a: float = 0.1,
                   lambda_tv: float = 1e-5) -> torch.Tensor:
    """Attention regulariser of one mask: lambda_a * mean(A) + lambda_tv * TV(A).

    mean(A) pushes A away from saturating at 1 (where the generator would do nothing); TV keeps it
    smooth. The trainer applies it to both the forward and the cycle mask.
    """
    return lambda_a * mask.float().mean() + lambda_tv * total_variation(mask)
