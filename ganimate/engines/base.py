"""The seam between the pipeline and the engines: the :class:`Engine` protocol, the frame job it is
given and the edit it returns, and :func:`edit_frame`, the one per-frame edit path of photos,
sweeps, animated photos and video.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from ganimate.engines.config import BlendConfig
from ganimate.engines.mouth import MouthMemory
from ganimate.faces import AUCalibration, AUSpace, FaceCrop, Hand, apply_transform, source_aus
from ganimate.faces.config import DEFAULT_ESTIMATOR

if TYPE_CHECKING:  # the track's module imports the warp's geometry
    from ganimate.engines.mouth_track import MouthTrack
    from ganimate.faces import Face


@dataclass
class CropEdits:
    """The generator's output for N crops (what ``--save-masks`` writes)."""

    images: np.ndarray  # uint8 (N, H, W, 3): edited crops, at the input crop size
    attention: np.ndarray  # float32 (N, H, W) in [0, 1]: 1 = input pixel kept
    colour: np.ndarray  # uint8 (N, H, W, 3): the colour mask C

    def take(self, i: int) -> CropEdits:
        """Crop ``i`` alone (N = 1)."""
        return CropEdits(self.images[i:i + 1], self.attention[i:i + 1], self.colour[i:i + 1])

    @staticmethod
    def concat(parts: list[CropEdits]) -> CropEdits:
        """One CropEdits of several; crops of different sizes give lists instead of arrays."""
        def join(arrays: list[np.ndarray]):
            if len({a.shape[1:] for a in arrays}) == 1:
                return np.concatenate(arrays)
            return [x for a in arrays for x in a]

        return CropEdits(join([p.images for p in parts]), join([p.attention for p in parts]),
                         join([p.colour for p in parts]))


ENGINES: tuple[str, ...] = ("warp", "gan", "hybrid")


@dataclass
class FrameJob:
    """One frame to edit: the one frame type from an animation's conditions through the engine
    to the encoder, and the job of a photo or a sweep cell. Per face (rows in the frame's face
    order, engine AU order): its aligned crop, its own AUs ``y_r`` and its ``condition``, what the
    engine moves it to (a photo's target y_g; at an animation's frame alpha * y_g + (1 - alpha)
    * y_r)."""

    frame: np.ndarray  # uint8 (H, W, 3)
    crops: list[FaceCrop]
    y_r: np.ndarray  # float32 (F, K)
    condition: np.ndarray  # float32 (F, K)
    # Video: per face, what its track carries about the mouth (see Engine.track); None: decide
    # from this frame alone, as for a photo.
    mouths: Sequence[MouthMemory | None] | None = None
    hands: tuple[Hand, ...] = ()  # hands found in the frame, kept in front of the edit
    # An animation's bookkeeping (what on_frame callbacks and the studio are told):
    index: int = 0  # the frame's number in its clip
    alpha: float = 1.0  # the schedule's alpha at this frame
    y_g: np.ndarray | None = None  # float32 (F, K): the targets before alpha; None: condition
    track_ids: tuple[int, ...] = ()  # per face, its track id (video) or face number (photo)
    seen: tuple[int, ...] = ()  # track ids of every face found (edited or not)

    def mouth(self, k: int) -> MouthMemory | None:
        """Face ``k``'s track memory, if any."""
        return None if self.mouths is None else self.mouths[k]

    @property
    def targets(self) -> np.ndarray:
        """Float32 (F, K): the faces' targets y_g (the condition where none was kept)."""
        return self.condition if self.y_g is None else self.y_g


@dataclass
class FrameEdit:
    """One frame with its faces edited; the frame object itself when it has no face."""

    frame: np.ndarray  # uint8 (H, W, 3)
    crops: list[FaceCrop]
    # Per face, the crop-space weight of the change (1 = replaced), for previews; [] unless asked.
    weights: list[np.ndarray] = field(default_factory=list)
    # The generator's output per crop (gan and hybrid only): edited crop, attention, colour.
    edits: CropEdits | None = None


@runtime_checkable
class Engine(Protocol):
    """What the pipeline asks of an engine (warp, gan, hybrid): the AUs it speaks, how it wants
    its crops, and one call that edits the faces of frames. The engines subclass it for
    :attr:`au_space`."""

    name: str  # as --engine names it
    au_names: tuple[str, ...]  # the order of y_r and y_g
    unread_aus: tuple[str, ...]  # AUs it moves that the estimator cannot read (y_r = 0)
    image_size: int  # the smallest crop side it wants
    calibration: AUCalibration | None  # raw estimator readings -> its AU scale
    uses_network: bool  # runs a network on crop pixels (batches, torch threads), or only geometry
    device: str  # where it runs: "cpu", "cuda" (the warp: "cpu")

    @property
    def au_space(self) -> AUSpace:
        """Where the faces' own AUs are read (:func:`ganimate.faces.source_aus`)."""
        return AUSpace(self.au_names, self.unread_aus, self.calibration)

    def for_video(self) -> Engine:
        """The engine as video frames use it (the warp samples more cheaply)."""
        ...

    def own_aus(self, y_r: np.ndarray, landmarks: np.ndarray,
                memory: MouthMemory | None) -> np.ndarray:
        """A face's own AUs (K,) as this engine moves them, from the estimator's ``y_r``, the
        face's landmarks (478, 3; frame pixels) and, in video, its track's memory of this frame
        (None in a photo): the planner asks once per face and frame, a photo once per face,
        before the target is built from them; the generators take y_r as it is."""
        return y_r

    def track(self, fps: float) -> MouthTrack | None:
        """A new per-person temporal state for a video track (the warp's mouth decisions), fed
        each frame in order by the planner; None when the engine keeps none."""
        return None

    def edit_frames(self, jobs: Sequence[FrameJob], blend: BlendConfig = BlendConfig(),
                    want_weights: bool = False) -> list[FrameEdit]:
        """Each job's frame with its faces moved from y_r to their condition; pixels away from
        the faces stay bit-identical."""
        ...


def photo_aus(engine: Engine, faces: Sequence[Face], method: str = DEFAULT_ESTIMATOR
              ) -> np.ndarray:
    """y_r (F, K) of a still photo's faces as ``engine`` moves them: read by the ``method``
    estimator in the engine's AU space, then the engine's own reading without a track
    (:meth:`Engine.own_aus`; the warp reads a gaping face's raised brows through its basis)."""
    y_r = source_aus(faces, engine.au_space, method)
    if not len(faces):
        return y_r
    return np.stack([engine.own_aus(y, f.landmarks, None) for y, f in zip(y_r, faces,
                                                                           strict=True)])


def frame_landmarks(crop: FaceCrop) -> np.ndarray:
    """A crop's landmarks (478, 3) back in frame pixels (z rescaled like x and y)."""
    lm = np.asarray(crop.landmarks, np.float64)
    out = np.empty_like(lm)
    out[:, :2] = apply_transform(crop.to_frame, lm)
    out[:, 2] = lm[:, 2] * crop.scale
    return out


def edit_frame(frame: np.ndarray, crops: Sequence[FaceCrop], y_r: np.ndarray, y_g: np.ndarray,
               engine: Engine, blend: BlendConfig = BlendConfig(), want_weights: bool = False,
               hands: tuple[Hand, ...] = ()) -> FrameEdit:
    """Edit the faces (``crops``) of one frame from y_r to y_g (float32 (F, K), or (K,) for all)
    with ``engine``; pixels away from the faces stay bit-identical. ``hands``: the frame's
    hands (the warp stills its edit around a mouth they touch; keeping them in front of the
    edit is the caller's, :func:`ganimate.engines.blend.keep_in_front`)."""
    crops = list(crops)
    k = len(engine.au_names)
    y_r = np.broadcast_to(np.asarray(y_r, np.float32).reshape(-1, k), (len(crops), k))
    y_g = np.broadcast_to(np.asarray(y_g, np.float32).reshape(-1, k), (len(crops), k))
    job = FrameJob(np.asarray(frame), crops, y_r, condition=y_g, hands=tuple(hands))
    return engine.edit_frames([job], blend, want_weights)[0]
