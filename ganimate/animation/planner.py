"""The planner of ``animate video``: faces tracked, their alignment and AUs smoothed over time
(Savitzky-Golay over a window centred on the frame, hence a small look-ahead queue), crops cut
through the smoothed transforms, and each frame's jobs planned.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ganimate.animation.config import AnimateConfig
from ganimate.animation.frames import FramePlan, PlannedFace
from ganimate.animation.scan import TeethScan, face_centre
from ganimate.engines import Engine, MouthTrack
from ganimate.faces import (
    FaceTracker,
    Hand,
    HandTracker,
    NeutralBaseline,
    crop_size_for,
    crop_transform,
    crop_with_transform,
    eye_centre_distance,
    source_aus,
)
from ganimate.timing import stage

# =============================================================================================
# Temporal smoothing (Savitzky-Golay: local least-squares polynomials)
# =============================================================================================


def savgol_at(xs: np.ndarray, ys: np.ndarray, x0: float, degree: int) -> np.ndarray:
    """Value at ``x0`` of the least-squares polynomial of ``degree`` through samples (xs, ys).

    On a full, evenly spaced window centred on x0 this is exactly the Savitzky-Golay filter
    (``scipy.signal.savgol_filter``); at the ends of a track, or across frames where the face was
    lost, it is the same local fit on the samples there are (the degree drops when there are too
    few), so the smoothed path never overshoots into frames that do not exist.
    """
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    deg = min(int(degree), len(xs) - 1)
    if deg <= 0:
        return ys.mean(axis=0)
    t = xs - x0
    # Scale t to [-1, 1] so the Vandermonde system stays well conditioned.
    span = max(np.abs(t).max(), 1.0)
    v = (t / span)[:, None] ** np.arange(deg + 1)
    coef, *_ = np.linalg.lstsq(v, ys, rcond=None)
    return coef[0]


def similarity_params(to_frame: np.ndarray) -> np.ndarray:
    """(a, b, tx, ty) of a similarity [[a, -b, tx], [b, a, ty]]: linear in the transform, so
    smoothing the parameters smooths the crop's position, scale and roll together."""
    m = np.asarray(to_frame, dtype=np.float64)
    return np.array([(m[0, 0] + m[1, 1]) / 2, (m[1, 0] - m[0, 1]) / 2, m[0, 2], m[1, 2]])


def similarity_matrix(params: np.ndarray) -> np.ndarray:
    a, b, tx, ty = (float(v) for v in params)
    return np.array([[a, -b, tx], [b, a, ty]], dtype=np.float64)


# =============================================================================================
# Video: planning (tracking, smoothing, y_r) in a worker thread
# =============================================================================================


@dataclass
class _Sample:
    """One frame of a track, as the smoothing windows read it."""

    index: int  # frame index
    params: np.ndarray  # (4,) similarity parameters of the crop transform
    y: np.ndarray  # (K,) raw y_r
    landmarks: np.ndarray  # (478, 3) frame pixels


@dataclass
class _TrackState:
    size: int  # crop side, fixed for the track
    samples: deque[_Sample]
    baseline: NeutralBaseline | None
    mouth: MouthTrack | None = None  # the engine's per-person state (Engine.track)
    last_seen: int = 0
    seeded: bool = False  # the mouth has learnt the scan's sights (at its first plan)


@dataclass
class _Pending:
    index: int
    frame: np.ndarray
    faces: list[int]  # track ids of the faces to edit
    seen: tuple[int, ...]
    hands: tuple[Hand, ...] = ()


class Planner:
    """Tracks faces and turns frames into plans (crops through smoothed transforms + y_r).

    A frame's plan is emitted ``lookahead`` frames after the frame arrived, once the smoothing
    window around it is known (fewer at the end of the clip).
    """

    def __init__(self, engine: Engine, config: AnimateConfig, fps: float,
                 scan: Callable[[], TeethScan] = TeethScan):
        """``scan``: gives the clip's first seconds, whose sights of each person's own teeth a
        new track learns first (:func:`ganimate.animation.scan.scan_teeth`), when the first
        track starts (:func:`ganimate.animation.scan.scan_in_background` meanwhile)."""
        self.space = engine.au_space  # where y_r is read
        self.new_track = engine.track  # a person's temporal state in the engine
        self.own_aus = engine.own_aus  # y_r as the engine moves it
        self.fps = fps
        self.config = config
        self._scan = scan
        self._scanned: TeethScan | None = None
        self.lookahead = max(0, int(round(config.smooth * fps)))
        self.model_size = engine.image_size
        self.pixels = engine.uses_network  # the warp reads a crop's landmarks, not its pixels
        self.tracks: dict[int, _TrackState] = {}
        self.pending: deque[_Pending] = deque()
        self.keep = 2 * self.lookahead + 1 + 2 * max(config.au_smooth, 0)

    def run(self, frames: Iterable[np.ndarray]) -> Iterator[FramePlan]:
        with contextlib.ExitStack() as stack:
            tracker = stack.enter_context(FaceTracker(max_faces=self.config.max_faces))
            hands = stack.enter_context(HandTracker()) if self.config.hands else None
            for index, frame in enumerate(frames):
                with stage("landmarks"):
                    faces = tracker(frame)
                smallest = self.config.min_eye_corner_distance
                keep = [f for f in faces if f.eye_corner_distance >= smallest
                        and self.config.face in (None, f.track_id)]
                found = ()
                if keep and hands is not None:
                    with stage("hands"):
                        found = hands(frame)
                if keep:
                    self._observe(index, frame, keep, found)
                self.pending.append(_Pending(index, frame, [f.track_id for f in keep],
                                             tuple(f.track_id for f in faces), found))
                while len(self.pending) > self.lookahead:
                    yield self._emit(self.pending.popleft())
                self._forget(index)
            while self.pending:
                yield self._emit(self.pending.popleft())

    def _observe(self, index: int, frame: np.ndarray, faces: list, hands: tuple) -> None:
        """Frame ``index`` as it arrives: each face's sample (transform, y_r, landmarks) added
        to its track (a new track for a new face), its neutral baseline and mouth track fed."""
        with stage("aus"):
            raw = source_aus(faces, self.space, self.config.estimator)
        for j, f in enumerate(faces):
            state = self.tracks.get(f.track_id)
            if state is None:
                size = crop_size_for([f], self.model_size, self.config.max_crop)
                baseline = NeutralBaseline() if self.config.baseline else None
                state = self.tracks[f.track_id] = _TrackState(
                    size, deque(), baseline, self.new_track(self.fps))
            m = crop_transform(f, state.size)
            state.samples.append(_Sample(index, similarity_params(m), raw[j], f.landmarks))
            state.last_seen = index
            if state.baseline is not None:
                state.baseline.update(raw[j])
            if state.mouth is not None:  # ahead of the frame's plan (MouthTrack.observe)
                with stage("track"):
                    state.mouth.observe(frame, f.landmarks, hands)

    @property
    def scanned(self) -> TeethScan:
        """The scan of the clip's first seconds, waited for on first use."""
        if self._scanned is None:
            self._scanned = self._scan()
        return self._scanned

    def _emit(self, p: _Pending) -> FramePlan:
        """The plan of frame ``p``: each face cut through its smoothed transform, with its
        landmarks (what the warp moves) smoothed over the same window, and its smoothed y_r."""
        planned = []
        for tid in p.faces:
            state = self.tracks[tid]
            xs = np.array([s.index for s in state.samples])
            near = np.abs(xs - p.index) <= self.lookahead
            params = np.stack([s.params for s in state.samples])[near]
            marks = np.stack([s.landmarks for s in state.samples])[near]
            if self.lookahead > 0:
                smoothed = savgol_at(xs[near], params, p.index, self.config.smooth_degree)
                landmarks = savgol_at(xs[near], marks.reshape(len(marks), -1), p.index,
                                      self.config.smooth_degree).reshape(marks.shape[1:])
            else:
                smoothed, landmarks = params[xs[near] == p.index][0], marks[xs[near] == p.index][0]
            near_au = np.abs(xs - p.index) <= self.config.au_smooth
            ys = np.stack([s.y for s in state.samples])[near_au]
            y = np.clip(savgol_at(xs[near_au], ys, p.index, 2), 0.0, 1.0).astype(np.float32)
            if state.baseline is not None:
                y = state.baseline.apply(y, fade_in=True)
            crop = crop_with_transform(p.frame, similarity_matrix(smoothed), state.size,
                                       landmarks, pixels=self.pixels)
            mouth = None
            if state.mouth is not None:  # in frame order: _emit is called so
                with stage("track"):
                    seen = marks[xs[near] == p.index][0]
                    if not state.seeded:  # as late as can be: the scan runs meanwhile
                        state.mouth.seed(p.frame, seen, self.scanned.sights_for(
                            p.index, face_centre(seen), eye_centre_distance(seen)))
                        state.seeded = True
                    mouth = state.mouth.update(p.frame, landmarks, seen, p.hands)
            y = self.own_aus(y, landmarks, mouth)
            planned.append(PlannedFace(tid, crop, y, mouth))
        return FramePlan(p.index, p.frame, planned, p.seen, p.hands)

    def _forget(self, index: int) -> None:
        """Drop samples outside every future window, and tracks gone for good."""
        horizon = index - self.keep
        for tid in list(self.tracks):
            state = self.tracks[tid]
            while state.samples and state.samples[0].index < horizon:
                state.samples.popleft()
            # The tracker gives a returning face a new id after 15 missed frames; keep ours
            # until no pending frame can refer to it.
            if not state.samples and index - state.last_seen > self.keep + 30:
                del self.tracks[tid]
