"""On a CUDA GPU (marked ``gpu``: skipped where there is none): inference gives what the CPU gives,
and the trainer runs a few steps in bf16 with finite weights that load back on the CPU."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from ganimate.engines import edit_crops
from ganimate.model import ModelConfig, TrainConfig, load_generator
from ganimate.training import make_synthetic_dataset, train

pytestmark = pytest.mark.gpu


def test_crops_edited_on_cuda_match_the_cpu(tiny):
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    targets = rng.uniform(0, 1, (6, 17)).astype(np.float32)
    on_cpu = edit_crops(load_generator(tiny, device="cpu"), crops, targets)
    gpu = load_generator(tiny, device="cuda")
    assert gpu.device.type == "cuda"
    on_gpu = edit_crops(gpu, crops, targets)
    assert np.abs(on_cpu.images.astype(int) - on_gpu.images.astype(int)).max() <= 2
    assert np.allclose(on_cpu.attention, on_gpu.attention, atol=1e-3)


def test_a_few_bf16_training_steps_on_cuda(tmp_path):
    data = make_synthetic_dataset(tmp_path / "data", count=24, size=32, seed=1)
    cfg = TrainConfig(
        model=ModelConfig(image_size=32, g_width=8, g_residual_blocks=1, d_width=8, d_layers=3),
        batch_size=4, steps=4, n_critic=2, workers=0, sample_every=0, checkpoint_every=2, seed=0)
    result = train(dataclasses.replace(cfg, device="cuda", precision="bf16"), data,
                   tmp_path / "run")
    loaded = load_generator(result.checkpoint, device="cpu")
    assert loaded.metadata["step"] == 4
    assert all(torch.isfinite(p).all() for p in loaded.model.parameters())
