"""Checkpoints: one safetensors file with tensors + JSON metadata header, written atomically.

A file holds either a whole training state (``kind: "training"``: generator, critic, both Adam
optimisers, every RNG state, the step) or a generator export for inference (``kind: "generator"``,
fp16 by default). Nothing is ever unpickled: tensors come from safetensors, everything else
(optimiser hyper-parameters, RNG bookkeeping, configs) from JSON in the safetensors header under the
key ``ganimate``. Files are written to a temp file in the same folder, fsynced and renamed, so a
reader (or a resumed run after a crash) only ever sees complete checkpoints.

Metadata keys: ``format`` ("ganimate-checkpoint"), ``version`` (FORMAT_VERSION), ``kind``,
``ganimate_version``, ``model`` (ModelConfig.to_dict), ``au_names``, ``step``, ``data_fingerprint``,
and for training states ``train`` (TrainConfig.to_dict), ``optimizers`` and ``rng``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganimate.errors import GanimateError
from ganimate.files import write_bytes
from ganimate.model.config import ModelConfig
from ganimate.model.device import pick_device
from ganimate.model.networks import Generator
from ganimate.version import __version__

# Imported in the functions that use them, on purpose (start-up): safetensors (where weights are
# read).

log = logging.getLogger("ganimate")


FORMAT = "ganimate-checkpoint"
FORMAT_VERSION = 1
_META_KEY = "ganimate"


@dataclass
class Checkpoint:
    tensors: dict[str, torch.Tensor]
    metadata: dict
    path: Path

    def state_dict(self, prefix: str) -> dict[str, torch.Tensor]:
        """The tensors under ``prefix.`` with the prefix removed (e.g. 'G' -> generator weights)."""
        p = prefix + "."
        return {k[len(p):]: v for k, v in self.tensors.items() if k.startswith(p)}

    def generator_weights(self) -> dict[str, torch.Tensor]:
        """The weights to edit with: the EMA of G when the run kept one, else G itself."""
        return self.state_dict("G_ema") or self.state_dict("G")


@dataclass
class LoadedGenerator:
    """A generator ready for inference (eval mode, float32, on its device)."""

    model: torch.nn.Module
    config: ModelConfig
    au_names: tuple[str, ...]
    metadata: dict

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


# --- writing --------------------------------------------------------------------------------------


def save_checkpoint(path: str | os.PathLike, tensors: dict[str, torch.Tensor],
                    metadata: dict) -> Path:
    """Write tensors + JSON metadata atomically. Adds format, version and ganimate_version."""
    from safetensors.torch import save

    path = Path(path)
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "ganimate_version": __version__,
            **metadata}
    flat = {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}
    write_bytes(path, save(flat, metadata={_META_KEY: json.dumps(meta)}), durable=True)
    return path


def optimizer_tensors(name: str, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    """Split an optimiser state into tensors (safetensors) and JSON (hyper-parameters, scalars)."""
    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{name}.state.{idx}.{key}"] = value
            else:
                scalars[f"{idx}.{key}"] = value
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
              for g in sd["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def load_optimizer_state(ckpt: Checkpoint, name: str, optimizer: torch.optim.Optimizer) -> None:
    meta = ckpt.metadata["optimizers"][name]
    state: dict[int, dict] = {}
    for key, value in ckpt.state_dict(f"{name}.state").items():
        idx, field = key.split(".", 1)
        state.setdefault(int(idx), {})[field] = value
    for key, value in meta["scalars"].items():
        idx, field = key.split(".", 1)
        state.setdefault(int(idx), {})[field] = value
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()}
              for g in meta["param_groups"]]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def rng_state(generator: torch.Generator | None = None) -> tuple[dict, dict]:
    """Every RNG state of this process (python, numpy, torch CPU and CUDA, and ``generator``)."""
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    if generator is not None:
        tensors["rng.train"] = generator.get_state()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    tensors["rng.numpy"] = torch.from_numpy(np.asarray(keys, dtype=np.int64))
    version, internal, gauss = random.getstate()
    tensors["rng.python"] = torch.tensor(internal, dtype=torch.int64)
    meta = {"numpy": [kind, int(pos), int(has_gauss), float(cached)],
            "python": [version, gauss]}
    return tensors, meta


def restore_rng_state(ckpt: Checkpoint, generator: torch.Generator | None = None) -> None:
    t, meta = ckpt.tensors, ckpt.metadata["rng"]
    torch.set_rng_state(t["rng.torch"])
    if torch.cuda.is_available():
        states = [t[k] for k in sorted(k for k in t if k.startswith("rng.cuda."))]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)
    if generator is not None and "rng.train" in t:
        generator.set_state(t["rng.train"])
    kind, pos, has_gauss, cached = meta["numpy"]
    np.random.set_state((kind, t["rng.numpy"].numpy().astype(np.uint32), pos, has_gauss, cached))
    version, gauss = meta["python"]
    random.setstate((version, tuple(int(x) for x in t["rng.python"].tolist()), gauss))


def export_generator(source: str | os.PathLike, out: str | os.PathLike | None = None,
                     dtype: torch.dtype = torch.float16) -> Path:
    """Write the generator of a checkpoint alone, in ``dtype``, for inference; ``out`` must be a
    *.safetensors file [``source``'s stem + .generator.safetensors]."""
    source = Path(source)
    out = Path(out) if out else source.with_name(source.stem + ".generator.safetensors")
    if out.suffix != ".safetensors":
        raise GanimateError(f"{out}: the export is a safetensors file; name it *.safetensors")
    ckpt = load_checkpoint(source)
    weights = {f"G.{k}": v.to(dtype) if v.is_floating_point() else v
               for k, v in ckpt.generator_weights().items()}
    keep = ("model", "au_names", "step", "data_fingerprint", "au_calibration")
    meta = {k: ckpt.metadata[k] for k in keep if k in ckpt.metadata}
    meta.update(kind="generator", dtype=str(dtype).removeprefix("torch."),
                exported_from=ckpt.metadata.get("ganimate_version"))
    return save_checkpoint(out, weights, meta)


# --- reading --------------------------------------------------------------------------------------


_PICKLE_MESSAGE = (
    "{path}: a pickled PyTorch file (torch.save); ganimate loads only safetensors, never pickles, "
    "because unpickling can run any code in the file. If you trust it, convert it once in Python: "
    "torch.load it, then ganimate.model.checkpoint.save_checkpoint('g.safetensors', "
    "{{'G.' + k: v for k, v in state_dict.items()}}, {{'kind': 'generator', "
    "'model': ModelConfig(...).to_dict(), 'au_names': [...]}})"
)


def _is_pickle(path: Path) -> bool:
    """torch.save's formats: a zip archive (since torch 1.6) or a bare pickle (protocol 2-5)."""
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head.startswith(b"PK\x03\x04") or (len(head) > 1 and head[0] == 0x80
                                               and 2 <= head[1] <= 5)


def read_metadata(path: str | os.PathLike) -> dict:
    """The JSON metadata of a checkpoint without loading its tensors; checks format and version."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise GanimateError(f"{path}: no such checkpoint file")
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(_META_KEY)
    except Exception as exc:  # safetensors raises its own error types for corrupt headers
        if _is_pickle(path):
            raise GanimateError(_PICKLE_MESSAGE.format(path=path)) from None
        raise GanimateError(
            f"{path}: not a readable safetensors checkpoint ({exc}); is it complete? "
            "Pass a checkpoint written by `ganimate train` or `ganimate export`."
        ) from None
    if raw is None:
        raise GanimateError(
            f"{path}: a safetensors file without ganimate metadata; pass a checkpoint written by "
            "`ganimate train` or `ganimate export`"
        )
    meta = json.loads(raw)
    if meta.get("format") != FORMAT:
        raise GanimateError(f"{path}: format {meta.get('format')!r} is not {FORMAT!r}")
    if int(meta.get("version", 0)) > FORMAT_VERSION:
        raise GanimateError(
            f"{path}: checkpoint format version {meta['version']} is newer than this ganimate "
            f"({__version__}, format {FORMAT_VERSION}); upgrade ganimate"
        )
    return meta


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Load all tensors (on the CPU) and the metadata of a checkpoint. Never unpickles."""
    from safetensors.torch import load_file

    meta = read_metadata(path)
    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as exc:
        raise GanimateError(f"{path}: corrupt checkpoint ({exc})") from None
    return Checkpoint(tensors, meta, Path(path))


def load_generator(path: str | os.PathLike, device: str | torch.device = "auto") -> LoadedGenerator:
    """A generator for inference from a training checkpoint or a generator export."""
    ckpt = load_checkpoint(path)
    meta = ckpt.metadata
    try:
        cfg = ModelConfig.from_dict(meta["model"])
    except (KeyError, TypeError) as exc:
        raise GanimateError(f"{path}: checkpoint metadata lacks a model config ({exc})") from None
    if list(meta.get("au_names", cfg.au_names)) != list(cfg.au_names):
        raise GanimateError(f"{path}: inconsistent AU names in the checkpoint metadata")
    model = Generator(cfg)
    weights = {k: v.float() for k, v in ckpt.generator_weights().items()}
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise GanimateError(
            f"{path}: generator weights do not match its config ({first})"
        ) from None
    dev = pick_device(device) if isinstance(device, str) else device
    model = model.to(dev).eval().requires_grad_(False)
    return LoadedGenerator(model, cfg, cfg.au_names, meta)


# --- run folders --------------------------------------------------------------------------------
# A training run keeps its checkpoints as RUN/checkpoints/step_NNNNNNNN.safetensors.

_CKPT_NAME = re.compile(r"step_\d{8}\.safetensors")


def checkpoint_dir(run: str | os.PathLike) -> Path:
    return Path(run) / "checkpoints"


def checkpoint_path(run: str | os.PathLike, step: int) -> Path:
    """Where a run keeps its checkpoint of ``step``."""
    return checkpoint_dir(run) / f"step_{step:08d}.safetensors"


def list_checkpoints(run: str | os.PathLike) -> list[Path]:
    """Complete checkpoints of a run, oldest first (temp files of interrupted writes excluded)."""
    folder = checkpoint_dir(run)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("step_*.safetensors") if _CKPT_NAME.fullmatch(p.name))


def latest_checkpoint(run: str | os.PathLike) -> Checkpoint | None:
    """The newest checkpoint of a run that loads; unreadable ones are reported and skipped."""
    for path in reversed(list_checkpoints(run)):
        try:
            return load_checkpoint(path)
        except GanimateError as exc:
            log.warning("skipping unreadable checkpoint: %s", exc)
    return None


def remove_partial_writes(run: str | os.PathLike) -> None:
    """Delete the temp files that writes interrupted by a crash left in a run's checkpoints."""
    folder = checkpoint_dir(run)
    if folder.is_dir():
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
