"""Train the mouth painter (route (b)) on patches from prepare_mouths.py, on the CPU.

    python examples/mouth_painter/train_painter.py MOUTHS.npz RUN_DIR [--steps N] [--threads T]

Loss: L1 to the real patch (``--hole`` times heavier inside the inner-lip mask), a hinge PatchGAN
critic on the painted patch and its mask (weight ``--adv``, from step ``--adv-from``), and
GANimation's attention total variation. Resumes from RUN_DIR/painter.pt; writes it atomically
every ``--every`` steps with a sample sheet (validation patches: masked input | painted | real).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ganimate.engines.painter import MouthPainter, PainterConfig
from ganimate.files import atomic_path

VALIDATION = 64


class PatchCritic(nn.Module):
    def __init__(self, width: int = 32):
        super().__init__()
        layers, c = [], 4
        for i in range(4):
            layers += [nn.Conv2d(c, width * 2**i, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            c = width * 2**i
        self.body = nn.Sequential(*layers, nn.Conv2d(c, 1, 3, 1, 1))

    def forward(self, images, mask):
        return self.body(torch.cat([images, mask], 1))


def tensors(data, idx, flip: bool, rng):
    img = torch.from_numpy(data["images"][idx]).permute(0, 3, 1, 2).float() / 127.5 - 1
    mask = torch.from_numpy(data["masks"][idx]).float()[:, None]
    aus = torch.from_numpy(data["aus"][idx])
    if flip:
        sel = torch.from_numpy(rng.random(len(idx)) < 0.5)
        img[sel], mask[sel] = img[sel].flip(-1), mask[sel].flip(-1)
        gain = torch.from_numpy(rng.uniform(0.85, 1.15, (len(idx), 1, 1, 1))).float()
        img = ((img + 1) * gain - 1).clamp(-1, 1)
    return img, mask, aus


def sheet(painter, data, path):
    from PIL import Image
    n = len(data["images"])
    img, mask, aus = tensors(data, np.arange(n - 16, n), False, None)
    with torch.no_grad():
        out = painter(img * (1 - mask), aus, mask).image
    rows = [torch.cat([img * (1 - mask), out, img], -1)[i] for i in range(16)]
    grid = torch.cat(rows, 1).permute(1, 2, 0).float().numpy()
    Image.fromarray(((grid + 1) * 127.5).clip(0, 255).astype(np.uint8)).save(path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mouths")
    ap.add_argument("run")
    ap.add_argument("--steps", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--hole", type=float, default=6.0)
    ap.add_argument("--adv", type=float, default=0.05)
    ap.add_argument("--adv-from", type=int, default=1000)
    ap.add_argument("--every", type=int, default=500)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = dict(np.load(args.mouths))
    n_train = len(data["images"]) - VALIDATION
    run = Path(args.run)
    run.mkdir(parents=True, exist_ok=True)
    cfg = PainterConfig()
    painter, critic = MouthPainter(cfg), PatchCritic()
    opt_g = torch.optim.Adam(painter.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(critic.parameters(), 2e-4, betas=(0.5, 0.999))
    step, ckpt = 0, run / "painter.pt"
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        painter.load_state_dict(state["painter"])
        critic.load_state_dict(state["critic"])
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        step = state["step"]
    t0 = time.time()
    while step < args.steps:
        img, mask, aus = tensors(data, rng.integers(0, n_train, args.batch), True, rng)
        hole = F.max_pool2d(mask, 5, 1, 2)
        adv = args.adv if step >= args.adv_from else 0.0
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = painter(img * (1 - mask), aus, mask)
            if adv:
                d_loss = (F.relu(1 - critic(img, mask)).mean()
                          + F.relu(1 + critic(out.image.detach(), mask)).mean())
        if adv:
            opt_d.zero_grad(set_to_none=True)
            d_loss.float().backward()
            opt_d.step()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            weight = 1 + (args.hole - 1) * hole
            rec = (weight * (out.image.float() - img).abs()).mean()
            a = out.attention.float()
            tv = ((a[..., 1:, :] - a[..., :-1, :]).abs().mean()
                  + (a[..., 1:] - a[..., :-1]).abs().mean())
            g_loss = rec + 0.1 * tv
            if adv:
                g_loss = g_loss - adv * critic(out.image, mask).float().mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.float().backward()
        opt_g.step()
        step += 1
        if step % 50 == 0:
            print(f"step {step} rec {rec.item():.4f} tv {tv.item():.4f} "
                  f"{(time.time() - t0) / 50:.3f}s/step", flush=True)
            t0 = time.time()
        if step % args.every == 0 or step == args.steps:
            state = {"painter": painter.state_dict(), "critic": critic.state_dict(),
                     "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "step": step,
                     "config": asdict(cfg)}
            with atomic_path(ckpt) as tmp:
                torch.save(state, tmp)
            painter.eval()
            sheet(painter, data, run / f"sheet_{step:06d}.png")
            painter.train()


if __name__ == "__main__":
    main()
