"""Which generator to use: the one named by ``--checkpoint`` (a file or a training run folder,
:func:`resolve_checkpoint`) or, when none is given, one shipped with ganimate (package data).

A shipped model is a generator export (``*.generator.safetensors``, see
``ganimate.model.checkpoint``) in this folder, described by ``MODEL_CARD.md`` next to it. Its
metadata carries, beyond what ``ganimate export`` writes:

- ``name``: the model's name (also the file's stem);
- ``standin``: true for a CPU-trained stand-in (a pipeline check, not a useful editor): ganimate
  logs a warning whenever one is used;
- ``au_calibration``: the training set's AU calibration (``meta.json`` of the dataset), so that
  ``edit``/``animate`` put estimated source AUs on the scale of the model's labels;
- ``licence``, ``training``: provenance, summarised from the model card.

When several are present, a real model wins over a stand-in, then the newest name in sort order.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ganimate.errors import GanimateError
from ganimate.model.checkpoint import list_checkpoints, read_metadata

log = logging.getLogger("ganimate")


SUFFIX = ".generator.safetensors"


@dataclass(frozen=True)
class BundledModel:
    """A shipped generator: its file and the metadata keys that describe it."""

    path: Path
    name: str
    standin: bool
    metadata: dict


def _folder() -> Path:
    # Package data of a regular (not zipped) install is a real folder.
    return Path(str(resources.files("ganimate.model") / "weights"))


def bundled_models() -> list[BundledModel]:
    """Every shipped generator, preferred first (real models before stand-ins)."""
    found = []
    for path in sorted(_folder().glob("*" + SUFFIX), reverse=True):
        meta = read_metadata(path)
        found.append(BundledModel(path, str(meta.get("name", path.name.removesuffix(SUFFIX))),
                                  bool(meta.get("standin", False)), meta))
    return sorted(found, key=lambda m: m.standin)  # stable: keeps the name order within a kind


def bundled_model(warn: bool = True) -> Path | None:
    """The file of the default shipped generator, or None when none ships.

    This is what ``resolve_checkpoint(None)`` returns; with ``warn`` (the default) it logs
    a warning when the model is a CPU stand-in, so that every command using it says so.
    """
    models = bundled_models()
    if not models:
        return None
    model = models[0]
    if model.standin and warn:
        warn_standin(model)
    return model.path


def warn_standin(model: BundledModel) -> None:
    log.warning(
        "using the bundled model %s: a small CPU-trained STAND-IN (%d px), not the real demo "
        "model; expect weak edits with colour fringes (see "
        "ganimate/model/weights/MODEL_CARD.md) or "
        "pass --checkpoint", model.name,
        int(model.metadata.get("model", {}).get("image_size", 0)))


def resolve_checkpoint(path: str | os.PathLike | None) -> Path:
    """The checkpoint file to load: ``path`` itself, the newest checkpoint of a run folder, or,
    when ``path`` is None, the bundled default model (an error while none ships)."""
    if path is None:
        bundled = bundled_model()
        if bundled is not None:
            return bundled
        raise GanimateError(
            "no model given and none is bundled with this ganimate; pass --checkpoint CKPT "
            "(a file from `ganimate train` or `ganimate export`, or a training run folder)"
        )
    p = Path(path)
    if p.is_dir():
        found = list_checkpoints(p)
        if not found:
            raise GanimateError(f"{p}: a folder without checkpoints; pass a .safetensors "
                                "checkpoint or a run folder written by `ganimate train`")
        return found[-1]
    if not p.is_file():
        raise GanimateError(f"{p}: no such checkpoint file; pass a file from `ganimate train` "
                            "or `ganimate export`")
    return p
