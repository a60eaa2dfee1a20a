"""Acceptance: the conditioning works. A tiny GANimation trained from scratch on the synthetic
bar faces moves the brows (AU01) and the mouth (AU26) of held-out faces toward a target.

Setup: 320 faces of 32 px (240 train, 80 test), a generator of width 16 with 2 residual blocks, a
critic of width 16 and 4 layers, 1000 critic steps of 16 images with the generator updated every 2nd
step at lr 3e-4 (the paper's 5 and 1e-4 need several times more steps than a CPU test can afford;
every loss and weight is the paper's). About a minute on one idle core.

Targets are the mirror of each test face's own AUs (t = 1 - y), so the input starts far away. The
measurement is geometric (``synthetic.measure``), independent of the critic. While developing, the
same run with lambda_au = 0 (no conditioning) scored a ratio of 1.00 (the attention saturated at 1
and the trainer warned), and the untrained generator fails the same check below.

Deterministic on one machine (one thread, seeded, fp32, deterministic algorithms), but not across
CPUs: another machine's kernels round differently and training, being chaotic, ends elsewhere.
On one CPU the training seed stands in for that spread. Ratios before/after (AU01, AU26; both
together) for training seeds 0-7 on this project's 2-core EPYC (AVX512), same data:

    seed 0: 2.82 3.04 (2.93)   seed 4: 2.75 4.89 (3.53)
    seed 1: 2.20 3.15 (2.60)   seed 5: 1.75 2.06 (1.89)
    seed 2: 3.09 4.51 (3.68)   seed 6: 3.46 4.11 (3.76)
    seed 3: 2.99 6.87 (4.18)   seed 7: 2.65 6.35 (3.75)
    untrained generators: 1.05-1.18 per AU, 1.11-1.16 together.

The thresholds sit 20% below the worst seed (1.75 per AU -> 1.4, 1.89 together -> 1.5), still far
above an untrained generator. (The earlier 2.5x / 3x thresholds had been set on seed 0 of other
machines; seed 0 here gives 2.93 together and failed them.)
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganimate.checkpoint import load_generator
from ganimate.config import ModelConfig, TrainConfig
from ganimate.dataset import decode_all, open_dataset
from ganimate.inference import edit_crops
from ganimate.networks import Generator
from ganimate.synthetic import make_synthetic_dataset, measure
from ganimate.training import train

CFG = TrainConfig(
    model=ModelConfig(image_size=32, g_width=16, g_residual_blocks=2, d_width=16, d_layers=4),
    batch_size=16, steps=1000, epochs=1, decay_epochs=0, n_critic=2, lr_g=3e-4, lr_d=3e-4,
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


PER_AU, TOGETHER = 1.4, 1.5  # 20% below the worst of 8 training seeds (module docstring)


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
