"""Faces: mediapipe's face mesh (478 landmarks) on still images and on video frames.

Two entry points:

- :class:`FaceMesh` for still images. It finds every face with mediapipe's full-range face
  detector (which also sees small, distant faces), cuts a square region around each one, resizes it
  to :attr:`FaceMesh.roi_size` pixels (so small faces are upscaled and huge ones downscaled to the
  size the mesh network works best at), runs the face mesh on that region and maps the landmarks
  back to the frame. Faces come back left to right.
- :class:`FaceTracker` for video. mediapipe's tracking mode follows faces from frame to frame
  (cheaper than detecting every frame); the tracker adds stable ``track_id``s by matching boxes
  between frames, and falls back to the still-image path (which sees small faces) when tracking
  finds nothing.

Landmarks are ``float32`` (478, 3) in frame pixels: mediapipe's normalised (x, y, z) times
(W, H, W), so x grows to the right, y downwards and z away from the camera (smaller z is nearer),
all in pixel units. Indices 468-477 are the irises (``refine_landmarks``).

mediapipe (and cv2, which comes with it) are imported here and in the other image modules only,
never by the training code. Every call into its graphs runs with its C++ log lines (glog/absl,
TFLite) filtered out of stderr at the file-descriptor level, and everything else passed on.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces.measures import (
    eye_corner_distance,
)
from ganimate.faces.mediapipe_graphs import import_mediapipe, quiet_call, warm_graph

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn), mediapipe (1 s: when a mesh is first built), scipy (for the rare solves that need it).

N_LANDMARKS = 478

# Landmark indices used across the package (mediapipe's 478-point topology; the eye corners are in
# measures.py). "Left"/"right" are the image's left and right.
NOSE_TIP = 1
MOUTH_RIGHT, MOUTH_LEFT = 61, 291
UPPER_LIP_INNER, LOWER_LIP_INNER = 13, 14
FOREHEAD_TOP, CHIN = 10, 152


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in frame pixels (x0, y0 inclusive top-left; x1, y1 bottom-right)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def center(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    def iou(self, other: Box) -> float:
        ix = max(0.0, min(self.x1, other.x1) - max(self.x0, other.x0))
        iy = max(0.0, min(self.y1, other.y1) - max(self.y0, other.y0))
        inter = ix * iy
        union = self.width * self.height + other.width * other.height - inter
        return inter / union if union > 0 else 0.0

    def as_tuple(self) -> tuple[float, float, float, float]:
        return self.x0, self.y0, self.x1, self.y1


@dataclass
class Face:
    """One face in one image: 478 landmarks in pixels, its box and a detection confidence."""

    landmarks: np.ndarray  # float32 (478, 3): x, y, z in frame pixels (z scaled by image width)
    box: Box  # tight box around the 468 face-mesh points (irises excluded)
    score: float  # face detector confidence in [0, 1]; 1.0 for faces followed by tracking

    @property
    def eye_corner_distance(self) -> float:
        """Distance between the outer eye corners in pixels: the face's scale, robust to pose."""
        return eye_corner_distance(self.landmarks)


@dataclass
class TrackedFace(Face):
    """A face in a video frame, with an id that stays the same while the face is followed."""

    track_id: int = 0


FaceT = TypeVar("FaceT", bound=Face)


def min_cost_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the assignment of rows to columns with the least total cost, one each
    (scipy's ``linear_sum_assignment``). The few faces of a frame are tried in every order
    instead: importing scipy.optimize costs ~0.4 s of a video's start-up."""
    n, m = cost.shape
    if min(n, m) > 6:
        from scipy.optimize import linear_sum_assignment

        return linear_sum_assignment(cost)
    if n <= m:
        best = min(itertools.permutations(range(m), n),
                   key=lambda cols: sum(cost[r, c] for r, c in enumerate(cols)))
        return np.arange(n), np.array(best, dtype=int)
    cols, rows = min_cost_assignment(cost.T)
    order = np.argsort(rows)
    return rows[order], cols[order]


def largest_face(faces: Sequence[FaceT]) -> FaceT:
    """The face with the largest box (width x height), the first of equals: the face an edit of a
    photo or a clip is about when it holds several."""
    if not faces:
        raise ValueError("largest_face of no faces")
    return max(faces, key=lambda f: f.box.width * f.box.height)


def box_of(landmarks: np.ndarray) -> Box:
    pts = landmarks[:468, :2]
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return Box(float(x0), float(y0), float(x1), float(y1))


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected a uint8 HxWx3 RGB image, got {rgb.dtype} {rgb.shape}")
    return np.ascontiguousarray(rgb)


def _landmarks_array(result_landmarks, width: float, height: float) -> np.ndarray:
    out = np.array([(p.x, p.y, p.z) for p in result_landmarks.landmark], dtype=np.float32)
    out *= np.array([width, height, width], dtype=np.float32)
    return out


class FaceMesh:
    """mediapipe face mesh for still images: several faces, small ones upscaled, left to right.

    Use as a context manager (or call :meth:`close`) to free mediapipe's graphs.
    """

    def __init__(
        self,
        max_faces: int = 8,
        # Detector confidence below which a candidate is not a face. mediapipe's default.
        min_score: float = 0.5,
        # Side of the square region the mesh runs on: faces are resized so that the detector box
        # covers about half of it, which is where the mesh network is most accurate.
        roi_size: int = 256,
        # The region around a detector box is this many times the box's larger side.
        roi_scale: float = 2.0,
    ):
        mp = import_mediapipe()

        self.max_faces = max_faces
        self.min_score = min_score
        self.roi_size = roi_size
        self.roi_scale = roi_scale
        # model_selection=1 is the full-range model (faces up to ~5 m), which finds the small
        # faces that the short-range detector built into the face mesh misses.
        self._detector = warm_graph(mp.solutions.face_detection.FaceDetection, model_selection=1,
                                    min_detection_confidence=min_score)
        self._mesh = None  # built on first use (FaceTracker only counts faces with this)
        self._whole = None  # lazily built: the mesh on the whole image, a fallback
        self._hands = None  # lazily built: mediapipe's hand tracker on still images

    def __enter__(self) -> FaceMesh:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for graph in (self._detector, self._mesh, self._whole):
            if graph is not None:
                quiet_call(graph.close)
        if self._hands is not None:
            self._hands.close()
        self._detector = self._mesh = self._whole = self._hands = None

    def hands(self, rgb: np.ndarray):
        """The hands in an RGB image (:class:`ganimate.faces.hands.Hand`; a photo's hands over
        a face stay in front of an edit), found with a still-image hand tracker kept with the
        mesh's graphs."""
        from ganimate.faces.hands import HandTracker  # deferred: hands imports this module

        if self._hands is None:
            self._hands = HandTracker(still=True)
        return self._hands(_check_rgb(rgb))

    def __call__(self, rgb: np.ndarray) -> list[Face]:
        """Find the faces of an RGB image, left to right."""
        rgb = _check_rgb(rgb)
        h, w = rgb.shape[:2]
        faces: list[Face] = []
        for box, score in self._detect(rgb):
            if any(box.iou(f.box) > 0.3 for f in faces):
                continue
            landmarks = self._mesh_in_region(rgb, box)
            if landmarks is None:
                continue
            face = Face(landmarks, box_of(landmarks), score)
            if any(face.box.iou(f.box) > 0.5 for f in faces):
                continue
            faces.append(face)
            if len(faces) == self.max_faces:
                break
        if not faces:
            faces = self._mesh_whole(rgb)
        return sorted(faces, key=lambda f: f.box.center[0])

    def _detect(self, rgb: np.ndarray) -> list[tuple[Box, float]]:
        """The detector's boxes (frame pixels) and scores, best first."""
        h, w = rgb.shape[:2]
        detections = quiet_call(self._detector.process, rgb).detections or []
        out = []
        for det in sorted(detections, key=lambda d: -d.score[0])[: self.max_faces * 2]:
            rel = det.location_data.relative_bounding_box
            out.append((Box(rel.xmin * w, rel.ymin * h, (rel.xmin + rel.width) * w,
                            (rel.ymin + rel.height) * h), float(det.score[0])))
        return out

    def count(self, rgb: np.ndarray) -> int:
        """How many faces the detector sees (no landmarks: a few ms)."""
        boxes: list[Box] = []
        for box, _ in self._detect(_check_rgb(rgb)):
            if not any(box.iou(b) > 0.3 for b in boxes):
                boxes.append(box)
        return min(len(boxes), self.max_faces)

    def _region_mesh(self):
        if self._mesh is None:
            mp = import_mediapipe()
            self._mesh = warm_graph(mp.solutions.face_mesh.FaceMesh, static_image_mode=True,
                                    max_num_faces=1, refine_landmarks=True,
                                    min_detection_confidence=self.min_score)
        return self._mesh

    def _mesh_in_region(self, rgb: np.ndarray, box: Box) -> np.ndarray | None:
        import cv2

        cx, cy = box.center
        side = self.roi_scale * max(box.width, box.height)
        if side < 4:
            return None
        s = self.roi_size / side
        # frame -> region: scale about the box centre so that it lands in the region's centre
        to_roi = np.array([[s, 0, self.roi_size / 2 - s * cx], [0, s, self.roi_size / 2 - s * cy]])
        flags = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        if s < 0.5:
            # warpAffine has no area filter: shrink by an integer factor first against aliasing
            k = int(1 / s / 1.5)
            small = cv2.resize(rgb, (max(1, rgb.shape[1] // k), max(1, rgb.shape[0] // k)),
                               interpolation=cv2.INTER_AREA)
            fx, fy = small.shape[1] / rgb.shape[1], small.shape[0] / rgb.shape[0]
            # pixel centres: x_small = (x + 0.5) * f - 0.5
            pre = np.array([[fx, 0, 0.5 * fx - 0.5], [0, fy, 0.5 * fy - 0.5], [0, 0, 1]])
            m = np.vstack([to_roi, [0, 0, 1]]) @ np.linalg.inv(pre)
            roi = cv2.warpAffine(small, m[:2], (self.roi_size, self.roi_size),
                                 flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        else:
            roi = cv2.warpAffine(rgb, to_roi, (self.roi_size, self.roi_size), flags=flags,
                                 borderMode=cv2.BORDER_CONSTANT)
        result = quiet_call(self._region_mesh().process, roi)
        if not result.multi_face_landmarks:
            return None
        pts = _landmarks_array(result.multi_face_landmarks[0], self.roi_size, self.roi_size)
        out = np.empty_like(pts)
        out[:, 0] = (pts[:, 0] - to_roi[0, 2]) / s
        out[:, 1] = (pts[:, 1] - to_roi[1, 2]) / s
        out[:, 2] = pts[:, 2] / s
        return out

    def _mesh_whole(self, rgb: np.ndarray) -> list[Face]:
        """Fallback when the detector sees nothing: faces that fill the image (tight crops)."""
        import cv2

        mp = import_mediapipe()

        if self._whole is None:
            self._whole = warm_graph(mp.solutions.face_mesh.FaceMesh, static_image_mode=True,
                                     max_num_faces=self.max_faces, refine_landmarks=True,
                                     min_detection_confidence=self.min_score)
        h, w = rgb.shape[:2]
        # A face that fills the picture is too big for the detectors: pad the image so that the
        # face covers about half of it, and upscale small pictures (e.g. 128 px crops).
        pad = max(h, w) // 2
        padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        s = max(1.0, 2 * self.roi_size / padded.shape[0])
        if s > 1:
            padded = cv2.resize(padded, None, fx=s, fy=s, interpolation=cv2.INTER_LINEAR)
        result = quiet_call(self._whole.process, padded)
        faces = []
        for lms in result.multi_face_landmarks or []:
            pts = _landmarks_array(lms, padded.shape[1], padded.shape[0])
            # padded(upscaled) pixel -> frame pixel, pixel centres at integers
            pts[:, 0] = (pts[:, 0] + 0.5) / s - 0.5 - pad
            pts[:, 1] = (pts[:, 1] + 0.5) / s - 0.5 - pad
            pts[:, 2] = pts[:, 2] / s
            faces.append(Face(pts, box_of(pts), 1.0))
        return faces


class FaceTracker:
    """mediapipe face mesh in video mode, with ids that stay stable while a face is followed.

    Call it on consecutive frames of one video. Faces that are lost for more than ``max_missing``
    frames get a new id when they come back.
    """

    def __init__(
        self,
        max_faces: int = 4,
        min_score: float = 0.5,
        # Frames a lost face keeps its id (matched again by box overlap when it reappears).
        max_missing: int = 15,
        # When tracking finds nothing, run the still-image path (which finds small faces) on
        # every n-th such frame; 0 never.
        redetect_every: int = 5,
        # mediapipe's video mode runs its face detector on every frame while it follows fewer
        # faces than it was built for (~3 ms of ~9 a frame), so the tracking graph is built for
        # the faces in view: all ``max_faces`` on the first frame, then as many as it found.
        # Every ``recount_every`` frames the still-image detector counts the faces (a few ms):
        # more than followed -> a graph for more at once; fewer at three counts in a row -> for
        # fewer. 0: always follow ``max_faces`` (detection on every frame).
        recount_every: int = 30,
    ):
        self.max_faces = max_faces
        self.max_missing = max_missing
        self.redetect_every = redetect_every
        self.recount_every = recount_every
        self._min_score = min_score
        self._capacity = 0
        self._mesh = None
        self._follow(max_faces)
        self._still: FaceMesh | None = None
        self._frame = 0
        self._fewer = 0  # recounts in a row that saw fewer faces than the graph follows
        self._tracks: dict[int, tuple[Box, int]] = {}  # id -> (last box, frames since seen)
        self._next_id = 0
        self._empty = 0

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._mesh is not None:
            quiet_call(self._mesh.close)
        if self._still is not None:
            self._still.close()
        self._mesh = self._still = None

    @property
    def following(self) -> int:
        """How many faces the tracking graph follows at once (it detects while it has fewer)."""
        return self._capacity

    def _follow(self, faces: int) -> None:
        """(Re)build the tracking graph for ``faces`` faces at once (a fresh graph detects)."""
        mp = import_mediapipe()

        if self._mesh is not None:
            quiet_call(self._mesh.close)
            self._mesh = None
        self._mesh = warm_graph(mp.solutions.face_mesh.FaceMesh, static_image_mode=False,
                                max_num_faces=faces, refine_landmarks=True,
                                min_detection_confidence=self._min_score,
                                min_tracking_confidence=self._min_score)
        self._capacity = faces

    def _still_mesh(self) -> FaceMesh:
        if self._still is None:
            self._still = FaceMesh(max_faces=self.max_faces, min_score=self._min_score)
        return self._still

    def _track(self, rgb: np.ndarray) -> list[Face]:
        h, w = rgb.shape[:2]
        result = quiet_call(self._mesh.process, rgb)
        return [Face(pts, box_of(pts), 1.0)
                for pts in (_landmarks_array(lms, w, h)
                            for lms in result.multi_face_landmarks or [])]

    def _recount(self, rgb: np.ndarray, found: int) -> bool:
        """Resize the tracking graph to the faces in view; True when it was rebuilt."""
        first = self._frame == 1
        if not self.recount_every or not (first or self._frame % self.recount_every == 0):
            return False
        if first:  # the first frame ran the graph for max_faces: it saw what there is
            want = found
        elif found >= self._capacity == self.max_faces:
            return False
        else:
            want = max(found, self._still_mesh().count(rgb))
        want = min(max(want, 1), self.max_faces)
        if want < self._capacity and not first:
            self._fewer += 1
            if self._fewer < 3:
                return False
        self._fewer = 0
        if want == self._capacity:
            return False
        self._follow(want)
        return want > found

    def __call__(self, rgb: np.ndarray) -> list[TrackedFace]:
        """Faces of the next frame, left to right, each with its track id."""
        rgb = _check_rgb(rgb)
        self._frame += 1
        faces = self._track(rgb)
        if self._recount(rgb, len(faces)):
            faces = self._track(rgb)  # a graph for more faces: find them on this frame
        if faces:
            self._empty = 0
        elif self.redetect_every:
            if self._empty % self.redetect_every == 0:
                faces = self._still_mesh()(rgb)
            self._empty += 1
        return sorted(self._assign(faces), key=lambda f: f.box.center[0])

    def _assign(self, faces: list[Face]) -> list[TrackedFace]:
        ids = list(self._tracks)
        out: list[TrackedFace] = []
        taken: dict[int, int] = {}
        if ids and faces:
            cost = np.array([[1.0 - f.box.iou(self._tracks[i][0]) for i in ids] for f in faces])
            # Also accept a face that moved further than its width overlap allows: distance of
            # centres relative to the box size, for fast motion between sampled frames.
            for r, f in enumerate(faces):
                for c, i in enumerate(ids):
                    b = self._tracks[i][0]
                    d = np.hypot(f.box.center[0] - b.center[0], f.box.center[1] - b.center[1])
                    cost[r, c] = min(cost[r, c], 0.5 + d / max(b.width, 1.0))
            rows, cols = min_cost_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] < 1.0:
                    taken[r] = ids[c]
        for i in ids:
            box, missing = self._tracks[i]
            self._tracks[i] = (box, missing + 1)
        for r, f in enumerate(faces):
            tid = taken.get(r)
            if tid is None:
                tid = self._next_id
                self._next_id += 1
            self._tracks[tid] = (f.box, 0)
            out.append(TrackedFace(f.landmarks, f.box, f.score, track_id=tid))
        self._tracks = {i: v for i, v in self._tracks.items() if v[1] <= self.max_missing}
        return out


def open_mesh(mesh: FaceMesh | None = None):
    """A context for ``mesh`` if given (left open for the caller's next photos), else a new
    :class:`FaceMesh` closed on leaving."""
    return nullcontext(mesh) if mesh is not None else FaceMesh()


def pick_faces(faces: Sequence[Face], face: int | None, path: Path) -> list[int]:
    """Indices of the faces ``--face`` asks for: all, or face N (faces are numbered left to right,
    the ``face`` column of ``ganimate aus``); refuses a number the photo does not have."""
    if face is None:
        return list(range(len(faces)))
    if not 0 <= face < len(faces):
        raise GanimateError(
            f"--face {face}: {path} has {len(faces)} face(s), numbered 0 to {len(faces) - 1} "
            "from left to right (the `face` column of `ganimate aus`)"
        )
    return [face]
