"""``--engine hybrid``: the warp for geometry at full resolution, then the generator on the warped
face for what a warp cannot make (a mouth interior, folds), gated to where the warp moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ganimate.engines.base import Engine, FrameEdit, FrameJob, frame_landmarks
from ganimate.engines.config import BlendConfig
from ganimate.engines.gan import GanEngine
from ganimate.engines.geometry import warp_face
from ganimate.engines.mouth import INNER_LIPS
from ganimate.engines.warp import crop_weight
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import FaceCrop, crop_with_transform

if TYPE_CHECKING:
    from ganimate.model import LoadedGenerator

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn).


def texture_gate(crop: FaceCrop, field, grow: float = 0.06) -> np.ndarray:
    """Where the hybrid lets the generator paint, in the crop's space (float32 in [0, 1]): where
    the warp moves the face by a pixel or more, grown by ``grow`` of the crop side and feathered,
    so folds beside a moved feature are allowed; 0 where nothing moves (a null edit, a brow
    edit's mouth, a smile's forehead)."""

    return _grown(crop_weight(crop, field, soft=1.0), max(1, int(round(grow * crop.size))))


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


class HybridEngine(Engine):
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

    uses_network = True
    unread_aus: tuple[str, ...] = ()

    def __init__(self, loaded: LoadedGenerator, warp: WarpConfig = WarpConfig(),
                 full_at: float = 0.2, gate: bool = True, shading: bool = True):
        self.gate = gate
        self.shading = shading
        self.gan = GanEngine(loaded)
        self.warp = warp
        self.full_at = full_at
        self.au_names = tuple(loaded.au_names)
        self.image_size = loaded.config.image_size
        self.calibration = self.gan.calibration

    @property
    def device(self) -> str:
        return self.gan.device

    def _raw(self, y: np.ndarray) -> np.ndarray:
        return y if self.calibration is None else self.calibration.invert(y, self.au_names)

    def _warped(self, job: FrameJob) -> tuple[FrameJob, list[np.ndarray]]:
        """The job's frame warped to its condition, with crops re-cut from it (same transforms),
        and each face's :func:`texture_gate`."""
        if not job.crops:
            return job, []
        out = np.array(job.frame, copy=True)
        moved, gates = [], []
        for k, crop in enumerate(job.crops):
            landmarks = frame_landmarks(crop)
            _, warp = warp_face(out, landmarks, self._raw(job.y_r[k]), self._raw(job.condition[k]),
                                self.au_names, self.warp, out=out, memory=job.mouth(k))
            landmarks[:len(warp.shifts), :2] += warp.shifts
            moved.append(landmarks)
            gates.append(texture_gate(crop, warp.field) if self.gate else None)
        # cut after every face is warped (faces may overlap), through the same transforms
        crops = [crop_with_transform(out, c.to_frame, c.size, lm)
                 for c, lm in zip(job.crops, moved, strict=True)]
        return replace(job, frame=out, crops=crops), gates

    def track(self, fps: float):
        """Per person in a video, the warp's mouth decisions carried over frames."""
        from ganimate.engines.mouth_track import MouthTrack

        return MouthTrack(fps, self.warp.mouth, cast=self.warp.teeth.cast)

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
            change = np.abs(job.condition - job.y_r).max(axis=1) if len(job.crops) else []
            strength = [min(1.0, c / self.full_at) * (1.0 if g is None else g)
                        for c, g in zip(change, face_gates, strict=True)]
            results.append(self.gan.paste(job, edits, blend, want_weights, strength))
        return results
