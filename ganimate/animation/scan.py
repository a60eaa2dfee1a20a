"""A clip's first seconds looked at before it is edited: each person's own teeth, where their
mouth opens on them.

Drawn teeth (where an edit opens a closed mouth) take the colour of the person's own teeth once
their track has seen them (:class:`ganimate.engines.mouth_track.MouthTrack`), and until then a
colour made for studio photographs: the cheeks' lightness plus 40. A video's own teeth are
usually darker (in the mouth's shadow, in a room's light): on single_face.mp4 his drawn teeth
read L* 82 for the 19 frames before he first smiles, then his own 64. So they changed colour when
his mouth opened, and their contrast with his lips while his head moved was a third of the mouth
flicker of `-e happy --hold` (1.49x the input's; seeded with his colour, 1.31x).

:func:`scan_teeth` decodes the first :attr:`AnimateConfig.teeth_scan` seconds of the clip,
finds the faces on every :attr:`AnimateConfig.teeth_scan_every`-th second's frame (mediapipe's
still-image mesh, and its hands where :attr:`AnimateConfig.hands`), and keeps where each face is
and how its own teeth look there (:meth:`MouthTrack.sight`, the reading the track makes itself).
When the planner starts a track, :meth:`TeethScan.sights_for` follows that face through the
scanned frames from where it is, and the track learns those sights first
(:meth:`MouthTrack.seed`). The studio's clip preview plans through the same scan, so its frames
stay the render's.
"""

from __future__ import annotations

import contextvars
import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ganimate.animation.config import AnimateConfig
from ganimate.engines import Engine, MouthTrack
from ganimate.faces import FaceMesh, eye_centre_distance
from ganimate.timing import stage
from ganimate.video import VideoInfo, read_frames


@dataclass(frozen=True)
class ScannedFace:
    """One face on one scanned frame."""

    index: int  # the frame
    centre: np.ndarray  # (2,) the mean of the face mesh's points, frame pixels
    scale: float  # the eye centres' distance (IOD), pixels
    teeth: np.ndarray | None  # CIELAB of the person's own teeth there; None: none seen


@dataclass(frozen=True)
class TeethScan:
    """The scanned faces of a clip's first seconds, in frame order."""

    faces: tuple[ScannedFace, ...] = ()
    # A face is followed from one scanned frame to the next when its centre moved less than
    # this many IODs (0.2 s apart; a turning head moves its centre about 0.1-0.3 IOD).
    reach: float = 1.0

    def sights_for(self, index: int, centre: np.ndarray, scale: float) -> list[np.ndarray]:
        """The teeth seen on the face at ``centre`` (IOD ``scale``) of frame ``index``, on the
        scanned frames from there on: followed frame by frame to the nearest face within
        :attr:`reach`; a frame where none is that near is skipped."""
        at, size, found = np.asarray(centre, np.float64), float(scale), []
        later = (f for f in self.faces if f.index >= index)
        for _, group in itertools.groupby(later, key=lambda f: f.index):
            near = list(group)
            dist = [float(np.linalg.norm(f.centre - at)) for f in near]
            j = int(np.argmin(dist))
            if dist[j] > self.reach * max(size, near[j].scale):
                continue
            at, size = near[j].centre, near[j].scale
            if near[j].teeth is not None:
                found.append(near[j].teeth)
        return found


# Sights a face needs: their median is robust to two blurred ones, and more move it little.
ENOUGH = 5


def face_centre(landmarks: np.ndarray) -> np.ndarray:
    """Where a face is, for following it: the mean of its face mesh's 468 points (pixels)."""
    return np.asarray(landmarks, np.float64)[:468, :2].mean(axis=0)


def scan_teeth(path: str | os.PathLike, info: VideoInfo, engine: Engine,
               config: AnimateConfig) -> TeethScan:
    """The first ``config.teeth_scan`` seconds of the clip at ``path`` scanned for each face's
    own teeth (see the module's docstring); empty when the engine keeps no mouth track or the
    scan is off."""
    reader = engine.track(float(info.fps))
    if reader is None or config.teeth_scan <= 0:
        return TeethScan()
    fps = max(float(info.fps), 1.0)
    step = max(1, int(round(config.teeth_scan_every * fps)))
    last = int(round(config.teeth_scan * fps))
    faces: list[ScannedFace] = []
    with stage("scan"), FaceMesh(max_faces=config.max_faces) as mesh:
        frames = read_frames(path, info, every=step, stop=last)
        most = 0  # the most faces on one scanned frame
        try:
            for k, frame in enumerate(frames):
                found = mesh(frame)
                faces += [_scanned(k * step, frame, f.landmarks, reader, mesh, config.hands)
                          for f in found]
                most = max(most, len(found))
                if sum(f.teeth is not None for f in faces) >= ENOUGH * max(most, 1):
                    break  # enough to go on: the rest of the scan would cost, not change it
        finally:
            frames.close()
    return TeethScan(tuple(faces))


def _scanned(index: int, frame: np.ndarray, landmarks: np.ndarray, reader: MouthTrack,
             mesh: FaceMesh, hands: bool) -> ScannedFace:
    """One face of a scanned frame; its teeth checked against the frame's hands only where
    seen (the hand graph is built on the first such frame)."""
    teeth = reader.sight(frame, landmarks)
    if teeth is not None and hands:
        teeth = reader.sight(frame, landmarks, mesh.hands(frame))
    return ScannedFace(index, face_centre(landmarks), eye_centre_distance(landmarks), teeth)


def scan_in_background(path: str | os.PathLike, info: VideoInfo, engine: Engine,
                       config: AnimateConfig) -> Callable[[], TeethScan]:
    """:func:`scan_teeth` started in a thread of its own (it then overlaps the planner's own
    start: its face and hand trackers' graphs, the first frames' decoding); the function returned
    waits for it and returns the scan, or raises what it raised."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="ganimate-scan")
    future = pool.submit(contextvars.copy_context().run, scan_teeth, path, info, engine, config)
    pool.shutdown(wait=False)  # the thread ends with the scan
    return future.result
