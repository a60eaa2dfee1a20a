"""One source (a photo or a video) -> aligned face crops on disk and their rows: the checks that
reject a frame or a face (the reasons of rejected.csv), the AU estimates, the worker processes.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import FaceMesh, align_face, default_estimator, head_pose
from ganimate.images import read_rgb, write_image
from ganimate.training.config import PrepareConfig
from ganimate.video import iter_video_frames

# Reasons written to rejected.csv (docs/dataset-format.md).
UNREADABLE = "unreadable"
IMAGE_TOO_SMALL = "image too small"
NO_FACE = "no face"
FACE_TOO_SMALL = "face too small"
FACE_TOO_TURNED = "face too turned"
FACE_CUT_OFF = "face cut off"
NO_LABEL = "no AU label"


@dataclass(frozen=True)
class CropTask:
    key: str  # journal key: display path + size + mtime, so a changed file is redone
    path: str
    source: str  # display path written to the dataset (relative to its root)
    base: str  # file-name-safe prefix of this source's crop ids
    video: bool


# ---------------------------------------------------------------------------------------------
# The worker: one source (photo or video) -> crops on disk + rows
# ---------------------------------------------------------------------------------------------


class _Worker:
    def __init__(self, config: PrepareConfig, out: Path):
        self.config = config
        self.images = out / "images"
        self.mesh = FaceMesh(max_faces=config.max_faces)
        self.estimator = default_estimator(config.estimator)
        self.stage = Counter()
        self.frames = 0

    @contextmanager
    def _timed(self, name: str) -> Iterator[None]:
        """Add the seconds spent inside to stage ``name`` (the journal's per-stage times)."""
        t = time.perf_counter()
        try:
            yield
        finally:
            self.stage[name] += time.perf_counter() - t

    def run(self, task: CropTask) -> dict:
        self.stage, self.frames = Counter(), 0
        rows: list[dict] = []
        rejected: list[dict] = []
        try:
            if task.video:
                self._video(task, rows, rejected)
            else:
                with self._timed("decode"):
                    try:
                        rgb = read_rgb(task.path)
                    except GanimateError as exc:
                        rejected.append({"frame": 0, "reason": UNREADABLE,
                                         "detail": str(exc).split(": ", 1)[-1][:200]})
                        rgb = None
                if rgb is not None:
                    self.frames += 1
                    self._frame(task, 0, rgb, rows, rejected)
        except GanimateError as exc:
            rejected.append({"frame": 0, "reason": UNREADABLE,
                             "detail": str(exc).split(": ", 1)[-1][:200]})
        return {"key": task.key, "source": task.source, "rows": rows, "rejected": rejected,
                "frames": self.frames, "stage": dict(self.stage)}

    def _video(self, task: CropTask, rows: list, rejected: list) -> None:
        per_reason: dict[str, list] = {}
        t = time.perf_counter()
        for index, _, rgb in iter_video_frames(task.path, self.config.every):
            self.stage["decode"] += time.perf_counter() - t
            self.frames += 1
            frame_rejects: list[dict] = []
            self._frame(task, index, rgb, rows, frame_rejects)
            for r in frame_rejects:
                per_reason.setdefault(r["reason"], []).append(r)
            t = time.perf_counter()
        if self.frames == 0:
            rejected.append({"frame": 0, "reason": UNREADABLE, "detail": "no frames decoded"})
        # One row per reason and video (the first frame it happened), not one per frame.
        for reason, items in per_reason.items():
            rejected.append({"frame": items[0]["frame"], "reason": reason,
                             "detail": f"{len(items)} of {self.frames} sampled frames; "
                                       f"first: {items[0]['detail']}"})

    def _frame(self, task: CropTask, index: int, rgb: np.ndarray, rows: list,
               rejected: list) -> None:
        cfg = self.config
        h, w = rgb.shape[:2]
        if min(h, w) < 32:
            rejected.append({"frame": index, "reason": IMAGE_TOO_SMALL,
                             "detail": f"{w}x{h} pixels"})
            return
        with self._timed("mesh"):
            faces = self.mesh(rgb)
        if not faces:
            rejected.append({"frame": index, "reason": NO_FACE, "detail": f"{w}x{h} pixels"})
            return
        for k, face in enumerate(faces):
            lm = face.landmarks
            height = float(np.hypot(*(lm[152, :2] - lm[10, :2])))
            if height < cfg.face_min:
                rejected.append({"frame": index, "reason": FACE_TOO_SMALL,
                                 "detail": f"face {k}: {height:.0f} px < {cfg.face_min:.0f}"})
                continue
            yaw, pitch, _ = head_pose(lm)
            if abs(yaw) > cfg.max_yaw or abs(pitch) > cfg.max_pitch:
                rejected.append({"frame": index, "reason": FACE_TOO_TURNED,
                                 "detail": f"face {k}: yaw {yaw:.0f}, pitch {pitch:.0f} deg"})
                continue
            with self._timed("align"):
                crop = align_face(rgb, face, cfg.size)
            if crop.inside < cfg.min_inside:
                rejected.append({"frame": index, "reason": FACE_CUT_OFF,
                                 "detail": f"face {k}: {crop.inside:.0%} of the crop in frame"})
                continue
            with self._timed("aus"):
                aus = self.estimator(face)
            crop_id = task.base + (f"_f{index:06d}" if task.video else "") + f"_{k}"
            with self._timed("write"):
                write_image(self.images / f"{crop_id}.{cfg.image_format}", crop.image,
                            quality=cfg.quality)
            rows.append({"id": crop_id, "frame": index, "face": k,
                         "aus": [round(float(v), 5) for v in aus]})


_WORKER: _Worker | None = None
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _init_worker(config: PrepareConfig, out: str) -> None:
    global _WORKER
    logging.getLogger("absl").setLevel(logging.ERROR)
    _WORKER = _Worker(config, Path(out))


def _run_task(task: CropTask) -> dict:
    return _WORKER.run(task)


def run_crop_tasks(todo: list[CropTask], config: PrepareConfig, out: Path, record,
                   progress) -> None:
    workers = config.workers or min(8, os.cpu_count() or 1)
    workers = max(1, min(workers, len(todo)))
    with progress.track("preparing", total=len(todo)) as bar:
        if workers == 1:
            worker = _Worker(config, out)
            try:
                for task in todo:
                    record(worker.run(task))
                    bar.advance(1, info=task.source)
            finally:
                worker.mesh.close()
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # spawn: mediapipe's graphs own threads, which fork would copy half-alive. One BLAS
        # thread per worker: the workers already use every core, and oversubscribed BLAS threads
        # made the AU solve 5x slower. The variables must be set before a child imports numpy.
        ctx = multiprocessing.get_context("spawn")
        saved = {k: os.environ.get(k) for k in _THREAD_VARS}
        os.environ.update({k: "1" for k in _THREAD_VARS})
        try:
            pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                       initargs=(config, str(out)))
            futures = {pool.submit(_run_task, t): t for t in todo}
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        with pool:
            for fut in as_completed(futures):
                record(fut.result())
                bar.advance(1, info=futures[fut].source)
