"""Engines: what moves the faces of a frame from their own AUs y_r to targets y_g.

One per-frame edit path serves photos, sweeps, animated photos and video: :func:`edit_frame`
(one frame) and :meth:`Engine.edit_frames` (several frames, so the generator can batch their
faces). Engines plug in there:

- :class:`WarpEngine` (``--engine warp``): geometry from the AU -> mesh model, warped at the
  photo's full resolution (:mod:`ganimate.geometry`). Needs no checkpoint. Clean and sharp, but it
  only moves pixels that exist: no mouth interior, no teeth, no wrinkles.
- :class:`GanEngine` (``--engine gan``): the GANimation generator on aligned crops, pasted back
  under its attention mask (:mod:`ganimate.blend`). Can paint texture; as good as its training.

:func:`load_engine` picks one from the CLI's ``--engine`` and ``--checkpoint``: with no
``--engine``, a checkpoint means the generator and no checkpoint means the warp (the shipped
model is a CPU stand-in that measures worse than the warp; docs/engines.md).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ganimate.align import FaceCrop
from ganimate.aus import AU_NAMES
from ganimate.blend import BlendConfig, FaceEdit, blend_weight, paste_faces
from ganimate.errors import GanimateError
from ganimate.geometry import WarpConfig, warp_face

ENGINES: tuple[str, ...] = ("warp", "gan")


@dataclass
class FrameJob:
    """One frame to edit: its faces' aligned crops and, per face, y_r and y_g (engine AU order)."""

    frame: np.ndarray  # uint8 (H, W, 3)
    crops: list[FaceCrop]
    y_r: np.ndarray  # float32 (F, K)
    y_g: np.ndarray  # float32 (F, K)


@dataclass
class FrameEdit:
    """One frame with its faces edited; the frame object itself when it has no face."""

    frame: np.ndarray  # uint8 (H, W, 3)
    crops: list[FaceCrop]
    # Per face, the crop-space weight of the change (1 = replaced), for previews; [] unless asked.
    weights: list[np.ndarray] = field(default_factory=list)
    # The generator's output per crop (GanEngine only): edited crop, attention, colour.
    edits: object | None = None


def frame_landmarks(crop: FaceCrop) -> np.ndarray:
    """A crop's landmarks (478, 3) back in frame pixels (z rescaled like x and y)."""
    from ganimate.align import apply_transform

    lm = np.asarray(crop.landmarks, np.float64)
    out = np.empty_like(lm)
    out[:, :2] = apply_transform(crop.to_frame, lm)
    out[:, 2] = lm[:, 2] * crop.scale
    return out


class WarpEngine:
    """Full-resolution, training-free geometry (see :mod:`ganimate.geometry`)."""

    name = "warp"
    au_names: tuple[str, ...] = AU_NAMES
    # Crops are only used for their landmarks here; the smallest size the pipeline cuts.
    image_size = 64
    # Targets are on the AU estimator's own (raw) scale: no calibration.
    metadata: dict = {}

    def __init__(self, config: WarpConfig = WarpConfig()):
        self.config = config

    def edit_frames(self, jobs: Sequence[FrameJob], blend: BlendConfig = BlendConfig(),
                    want_weights: bool = False) -> list[FrameEdit]:
        """Warp every face of ``jobs`` (``blend`` does not apply: nothing is pasted)."""
        return [self._edit(job, want_weights) for job in jobs]

    def _edit(self, job: FrameJob, want_weights: bool) -> FrameEdit:
        if not job.crops:
            return FrameEdit(job.frame, [])
        out = np.array(job.frame, copy=True)
        weights = []
        for k, crop in enumerate(job.crops):
            _, warp = warp_face(out, frame_landmarks(crop), job.y_r[k], job.y_g[k],
                                self.au_names, self.config, out=out)
            if want_weights:
                weights.append(_crop_weight(crop, warp.field))
        return FrameEdit(out, list(job.crops), weights)


def _crop_weight(crop: FaceCrop, field) -> np.ndarray:
    """Where a warp moves pixels (the field's taper where it moves), in the crop's space."""
    import cv2

    if field is None:
        return np.zeros((crop.size, crop.size), np.float32)
    moving = (field.magnitude >= 1 / 64).astype(np.float32)
    m = crop.to_frame.copy()
    m[:, 2] -= (field.x0, field.y0)  # crop pixel -> field-box pixel
    return cv2.warpAffine(moving, m, (crop.size, crop.size),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


class GanEngine:
    """The GANimation generator on aligned crops, pasted back under its attention."""

    name = "gan"

    def __init__(self, loaded):
        self.loaded = loaded
        self.au_names = tuple(loaded.au_names)
        self.image_size = loaded.config.image_size
        self.metadata = loaded.metadata

    def edit_frames(self, jobs: Sequence[FrameJob], blend: BlendConfig = BlendConfig(),
                    want_weights: bool = False) -> list[FrameEdit]:
        """Run G on every face of ``jobs`` (batched by crop size) and paste them back."""
        from ganimate.inference import CropEdits, edit_crops

        slots = [(j, k) for j, job in enumerate(jobs) for k in range(len(job.crops))]
        by_size: dict[int, list[tuple[int, int]]] = {}
        for j, k in slots:
            by_size.setdefault(jobs[j].crops[k].size, []).append((j, k))
        edited: dict[tuple[int, int], CropEdits] = {}
        for group in by_size.values():
            crops = np.stack([jobs[j].crops[k].image for j, k in group])
            targets = np.stack([jobs[j].y_g[k] for j, k in group])
            out = edit_crops(self.loaded, crops, targets, batch_size=max(len(group), 1))
            for n, key in enumerate(group):
                edited[key] = out.take(n)
        return [self._paste(job, [edited[(j, k)] for k in range(len(job.crops))], blend,
                            want_weights) for j, job in enumerate(jobs)]

    @staticmethod
    def _paste(job: FrameJob, edits: list, blend: BlendConfig, want_weights: bool) -> FrameEdit:
        from ganimate.inference import CropEdits

        if not job.crops:
            return FrameEdit(job.frame, [])
        faces = [FaceEdit(c, e.images[0], e.attention[0]) for c, e in zip(job.crops, edits,
                                                                            strict=True)]
        frame = paste_faces(job.frame, faces, blend)
        weights = ([blend_weight(f.crop, f.attention, blend) for f in faces]
                   if want_weights else [])
        return FrameEdit(frame, list(job.crops), weights, CropEdits.concat(edits))


def edit_frame(frame: np.ndarray, crops: Sequence[FaceCrop], y_r: np.ndarray, y_g: np.ndarray,
               engine, blend: BlendConfig = BlendConfig(), want_weights: bool = False
               ) -> FrameEdit:
    """Edit the faces (``crops``) of one frame from y_r to y_g (float32 (F, K), or (K,) for all)
    with ``engine``; pixels away from the faces stay bit-identical."""
    engine = as_engine(engine)
    crops = list(crops)
    k = len(engine.au_names)
    y_r = np.broadcast_to(np.asarray(y_r, np.float32).reshape(-1, k), (len(crops), k))
    y_g = np.broadcast_to(np.asarray(y_g, np.float32).reshape(-1, k), (len(crops), k))
    job = FrameJob(np.asarray(frame), crops, y_r, y_g)
    return engine.edit_frames([job], blend, want_weights)[0]


def as_engine(engine_or_model):
    """An engine as it is; a loaded generator (the library's older API) as its GanEngine."""
    if hasattr(engine_or_model, "edit_frames"):
        return engine_or_model
    return GanEngine(engine_or_model)


def load_engine(name: str | None = None, checkpoint: str | os.PathLike | None = None,
                device: str = "auto", warp: WarpConfig = WarpConfig()):
    """The engine the CLI's ``--engine`` / ``--checkpoint`` ask for.

    No ``--engine``: the generator of ``checkpoint`` if one is given, else the warp. ``gan``
    without a checkpoint uses the model shipped with ganimate.
    """
    if name is None:
        name = "gan" if checkpoint is not None else "warp"
    if name not in ENGINES:
        raise GanimateError(f"--engine {name!r}: choose one of {', '.join(ENGINES)}")
    if name == "warp":
        if checkpoint is not None:
            raise GanimateError("--engine warp uses no model: drop --checkpoint, or use "
                                "--engine gan to edit with it")
        return WarpEngine(warp)
    from ganimate.checkpoint import load_generator
    from ganimate.models import resolve_checkpoint

    return GanEngine(load_generator(resolve_checkpoint(checkpoint), device=device))
