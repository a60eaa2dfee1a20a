"""``--engine warp``: geometry from scanned FACS shapes, warped at the photo's full resolution,
with drawn teeth, gums and tongue where lips part and fold shading
(:mod:`ganimate.engines.geometry`). Needs no checkpoint; sharp.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import numpy as np

from ganimate.engines.base import Engine, FrameEdit, FrameJob, frame_landmarks
from ganimate.engines.config import BlendConfig
from ganimate.engines.geometry import warp_face
from ganimate.engines.lips import tracked_lips
from ganimate.engines.mouth import MouthMemory
from ganimate.engines.raisers import raisers_from_landmarks
from ganimate.engines.touch import hand_touch
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import AU_NAMES, SCANNED_EXTRA_AUS, AUCalibration, FaceCrop

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn).


@lru_cache(maxsize=1)
def scanned_scale() -> dict:
    """The AU calibration of the scanned basis (see :attr:`WarpEngine.calibration`)."""
    path = resources.files("ganimate") / "assets" / "faces" / "scanned_au_scale.json"
    return json.loads(path.read_text())


class WarpEngine(Engine):
    """Full-resolution, training-free geometry (see :mod:`ganimate.engines.geometry`)."""

    name = "warp"
    uses_network = False  # it reads a crop's landmarks, never its pixels
    device = "cpu"
    # Crops are only used for their landmarks here; the smallest size the pipeline cuts.
    image_size = 64

    def __init__(self, config: WarpConfig = WarpConfig()):
        self.config = config
        scanned = config.basis == "scanned"
        # The scanned basis also moves AU16, AU18, AU22, AU24, AU27 (--au AU27=1); the
        # estimator cannot read them, so a face's own value is 0 (``unread_aus``).
        self.unread_aus: tuple[str, ...] = SCANNED_EXTRA_AUS if scanned else ()
        self.au_names: tuple[str, ...] = AU_NAMES + self.unread_aus
        # With the scanned basis, the calibration that puts the estimator's readings of a face on
        # the basis' scale (``assets/faces/scanned_au_scale.json``, measured by
        # ``examples/face_models/calibrate_scanned_scale.py``), so that ``y_g - y_r`` is rendered
        # on one scale; the fitted basis is the estimator's own model: no calibration.
        self.calibration: AUCalibration | None = (
            AUCalibration.from_dict(scanned_scale()) if scanned else None)

    def for_video(self) -> WarpEngine:
        """The engine for video frames: cheaper sampling (:attr:`WarpConfig.video_sampling`)."""
        return WarpEngine(self.config.for_video())

    def own_aus(self, y_r: np.ndarray, landmarks: np.ndarray,
                memory: MouthMemory | None) -> np.ndarray:
        """With :attr:`WarpConfig.lips_from_landmarks` (video), the lip-parting AUs read from
        the track's lip gap through the basis (:func:`ganimate.engines.lips.tracked_lips`); with
        :attr:`WarpConfig.raisers_from_landmarks` (photos), the brow and lid raise of a gaping
        face (:func:`ganimate.engines.raisers.raisers_from_landmarks`)."""
        y = tracked_lips(y_r, landmarks, memory, self.au_names, self.config)
        return raisers_from_landmarks(y, landmarks, self.au_names, self.config)

    def track(self, fps: float):
        """Per person in a video, the mouth's decisions carried over frames."""
        from ganimate.engines.mouth_track import MouthTrack

        return MouthTrack(fps, self.config.mouth, cast=self.config.teeth.cast,
                          touch=self.config.touch)

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
            landmarks, memory = frame_landmarks(crop), job.mouth(k)
            # a hand at the mouth: a track's touch (carried over frames), else this frame's
            touch = (memory.touch if memory is not None
                     else hand_touch(job.hands, landmarks, self.config.touch))
            _, warp = warp_face(out, landmarks, job.y_r[k], job.condition[k], self.au_names,
                                self.config, out=out, memory=memory, touch=touch)
            if want_weights:
                weights.append(crop_weight(crop, warp.field))
        return FrameEdit(out, list(job.crops), weights)


def crop_weight(crop: FaceCrop, field, soft: float | None = None) -> np.ndarray:
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
