"""Acceptance: the conditioning works. A tiny GANimation trained from scratch on the synthetic
bar faces moves the brows (AU01) and the mouth (AU26) of held-out faces toward a target.

Setup: 320 faces of 32 px (240 train, 80 test), a generator of width 16 with 2 residual blocks, a
critic of width 16 and 4 layers, 500 critic steps of 16 images with the generator updated every 2nd
step at lr 3e-4 (the paper's 5 and 1e-4 need several times more steps than a CPU test can afford;
every loss and weight is the paper's). About 60 s on one core (650 steps took 80 s, 1000 steps
150 s: half of the suite).

Targets are the mirror of each test face's own AUs (t = 1 - y), so the input starts far away. The
measurement is geometric (``synthetic.measure``), independent of the critic. While developing, the
same run with lambda_au = 0 (no conditioning) scored a ratio of 1.00 (the attention saturated at 1
and the trainer warned), and the untrained generator fails the same check below.

Deterministic on one machine (one thread, seeded, fp32, deterministic algorithms), but not across
CPUs: another machine's kernels round differently and training, being chaotic, ends elsewhere.
On one CPU the training seed stands in for that spread. Ratios before/after (AU01, AU26; both
together) for training seeds 0-7 on this project's 2-core EPYC (AVX512), same data, 500 steps:

    seed 0: 2.38 3.00 (2.66)   seed 4: 2.38 3.11 (2.70)
    seed 1: 1.57 1.79 (1.68)   seed 5: 1.63 1.82 (1.72)
    seed 2: 2.83 5.18 (3.67)   seed 6: 2.46 3.76 (2.98)
    seed 3: 2.51 3.37 (2.88)   seed 7: 2.23 4.06 (2.88)
    untrained generators: 1.05-1.18 per AU, 1.11-1.16 together.

(With 650 steps the worst seed gave 1.69 per AU and 1.84 together, with 1000 steps 1.75 and 1.89;
400 steps fell to 1.36 and 1.48, too near an untrained generator.) The thresholds sit 20% below
the worst seed (1.57 per AU -> 1.25, 1.68 together -> 1.34), above an untrained generator's
1.16 together. (The earlier 2.5x / 3x thresholds had been set on seed 0 of other machines; seed
0 here gave 2.93 together at 1000 steps and failed them.)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganimate.engines import edit_crops
from ganimate.model import Generator, ModelConfig, TrainConfig, load_generator
from ganimate.training import make_synthetic_dataset, measure, open_dataset, train
from ganimate.training.dataset import decode_all

CFG = TrainConfig(
    model=ModelConfig(image_size=32, g_width=16, g_residual_blocks=2, d_width=16, d_layers=4),
    batch_size=16, steps=500, epochs=1, decay_epochs=0, n_critic=2, lr_g=3e-4, lr_d=3e-4,
    workers=0, log_every=100, sample_every=0, checkpoint_every=10_000, seed=0,
    # The thresholds were set on fp32 runs. With bf16 autocast (the CPU default where it is
    # native) the same 1000 steps bring the brows 2.35x closer instead of 2.85x: pinned here so
    # the test measures learning, not precision.
    precision="fp32",
)


def distances(loaded, crops, targets):
    """Mean |measured - target| per AU, before and after editing."""
    edited = edit_crops(loaded, crops, targets).images
    before = np.abs(measure(crops) - targets).mean(axis=0)
    after = np.abs(measure(edited) - targets).mean(axis=0)
    return before, after


PER_AU, TOGETHER = 1.25, 1.34  # 20% below the worst of 8 training seeds (module docstring)


def passes(before, after) -> bool:
    """Each AU at least PER_AU times closer to its target, both together at least TOGETHER."""
    return bool(np.all(before / after >= PER_AU) and before.sum() / after.sum() >= TOGETHER)


@pytest.fixture
def one_thread():
    # Small convolutions gain nothing from a second thread, and OpenMP spinning on a busy 2-core
    # machine makes them many times slower; one thread also makes the sums' order fixed.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(False)
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_editing_moves_measured_aus_toward_the_target(tmp_path, one_thread):
    data = make_synthetic_dataset(tmp_path / "data", count=320, size=32, seed=1)
    result = train(CFG, data, tmp_path / "run")
    loaded = load_generator(result.checkpoint, device="cpu")

    test = open_dataset(data, "test")
    crops = decode_all(test, 32)
    targets = (1.0 - test.aus).astype(np.float32)

    before, after = distances(loaded, crops, targets)
    print(f"\nAU01, AU26 distance to target: before {before}, after {after}, "
          f"ratio {before / after}")
    assert passes(before, after), (before, after)

    # The check is sensitive: the same architecture untrained does not pass it.
    torch.manual_seed(0)
    loaded.model.load_state_dict(Generator(loaded.config).state_dict())
    assert not passes(*distances(loaded, crops, targets))
