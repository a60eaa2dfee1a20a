"""The fixed evaluation protocol behind ``ganimate eval model``.

:func:`run_protocol`: a seeded set of targets for every test face, pushed through an *injected*
editor, AU reader and (optionally) face embedder, summarised as an :class:`EvalResult`; injection
keeps it testable without a trained model or mediapipe. :func:`evaluate_checkpoint` builds the real
editor, reader and embedder from a checkpoint and a prepared dataset. ``docs/evaluation.md`` states
the protocol and its limits.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ganimate import progress
from ganimate.engines import edit_crops
from ganimate.errors import GanimateError
from ganimate.evaluation.config import EvalConfig
from ganimate.evaluation.metrics import (
    SATURATED_HIGH,
    SATURATED_LOW,
    AttentionStats,
    AUError,
    DirectionAccuracy,
    IdentityStats,
    attention_stats,
    au_mae,
    direction_accuracy,
    face_region_mask,
    finite_mean,
    identity_stats,
    image_l1,
)
from ganimate.evaluation.readers import (
    AUReader,
    Embedder,
    dataset_meta,
    default_reader,
    load_embedder,
    read_aus,
    reader_columns,
)
from ganimate.training import open_dataset

# ---------------------------------------------------------------------------------------------
# 2. The protocol (editor, AU reader and embedder injected)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalFace:
    """One test face: an aligned crop and its AU label in the model's AU order."""

    id: str
    image: np.ndarray  # uint8 HxWx3
    aus: np.ndarray  # float32 (K,)


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
        return json_safe(d)


def json_safe(obj):
    """NaN -> None (JSON has no NaN), tuples -> lists, numpy scalars -> Python numbers."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
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
        self.columns = reader_columns(reader, au_names)
        self.jobs = make_targets(self.faces, au_names, self.reliable, config)
        self.m_in = np.concatenate([read_aus(reader, self.inputs[i:i + config.batch_size],
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
            self.m_out[rows] = read_aus(self.reader, outs[is_edit], self.columns)
        if not is_edit.all():
            self.m_rec[[j.face for j in batch if j.kind == "recon"]] = read_aus(
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
            reconstruction_l1=finite_mean(self.recon), cycle_l1=finite_mean(self.cycle),
            background_change=finite_mean(self.background), attention=self._attention(),
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
    from ganimate.model import load_generator  # deferred: loads torch

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
    and targets (the report is :func:`ganimate.evaluation.report.write_model_report`'s)."""
    from ganimate.model import resolve_checkpoint  # deferred: loads torch

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


# locate(rgb) -> (face region boolean HxW, background region boolean HxW) or None (no face).
RegionFn = Callable[[np.ndarray], "tuple[np.ndarray, np.ndarray] | None"]
