"""Training and inference throughput of the GANimation networks, paper mode vs tuned mode.

    python benchmarks/train_throughput.py --size 128 --batch 25            # GPU if present
    python benchmarks/train_throughput.py --size 64 --batch 8 --device cpu --steps 10
    python benchmarks/train_throughput.py --device cpu --modes paper,bf16  # CPU fp32 vs bf16

Training images/s counts critic iterations x batch, with the generator step (every n_critic-th
iteration) amortised in, exactly the trainer's step functions on random data (no decoding).
Inference faces/s is the generator alone in inference mode. Modes:

- paper: fp32, eager, contiguous memory (what the released code does);
- bf16: the paper mode under bf16 autocast (what `--precision auto` gives on a CPU with native
  bf16, AVX512-BF16 or AMX);
- tuned: bf16 autocast + TF32 + channels_last + torch.compile on CUDA; on CPU, bf16 autocast where
  the CPU has native bf16 and channels_last (+ compile with --compile-cpu, which needs a C++
  toolchain).

Prints a markdown table with the ratio of the last mode to the first, ready for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from ganimate.model import Critic, Generator, ModelConfig, TrainConfig
from ganimate.model.device import pick_device
from ganimate.training.precision import autocast, configure_backends, resolve_precision
from ganimate.training.trainer import StepBatch, TrainState, critic_step, generator_step


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_mode(name, cfg: TrainConfig, device, steps, warmup, infer_batch, compile_cpu):
    tuned = name == "tuned"
    cuda = device.type == "cuda"
    precision = resolve_precision("auto", device) if tuned else (
        "bf16" if name == "bf16" else "fp32")
    fmt = torch.channels_last if tuned else torch.contiguous_format
    use_compile = tuned and (cuda or compile_cpu)
    configure_backends(device, tf32=tuned)
    torch.manual_seed(0)
    G = Generator(cfg.model).to(device, memory_format=fmt)
    D = Critic(cfg.model).to(device, memory_format=fmt)
    g_run = torch.compile(G) if use_compile else G
    d_run = torch.compile(D) if use_compile else D
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    b, s, k = cfg.batch_size, cfg.model.image_size, cfg.model.num_aus
    real = (torch.rand(b, 3, s, s, device=device) * 2 - 1).contiguous(memory_format=fmt)
    y_real, y_fake = torch.rand(b, k, device=device), torch.rand(b, k, device=device)
    alpha = torch.rand(b, 1, 1, 1, device=device)

    state = TrainState(cfg, device, precision, G, D, opt_g, opt_d, torch.Generator(),
                       g_run=g_run, d_run=d_run)
    batch = StepBatch(real, y_real, y_fake, alpha)

    def iteration(i):
        critic_step(state, batch)
        if i % cfg.n_critic == 0:
            generator_step(state, batch)

    for i in range(warmup):
        iteration(i)
    _sync(device)
    t = time.perf_counter()
    for i in range(steps):
        iteration(i)
    _sync(device)
    train_rate = steps * b / (time.perf_counter() - t)

    x = (torch.rand(infer_batch, 3, s, s, device=device) * 2 - 1).contiguous(memory_format=fmt)
    y = torch.rand(infer_batch, k, device=device)
    G.eval()
    with torch.inference_mode(), autocast(device, precision):
        for _ in range(max(1, warmup)):
            g_run(x, y)
        _sync(device)
        t = time.perf_counter()
        for _ in range(steps):
            g_run(x, y)
        _sync(device)
    infer_rate = steps * infer_batch / (time.perf_counter() - t)
    flags = f"{precision}, {'channels_last' if tuned else 'contiguous'}, " \
            f"{'compiled' if use_compile else 'eager'}"
    return name, flags, train_rate, infer_rate


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=128, help="image size (64, 128, 256)")
    p.add_argument("--batch", type=int, default=25, help="training batch (paper: 25)")
    p.add_argument("--infer-batch", type=int, default=64, help="inference batch")
    p.add_argument("--steps", type=int, default=50, help="timed iterations per mode")
    p.add_argument("--warmup", type=int, default=10, help="untimed iterations (compile, cuDNN)")
    p.add_argument("--device", default="auto")
    p.add_argument("--g-width", type=int, default=64)
    p.add_argument("--g-blocks", type=int, default=6)
    p.add_argument("--d-width", type=int, default=64)
    p.add_argument("--threads", type=int, default=None, help="CPU threads (torch default)")
    p.add_argument("--compile-cpu", action="store_true", help="torch.compile on CPU too")
    p.add_argument("--modes", default="paper,tuned")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    device = pick_device(a.device)
    model = ModelConfig(image_size=a.size, g_width=a.g_width, g_residual_blocks=a.g_blocks,
                        d_width=a.d_width, d_layers=min(6, a.size.bit_length() - 2))
    cfg = TrainConfig(model=model, batch_size=a.batch)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    rows = [run_mode(m, cfg, device, a.steps, a.warmup, a.infer_batch, a.compile_cpu)
            for m in a.modes.split(",")]
    print(f"device: {name}; torch {torch.__version__}; {a.size} px, train batch {a.batch}, "
          f"infer batch {a.infer_batch}, G width {a.g_width} x {a.g_blocks} blocks, "
          f"D width {a.d_width}, n_critic {cfg.n_critic}\n")
    print("| mode | settings | train img/s | inference faces/s |")
    print("| --- | --- | ---: | ---: |")
    for mode, flags, tr, inf in rows:
        print(f"| {mode} | {flags} | {tr:.1f} | {inf:.1f} |")
    if len(rows) == 2:
        print(f"| ratio | {rows[1][0]} / {rows[0][0]} | {rows[1][2] / rows[0][2]:.2f}x | "
              f"{rows[1][3] / rows[0][3]:.2f}x |")


if __name__ == "__main__":
    main()
