"""The photo protocol of ``ganimate eval photos``: edit real photos with an engine and measure
what a person would see, with readers that share nothing with the warp engine.

For every photo (the largest face; optionally a *reference* photo of the same person showing the
real expression, found by file name in another folder):

- **expression, three readers side by side**: an expression classifier trained on FER-2013
  (:mod:`ganimate.evaluation.emotion`: the probability of each basic emotion), dlib's 68 points
  (:mod:`ganimate.evaluation.dlib68`: lip-corner height against the eye line and against the lip
  centre, mouth width, lip gap, brow height, in inter-ocular distances) and ganimate's own mesh
  AU estimator (which inverts the AU -> mesh model that drives the warp, so it is *not* an
  independent judge of the warp), before -> after, and for scale before -> the reference;
- **identity**: dlib's face-recognition distance input -> edit (and input -> reference);
- **pixels**: sharpness (Laplacian variance inside the face box, output / input), colour fringes
  (99th percentile of the CIELAB a/b change inside the face box, and of the colours the edit
  creates rather than moves: :func:`new_colour`), pixels changed far from the
  face (outside its box grown by one inter-ocular distance), and a **null edit** (target = the
  face's own AUs): its mean change inside the face box and whether the photo came back
  bit-identical.

Everything is computed on the photo at full resolution, as ``ganimate edit image`` writes it
(PNG, no re-encoding).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ganimate.editing import EditConfig, edit_photo, list_photos
from ganimate.engines import Engine
from ganimate.errors import GanimateError
from ganimate.evaluation.dlib68 import MEASURES, ExpressionReader
from ganimate.evaluation.emotion import LABELS, find_face, read_emotions
from ganimate.evaluation.identity import FaceEmbedder
from ganimate.faces import (
    AU_NAMES,
    FaceMesh,
    default_estimator,
    eye_centre_distance,
    largest_face,
)
from ganimate.images import IMAGE_SUFFIXES, read_rgb
from ganimate.progress import log, track
from ganimate.targets import TargetSpec

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn).

# ---------------------------------------------------------------------------------------------
# Pure pixel measures
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PixelBox:
    """An integer pixel box (x0, y0) inclusive to (x1, y1) exclusive, clipped to the image."""

    x0: int
    y0: int
    x1: int
    y1: int

    @classmethod
    def around(cls, box, shape: tuple[int, ...], grow: float = 0.0) -> PixelBox:
        """From a float box with x0/y0/x1/y1, grown by ``grow`` px on every side."""
        h, w = shape[:2]
        return cls(max(int(math.floor(box.x0 - grow)), 0), max(int(math.floor(box.y0 - grow)), 0),
                   min(int(math.ceil(box.x1 + grow)), w), min(int(math.ceil(box.y1 + grow)), h))

    def cut(self, image: np.ndarray) -> np.ndarray:
        return image[self.y0:self.y1, self.x0:self.x1]


def laplacian_variance(rgb: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image: a standard sharpness measure."""
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY).astype(np.float64)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def sharpness_ratio(before: np.ndarray, after: np.ndarray, box: PixelBox) -> float:
    """Laplacian variance inside ``box``, after / before (1.0: as sharp as the input)."""
    base = laplacian_variance(box.cut(before))
    return laplacian_variance(box.cut(after)) / base if base > 0 else math.nan


def colour_fringe(before: np.ndarray, after: np.ndarray, box: PixelBox,
                  percentile: float = 99.0) -> float:
    """The ``percentile`` of the CIELAB chroma change sqrt(da^2 + db^2) inside ``box``.

    Geometry moves colours that exist; a colour fringe creates new ones (green/magenta edges):
    a warp scores a few units from its moved edges, a fringing generator 15-25.
    """
    import cv2

    def lab(img):
        return cv2.cvtColor(box.cut(img).astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)

    d = lab(after) - lab(before)
    return float(np.percentile(np.hypot(d[..., 1], d[..., 2]), percentile))


def new_colour(before: np.ndarray, after: np.ndarray, box: PixelBox, radius: float,
               percentile: float = 99.0) -> float:
    """The ``percentile``, over the pixels of ``box``, of how far each output pixel's CIELAB
    (a, b) is from the nearest (a, b) of the input within ``radius`` px of it (input pixels every
    2 px): colours the edit *creates*, as a fringe does, while colours it only *moves*, as a warp
    does, score ~0. :func:`colour_fringe` counts both.
    """
    import cv2

    def lab(img):
        return cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)[..., 1:]

    r = int(math.ceil(radius))
    h, w = before.shape[:2]
    y0, y1 = max(box.y0 - r, 0), min(box.y1 + r, h)
    x0, x1 = max(box.x0 - r, 0), min(box.x1 + r, w)
    src = lab(before[y0:y1, x0:x1])
    out = lab(box.cut(after))
    oy, ox = box.y0 - y0, box.x0 - x0
    bh, bw = out.shape[:2]
    best = np.full((bh, bw), np.inf, np.float32)
    for dy in range(-r, r + 1, 2):
        for dx in range(-r, r + 1, 2):
            if dx * dx + dy * dy > r * r:
                continue
            ys = slice(max(oy + dy, 0), min(oy + dy + bh, src.shape[0]))
            xs = slice(max(ox + dx, 0), min(ox + dx + bw, src.shape[1]))
            cand = src[ys, xs]
            ty, tx = ys.start - (oy + dy), xs.start - (ox + dx)
            view = best[ty:ty + cand.shape[0], tx:tx + cand.shape[1]]
            d = out[ty:ty + cand.shape[0], tx:tx + cand.shape[1]] - cand
            np.minimum(view, np.hypot(d[..., 0], d[..., 1]), out=view)
    return float(np.percentile(best[np.isfinite(best)], percentile))


def changed_outside(before: np.ndarray, after: np.ndarray, box: PixelBox) -> int:
    """Pixels that differ outside ``box``."""
    diff = np.any(before != after, axis=-1)
    diff[box.y0:box.y1, box.x0:box.x1] = False
    return int(diff.sum())


def mean_change(before: np.ndarray, after: np.ndarray, box: PixelBox) -> float:
    """Mean absolute change in 8-bit levels inside ``box``."""
    return float(np.abs(box.cut(after).astype(np.float32) - box.cut(before)).mean())


# ---------------------------------------------------------------------------------------------
# The protocol
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhotoEvalConfig:
    """What ``ganimate eval photos`` asks of every face."""

    spec: TargetSpec  # the edit (e.g. --au AU06=0.8 --au AU12=0.9)
    estimator: str = "mesh"
    # Also edit each photo to its own AUs (y_g = y_r) and measure that null edit's change.
    null_edit: bool = True
    # dlib identity distance (needs the [eval] extra).
    identity: bool = True
    # How far (IOD) the new-colour measure looks for an input colour that an output pixel may have
    # been moved from: the warp's largest landmark shift (WarpConfig.max_shift).
    move_radius: float = 0.25


@dataclass
class PhotoRow:
    """The measures of one photo."""

    photo: str
    reference: str | None
    dlib_before: dict | None  # Expression68 as a dict (None: dlib found no face)
    dlib_after: dict | None
    dlib_reference: dict | None
    mesh_before: list[float]  # the mesh estimator's AUs (AU_NAMES order, raw scale)
    mesh_after: list[float]
    mesh_reference: list[float] | None
    identity_edit: float | None
    identity_reference: float | None
    sharpness: float
    fringe: float
    new_colour: float  # p99 of colours the edit creates (not moves), CIELAB a/b
    outside_changed: int
    null_change: float | None
    null_identical: bool | None
    seconds: float  # the edit alone (the null edit excluded)
    # The FER-2013 classifier's probabilities (ganimate.evaluation.emotion.LABELS) for the input,
    # the edit (read in the input's face box) and the reference; None where it found no face.
    emotion_before: dict | None = None
    emotion_after: dict | None = None
    emotion_reference: dict | None = None


@dataclass(frozen=True)
class SkippedPhoto:
    """A photo that could not be measured (no face, unreadable), and why."""

    path: str
    reason: str  # the error without the photo's path, e.g. "no face found"


@dataclass
class PhotoEvalResult:
    engine: str
    target: str
    rows: list[PhotoRow]
    summary: dict = field(default_factory=dict)
    skipped: list[SkippedPhoto] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"engine": self.engine, "target": self.target, "summary": self.summary,
                "rows": [asdict(r) for r in self.rows],
                "skipped": [asdict(s) for s in self.skipped]}


def reference_for(photo: Path, folder: Path | None) -> Path | None:
    """The photo of the same person in ``folder``: same file stem, any image extension."""
    if folder is None:
        return None
    for suffix in (photo.suffix, *IMAGE_SUFFIXES):
        candidate = folder / (photo.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def select_photos(photos: Sequence[Path], ids_file: str | Path | None) -> list[Path]:
    """``photos`` whose stems are listed in ``ids_file`` (one per line, # comments), in order."""
    if ids_file is None:
        return list(photos)
    path = Path(ids_file)
    if not path.is_file():
        raise GanimateError(f"--ids {path}: no such file (one photo stem per line)")
    wanted = [s.strip() for s in path.read_text().splitlines()
              if s.strip() and not s.lstrip().startswith("#")]
    by_stem = {p.stem: p for p in photos}
    missing = [s for s in wanted if s not in by_stem]
    if missing:
        raise GanimateError(f"--ids {path}: no photo named {missing[0]} among the inputs")
    return [by_stem[s] for s in wanted]


class _Readers:
    """The mesh, the AU estimator, the dlib-68 reader and (optionally) the dlib embedder."""

    def __init__(self, estimator: str, identity: bool):
        self.mesh = FaceMesh()
        self.aus = default_estimator(estimator)
        self.dlib = ExpressionReader()
        self.embedder = None
        if identity:
            self.embedder = FaceEmbedder()

    def largest(self, rgb: np.ndarray):
        faces = self.mesh(rgb)
        return largest_face(faces) if faces else None

    def close(self) -> None:
        self.mesh.close()


def _expression(readers: _Readers, rgb: np.ndarray, box) -> dict | None:
    m = readers.dlib.measure(rgb, box)
    return None if m is None else m.as_dict()


def _mesh_aus(readers: _Readers, rgb: np.ndarray) -> list[float] | None:
    face = readers.largest(rgb)
    return None if face is None else [float(v) for v in readers.aus(face)]


def evaluate_photo(photo: Path, reference: Path | None, engine: Engine, config: PhotoEvalConfig,
                   readers: _Readers) -> PhotoRow:
    """Edit one photo and measure it (see the module docstring)."""
    before = read_rgb(photo)
    face = readers.largest(before)
    if face is None:
        raise GanimateError(f"{photo}: no face found")
    started = time.perf_counter()
    edited = edit_photo(photo, EditConfig(spec=config.spec, estimator=config.estimator), engine,
                        readers.mesh).rgb
    seconds = time.perf_counter() - started
    box = PixelBox.around(face.box, before.shape)
    iod = eye_centre_distance(face.landmarks)
    far = PixelBox.around(face.box, before.shape, grow=iod)
    dbox = readers.dlib.locate(before)
    ref_rgb = read_rgb(reference) if reference is not None else None
    null_change = null_identical = None
    if config.null_edit:
        same = edit_photo(photo, EditConfig(spec=TargetSpec(), estimator=config.estimator),
                          engine, readers.mesh).rgb
        null_change, null_identical = mean_change(before, same, box), bool(
            np.array_equal(before, same))
    ident = readers.embedder
    emotions = _emotions(before, edited, ref_rgb)
    return PhotoRow(
        photo=str(photo), reference=None if reference is None else str(reference),
        dlib_before=_expression(readers, before, dbox) if dbox else None,
        dlib_after=_expression(readers, edited, dbox) if dbox else None,
        dlib_reference=None if ref_rgb is None else _expression(readers, ref_rgb, None),
        mesh_before=_mesh_aus(readers, before), mesh_after=_mesh_aus(readers, edited),
        mesh_reference=None if ref_rgb is None else _mesh_aus(readers, ref_rgb),
        identity_edit=None if ident is None else ident.distance(before, edited),
        identity_reference=None if ident is None or ref_rgb is None
        else ident.distance(before, ref_rgb),
        sharpness=sharpness_ratio(before, edited, box), fringe=colour_fringe(before, edited, box),
        new_colour=new_colour(before, edited, box, config.move_radius * iod),
        outside_changed=changed_outside(before, edited, far), null_change=null_change,
        null_identical=null_identical, seconds=seconds, emotion_before=emotions[0],
        emotion_after=emotions[1], emotion_reference=emotions[2])


def _emotions(before: np.ndarray, edited: np.ndarray, reference: np.ndarray | None
              ) -> list[dict | None]:
    """The classifier's readings of the input and the edit (both in the input's face box) and of
    the reference (in its own)."""
    box = find_face(before)
    found = [] if box is None else read_emotions([before, edited], [box, box])
    out: list[dict | None] = [r.as_dict() for r in found] or [None, None]
    ref_box = None if reference is None else find_face(reference)
    out.append(None if ref_box is None else read_emotions([reference], [ref_box])[0].as_dict())
    return out


def evaluate_photos(photos: Sequence[Path], engine: Engine, config: PhotoEvalConfig,
                    references: Path | None = None, target: str = "") -> PhotoEvalResult:
    """Run :func:`evaluate_photo` over ``photos`` (with a progress bar) and summarise. A photo
    that cannot be measured (no face, unreadable) is warned about and skipped; only a run in which
    no photo could be measured fails."""
    readers = _Readers(config.estimator, config.identity)
    rows, skipped = [], []
    try:
        with track("evaluating photos", total=len(photos)) as bar:
            for p in map(Path, photos):
                try:
                    rows.append(evaluate_photo(p, reference_for(p, references), engine, config,
                                               readers))
                except GanimateError as exc:
                    skipped.append(_skip(p, exc))
                bar.advance(info=p.name)
    finally:
        readers.close()
    if not rows:
        first = skipped[0]
        raise GanimateError(f"no photo could be measured ({len(skipped)} skipped; first: "
                            f"{first.path}: {first.reason}); give photos with a face")
    return PhotoEvalResult(engine.name, target, rows, summarise(rows, len(skipped)), skipped)


def _skip(photo: Path, exc: GanimateError) -> SkippedPhoto:
    """``photo`` as skipped for ``exc``, with a warning (as ``edit image`` does in a batch)."""
    reason = str(exc).removeprefix(f"{photo}: ")
    log.warning("%s: %s; skipped", photo, reason)
    return SkippedPhoto(str(photo), reason)


# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float | None:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(values)) if values else None


def _share(flags: Sequence[bool]) -> float | None:
    return float(np.mean(flags)) if len(flags) else None


def _dlib_summary(rows: Sequence[PhotoRow], measure: str) -> dict:
    pairs = [(r.dlib_after[measure] - r.dlib_before[measure],
              None if r.dlib_reference is None else r.dlib_reference[measure]
              - r.dlib_before[measure])
             for r in rows if r.dlib_before is not None and r.dlib_after is not None]
    edit = [e for e, _ in pairs]
    real = [x for _, x in pairs if x is not None]
    both = [(e, x) for e, x in pairs if x is not None and x > 0]
    edit_mean, real_mean = _mean(edit), _mean(real)
    return {
        "edit_mean": edit_mean, "edit_up": _share([e > 0 for e in edit]),
        "real_mean": real_mean, "real_up": _share([x > 0 for x in real]),
        "ratio": None if not real_mean or edit_mean is None else edit_mean / real_mean,
        # share of the people whose real change is positive that the edit takes half way there
        "half_of_real": _share([e >= 0.5 * x for e, x in both]),
    }


def _mesh_summary(rows: Sequence[PhotoRow]) -> dict:
    ok = [r for r in rows if r.mesh_before is not None and r.mesh_after is not None]
    out = {}
    for i, name in enumerate(AU_NAMES):
        refs = [r.mesh_reference[i] - r.mesh_before[i] for r in ok if r.mesh_reference]
        out[name] = {"edit_mean": _mean([r.mesh_after[i] - r.mesh_before[i] for r in ok]),
                     "real_mean": _mean(refs)}
    return out


def _emotion_summary(rows: Sequence[PhotoRow]) -> dict:
    """Per label: how many edits (and references) it tops, its mean probability, and the share of
    people whose edit raises it over their input."""
    read = [r for r in rows if r.emotion_before is not None and r.emotion_after is not None]
    refs = [r.emotion_reference for r in rows if r.emotion_reference is not None]

    def top(d):
        return max(d, key=d.get)

    return {label: {
        "top": sum(top(r.emotion_after) == label for r in read),
        "p_mean": _mean([r.emotion_after[label] for r in read]),
        "raised": _share([r.emotion_after[label] > r.emotion_before[label] for r in read]),
        "input_top": sum(top(r.emotion_before) == label for r in read),
        "real_top": sum(top(d) == label for d in refs),
        "real_p_mean": _mean([d[label] for d in refs]),
    } for label in LABELS} | {"_read": len(read), "_references": len(refs)}


def summarise(rows: Sequence[PhotoRow], skipped: int = 0) -> dict:
    """Means, shares and ratios over the photos measured (see :class:`PhotoRow` for the
    measures); ``skipped``: how many photos could not be measured."""
    seconds = sum(r.seconds for r in rows)
    nulls = [r for r in rows if r.null_change is not None]
    return {
        "photos": len(rows),
        "skipped": skipped,
        "dlib": {m: _dlib_summary(rows, m) for m in MEASURES},
        "mesh": _mesh_summary(rows),
        "emotion": _emotion_summary(rows),
        "identity_edit": _mean([r.identity_edit for r in rows]),
        "identity_reference": _mean([r.identity_reference for r in rows]),
        "sharpness_mean": _mean([r.sharpness for r in rows]),
        "sharpness_min": min((r.sharpness for r in rows), default=None),
        "fringe_mean": _mean([r.fringe for r in rows]),
        "fringe_max": max((r.fringe for r in rows), default=None),
        "new_colour_mean": _mean([r.new_colour for r in rows]),
        "new_colour_max": max((r.new_colour for r in rows), default=None),
        "lip_gap_004": _share([r.dlib_after["lip_gap"] - r.dlib_before["lip_gap"] >= 0.04
                               for r in rows if r.dlib_before and r.dlib_after]),
        "outside_changed": sum(r.outside_changed for r in rows),
        "null_change": _mean([r.null_change for r in nulls]),
        "null_identical": _share([bool(r.null_identical) for r in nulls]),
        "photos_per_s": len(rows) / seconds if seconds > 0 else None,
    }


def edit_label(expression: str | None, au: Sequence[str]) -> str:
    """The edit as its options read (``-e happy --au AU12=0.9``), for the report."""
    return " ".join(([f"-e {expression}"] if expression else []) + [f"--au {a}" for a in au])


def run(inputs: Sequence[str | Path], engine: Engine, config: PhotoEvalConfig,
        ids: str | Path | None = None, references: str | Path | None = None,
        target: str = "") -> PhotoEvalResult:
    """``ganimate eval photos``: check the inputs, then :func:`evaluate_photos`."""
    if config.spec.empty:
        raise GanimateError("nothing to measure: give the edit with --expression or --au "
                            "(e.g. --au AU06=0.8 --au AU12=0.9)")
    photos = select_photos(list_photos(inputs), ids)
    folder = None if references is None else Path(references)
    if folder is not None and not folder.is_dir():
        raise GanimateError(f"--reference {folder}: no such folder")
    if folder is not None and not any(reference_for(p, folder) for p in photos):
        raise GanimateError(f"--reference {folder}: no photo there has the name of an input")
    return evaluate_photos(photos, engine, config, folder, target)
