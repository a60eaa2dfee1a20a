"""Engines: what moves the faces of a frame from their own AUs y_r to targets y_g.

One per-frame edit path serves photos, sweeps, animated photos and video: :func:`edit_frame`
(one frame) and :meth:`Engine.edit_frames` (several frames, so the generator can batch their
faces). Engines plug in there:

- :class:`WarpEngine` (``--engine warp``): geometry from the AU -> mesh model, warped at the
  photo's full resolution (:mod:`ganimate.geometry`). Needs no checkpoint. Clean and sharp, but it
  only moves pixels that exist: no mouth interior, no teeth, no wrinkles.
- :class:`GanEngine` (``--engine gan``): the GANimation generator on aligned crops, its change
  pasted back under its attention mask (:mod:`ganimate.blend`). Can paint texture; as good as its
  training.
- :class:`HybridEngine` (``--engine hybrid``): the warp for geometry, then the generator on the
  warped face for what a warp cannot make (a mouth interior, folds).

:func:`load_engine` picks one from the CLI's ``--engine`` and ``--checkpoint``: with no
``--engine``, a checkpoint means the generator and no checkpoint means the warp (the shipped
model is a CPU stand-in that measures worse than the warp; docs/engines.md and the model card).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np

from ganimate.align import FaceCrop
from ganimate.aus import AU_NAMES, SCANNED_EXTRA_AUS
from ganimate.blend import BlendConfig, FaceEdit, blend_weight, paste_faces
from ganimate.errors import GanimateError
from ganimate.geometry import WarpConfig, warp_face
from ganimate.timing import stage

ENGINES: tuple[str, ...] = ("warp", "gan", "hybrid")


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


@lru_cache(maxsize=1)
def scanned_scale() -> dict:
    """The AU calibration of the scanned basis (see :attr:`WarpEngine.metadata`)."""
    path = resources.files("ganimate") / "assets" / "faces" / "scanned_au_scale.json"
    return json.loads(path.read_text())


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
    # Crops are only used for their landmarks here; the smallest size the pipeline cuts.
    image_size = 64

    def __init__(self, config: WarpConfig = WarpConfig()):
        self.config = config
        scanned = config.basis == "scanned"
        # The scanned basis also moves AU16, AU18, AU22, AU24, AU27 (--au AU27=1); the
        # estimator cannot read them, so a face's own value is 0 (``unread_aus``).
        self.unread_aus: tuple[str, ...] = SCANNED_EXTRA_AUS if scanned else ()
        self.au_names: tuple[str, ...] = AU_NAMES + self.unread_aus

    def for_video(self) -> WarpEngine:
        """The engine for video frames: cheaper sampling (:attr:`WarpConfig.video_sampling`)."""
        return WarpEngine(self.config.for_video())

    @property
    def metadata(self) -> dict:
        """With the scanned basis, the calibration that puts the estimator's readings of a face
        on the basis' scale (``assets/faces/scanned_au_scale.json``, measured by
        ``examples/face_models/calibrate_scanned_scale.py``), so that ``y_g - y_r`` is rendered
        on one scale; the fitted basis is the estimator's own model: no calibration."""
        if self.config.basis != "scanned":
            return {}
        return {"au_calibration": scanned_scale()}

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


def _crop_weight(crop: FaceCrop, field, soft: float | None = None) -> np.ndarray:
    """Where a warp moves pixels (the field's taper where it moves), in the crop's space; with
    ``soft`` (px), the share of a full move reached (magnitude / soft, at most 1)."""
    import cv2

    if field is None:
        return np.zeros((crop.size, crop.size), np.float32)
    if soft is None:
        moving = (field.magnitude >= 1 / 64).astype(np.float32)
    else:
        moving = np.clip(field.magnitude / soft, 0.0, 1.0).astype(np.float32)
    m = crop.to_frame.copy()
    m[:, 2] -= (field.x0, field.y0)  # crop pixel -> field-box pixel
    return cv2.warpAffine(moving, m, (crop.size, crop.size),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def texture_gate(crop: FaceCrop, field, grow: float = 0.06) -> np.ndarray:
    """Where the hybrid lets the generator paint, in the crop's space (float32 in [0, 1]): where
    the warp moves the face by a pixel or more, grown by ``grow`` of the crop side and feathered,
    so folds beside a moved feature are allowed; 0 where nothing moves (a null edit, a brow
    edit's mouth, a smile's forehead)."""

    return _grown(_crop_weight(crop, field, soft=1.0), max(1, int(round(grow * crop.size))))


def _grown(mask: np.ndarray, r: int) -> np.ndarray:
    """``mask`` dilated by a disc of radius ``r`` px and feathered over ~r / 2, in [0, 1]."""
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    return np.clip(cv2.GaussianBlur(cv2.dilate(mask, kernel), (0, 0), r / 2), 0.0, 1.0)


def shading_only(crop: FaceCrop, edited: np.ndarray, grow: float = 0.03) -> np.ndarray:
    """``edited`` (uint8 crop) with the generator's change reduced to a change of lightness
    (the same in R, G and B) everywhere but in the mouth opening of ``crop`` (its inner lips,
    grown by ``grow`` of the crop side and feathered), where its colour is kept: the shading of
    folds and a mouth interior's colour, not a small model's colour blotches."""
    import cv2

    from ganimate.mouth import INNER_LIPS

    base = crop.image.astype(np.float32)
    change = edited.astype(np.float32) - base
    luma = change @ np.array([0.299, 0.587, 0.114], np.float32)
    keep = np.zeros((crop.size, crop.size), np.float32)
    if len(crop.landmarks):
        lips = np.round(np.asarray(crop.landmarks)[list(INNER_LIPS), :2] * 16).astype(np.int32)
        cv2.fillPoly(keep, [lips], 1.0, lineType=cv2.LINE_AA, shift=4)
        keep = _grown(keep, max(1, int(round(grow * crop.size))))
    out = base + luma[..., None] + keep[..., None] * (change - luma[..., None])
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


class GanEngine:
    """The GANimation generator on aligned crops, pasted back under its attention."""

    name = "gan"

    def __init__(self, loaded):
        self.loaded = loaded
        self.au_names = tuple(loaded.au_names)
        self.image_size = loaded.config.image_size
        self.metadata = loaded.metadata

    def for_video(self):
        """The engine as video frames use it: this one (a generator samples nothing)."""
        return self

    def edit_frames(self, jobs: Sequence[FrameJob], blend: BlendConfig = BlendConfig(),
                    want_weights: bool = False) -> list[FrameEdit]:
        """Run G on every face of ``jobs`` (batched by crop size) and paste them back."""
        return [self.paste(job, edits, blend, want_weights)
                for job, edits in zip(jobs, self.generate(jobs), strict=True)]

    def generate(self, jobs: Sequence[FrameJob]) -> list[list]:
        """G's output (a one-crop CropEdits) for every face of every job, batched by crop size."""
        from ganimate.inference import edit_crops

        slots = [(j, k) for j, job in enumerate(jobs) for k in range(len(job.crops))]
        by_size: dict[int, list[tuple[int, int]]] = {}
        for j, k in slots:
            by_size.setdefault(jobs[j].crops[k].size, []).append((j, k))
        edited = {}
        for group in by_size.values():
            crops = np.stack([jobs[j].crops[k].image for j, k in group])
            targets = np.stack([jobs[j].y_g[k] for j, k in group])
            with stage("model"):
                out = edit_crops(self.loaded, crops, targets, batch_size=max(len(group), 1))
            for n, key in enumerate(group):
                edited[key] = out.take(n)
        return [[edited[(j, k)] for k in range(len(job.crops))] for j, job in enumerate(jobs)]

    @staticmethod
    def paste(job: FrameJob, edits: list, blend: BlendConfig, want_weights: bool,
              strength: Sequence | None = None) -> FrameEdit:
        """Paste the edited crops into the job's frame; ``strength`` (per face: a float, or a
        map over the crop, in [0, 1]) scales how much of each face's change is applied (1 - A
        becomes strength * (1 - A))."""
        from ganimate.inference import CropEdits

        if not job.crops:
            return FrameEdit(job.frame, [])
        strength = [1.0] * len(edits) if strength is None else strength  # floats or (H, W) maps
        faces = [FaceEdit(c, e.images[0], 1.0 - s * (1.0 - e.attention[0]))
                 for c, e, s in zip(job.crops, edits, strength, strict=True)]
        with stage("paste"):
            frame = paste_faces(job.frame, faces, blend)
        weights = ([blend_weight(f.crop, f.attention, blend) for f in faces]
                   if want_weights else [])
        return FrameEdit(frame, list(job.crops), weights, CropEdits.concat(edits))


class HybridEngine:
    """The warp for geometry at full resolution, then the generator, on the warped face and
    conditioned on the target, for what a warp cannot make (a mouth interior, teeth, folds),
    pasted as a change under its attention.

    The generator's share fades in with the size of the asked change (all of it from
    ``full_at`` on, none for a null edit), so asking for nothing returns the photo bit-identical
    and a video ramp starts without a jump; with ``gate`` (the default) it paints only where the
    warp moves the face (:func:`texture_gate`): folds beside a raised cheek, a mouth interior,
    but not colour on a forehead that a smile does not move; with ``shading`` (the default) it
    changes only lightness outside the mouth opening (:func:`shading_only`). Targets are on the
    model's label scale; the warp gets them back on the AU estimator's raw scale through the
    model's calibration.
    """

    name = "hybrid"

    def __init__(self, loaded, warp: WarpConfig = WarpConfig(), full_at: float = 0.2,
                 gate: bool = True, shading: bool = True):
        from ganimate.aus import AUCalibration

        self.gate = gate
        self.shading = shading
        self.gan = GanEngine(loaded)
        self.loaded = loaded
        self.warp = warp
        self.full_at = full_at
        self.au_names = tuple(loaded.au_names)
        self.image_size = loaded.config.image_size
        self.metadata = loaded.metadata
        data = loaded.metadata.get("au_calibration")
        self.calibration = None if data is None else AUCalibration.from_dict(data)

    def _raw(self, y: np.ndarray) -> np.ndarray:
        return y if self.calibration is None else self.calibration.invert(y, self.au_names)

    def _warped(self, job: FrameJob) -> tuple[FrameJob, list[np.ndarray]]:
        """The job's frame warped to y_g, with crops re-cut from it (same transforms), and each
        face's :func:`texture_gate`."""
        from ganimate.align import crop_with_transform

        if not job.crops:
            return job, []
        out = np.array(job.frame, copy=True)
        moved, gates = [], []
        for k, crop in enumerate(job.crops):
            landmarks = frame_landmarks(crop)
            _, warp = warp_face(out, landmarks, self._raw(job.y_r[k]), self._raw(job.y_g[k]),
                                self.au_names, self.warp, out=out)
            landmarks[:len(warp.shifts), :2] += warp.shifts
            moved.append(landmarks)
            gates.append(texture_gate(crop, warp.field) if self.gate else None)
        # cut after every face is warped (faces may overlap), through the same transforms
        crops = [crop_with_transform(out, c.to_frame, c.size, lm)
                 for c, lm in zip(job.crops, moved, strict=True)]
        return FrameJob(out, crops, job.y_r, job.y_g), gates

    def for_video(self):
        """The engine as video frames use it: this one (its warp keeps its own sampling)."""
        return self

    def edit_frames(self, jobs: Sequence[FrameJob], blend: BlendConfig = BlendConfig(),
                    want_weights: bool = False) -> list[FrameEdit]:
        pairs = [self._warped(job) for job in jobs]
        warped = [job for job, _ in pairs]
        results = []
        for (job, face_gates), edits in zip(pairs, self.gan.generate(warped), strict=True):
            if self.shading:
                for crop, e in zip(job.crops, edits, strict=True):
                    e.images[0] = shading_only(crop, e.images[0])
            change = np.abs(job.y_g - job.y_r).max(axis=1) if len(job.crops) else []
            strength = [min(1.0, c / self.full_at) * (1.0 if g is None else g)
                        for c, g in zip(change, face_gates, strict=True)]
            results.append(self.gan.paste(job, edits, blend, want_weights, strength))
        return results


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

    loaded = load_generator(resolve_checkpoint(checkpoint), device=device)
    return GanEngine(loaded) if name == "gan" else HybridEngine(loaded, warp)
