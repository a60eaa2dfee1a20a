"""``--engine gan``: the GANimation generator on batches of aligned crops, pasted back under its
attention mask (:mod:`ganimate.engines.blend`). torch is imported by the functions that run the
network, so that the warp's path never loads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ganimate.engines.base import CropEdits, Engine, FrameEdit, FrameJob
from ganimate.engines.blend import FaceEdit, blend_weight, paste_faces
from ganimate.engines.config import BlendConfig
from ganimate.errors import GanimateError
from ganimate.faces import AUCalibration
from ganimate.images import to_image, to_tensor
from ganimate.timing import stage

if TYPE_CHECKING:
    import torch

    from ganimate.model import LoadedGenerator

# Imported in the functions that use them, on purpose (start-up): torch (2 s: only where a network
# runs).


def _resize(t: torch.Tensor, size: int) -> torch.Tensor:
    import torch.nn.functional as F

    if t.shape[-1] == size and t.shape[-2] == size:
        return t
    return F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False,
                         antialias=True)


def edit_crops(loaded: LoadedGenerator, crops: np.ndarray, targets: np.ndarray,
               batch_size: int = 16, detail: bool = True) -> CropEdits:
    """Edit N square aligned crops (uint8 NHWC) to N target AU vectors (float32 (N, K) in [0, 1]).

    Crops of another size than the model's are resized to it and the results resized back, so the
    output always has the crops' size. With ``detail`` (the default) a crop larger than the model
    keeps its own fine detail where the generator repaints: the change is applied as a residual,
    ``I + (1 - A) * (C - I_low)`` with ``I_low`` the crop at model resolution brought back up,
    instead of ``(1 - A) * C + A * I``, which pastes an upsampled, blurred C over the face (a 64 px
    model on a 300 px face: Laplacian variance 0.65x the input's).
    """
    import torch  # deferred: the warp's path never loads it

    crops = np.asarray(crops)
    if crops.ndim == 3:
        crops = crops[None]
    targets = np.asarray(targets, dtype=np.float32)
    if targets.ndim == 1:
        targets = np.broadcast_to(targets, (len(crops), targets.shape[0]))
    if crops.dtype != np.uint8 or crops.ndim != 4 or crops.shape[-1] != 3:
        raise ValueError(f"crops must be uint8 NHWC RGB, got {crops.dtype} {crops.shape}")
    n, h, w, _ = crops.shape
    if h != w:
        raise GanimateError(f"face crops must be square, got {w}x{h}")
    k = len(loaded.au_names)
    if targets.shape != (n, k):
        raise GanimateError(f"expected {n} target AU vectors of length {k} "
                            f"({' '.join(loaded.au_names)}), got shape {targets.shape}")
    if not np.all(np.isfinite(targets)) or targets.min(initial=0) < 0 or targets.max(initial=0) > 1:
        raise GanimateError("target AU intensities must lie in [0, 1]")
    size = loaded.config.image_size
    device = loaded.device
    out_img, out_att, out_col = [], [], []
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            x = to_tensor(crops[start:start + batch_size]).to(device)
            y = torch.from_numpy(np.ascontiguousarray(targets[start:start + batch_size])).to(device)
            out = loaded.model(_resize(x, size), y)
            # Compose at the crop's own resolution so untouched pixels (A = 1) stay bit-identical.
            att = _resize(out.attention.float(), h).clamp(0, 1)
            col = _resize(out.colour.float(), h).clamp(-1, 1)
            if size == h:
                img = out.image.float()
            elif detail:
                low = _resize(_resize(x, size), h)
                img = (x + (1 - att) * (col - low)).clamp(-1, 1)
            else:
                img = (1 - att) * col + att * x
            out_img.append(to_image(img))
            out_att.append(att[:, 0].cpu().numpy().astype(np.float32))
            out_col.append(to_image(col))
    return CropEdits(np.concatenate(out_img), np.concatenate(out_att), np.concatenate(out_col))


class GanEngine(Engine):
    """The GANimation generator on aligned crops, pasted back under its attention."""

    name = "gan"
    uses_network = True
    unread_aus: tuple[str, ...] = ()

    def __init__(self, loaded: LoadedGenerator):
        self.loaded = loaded
        self.au_names = tuple(loaded.au_names)
        self.image_size = loaded.config.image_size
        # the training data's calibration: y_r on the scale of the model's labels
        self.calibration = AUCalibration.from_meta(loaded.metadata)

    @property
    def device(self) -> str:
        return self.loaded.device.type

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
        slots = [(j, k) for j, job in enumerate(jobs) for k in range(len(job.crops))]
        by_size: dict[int, list[tuple[int, int]]] = {}
        for j, k in slots:
            by_size.setdefault(jobs[j].crops[k].size, []).append((j, k))
        edited = {}
        for group in by_size.values():
            crops = np.stack([jobs[j].crops[k].image for j, k in group])
            targets = np.stack([jobs[j].condition[k] for j, k in group])
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
