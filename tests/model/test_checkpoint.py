"""Checkpoints: bit-exact round trips, optimiser/RNG state, exports, bad files; crop inference."""

from __future__ import annotations

import json
import random
import struct

import numpy as np
import pytest
import torch

from ganimate.engines import edit_crops
from ganimate.errors import GanimateError
from ganimate.model import Critic, Generator, ModelConfig, checkpoint

CFG = ModelConfig(image_size=32, au_names=("AU01", "AU26"), g_width=8, g_residual_blocks=1,
                  d_width=8, d_layers=3)


def _save_models(path, step=7):
    torch.manual_seed(0)
    g, d = Generator(CFG), Critic(CFG)
    tensors = {f"G.{k}": v for k, v in g.state_dict().items()}
    tensors.update({f"D.{k}": v for k, v in d.state_dict().items()})
    meta = {"kind": "training", "model": CFG.to_dict(), "au_names": list(CFG.au_names),
            "step": step, "data_fingerprint": "abc123"}
    checkpoint.save_checkpoint(path, tensors, meta)
    return g, d


def test_round_trip_is_bit_exact(tmp_path):
    path = tmp_path / "a.safetensors"
    g, d = _save_models(path)
    loaded = checkpoint.load_checkpoint(path)
    for prefix, model in (("G", g), ("D", d)):
        state = loaded.state_dict(prefix)
        assert state.keys() == model.state_dict().keys()
        for k, v in model.state_dict().items():
            assert torch.equal(state[k], v) and state[k].dtype == v.dtype
    meta = loaded.metadata
    assert meta["format"] == checkpoint.FORMAT
    assert meta["version"] == checkpoint.FORMAT_VERSION
    assert meta["model"] == CFG.to_dict() and meta["au_names"] == ["AU01", "AU26"]
    assert meta["step"] == 7 and meta["data_fingerprint"] == "abc123"
    assert "ganimate_version" in meta
    assert [p.name for p in tmp_path.iterdir()] == ["a.safetensors"]  # no temp file left


def test_optimizer_and_rng_state_round_trip(tmp_path):
    torch.manual_seed(0)
    model = Generator(CFG)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
    for _ in range(2):
        opt.zero_grad()
        model(torch.rand(2, 3, 32, 32), torch.rand(2, 2)).image.sum().backward()
        opt.step()
    gen = torch.Generator().manual_seed(5)
    gen_t, opt_m = checkpoint.optimizer_tensors("opt", opt)
    rng_t, rng_m = checkpoint.rng_state(gen)
    checkpoint.save_checkpoint(tmp_path / "s.safetensors", {**gen_t, **rng_t},
                       {"optimizers": {"opt": opt_m}, "rng": rng_m})
    expected = (torch.rand(3, generator=gen), torch.rand(3), np.random.rand(3), random.random())

    torch.manual_seed(99)
    np.random.seed(99)
    random.seed(99)
    other = torch.optim.Adam(Generator(CFG).parameters(), lr=1.0)
    loaded = checkpoint.load_checkpoint(tmp_path / "s.safetensors")
    checkpoint.load_optimizer_state(loaded, "opt", other)
    gen2 = torch.Generator()
    checkpoint.restore_rng_state(loaded, gen2)
    got = (torch.rand(3, generator=gen2), torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])
    assert np.array_equal(got[2], expected[2]) and got[3] == expected[3]
    a, b = opt.state_dict(), other.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for i, state in a["state"].items():
        for key, value in state.items():
            assert torch.equal(b["state"][i][key], value)


def test_export_and_load_generator(tmp_path):
    full = tmp_path / "full.safetensors"
    g, _ = _save_models(full)
    export = checkpoint.export_generator(full, tmp_path / "g.safetensors")
    assert export.stat().st_size < full.stat().st_size / 2
    meta = checkpoint.read_metadata(export)
    assert meta["kind"] == "generator" and meta["dtype"] == "float16" and meta["step"] == 7
    x, y = torch.rand(1, 3, 32, 32) * 2 - 1, torch.tensor([[0.2, 0.9]])
    for path, tol in ((full, 0.0), (export, 2e-2)):
        loaded = checkpoint.load_generator(path, device="cpu")
        assert loaded.au_names == ("AU01", "AU26") and loaded.config == CFG
        assert not loaded.model.training
        with torch.no_grad():
            diff = (loaded.model(x, y).image - g(x, y).image).abs().max().item()
        assert diff <= tol


def test_bad_files_raise_clear_errors(tmp_path):
    with pytest.raises(GanimateError, match="no such checkpoint"):
        checkpoint.load_generator(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x80\x04this is a pickle, not safetensors")
    with pytest.raises(GanimateError, match="never pickles"):  # named as a pickle (#14)
        checkpoint.load_generator(junk)
    junk.write_bytes(b"\x12\x04this is neither")
    with pytest.raises(GanimateError, match="not a readable safetensors"):
        checkpoint.load_generator(junk)
    full = tmp_path / "full.safetensors"
    _save_models(full)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(GanimateError):
        checkpoint.load_checkpoint(truncated)
    from safetensors.torch import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"x": torch.zeros(1)}, str(plain))
    with pytest.raises(GanimateError, match="without ganimate metadata"):
        checkpoint.load_generator(plain)
    # a format version from the future
    data = full.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = json.loads(header["__metadata__"]["ganimate"])
    meta["version"] = checkpoint.FORMAT_VERSION + 1
    header["__metadata__"]["ganimate"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    future = tmp_path / "future.safetensors"
    future.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
    with pytest.raises(GanimateError, match="newer than this ganimate"):
        checkpoint.load_generator(future)


def test_edit_crops_shapes_resizing_and_identity(tmp_path):
    path = tmp_path / "full.safetensors"
    _save_models(path)
    loaded = checkpoint.load_generator(path, device="cpu")
    rng = np.random.default_rng(0)
    for side in (32, 48):  # the model size, and a crop that must be resized there and back
        crops = rng.integers(0, 256, size=(3, side, side, 3), dtype=np.uint8)
        out = edit_crops(loaded, crops, np.full((3, 2), 0.5, np.float32), batch_size=2)
        assert out.images.shape == crops.shape and out.images.dtype == np.uint8
        assert out.colour.shape == crops.shape and out.colour.dtype == np.uint8
        assert out.attention.shape == (3, side, side) and out.attention.dtype == np.float32
        assert 0 <= out.attention.min() and out.attention.max() <= 1
    # with the attention head saturated at 1 every pixel is kept, even through the resize
    with torch.no_grad():
        loaded.model.attention_head[0].weight.zero_()
    loaded.model.attention_head[1] = torch.nn.Identity()
    loaded.model.attention_head[0].register_forward_hook(lambda m, i, o: torch.ones_like(o))
    out = edit_crops(loaded, crops, np.zeros((3, 2), np.float32))
    assert np.array_equal(out.images, crops)
    with pytest.raises(GanimateError, match="target AU vectors"):
        edit_crops(loaded, crops, np.zeros((3, 17), np.float32))
    with pytest.raises(GanimateError, match=r"\[0, 1\]"):
        edit_crops(loaded, crops, np.full((3, 2), 1.5, np.float32))
