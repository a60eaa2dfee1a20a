"""Edit the expression of faces in photos: faces -> aligned crops -> y_r -> y_g -> G -> paste-back.

Two levels:

- **frames** (shared with animation): :func:`crop_faces` cuts every face of a frame at one crop
  size, :func:`source_aus` estimates their AUs y_r in the model's AU order, and :func:`edit_frame`
  runs the generator on all faces of the frame in one batch and pastes the edited crops back with
  :func:`ganimate.blend.paste_faces` (feathered face region x attention), so pixels away from the
  faces stay bit-identical;
- **photos**: :func:`edit_photo` reads a photo upright (EXIF orientation applied, alpha kept
  aside), finds its faces (numbered 0, 1, ... from left to right, the same numbers as the ``face``
  column of ``ganimate aus``), builds each face's target from a :class:`ganimate.targets.TargetSpec`
  and returns a :class:`PhotoEdit` at the photo's full resolution; :func:`edit_photos` does a
  batch and writes the results; :func:`sweep_photo` draws the paper's Fig. 4 grid (rows per AU,
  columns per intensity); :func:`save_masks` writes the attention and colour masks (Fig. 5).

Crops are cut at the face's own resolution (at least the model's input size, at most
``max_crop``): the generator runs at model resolution, but ``inference.edit_crops`` composes
``(1 - A) * C + A * I`` at the crop's resolution, so the parts of the face that the attention keeps
retain their detail instead of coming back as an upsampled model-size copy.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ganimate.align import FaceCrop, align_face, crop_transform
from ganimate.aus import AU_NAMES, DEFAULT_ESTIMATOR, AUCalibration, default_estimator
from ganimate.blend import BlendConfig, FaceEdit, paste_faces
from ganimate.checkpoint import LoadedGenerator
from ganimate.errors import GanimateError
from ganimate.inference import CropEdits, edit_crops

if TYPE_CHECKING:
    from ganimate.faces import Face

log = logging.getLogger("ganimate")

# Largest side of a face crop. Faces bigger than this in the photo are cut at this size (the
# generator sees model-size crops anyway; 512 keeps the full-resolution composite sharp for faces
# up to ~600 px tall without spending memory on huge crops).
MAX_CROP = 512

# Where a bundled default model would live (package data, see pyproject); none ships yet.
BUNDLED_MODEL = "models/default.generator.safetensors"


# =============================================================================================
# Checkpoints
# =============================================================================================


def resolve_checkpoint(path: str | os.PathLike | None) -> Path:
    """The checkpoint file to load: ``path`` itself, the newest checkpoint of a run folder, or,
    when ``path`` is None, the bundled default model (an error while none ships)."""
    if path is None:
        bundled = resources.files("ganimate") / BUNDLED_MODEL
        if bundled.is_file():
            return Path(str(bundled))
        raise GanimateError(
            "no model given and none is bundled with this ganimate; pass --checkpoint CKPT "
            "(a file from `ganimate train` or `ganimate export`, or a training run folder)"
        )
    p = Path(path)
    if p.is_dir():
        from ganimate.training import list_checkpoints

        found = list_checkpoints(p)
        if not found:
            raise GanimateError(f"{p}: a folder without checkpoints; pass a .safetensors "
                                "checkpoint or a run folder written by `ganimate train`")
        return found[-1]
    if not p.is_file():
        raise GanimateError(f"{p}: no such checkpoint file; pass a file from `ganimate train` "
                            "or `ganimate export`")
    return p


# =============================================================================================
# Frames: crops, source AUs, one batched edit + paste-back
# =============================================================================================


def crop_size_for(faces: Sequence[Face], model_size: int, max_crop: int = MAX_CROP) -> int:
    """One crop side for all ``faces`` of a frame: the largest face's own resolution, rounded up
    to a multiple of 8, within [model_size, max(model_size, max_crop)]."""
    if not faces:
        return model_size
    # frame pixels per crop pixel of a model-size crop = how much larger the face is in the frame
    scale = max(np.sqrt(abs(np.linalg.det(crop_transform(f, model_size)[:, :2]))) for f in faces)
    natural = int(np.ceil(model_size * scale / 8) * 8)
    return int(min(max(model_size, natural), max(model_size, max_crop)))


def crop_faces(rgb: np.ndarray, faces: Sequence[Face], model_size: int,
               max_crop: int = MAX_CROP, size: int | None = None) -> list[FaceCrop]:
    """Aligned crops of ``faces`` (same order), all of one size so they edit in one batch.

    ``size`` forces the crop side (animation keeps it fixed over a clip); by default
    :func:`crop_size_for` picks it from the largest face.
    """
    if size is None:
        size = crop_size_for(faces, model_size, max_crop)
    return [align_face(rgb, f, size) for f in faces]


def model_au_index(au_names: Sequence[str]) -> np.ndarray:
    """Positions in the estimator's AU_NAMES of a model's AUs (by name); refuses unknown AUs."""
    missing = [n for n in au_names if n not in AU_NAMES]
    if missing:
        raise GanimateError(
            f"the model is conditioned on {' '.join(missing)}, which the AU estimator cannot "
            f"read (it reads {' '.join(AU_NAMES)}); give the targets explicitly or use a model "
            "trained on those AUs"
        )
    return np.array([AU_NAMES.index(n) for n in au_names], dtype=np.int64)


def _calibration(model) -> AUCalibration | None:
    meta = getattr(model, "metadata", None) or {}
    data = meta.get("au_calibration")
    return None if data is None else AUCalibration.from_dict(data)


def source_aus(faces: Sequence[Face | FaceCrop], model: LoadedGenerator | Sequence[str] | None
               = None, method: str = DEFAULT_ESTIMATOR) -> np.ndarray:
    """AU intensities y_r of faces (or crops: their landmarks) in the model's AU order, (F, K).

    ``model`` is a loaded generator (its ``au_names``; if its metadata carries the training
    data's ``au_calibration``, raw estimates are mapped through it so that y_r is on the scale of
    the model's labels), a list of AU names, or None (all of AU_NAMES).
    """
    if model is None:
        names: Sequence[str] = AU_NAMES
    elif isinstance(model, LoadedGenerator) or hasattr(model, "au_names"):
        names = model.au_names
    else:
        names = tuple(model)
    index = model_au_index(names)
    est = default_estimator(method)
    raw = est.many(faces)
    calibration = _calibration(model)
    if calibration is not None:
        raw = _apply_calibration(raw, calibration)
    return np.ascontiguousarray(raw[:, index], dtype=np.float32)


def _apply_calibration(raw: np.ndarray, calibration: AUCalibration) -> np.ndarray:
    """Map raw estimates (AU_NAMES order) through a calibration that may name AUs its own way."""
    out = raw.copy()
    for j, name in enumerate(calibration.au_names):
        if name in AU_NAMES:
            i = AU_NAMES.index(name)
            span = calibration.high[j] - calibration.low[j]
            out[:, i] = np.clip((raw[:, i] - calibration.low[j]) / span, 0.0, 1.0)
    return out


@dataclass
class FrameEdit:
    """One frame with its faces edited and pasted back."""

    frame: np.ndarray  # uint8 (H, W, 3): the input frame with every edited face blended in
    crops: list[FaceCrop]  # the faces' aligned crops, in the order given
    edits: CropEdits  # generator output per crop (edited crop, attention, colour), same order


def _empty_edits(size: int) -> CropEdits:
    return CropEdits(np.zeros((0, size, size, 3), np.uint8), np.zeros((0, size, size), np.float32),
                     np.zeros((0, size, size, 3), np.uint8))


def edit_frame(rgb: np.ndarray, crops: Sequence[FaceCrop], targets: np.ndarray,
               loaded: LoadedGenerator, blend: BlendConfig | None = None) -> FrameEdit:
    """Run G on all face crops of one frame in one batch and paste them back into the frame.

    ``targets`` is float32 (F, K) in the model's AU order, one row per crop (a single (K,) vector
    applies to every crop). Pixels outside every face's blend footprint are bit-identical to
    ``rgb``. A frame without crops comes back unchanged (a copy).
    """
    rgb = np.asarray(rgb)
    crops = list(crops)
    if not crops:
        return FrameEdit(rgb.copy(), [], _empty_edits(loaded.config.image_size))
    sizes = {c.size for c in crops}
    if len(sizes) != 1:
        raise ValueError(f"edit_frame needs crops of one size to batch them, got {sorted(sizes)}")
    targets = np.asarray(targets, dtype=np.float32)
    if targets.ndim == 1:
        targets = np.broadcast_to(targets, (len(crops), targets.shape[0]))
    edits = edit_crops(loaded, np.stack([c.image for c in crops]), targets)
    faces = [FaceEdit(c, edits.images[i], edits.attention[i]) for i, c in enumerate(crops)]
    frame = paste_faces(rgb, faces, blend or BlendConfig())
    return FrameEdit(frame, crops, edits)
