"""The trainer: bit-exact resume, schedule, run folder, guards."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import deque

import numpy as np
import pytest
import torch

from ganimate.errors import GanimateError
from ganimate.model import ModelConfig, TrainConfig, list_checkpoints
from ganimate.model.checkpoint import load_checkpoint, read_metadata
from ganimate.training import make_synthetic_dataset, train
from ganimate.training.train_output import _check_saturation
from ganimate.training.train_schedule import epoch_order, lr_factor, total_steps

TINY = TrainConfig(
    model=ModelConfig(image_size=32, g_width=8, g_residual_blocks=1, d_width=8, d_layers=3),
    batch_size=4, steps=8, n_critic=2, workers=0, log_every=2, sample_every=4,
    checkpoint_every=3, keep_checkpoints=2, seed=3,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    # 18 train images: 4 steps per epoch, so 8 steps cross an epoch boundary
    return make_synthetic_dataset(tmp_path_factory.mktemp("syn") / "d", count=24, size=32, seed=1)


def _states(run):
    ckpt = load_checkpoint(list_checkpoints(run)[-1])
    return ckpt


def test_resume_is_bit_exact(tmp_path, data):
    straight = train(TINY, data, tmp_path / "straight")
    assert straight.step == 8 and not straight.interrupted

    first = train(TINY, data, tmp_path / "split", stop_at=5)
    assert first.step == 5 and first.interrupted is False
    second = train(TINY, data, tmp_path / "split", resume=True)
    assert second.step == 8

    a, b = _states(tmp_path / "straight"), _states(tmp_path / "split")
    assert a.tensors.keys() == b.tensors.keys()
    for key, value in a.tensors.items():
        if not key.startswith("rng.python"):
            assert torch.equal(value, b.tensors[key]), key
    assert a.metadata["optimizers"] == b.metadata["optimizers"]
    # and the run folder has what a user looks at
    run = tmp_path / "split"
    assert [p.name for p in list_checkpoints(run)] == ["step_00000006.safetensors",
                                                        "step_00000008.safetensors"]
    lines = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [2, 4, 5, 6, 8]
    assert {"d_wgan", "d_gp", "d_au", "g_adv", "g_au", "g_cyc", "g_att",
            "mean_attention", "img_per_s"} <= lines[-1].keys()
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_00000004.png", "step_00000005.png", "step_00000008.png"]
    from ganimate.images import read_rgb

    grid = read_rgb(run / "samples" / "step_00000008.png")
    assert grid.shape == (6 * 32, 4 * 32, 3)  # 6 held-out images x (input|output|attention|colour)
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["au_names"] == ["AU01", "AU26"] and config["total_steps"] == 8
    meta = read_metadata(list_checkpoints(run)[-1])
    assert meta["kind"] == "training" and meta["step"] == 8 and meta["data_fingerprint"]


def test_resume_guards(tmp_path, data):
    run = tmp_path / "run"
    with pytest.raises(GanimateError, match="no complete checkpoint"):
        train(TINY, data, run, resume=True)
    train(dataclasses.replace(TINY, steps=2), data, run)
    with pytest.raises(GanimateError, match="already holds a training run"):
        train(dataclasses.replace(TINY, steps=2), data, run)
    with pytest.raises(GanimateError, match="lambda_cyc"):
        train(dataclasses.replace(TINY, steps=2, lambda_cyc=1.0), data, run, resume=True)
    # runtime settings may change
    train(dataclasses.replace(TINY, steps=2, log_every=1, workers=1), data, run, resume=True)
    other = make_synthetic_dataset(tmp_path / "other", count=24, size=32, seed=2)
    with pytest.raises(GanimateError, match="training data changed"):
        train(dataclasses.replace(TINY, steps=2), other, run, resume=True)


def test_worker_decoding_gives_the_same_run(tmp_path, data):
    cfg = dataclasses.replace(TINY, steps=3, sample_every=0, cache_mib=0)
    train(cfg, data, tmp_path / "main")
    train(dataclasses.replace(cfg, workers=2), data, tmp_path / "workers")
    a, b = _states(tmp_path / "main"), _states(tmp_path / "workers")
    assert all(torch.equal(v, b.tensors[k]) for k, v in a.tensors.items() if k.startswith("G."))


def test_schedule():
    cfg = TrainConfig(epochs=20, decay_epochs=10)
    total, start = total_steps(cfg, 100)
    assert (total, start) == (3000, 2000)
    assert lr_factor(0, total, start) == 1.0 and lr_factor(1999, total, start) == 1.0
    assert lr_factor(2500, total, start) == pytest.approx(0.5)
    assert lr_factor(3000, total, start) == 0.0
    assert total_steps(dataclasses.replace(cfg, steps=30), 100) == (30, 20)
    a, b = epoch_order(0, 1, 50), epoch_order(0, 1, 50)
    assert torch.equal(a, b) and not torch.equal(a, epoch_order(0, 2, 50))
    assert sorted(a.tolist()) == list(range(50))


def test_saturation_warning(caplog):
    cfg = TrainConfig(saturation_window=3)
    history = deque(maxlen=3)
    with caplog.at_level(logging.WARNING, logger="ganimate"):
        for value in (0.99, 0.995, 0.5, 0.99, 0.99):
            _check_saturation(history, value, cfg, 1)
        assert not caplog.records
        _check_saturation(history, 0.999, cfg, 1)
        assert "saturated at 1" in caplog.text
        for value in (0.01, 0.001, 0.0):
            _check_saturation(history, value, cfg, 2)
        assert "collapsed to 0" in caplog.text


def test_config_round_trip_and_validation():
    cfg = dataclasses.replace(TINY, lambda_tv=2e-5)
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    for bad in (dict(batch_size=0), dict(precision="fp8"), dict(lr_g=0.0), dict(steps=0)):
        with pytest.raises(GanimateError):
            TrainConfig(**bad)
    assert np.isclose(TrainConfig().lambda_au, 4000 / 25)


def test_train_options_over_the_defaults_or_the_resumed_run(tmp_path):
    run = tmp_path / "run"
    # A small image without --d-layers gets a critic shallow enough for it.
    cfg = TrainConfig.from_options(run, image_size=32, seed=None)
    assert (cfg.model.image_size, cfg.model.d_layers, cfg.seed) == (32, 4, 0)
    assert TrainConfig.from_options(run, image_size=32, d_layers=3).model.d_layers == 3
    with pytest.raises(GanimateError, match="stride-2"):
        TrainConfig.from_options(run, image_size=32, d_layers=6)
    # --resume: what is not given is the run's own, not the default.
    run.mkdir()
    stored = dataclasses.replace(cfg, batch_size=7)
    (run / "config.json").write_text(json.dumps(stored.to_dict()))
    resumed = TrainConfig.from_options(run, resume=True, lr_g=2e-4)
    assert (resumed.batch_size, resumed.model.d_layers, resumed.lr_g) == (7, 4, 2e-4)
    assert TrainConfig.from_options(run, lr_g=2e-4).batch_size == TrainConfig().batch_size


def test_torchrun_two_processes_on_cpu(tmp_path, data):
    """DistributedDataParallel through torchrun with the gloo backend: 2 ranks x batch 4."""
    import os
    import subprocess
    import sys

    run = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "ganimate", "-q", "train", str(data), "--out", str(run),
           "--image-size", "32", "--g-width", "8", "--g-blocks", "1", "--d-width", "8",
           "--d-layers", "3", "-b", "4", "--workers", "0", "--steps", "4", "--log-every", "2",
           "--checkpoint-every", "2", "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    expected = run / "checkpoints" / "step_00000004.safetensors"
    assert proc.stdout.strip().splitlines() == [str(expected)]  # one line, from rank 0
    ckpt = load_checkpoint(list_checkpoints(run)[-1])
    assert ckpt.metadata["step"] == 4 and ckpt.metadata["train"]["batch_size"] == 4
    # 18 train images, global batch 8: 2 steps per epoch, so step 4 ends epoch 1
    lines = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [0, 1]


def test_a_run_can_change_its_length_before_its_decay_starts(tmp_path, data):
    """Shortened at step 3 (both schedules still at full learning rate), a run ends exactly as
    a run of the new length; once its decay has started the length is fixed."""
    long = dataclasses.replace(TINY, steps=30, sample_every=0)  # decay from step 20
    short = dataclasses.replace(long, steps=12)  # decay from step 8
    train(long, data, tmp_path / "run", stop_at=3)
    resumed = train(short, data, tmp_path / "run", resume=True)
    assert (resumed.step, resumed.total_steps) == (12, 12)
    train(short, data, tmp_path / "straight")
    a, b = _states(tmp_path / "run"), _states(tmp_path / "straight")
    for key in a.tensors:
        if key.startswith(("G.", "D.")):
            assert torch.equal(a.tensors[key], b.tensors[key]), key
    with pytest.raises(GanimateError, match="steps"):
        train(dataclasses.replace(short, steps=20), data, tmp_path / "run", resume=True)


def test_identity_term_ema_and_bf16_on_cpu(tmp_path, data):
    from ganimate.model import export_generator
    from ganimate.training.precision import cpu_has_bf16, resolve_precision

    assert resolve_precision("auto", torch.device("cpu")) == ("bf16" if cpu_has_bf16() else "fp32")
    assert resolve_precision("bf16", torch.device("cpu")) == "bf16"  # forced: honoured
    cfg = dataclasses.replace(TINY, steps=4, sample_every=0, lambda_idt=5.0, ema=0.5,
                              precision="bf16")
    train(cfg, data, tmp_path / "run")
    ckpt = _states(tmp_path / "run")
    ema = ckpt.state_dict("G_ema")
    assert ema and ema.keys() == ckpt.state_dict("G").keys()
    assert any(not torch.equal(ema[k], ckpt.state_dict("G")[k]) for k in ema)
    lines = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert lines[-1]["g_idt"] > 0
    out = export_generator(list_checkpoints(tmp_path / "run")[-1], tmp_path / "g.safetensors")
    exported = load_checkpoint(out).state_dict("G")
    for k, v in ema.items():  # inference gets the average, not the last iterate
        assert torch.equal(exported[k], v.to(exported[k].dtype)), k
    with pytest.raises(GanimateError, match="ema"):
        dataclasses.replace(TINY, ema=1.0)


def test_colour_prior_pulls_the_colour_mask_to_the_input(tmp_path, data):
    """--lambda-colour: the same short run with the prior ends with a colour mask much nearer the
    input than without it (G's colour mask is otherwise trained only where attention < 1)."""
    from ganimate.images import read_rgb, to_tensor
    from ganimate.model import load_generator

    paths = sorted((data / "images").glob("*.png"))[:6]
    batch = to_tensor(np.stack([read_rgb(p) for p in paths]))
    gaps = {}
    for weight in (0.0, 20.0):
        cfg = dataclasses.replace(TINY, steps=40, sample_every=0, lambda_colour=weight, lr_g=5e-3,
                                  model=dataclasses.replace(TINY.model, g_upsample="resize"))
        run = tmp_path / f"run{weight}"
        train(cfg, data, run)
        G = load_generator(list_checkpoints(run)[-1], "cpu").model
        with torch.no_grad():
            out = G(batch, torch.zeros(len(batch), G.cfg.num_aus))
        gaps[weight] = (out.colour - batch).abs().mean().item()
    assert gaps[20.0] < 0.8 * gaps[0.0], gaps
