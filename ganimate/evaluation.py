"""Quality metrics of a generator and the fixed evaluation protocol behind ``ganimate eval``.

Three layers, each usable alone:

1. Pure metric functions on arrays with known answers (:func:`image_l1`, :func:`background_change`,
   :func:`attention_stats`, :func:`au_mae`, :func:`direction_accuracy`, :func:`identity_stats`,
   :func:`frame_change`, :class:`FlickerMeter`).
2. The protocol, :func:`run_protocol`: a seeded set of targets for every test face, pushed
   through an *injected* editor, AU reader and (optionally) face embedder, summarised as an
   :class:`EvalResult`. Injection keeps the protocol testable without a trained model or mediapipe.
3. Glue that builds the real editor, reader and embedder from a checkpoint and a prepared dataset:
   :func:`evaluate_checkpoint` and, for a pair of videos, :func:`evaluate_video`.

Units: image differences are mean absolute differences in 8-bit grey levels (0-255) over pixels
and channels; AU errors are on the [0, 1] intensity scale (FACS 0-5 divided by 5).
``docs/evaluation.md`` states the protocol and its limits. Reports (JSON, tables, figures) live
in :mod:`ganimate.report`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from ganimate.errors import GanimateError

log = logging.getLogger("ganimate")

# Attention values beyond these count as saturated: A ~ 1 keeps the input pixel (the generator does
# nothing there), A ~ 0 repaints it entirely from the colour mask. A mask that is all one or all
# the other is GANimation's known failure mode.
SATURATED_HIGH = 0.99
SATURATED_LOW = 0.01


# ---------------------------------------------------------------------------------------------
# 1. Pure metrics
# ---------------------------------------------------------------------------------------------


def image_l1(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean |a - b| in 8-bit levels over the pixels where ``mask`` is true (all when None).

    ``a`` and ``b`` are uint8 HWC or NHWC arrays of one shape; ``mask`` is boolean HW or NHW. NaN
    when the mask selects no pixel.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"image shapes differ: {a.shape} vs {b.shape}")
    diff = np.abs(a.astype(np.float32) - b.astype(np.float32))
    if mask is None:
        return float(diff.mean()) if diff.size else math.nan
    mask = np.broadcast_to(np.asarray(mask, bool), diff.shape[:-1])
    picked = diff[mask]
    return float(picked.mean()) if picked.size else math.nan


def background_change(before: np.ndarray, after: np.ndarray, paste_mask: np.ndarray) -> float:
    """Mean |after - before| in 8-bit levels outside the paste mask (where the mask is exactly 0).

    ``paste_mask`` is the float [0, 1] (or boolean) mask that blends the edit in; its feathered
    border counts as inside, so a correct paste-back reports 0 here.
    """
    return image_l1(before, after, np.asarray(paste_mask) <= 0)


@dataclass(frozen=True)
class AttentionStats:
    """Summary of attention masks A (1 keeps the input pixel)."""

    mean: float  # mean of A over all pixels
    saturated: float  # share of pixels with A > SATURATED_HIGH or A < SATURATED_LOW
    near_one: float  # share with A > SATURATED_HIGH (pixels left untouched)
    near_zero: float  # share with A < SATURATED_LOW (pixels fully repainted)


def attention_stats(attention: np.ndarray) -> AttentionStats:
    """Mean and saturated shares of attention values in [0, 1] (any shape)."""
    a = np.asarray(attention, dtype=np.float64)
    if a.size == 0:
        return AttentionStats(math.nan, math.nan, math.nan, math.nan)
    high = float((a > SATURATED_HIGH).mean())
    low = float((a < SATURATED_LOW).mean())
    return AttentionStats(float(a.mean()), high + low, high, low)


@dataclass(frozen=True)
class AUError:
    """Mean absolute AU error on the [0, 1] scale, per AU and over all entries."""

    per_au: dict[str, float]
    overall: float
    count: int  # number of (edit, AU) entries that were readable


def au_mae(targets: np.ndarray, measured: np.ndarray, au_names: Sequence[str],
           reliable: Sequence[str] | None = None, weights: np.ndarray | None = None) -> AUError:
    """|measured - target| per AU and overall, over the ``reliable`` AUs only.

    ``targets`` and ``measured`` are (N, K) in ``au_names`` order; NaN entries in ``measured`` (no
    face found by the reader) are left out. ``weights`` (N, K) of 0/1 restricts which entries count
    (for example only the AU that a sweep target set).
    """
    targets = np.asarray(targets, np.float64)
    measured = np.asarray(measured, np.float64)
    if targets.shape != measured.shape or targets.ndim != 2 or targets.shape[1] != len(au_names):
        raise ValueError(f"expected two (N, {len(au_names)}) arrays, got {targets.shape} and "
                         f"{measured.shape}")
    use = np.isfinite(measured)
    if weights is not None:
        use &= np.asarray(weights, bool)
    per_au, overall, count = _per_au_means(np.abs(measured - targets), use, au_names, reliable)
    return AUError(per_au, overall, count)


def _per_au_means(values: np.ndarray, use: np.ndarray, au_names: Sequence[str],
                  reliable: Sequence[str] | None) -> tuple[dict[str, float], float, int]:
    """Mean of ``values`` (N, K) where ``use``, per AU (reliable ones only, if given) and over all
    of them pooled; NaN where nothing was usable."""
    names = list(au_names) if reliable is None else [n for n in au_names if n in set(reliable)]
    per_au: dict[str, float] = {}
    total, count = 0.0, 0
    for name in names:
        k = list(au_names).index(name)
        sel = values[use[:, k], k]
        per_au[name] = float(sel.mean()) if sel.size else math.nan
        total += float(sel.sum())
        count += int(sel.size)
    return per_au, total / count if count else math.nan, count


@dataclass(frozen=True)
class DirectionAccuracy:
    """Share of asked AU changes (|target - source| >= threshold) that moved the right way."""

    per_au: dict[str, float]
    overall: float
    count: int  # number of asked changes that were readable
    threshold: float


def direction_accuracy(sources: np.ndarray, targets: np.ndarray, measured_in: np.ndarray,
                       measured_out: np.ndarray, au_names: Sequence[str],
                       reliable: Sequence[str] | None = None,
                       threshold: float = 0.3) -> DirectionAccuracy:
    """Did each AU asked to change by at least ``threshold`` move that way?

    The asked change is ``targets - sources`` (what the generator was told: its condition minus
    the face's own label); the achieved change is ``measured_out - measured_in`` (what the AU reader
    sees on the output and on a reference), so that a constant reader bias cancels. The protocol's
    reference is the generator's own output at the face's label (its reconstruction), not the
    input: an untrained generator that blurs every face toward an average would otherwise score
    on regression to the mean. A change counts as right when it has the asked sign and is not
    zero. All arrays are (N, K) in ``au_names`` order.
    """
    sources, targets, m_in, m_out = (np.asarray(x, np.float64)
                                     for x in (sources, targets, measured_in, measured_out))
    asked = targets - sources
    moved = m_out - m_in
    use = (np.abs(asked) >= threshold - 1e-9) & np.isfinite(moved)
    right = (np.sign(moved) * np.sign(asked) > 0).astype(np.float64)
    per_au, overall, count = _per_au_means(right, use, au_names, reliable)
    return DirectionAccuracy(per_au, overall, count, threshold)


@dataclass(frozen=True)
class IdentityStats:
    """Face-embedding distances between inputs and outputs (dlib's metric, see identity.py)."""

    mean: float
    median: float
    share_under: float  # share of pairs closer than `threshold` (dlib: same person)
    threshold: float
    count: int


def identity_stats(distances: Sequence[float], threshold: float = 0.6) -> IdentityStats:
    """Summary of embedding distances; NaN entries (no face) are left out."""
    d = np.asarray(distances, np.float64)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return IdentityStats(math.nan, math.nan, math.nan, threshold, 0)
    return IdentityStats(float(d.mean()), float(np.median(d)), float((d < threshold).mean()),
                         threshold, int(d.size))


def frame_change(prev: np.ndarray, cur: np.ndarray, region: np.ndarray | None = None) -> float:
    """Mean |cur - prev| in 8-bit levels inside ``region`` (boolean HW; all pixels when None)."""
    return image_l1(prev, cur, region)


@dataclass(frozen=True)
class FlickerStats:
    """Temporal flicker inside the face region, in 8-bit levels per frame step."""

    output_change: float  # mean |frame-to-frame change| of the output
    input_change: float  # the same on the input (the motion that is really there)
    flicker: float  # output_change - input_change: what the edit adds (~0 when stable)
    steps: int  # frame pairs measured (both frames with a face)


class FlickerMeter:
    """Streaming flicker measurement: feed (input, output, face region) frame by frame.

    A step is measured between consecutive frames that both have a region; the region of the
    later frame is used for both, so the input's own motion is measured on the same pixels.
    ``region=None`` (no face in this frame) breaks the chain.
    """

    def __init__(self) -> None:
        self._prev: tuple[np.ndarray, np.ndarray] | None = None
        self._out_sum = 0.0
        self._in_sum = 0.0
        self._steps = 0

    def update(self, frame_in: np.ndarray, frame_out: np.ndarray,
               region: np.ndarray | None) -> None:
        if frame_in.shape != frame_out.shape:
            raise GanimateError(
                f"input and output frames differ in size ({frame_in.shape[1]}x{frame_in.shape[0]}"
                f" vs {frame_out.shape[1]}x{frame_out.shape[0]}); compare a video with its own edit"
            )
        if region is None or not np.any(region):
            self._prev = None
            return
        if self._prev is not None:
            prev_in, prev_out = self._prev
            self._in_sum += frame_change(prev_in, frame_in, region)
            self._out_sum += frame_change(prev_out, frame_out, region)
            self._steps += 1
        self._prev = (frame_in, frame_out)

    def result(self) -> FlickerStats:
        if self._steps == 0:
            return FlickerStats(math.nan, math.nan, math.nan, 0)
        out_c = self._out_sum / self._steps
        in_c = self._in_sum / self._steps
        return FlickerStats(out_c, in_c, out_c - in_c, self._steps)


def face_region_mask(size: int) -> np.ndarray:
    """Boolean (size, size) mask of the face in an aligned crop: ``align.face_ellipse``.

    The ellipse runs through the forehead top, the chin and the face sides of ganimate's canonical
    framing, so hair, ears, neck and background lie outside it. Used to measure how much the raw
    generator output changes outside the face.
    """
    from ganimate.align import face_ellipse

    (cx, cy), (rx, ry) = face_ellipse(size)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    return ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0


# ---------------------------------------------------------------------------------------------
# 2. The protocol (editor, AU reader and embedder injected)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalConfig:
    """The evaluation protocol; the defaults are the documented protocol of docs/evaluation.md."""

    seed: int = 0  # seeds face subsampling, random targets and their noise
    max_faces: int | None = 100  # test faces used (a seeded subset when the split is larger)
    sweep_levels: tuple[float, ...] = (0.0, 0.5, 1.0)  # each reliable AU is set to each level
    random_targets: int = 4  # per face: another test face's AUs plus uniform noise, as in training
    noise: float = 0.1  # half-width of the uniform noise added to random targets
    direction_threshold: float = 0.3  # smallest asked change that direction accuracy judges
    identity_threshold: float = 0.6  # dlib's same-person distance
    batch_size: int = 16  # crops per generator call
    sweep_faces: int = 3  # test faces shown in the AU sweep figure
    identity: bool = True  # compute the identity metric when the [eval] extra is installed


@dataclass(frozen=True)
class EvalFace:
    """One test face: an aligned crop and its AU label in the model's AU order."""

    id: str
    image: np.ndarray  # uint8 HxWx3
    aus: np.ndarray  # float32 (K,)


class AUReader(Protocol):
    """Reads AU intensities from aligned crops (ganimate's estimator, or synthetic's measurer)."""

    au_names: tuple[str, ...]  # the AUs it reports, in the order of its columns
    reliable: tuple[str, ...]  # the subset it is trustworthy for (scored by the protocol)

    def read(self, crops: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W, 3) -> float (N, len(au_names)); NaN rows where no face is found."""
        ...


class Embedder(Protocol):
    """Face embedding used for the identity metric (identity.FaceEmbedder)."""

    def locate(self, rgb: np.ndarray): ...

    def embed(self, rgb: np.ndarray, box=None) -> np.ndarray: ...


# editor(crops uint8 (N, H, W, 3), targets float32 (N, K)) -> object with .images (uint8 NHWC)
# and .attention ((N, H, W) or (N, 1, H, W) floats in [0, 1]); inference.edit_crops bound to a
# model.
EditFn = Callable[[np.ndarray, np.ndarray], object]


@dataclass(frozen=True)
class SweepImages:
    """Images of the AU sweep figure: faces x AUs x levels."""

    face_ids: list[str]
    inputs: np.ndarray  # uint8 (F, H, W, 3)
    au_names: list[str]  # swept AUs (rows)
    levels: list[float]  # columns per face
    outputs: np.ndarray  # uint8 (F, A, L, H, W, 3)


@dataclass
class EvalResult:
    """Everything the protocol measured; :meth:`to_dict` is the JSON report."""

    au_names: list[str]  # the model's AUs
    reliable: list[str]  # AUs scored (model AUs the reader is reliable for)
    faces: int
    edits: int
    au_error: AUError  # all edited outputs (sweeps and random targets), reliable AUs
    au_error_swept: AUError  # sweep targets, only the AU that was set
    au_error_unedited: AUError  # do-nothing baseline: the reader on the *input* vs the targets
    au_error_unedited_swept: AUError  # the same baseline on the swept AU only
    reader_vs_labels: AUError  # the reader on the inputs vs the dataset labels (its own error)
    direction: DirectionAccuracy
    reconstruction_l1: float  # G(I | y_r) vs I, 8-bit levels
    cycle_l1: float  # G(G(I | y_g) | y_r) vs I for the random targets, 8-bit levels
    background_change: float  # raw G output vs input outside the crop's face region, 8-bit levels
    attention: AttentionStats  # over all edited outputs
    unreadable: float  # share of edited outputs where the AU reader found no face
    identity: IdentityStats | None
    identity_skipped: str | None  # why identity is missing (None when measured)
    config: EvalConfig
    seconds: float
    source: dict[str, str] = field(default_factory=dict)  # checkpoint/dataset paths, reader name
    sweep: SweepImages | None = None  # for the figure; not part of the JSON

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("sweep")
        d["config"]["sweep_levels"] = list(self.config.sweep_levels)
        return _json_safe(d)


def _json_safe(obj):
    """NaN -> None (JSON has no NaN), tuples -> lists, numpy scalars -> Python numbers."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


@dataclass(frozen=True)
class _Job:
    face: int
    kind: str  # "sweep", "random" or "recon"
    au: int  # swept AU index (model order), -1 otherwise
    level: int  # index into sweep_levels, -1 otherwise
    target: np.ndarray


def make_targets(faces: Sequence[EvalFace], au_names: Sequence[str], reliable: Sequence[str],
                 config: EvalConfig) -> list[_Job]:
    """The protocol's targets, deterministic for a given face list and seed.

    Per face: every reliable AU set to every sweep level (the other AUs keep the face's label),
    ``random_targets`` vectors drawn like training targets (another test face's label plus
    uniform noise of +-``noise``, clipped to [0, 1]), and the face's own label (reconstruction).
    """
    rng = np.random.default_rng(config.seed)
    jobs: list[_Job] = []
    n = len(faces)
    for i, face in enumerate(faces):
        y = np.asarray(face.aus, np.float32)
        for name in reliable:
            k = list(au_names).index(name)
            for li, level in enumerate(config.sweep_levels):
                t = y.copy()
                t[k] = level
                jobs.append(_Job(i, "sweep", k, li, t))
        for _ in range(config.random_targets):
            j = i if n == 1 else int((i + rng.integers(1, n)) % n)
            noise = rng.uniform(-config.noise, config.noise, size=y.shape)
            t = np.clip(np.asarray(faces[j].aus, np.float32) + noise, 0, 1).astype(np.float32)
            jobs.append(_Job(i, "random", -1, -1, t))
        jobs.append(_Job(i, "recon", -1, -1, y.copy()))
    return jobs


def _attention_array(attention, n: int, h: int, w: int) -> np.ndarray:
    a = attention.detach().cpu().numpy() if hasattr(attention, "detach") else attention
    a = np.asarray(a, np.float32)
    if a.size != n * h * w:
        raise ValueError(f"attention of shape {a.shape} does not match {n} crops of {w}x{h}")
    return a.reshape(n, h, w)


def _reader_columns(reader: AUReader, au_names: Sequence[str]) -> list[int | None]:
    cols = {name: k for k, name in enumerate(reader.au_names)}
    return [cols.get(name) for name in au_names]


def _read(reader: AUReader, crops: np.ndarray, columns: list[int | None]) -> np.ndarray:
    """Reader output re-ordered to the model's AU order (NaN for AUs the reader lacks)."""
    raw = np.asarray(reader.read(crops), np.float64)
    out = np.full((len(crops), len(columns)), np.nan)
    for k, c in enumerate(columns):
        if c is not None:
            out[:, k] = raw[:, c]
    return out


def run_protocol(edit: EditFn, au_names: Sequence[str], faces: Sequence[EvalFace],
                 reader: AUReader, config: EvalConfig = EvalConfig(),
                 embedder: Embedder | None = None, identity_skipped: str | None = None,
                 region: np.ndarray | None = None) -> EvalResult:
    """Run the protocol on ``faces`` and summarise it.

    ``edit`` is the generator (see :data:`EditFn`), ``au_names`` its AU order (faces' labels are
    in it), ``reader`` the AU estimator, ``embedder`` the identity model (None: skipped, with
    ``identity_skipped`` as the reason). ``region`` is the crop's face region (boolean HxW) for the
    background metric; by default :func:`face_region_mask`.
    """
    from ganimate import progress

    t0 = time.perf_counter()
    run = _ProtocolRun(edit, list(au_names), faces, reader, config, embedder, region)
    with progress.track("evaluating", total=len(run.jobs)) as bar:
        for start in range(0, len(run.jobs), config.batch_size):
            batch = run.jobs[start:start + config.batch_size]
            run.add(batch)
            bar.advance(len(batch))
    return run.result(identity_skipped, t0)


class _ProtocolRun:
    """One run of the protocol: the faces and what the reader makes of them, the jobs, and
    every measure gathered batch by batch (:meth:`add`) until :meth:`result`."""

    def __init__(self, edit: EditFn, au_names: list[str], faces: Sequence[EvalFace],
                 reader: AUReader, config: EvalConfig, embedder: Embedder | None,
                 region: np.ndarray | None):
        if not faces:
            raise GanimateError("no test faces to evaluate; is the dataset's test split empty?")
        self.edit, self.au_names, self.reader, self.config = edit, au_names, reader, config
        self.embedder = embedder
        self.faces = [faces[i] for i in select_faces(len(faces), config)]
        self.reliable = [n for n in au_names
                         if n in set(reader.reliable) and n in set(reader.au_names)]
        if not self.reliable:
            raise GanimateError(
                f"the AU reader is reliable for none of the model's AUs ({' '.join(au_names)}); "
                f"it reads {' '.join(reader.reliable)}"
            )
        self.inputs = np.stack([f.image for f in self.faces])
        n_faces, self.h, self.w = self.inputs.shape[:3]
        self.labels = np.stack([np.asarray(f.aus, np.float32) for f in self.faces])
        if region is None:
            region = face_region_mask(self.h) if self.h == self.w else np.ones((self.h, self.w),
                                                                               bool)
        self.outside = ~np.asarray(region, bool)
        self.columns = _reader_columns(reader, au_names)
        self.jobs = make_targets(self.faces, au_names, self.reliable, config)
        self.m_in = np.concatenate([_read(reader, self.inputs[i:i + config.batch_size],
                                          self.columns)
                                    for i in range(0, n_faces, config.batch_size)])
        self.boxes: list = [None] * n_faces
        if embedder is not None:
            self.boxes = [embedder.locate(img) for img in self.inputs]
            self.in_embed = [embedder.embed(img, box)
                             for img, box in zip(self.inputs, self.boxes, strict=True)]
        self._start_measures(n_faces)

    def _start_measures(self, n_faces: int) -> None:
        k = len(self.au_names)
        self.edited = [j for j in self.jobs if j.kind != "recon"]
        self.index_of = {id(j): e for e, j in enumerate(self.edited)}
        self.m_out = np.full((len(self.edited), k), np.nan)  # reader on the edited outputs
        self.m_rec = np.full((n_faces, k), np.nan)  # reader on G(I | y_r), per face
        self.distances: list[float] = []
        self.att_sum = self.att_high = self.att_low = 0.0
        self.att_count = 0
        self.recon: list[float] = []
        self.cycle: list[float] = []
        self.background: list[float] = []
        self.sweep_n = min(self.config.sweep_faces, n_faces)
        self.sweep_out = np.zeros((self.sweep_n, len(self.reliable),
                                   len(self.config.sweep_levels), self.h, self.w, 3), np.uint8)

    def add(self, batch: list[_Job]) -> None:
        """Edit a batch of jobs and gather its measures."""
        result = self.edit(self.inputs[[j.face for j in batch]],
                           np.stack([j.target for j in batch]))
        outs = np.asarray(result.images)
        att = _attention_array(result.attention, len(batch), self.h, self.w)
        is_edit = np.array([j.kind != "recon" for j in batch])
        rows = [self.index_of[id(j)] for j in batch if j.kind != "recon"]
        if rows:
            self.m_out[rows] = _read(self.reader, outs[is_edit], self.columns)
        if not is_edit.all():
            self.m_rec[[j.face for j in batch if j.kind == "recon"]] = _read(
                self.reader, outs[~is_edit], self.columns)
        if rows:
            a = att[is_edit]
            self.att_sum += float(a.sum())
            self.att_high += float((a > SATURATED_HIGH).sum())
            self.att_low += float((a < SATURATED_LOW).sum())
            self.att_count += a.size
        for j, out in zip(batch, outs, strict=True):
            self._add_image(j, out)
        self._add_cycles([(j, out) for j, out in zip(batch, outs, strict=True)
                          if j.kind == "random"])

    def _add_image(self, j: _Job, out: np.ndarray) -> None:
        if j.kind == "recon":
            self.recon.append(image_l1(self.inputs[j.face], out))
            return
        self.background.append(image_l1(self.inputs[j.face], out, self.outside))
        if self.embedder is not None:
            self.distances.append(embedding_distance_of(self.embedder, self.in_embed[j.face],
                                                        out, self.boxes[j.face]))
        if j.kind == "sweep" and j.face < self.sweep_n:
            self.sweep_out[j.face, self.reliable.index(self.au_names[j.au]), j.level] = out

    def _add_cycles(self, randoms: list[tuple[_Job, np.ndarray]]) -> None:
        """G(G(I | y_g) | y_r) vs I for the random targets."""
        if not randoms:
            return
        back = self.edit(np.stack([o for _, o in randoms]),
                         np.stack([self.labels[j.face] for j, _ in randoms]))
        for (j, _), img in zip(randoms, np.asarray(back.images), strict=True):
            self.cycle.append(image_l1(self.inputs[j.face], img))

    def _attention(self) -> AttentionStats:
        n = self.att_count
        if not n:
            return attention_stats(np.zeros(0))
        return AttentionStats(self.att_sum / n, (self.att_high + self.att_low) / n,
                              self.att_high / n, self.att_low / n)

    def result(self, identity_skipped: str | None, t0: float) -> EvalResult:
        edited, au_names, reliable = self.edited, self.au_names, self.reliable
        targets = (np.stack([j.target for j in edited]) if edited
                   else np.zeros((0, len(au_names))))
        swept = np.zeros_like(targets, dtype=bool)
        for e, j in enumerate(edited):
            if j.kind == "sweep":
                swept[e, j.au] = True
        readable = np.isfinite(self.m_out).any(axis=1)
        identity = None
        if self.embedder is not None:
            identity = identity_stats(self.distances, self.config.identity_threshold)
        elif identity_skipped is None:
            identity_skipped = "no face embedder given"
        faces_of = [j.face for j in edited]
        m_in_edited = self.m_in[faces_of]
        return EvalResult(
            au_names=au_names, reliable=reliable, faces=len(self.faces), edits=len(edited),
            au_error=au_mae(targets, self.m_out, au_names, reliable),
            au_error_swept=au_mae(targets, self.m_out, au_names, reliable, weights=swept),
            au_error_unedited=au_mae(targets, m_in_edited, au_names, reliable),
            au_error_unedited_swept=au_mae(targets, m_in_edited, au_names, reliable,
                                           weights=swept),
            reader_vs_labels=au_mae(self.labels, self.m_in, au_names, reliable),
            direction=direction_accuracy(self.labels[faces_of], targets, self.m_rec[faces_of],
                                         self.m_out, au_names, reliable,
                                         self.config.direction_threshold),
            reconstruction_l1=_mean(self.recon), cycle_l1=_mean(self.cycle),
            background_change=_mean(self.background), attention=self._attention(),
            unreadable=float(1 - readable.mean()) if len(readable) else math.nan,
            identity=identity,
            identity_skipped=None if identity is not None else identity_skipped,
            config=self.config, seconds=time.perf_counter() - t0,
            sweep=SweepImages([f.id for f in self.faces[:self.sweep_n]],
                              self.inputs[:self.sweep_n].copy(), reliable,
                              list(self.config.sweep_levels), self.sweep_out),
        )


def embedding_distance_of(embedder: Embedder, reference: np.ndarray, image: np.ndarray,
                          box) -> float:
    """Distance between a reference descriptor and the face of ``image`` inside ``box``."""
    vec = np.asarray(embedder.embed(image, box), np.float64)
    return float(np.linalg.norm(vec - np.asarray(reference, np.float64)))


def _mean(values: Sequence[float]) -> float:
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else math.nan


def load_embedder(enabled: bool = True) -> tuple[Embedder | None, str | None]:
    """The dlib embedder, or (None, reason) when disabled or the [eval] extra is missing."""
    if not enabled:
        return None, "disabled (--no-identity)"
    from ganimate.identity import FaceEmbedder, identity_unavailable

    reason = identity_unavailable()
    if reason is not None:
        log.warning("identity metric skipped: %s", reason)
        return None, reason
    return FaceEmbedder(), None


# ---------------------------------------------------------------------------------------------
# 3. A checkpoint on a prepared dataset
# ---------------------------------------------------------------------------------------------


class SyntheticReader:
    """The synthetic bar faces' exact measurement (``synthetic.measure``): both AUs reliable."""

    name = "synthetic bar-face measurement"

    def __init__(self) -> None:
        from ganimate.synthetic import SYNTHETIC_AUS

        self.au_names = tuple(SYNTHETIC_AUS)
        self.reliable = tuple(SYNTHETIC_AUS)

    def read(self, crops: np.ndarray) -> np.ndarray:
        from ganimate.synthetic import measure

        return measure(np.asarray(crops)).astype(np.float64)


def dataset_meta(root: str | Path) -> dict:
    """The dataset's meta.json as a dict ({} for the original GANimation layout)."""
    meta = Path(root) / "meta.json"
    if not meta.is_file():
        return {}
    import json

    try:
        return json.loads(meta.read_text())
    except (OSError, ValueError) as exc:
        raise GanimateError(f"{meta}: unreadable dataset metadata ({exc})") from None


class CalibratedReader:
    """A reader whose raw estimates are mapped through the dataset's AU calibration.

    ``ganimate prepare`` stores the map from the estimator's raw scale to its labels in meta.json
    (``au_calibration``); the same map puts readings of generated crops on the labels' scale, so
    that they compare with targets drawn from those labels.
    """

    def __init__(self, reader: AUReader, calibration) -> None:
        self.reader = reader
        self.calibration = calibration
        self.au_names = tuple(calibration.au_names)
        self.reliable = tuple(n for n in reader.reliable if n in self.au_names)
        self.name = f"{getattr(reader, 'name', type(reader).__name__)}, calibrated"
        self._columns = _reader_columns(reader, self.au_names)

    def read(self, crops: np.ndarray) -> np.ndarray:
        raw = _read(self.reader, crops, self._columns)
        return np.where(np.isfinite(raw), self.calibration.apply(np.nan_to_num(raw)), np.nan)

    def close(self) -> None:
        if hasattr(self.reader, "close"):
            self.reader.close()


def default_reader(meta: dict) -> AUReader:
    """The AU reader for a dataset (its meta.json): exact measurement for synthetic data, else
    ganimate's estimator on the crops, through the dataset's calibration when it has one."""
    if meta.get("au_source") == "synthetic":
        return SyntheticReader()
    from ganimate.aus import AUCalibration, CropAUReader

    reader = CropAUReader()
    reader.name = "ganimate AU estimator (mesh)"
    calibration = AUCalibration.from_meta(meta)
    if calibration is None:
        if meta.get("au_source", "ganimation") != "mesh":
            log.warning("the dataset's labels come from %s, not from ganimate's estimator, and it "
                        "has no calibration: AU errors mix two scales (direction accuracy is "
                        "unaffected)", meta.get("au_source", "the original GANimation layout"))
        return reader
    return CalibratedReader(reader, calibration)


def select_faces(count: int, config: EvalConfig) -> list[int]:
    """Indices of the test faces the protocol uses: all, or a seeded subset of ``max_faces``."""
    if config.max_faces is None or count <= config.max_faces:
        return list(range(count))
    pick = np.random.default_rng(config.seed).choice(count, config.max_faces, replace=False)
    return sorted(int(i) for i in pick)


def evaluate_checkpoint(checkpoint: str | Path, dataset: str | Path,
                        config: EvalConfig = EvalConfig(), device: str = "auto",
                        reader: AUReader | None = None,
                        embedder: tuple[Embedder | None, str | None] | None = None) -> EvalResult:
    """Run the protocol for a checkpoint on the test split of a dataset.

    ``reader`` defaults to :func:`default_reader` for the dataset, ``embedder`` (an
    ``(embedder, reason_if_none)`` pair) to :func:`load_embedder`; pass them to share them between
    several checkpoints.
    """
    import functools

    from ganimate.checkpoint import load_generator
    from ganimate.dataset import open_dataset
    from ganimate.inference import edit_crops

    loaded = load_generator(checkpoint, device)
    data = open_dataset(dataset, split="test")
    missing = [n for n in loaded.au_names if n not in data.au_names]
    if missing:
        raise GanimateError(
            f"{dataset}: has no labels for the model's AUs {' '.join(missing)}; evaluate on a "
            f"dataset prepared with the model's AU set ({' '.join(loaded.au_names)})"
        )
    columns = [list(data.au_names).index(n) for n in loaded.au_names]
    faces = [EvalFace(data.ids[i], data.read(i), np.asarray(data.aus[i, columns], np.float32))
             for i in select_faces(len(data), config)]
    own_reader = reader is None
    if own_reader:
        reader = default_reader(dataset_meta(dataset))
    emb, skipped = load_embedder(config.identity) if embedder is None else embedder
    try:
        result = run_protocol(functools.partial(edit_crops, loaded), loaded.au_names, faces,
                              reader, config, emb, skipped)
    finally:
        if own_reader and hasattr(reader, "close"):
            reader.close()
    result.source = {"checkpoint": str(checkpoint), "dataset": str(dataset),
                     "reader": getattr(reader, "name", type(reader).__name__)}
    return result


@dataclass
class CheckpointResults:
    """What ``ganimate eval model`` measured: labelled results (one, or A and B on the same
    faces and targets), and the default name of the report folder."""

    results: list[tuple[str, EvalResult]]
    default_folder: Path  # <ckpt>-eval, or <a>-vs-<b>-eval

    @property
    def compared(self) -> bool:
        return len(self.results) == 2


def evaluate_checkpoints(args: Sequence[str], config: EvalConfig = EvalConfig(),
                         device: str = "auto") -> CheckpointResults:
    """``CHECKPOINT [CHECKPOINT_B] DATASET``: one checkpoint, or two compared on the same faces
    and targets (the report is :func:`ganimate.report.write_model_report`'s)."""
    from ganimate.models import resolve_checkpoint

    if len(args) not in (2, 3):
        raise GanimateError(f"expected CHECKPOINT [CHECKPOINT_B] DATASET, got {len(args)} "
                            "argument(s)")
    checkpoints = [resolve_checkpoint(a) for a in args[:-1]]
    dataset = Path(args[-1])
    if not dataset.is_dir():
        raise GanimateError(f"{dataset}: no such dataset folder (make one with `ganimate "
                            "prepare`)")
    embedder = load_embedder(config.identity)  # loaded once, shared by both checkpoints
    compare = len(checkpoints) == 2
    results = [(f"{'AB'[i]}: {c.stem}" if compare else c.stem,
                evaluate_checkpoint(c, dataset, config, device=device, embedder=embedder))
               for i, c in enumerate(checkpoints)]
    stems = "-vs-".join(c.stem for c in checkpoints)
    return CheckpointResults(results, Path(f"{stems}-eval"))


# ---------------------------------------------------------------------------------------------
# 4. Videos: an input clip and its edit
# ---------------------------------------------------------------------------------------------


@dataclass
class VideoEvalResult:
    """Metrics of an edited video against its input, frame by frame."""

    frames: int
    frames_with_face: int
    flicker: FlickerStats  # inside the face region
    background_change: float  # mean |out - in| outside the (enlarged) face region, 8-bit levels
    face_change: float  # mean |out - in| inside the face region: how strong the edit is
    identity: IdentityStats | None
    identity_skipped: str | None
    identity_every: int  # identity is measured on every n-th frame with a face
    seconds: float
    source: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return _json_safe(asdict(self))


# locate(rgb) -> (face region boolean HxW, background region boolean HxW) or None (no face).
RegionFn = Callable[[np.ndarray], "tuple[np.ndarray, np.ndarray] | None"]


def measure_video_pair(pairs: Iterable[tuple[np.ndarray, np.ndarray]], locate: RegionFn,
                       embedder: Embedder | None = None, identity_skipped: str | None = None,
                       identity_every: int = 10, identity_threshold: float = 0.6,
                       total: int | None = None) -> VideoEvalResult:
    """Stream (input frame, output frame) pairs through the flicker, background and identity
    metrics; ``locate`` finds the face region on the input frame."""
    from ganimate import progress

    t0 = time.perf_counter()
    meter = FlickerMeter()
    frames = with_face = 0
    bg, inside, distances = [], [], []
    with progress.track("measuring video", total=total) as bar:
        for frame_in, frame_out in pairs:
            frames += 1
            found = locate(frame_in)
            region = background = None
            if found is not None:
                region, background = found
                with_face += 1
            meter.update(frame_in, frame_out, region)
            if region is not None:
                inside.append(image_l1(frame_in, frame_out, region))
                bg.append(image_l1(frame_in, frame_out, background))
                if embedder is not None and (with_face - 1) % identity_every == 0:
                    box = embedder.locate(frame_in)
                    ref = embedder.embed(frame_in, box)
                    distances.append(embedding_distance_of(embedder, ref, frame_out, box))
            else:
                bg.append(image_l1(frame_in, frame_out))
            bar.advance(1)
    if frames == 0:
        raise GanimateError("the input video has no frames")
    identity = identity_stats(distances, identity_threshold) if embedder is not None else None
    if embedder is None and identity_skipped is None:
        identity_skipped = "no face embedder given"
    return VideoEvalResult(frames, with_face, meter.result(), _mean(bg), _mean(inside), identity,
                           None if identity is not None else identity_skipped, identity_every,
                           time.perf_counter() - t0)


def region_from_box(shape: tuple[int, ...], box: tuple[float, float, float, float],
                    margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """(face region, background) masks from a face box (x0, y0, x1, y1) in pixels.

    The face region is the box itself; the background is everything outside the box enlarged by
    ``margin`` of its size on each side, so that a feathered paste-back border is not counted.
    """
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    region = np.zeros((h, w), bool)
    region[max(0, int(y0)):max(0, int(math.ceil(y1))), max(0, int(x0)):max(0, int(math.ceil(x1)))] \
        = True
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    grown = np.zeros((h, w), bool)
    grown[max(0, int(y0 - my)):max(0, int(math.ceil(y1 + my))),
          max(0, int(x0 - mx)):max(0, int(math.ceil(x1 + mx)))] = True
    return region, ~grown


def evaluate_video(input_path: str | Path, output_path: str | Path, identity: bool = True,
                   identity_every: int = 10) -> VideoEvalResult:
    """Compare an edited video with its input: flicker, background, edit strength, identity.

    Both videos are streamed side by side (never held in memory); faces are tracked on the input
    with :class:`ganimate.faces.FaceTracker`, and the largest face of each frame is the one
    measured. The two videos must have the same size; if their frame counts differ, the common
    part is measured and a warning says so.
    """
    from ganimate import video
    from ganimate.faces import FaceTracker, largest_face

    input_path, output_path = Path(input_path), Path(output_path)
    for p in (input_path, output_path):
        if not p.is_file():
            raise GanimateError(f"{p}: no such video file")
    info_in = video.probe(input_path)
    info_out = video.probe(output_path)
    if info_in.size != info_out.size:
        raise GanimateError(
            f"{output_path}: {info_out.width}x{info_out.height} does not match the input "
            f"{input_path} ({info_in.width}x{info_in.height}); compare a video with its own edit"
        )
    if info_in.frame_count != info_out.frame_count:
        log.warning("%s has %s frames and %s has %s: measuring the first %s", input_path,
                    info_in.frame_count, output_path, info_out.frame_count,
                    min(info_in.frame_count or 0, info_out.frame_count or 0))
    embedder, skipped = load_embedder(identity)
    with FaceTracker() as tracker:

        def locate(rgb: np.ndarray):
            found = tracker(rgb)
            if not found:
                return None
            # The largest face is the one an edit is about; other faces count as background.
            face = largest_face(found)
            return region_from_box(rgb.shape, face.box.as_tuple())

        pairs = zip(video.read_frames(input_path, info_in),
                    video.read_frames(output_path, info_out), strict=False)
        total = min(info_in.frame_count or 0, info_out.frame_count or 0) or None
        result = measure_video_pair(pairs, locate, embedder, skipped, identity_every, total=total)
    result.source = {"input": str(input_path), "output": str(output_path)}
    return result
