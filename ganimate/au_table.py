"""AU tables of photos, folders and videos: the rows that `ganimate aus` prints.

One row per face per photo or video frame (:class:`AURow`); :func:`scan_aus` streams them for a
photo, a folder of photos and videos, or a video (tracked faces, optionally baselined per person).
``TABLE_COLUMNS`` is the stable column order of the CSV and JSON output (docs/aus.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganimate.aus import AU_NAMES, DEFAULT_ESTIMATOR, AUEstimator, NeutralBaseline
from ganimate.errors import GanimateError
from ganimate.images import read_rgb
from ganimate.video import find_inputs, is_video, iter_video_frames

# Columns of `ganimate aus` CSV/JSON output, a stable interface (docs/aus.md): ``source`` the file
# (relative to the folder given), ``frame`` the video frame index (0 for photos), ``time`` in
# seconds (0 for photos), ``face`` the face index (photos: left to right; videos: the track id,
# stable while the face is followed), ``box`` "x0 y0 x1 y1" in frame pixels, then the AUs.
TABLE_COLUMNS: tuple[str, ...] = ("source", "frame", "time", "face", "box", *AU_NAMES)


@dataclass
class AURow:
    """One face in one photo or video frame."""

    source: str
    frame: int
    time: float
    face: int
    box: tuple[float, float, float, float]
    aus: np.ndarray  # float32 (17,)

    def as_dict(self) -> dict:
        d = {"source": self.source, "frame": self.frame, "time": round(self.time, 4),
             "face": self.face, "box": " ".join(f"{v:.1f}" for v in self.box)}
        d.update({n: round(float(v), 4) for n, v in zip(AU_NAMES, self.aus, strict=True)})
        return d


@dataclass
class AUScanProblem:
    """An input that produced no row, and why (unreadable, no face...)."""

    source: str
    reason: str


def scan_aus(path: str | os.PathLike, method: str = DEFAULT_ESTIMATOR, every: int = 1,
             baseline: bool = False, problems: list[AUScanProblem] | None = None
             ) -> Iterable[AURow]:
    """AU rows of a photo, a folder of photos/videos, or a video, streamed (one per face/frame).

    Videos use the face tracker (``face`` is the track id) and, with ``baseline``, a per-track
    :class:`NeutralBaseline`. Files that give nothing are appended to ``problems`` (if given).
    """
    from ganimate.faces import FaceMesh, FaceTracker

    est = AUEstimator(method)
    path = Path(path)
    inputs = find_inputs([path])
    if not inputs:
        raise GanimateError(f"{path}: no photos or videos in it")

    def note(source: str, reason: str) -> None:
        if problems is not None:
            problems.append(AUScanProblem(source, reason))

    mesh = None
    try:
        for file, disp in inputs:
            if is_video(file):
                baselines: dict[int, NeutralBaseline] = {}
                found = False
                with FaceTracker() as tracker:
                    try:
                        for index, t, rgb in iter_video_frames(file, every):
                            for face in tracker(rgb):
                                y = est(face)
                                if baseline:
                                    y = baselines.setdefault(face.track_id, NeutralBaseline())(y)
                                found = True
                                yield AURow(disp, index, t, face.track_id, face.box.as_tuple(), y)
                    except GanimateError as exc:
                        note(disp, f"unreadable: {exc}")
                        continue
                if not found:
                    note(disp, "no face")
                continue
            try:
                rgb = read_rgb(file)
            except GanimateError as exc:
                note(disp, f"unreadable: {str(exc).split(': ', 1)[-1]}")
                continue
            if mesh is None:
                mesh = FaceMesh()
            faces = mesh(rgb)
            if not faces:
                note(disp, "no face")
            for k, face in enumerate(faces):
                yield AURow(disp, 0, 0.0, k, face.box.as_tuple(), est(face))
    finally:
        if mesh is not None:
            mesh.close()
