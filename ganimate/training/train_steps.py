"""The arithmetic of a training step: the state it changes, the critic and generator updates,
the moving average of G, and how the networks are restored, moved and wrapped (DDP, compile).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch.nn.parallel import DistributedDataParallel as DDP

from ganimate.model import TrainConfig, load_optimizer_state
from ganimate.training import losses
from ganimate.training.precision import autocast
from ganimate.training.train_schedule import Dist


@dataclass
class TrainState:
    """What the training steps read and change: the networks (and the forms they run in under
    DDP or torch.compile), their optimisers, the EMA copy of G, the random generator of every
    draw, and the step count."""

    cfg: TrainConfig
    device: torch.device
    precision: str  # "fp32" or "bf16" (resolved)
    G: torch.nn.Module
    D: torch.nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    gen: torch.Generator  # every random draw of the run (checkpointed)
    G_ema: torch.nn.Module | None = None  # the averaged G (cfg.ema > 0)
    g_run: torch.nn.Module | None = None  # G as it runs (DDP / compiled); default G
    d_run: torch.nn.Module | None = None  # D as it runs; default D
    step: int = 0  # critic steps done

    def __post_init__(self):
        self.g_run = self.G if self.g_run is None else self.g_run
        self.d_run = self.D if self.d_run is None else self.d_run

    @property
    def G_sample(self) -> torch.nn.Module:
        """What the sample grids show: the averaged G when there is one."""
        return self.G if self.G_ema is None else self.G_ema

    def set_lr(self, factor: float) -> None:
        for group in self.opt_d.param_groups:
            group["lr"] = self.cfg.lr_d * factor
        for group in self.opt_g.param_groups:
            group["lr"] = self.cfg.lr_g * factor


@dataclass
class StepBatch:
    """One step's data on the device: real images, their AUs, the targets, the GP mixing."""

    real: torch.Tensor  # (B, 3, S, S) in [-1, 1]
    y_real: torch.Tensor  # (B, K)
    y_fake: torch.Tensor  # (B, K): another face's AUs + noise
    alpha: torch.Tensor  # (B, 1, 1, 1): gradient-penalty interpolation


def load_networks(state: TrainState, ckpt) -> None:
    state.G.load_state_dict(ckpt.state_dict("G"))
    state.D.load_state_dict(ckpt.state_dict("D"))
    if state.G_ema is not None:
        state.G_ema.load_state_dict(ckpt.state_dict("G_ema"))
    load_optimizer_state(ckpt, "opt_G", state.opt_g)
    load_optimizer_state(ckpt, "opt_D", state.opt_d)
    state.step = int(ckpt.metadata["step"])


def wrap_networks(state: TrainState, dist: Dist) -> None:
    """DDP across processes, torch.compile on CUDA: the forms the steps run the networks in."""
    if dist.world > 1:
        ids = [state.device.index] if state.device.type == "cuda" else None
        state.g_run = DDP(state.G, device_ids=ids)
        state.d_run = DDP(state.D, device_ids=ids)
    if state.cfg.compile and state.device.type == "cuda":
        state.g_run, state.d_run = torch.compile(state.g_run), torch.compile(state.d_run)


def optimizer_to(opt: torch.optim.Optimizer, device: torch.device) -> None:
    for state in opt.state.values():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and key != "step":
                state[key] = value.to(device)


def critic_step(state: TrainState, batch: StepBatch) -> dict[str, torch.Tensor]:
    """One critic update: WGAN loss on real vs G's fakes, AU loss on real, gradient penalty."""
    cfg, D, real = state.cfg, state.D, batch.real
    D.requires_grad_(True)
    with torch.no_grad(), autocast(state.device, state.precision):
        fake = state.G(real, batch.y_fake).image  # eager G: no gradient sync for a no-grad pass
    with autocast(state.device, state.precision):
        # One critic pass over real and fake together: one forward per backward under DDP.
        scores, aus_pred = state.d_run(torch.cat([real, fake.to(real.dtype)]))
        n = real.shape[0]
        wgan = losses.critic_wgan_loss(scores[:n], scores[n:])
        au = losses.au_mse_loss(aus_pred[:n], batch.y_real)
        gp = losses.gradient_penalty(D, real, fake, batch.alpha)
    loss = wgan + cfg.lambda_au * au + cfg.lambda_gp * gp
    state.opt_d.zero_grad(set_to_none=True)
    loss.backward()
    state.opt_d.step()
    return {"d_wgan": wgan.detach(), "d_au": au.detach(), "d_gp": gp.detach()}


def generator_step(state: TrainState, batch: StepBatch) -> dict[str, torch.Tensor]:
    """One generator update: adversarial, AU, cycle, attention (and identity) losses."""
    cfg, D, g_run, real = state.cfg, state.D, state.g_run, batch.real
    D.requires_grad_(False)  # the critic is a fixed loss here: no gradients, no DDP sync
    with autocast(state.device, state.precision):
        fwd = g_run(real, batch.y_fake)
        scores, aus_pred = D(fwd.image)
        cyc = g_run(fwd.image, batch.y_real)
        adv = losses.generator_wgan_loss(scores)
        au = losses.au_mse_loss(aus_pred, batch.y_fake)
        rec = losses.cycle_l1_loss(cyc.image, real)
        att = (losses.attention_loss(fwd.attention, cfg.lambda_a, cfg.lambda_tv)
               + losses.attention_loss(cyc.attention, cfg.lambda_a, cfg.lambda_tv))
        idt = torch.zeros((), device=real.device)
        if cfg.lambda_idt > 0:
            idt = losses.identity_l1_loss(g_run(real, batch.y_real).image, real)
        prior = losses.colour_prior_loss(fwd.colour, real)
    loss = (adv + cfg.lambda_au * au + cfg.lambda_cyc * rec + att + cfg.lambda_idt * idt
            + cfg.lambda_colour * prior)
    state.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    state.opt_g.step()
    D.requires_grad_(True)
    return {"g_adv": adv.detach(), "g_au": au.detach(), "g_cyc": rec.detach(),
            "g_att": att.detach(), "g_idt": idt.detach(), "g_colour": prior.detach(),
            "mean_attention": fwd.attention.detach().float().mean()}


def ema_copy(G: torch.nn.Module) -> torch.nn.Module:
    return copy.deepcopy(G).eval().requires_grad_(False)


@torch.no_grad()
def ema_update(ema: torch.nn.Module, G: torch.nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * G, parameters and buffers."""
    torch._foreach_lerp_(list(ema.parameters()), list(G.parameters()), 1.0 - decay)
    for b_ema, b in zip(ema.buffers(), G.buffers(), strict=True):
        b_ema.copy_(b)
