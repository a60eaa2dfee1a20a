"""Datasets from photos and videos: faces -> aligned crops + AU labels (docs/dataset-format.md).

``prepare_dataset(sources, out, PrepareConfig(...))`` walks folders of photos and videos (every
k-th video frame), finds every face, rejects the unusable ones with a reason (``rejected.csv``),
writes aligned crops and their AU estimates, and splits train/test by source, deterministically.

It is resumable: each finished source is appended to ``OUT/.prepare/journal.jsonl`` (one JSON line,
written after the source's crops), so an interrupted run picks up where it stopped and a second
run over the same inputs does no work. A changed file (size or modification time) is redone.
The dataset files (``aus.csv``, ``sources.csv``, ``rejected.csv``, splits, ``meta.json``) are
rewritten from the journal at the end of every run, atomically.

Labels: the raw estimates of ``aus.AUEstimator`` are calibrated per dataset (robust percentiles
to [0, 1], ``aus.AUCalibration``, stored in ``meta.json`` as ``au_calibration`` with the raw values
in ``aus_raw.csv``), or taken from an OpenFace CSV (``openface``). :func:`convert_original_layout`
turns GANimation's own layout into this format.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganimate import progress
from ganimate.version import __version__
from ganimate.errors import GanimateError
from ganimate.faces import (
    AU_NAMES,
    AUCalibration,
    FaceMesh,
    OpenFaceTable,
    align_face,
    default_estimator,
    head_pose,
    read_openface_csv,
)
from ganimate.files import check_output, safe_name, write_text
from ganimate.images import IMAGE_SUFFIXES, read_rgb, write_image
from ganimate.training.config import PrepareConfig
from ganimate.training.dataset import load_original_layout
from ganimate.video import VIDEO_SUFFIXES, find_inputs, is_video, iter_video_frames

# Imported in the functions that use them, on purpose (start-up): PIL (where files are decoded).

log = logging.getLogger("ganimate")


JOURNAL = Path(".prepare") / "journal.jsonl"

# The rows of rejected.csv that the error of an empty dataset shows.
_SHOWN_REJECTIONS = 3
# What `ganimate prepare` writes in its output folder (besides the crops in images/).
_DATASET_FILES = ("images", ".prepare", "aus.csv", "aus_raw.csv", "sources.csv", "rejected.csv",
                  "train.txt", "test.txt", "meta.json")

# Reasons written to rejected.csv (docs/dataset-format.md).
UNREADABLE = "unreadable"
IMAGE_TOO_SMALL = "image too small"
NO_FACE = "no face"
FACE_TOO_SMALL = "face too small"
FACE_TOO_TURNED = "face too turned"
FACE_CUT_OFF = "face cut off"
NO_LABEL = "no AU label"


@dataclass(frozen=True)
class Rejection:
    """A row of ``rejected.csv``: an input (a frame of a video) that gave no crop, and why."""

    source: str
    frame: int
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class PrepareReport:
    """What a run did."""

    out: Path
    count: int = 0  # crops in the dataset
    train: int = 0
    test: int = 0
    processed: int = 0  # sources processed by this run
    skipped: int = 0  # sources already done by an earlier run
    rejected: Counter = field(default_factory=Counter)  # reason -> rows in rejected.csv
    seconds: float = 0.0
    stage_ms: dict[str, float] = field(default_factory=dict)  # mean ms per photo/frame by stage
    frames: int = 0  # photos + video frames processed by this run
    first_rejected: list[Rejection] = field(default_factory=list)  # the first rows of rejected.csv

    @property
    def summary(self) -> str:
        """One line: the dataset's size and what this run did."""
        rejected = ", ".join(f"{n} {r}" for r, n in sorted(self.rejected.items())) or "none"
        return (f"{self.out}: {self.count} crops ({self.train} train, {self.test} test); "
                f"this run: {self.processed} sources processed, {self.skipped} already done, "
                f"{self.seconds:.1f} s; rejected: {rejected}")

    def require_crops(self) -> None:
        """Refuse an empty dataset: `prepare && train` must stop here, not one step later."""
        if self.count == 0:
            rejected = ", ".join(f"{n} {r}" for r, n in sorted(self.rejected.items()))
            first = "; ".join(str(r) for r in self.first_rejected)
            raise GanimateError(f"{self.out}: every input was rejected ({rejected}), so no "
                                f"dataset was written: {first}; give photos or videos with "
                                "faces")


@dataclass(frozen=True)
class _Task:
    key: str  # journal key: display path + size + mtime, so a changed file is redone
    path: str
    source: str  # display path written to the dataset (relative to its root)
    base: str  # file-name-safe prefix of this source's crop ids
    video: bool


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


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

    def run(self, task: _Task) -> dict:
        self.stage, self.frames = Counter(), 0
        rows: list[dict] = []
        rejected: list[dict] = []
        try:
            if task.video:
                self._video(task, rows, rejected)
            else:
                t = time.perf_counter()
                try:
                    rgb = read_rgb(task.path)
                except GanimateError as exc:
                    rejected.append({"frame": 0, "reason": UNREADABLE,
                                     "detail": str(exc).split(": ", 1)[-1][:200]})
                    rgb = None
                self.stage["decode"] += time.perf_counter() - t
                if rgb is not None:
                    self.frames += 1
                    self._frame(task, 0, rgb, rows, rejected)
        except GanimateError as exc:
            rejected.append({"frame": 0, "reason": UNREADABLE,
                             "detail": str(exc).split(": ", 1)[-1][:200]})
        return {"key": task.key, "source": task.source, "rows": rows, "rejected": rejected,
                "frames": self.frames, "stage": dict(self.stage)}

    def _video(self, task: _Task, rows: list, rejected: list) -> None:
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

    def _frame(self, task: _Task, index: int, rgb: np.ndarray, rows: list,
               rejected: list) -> None:
        cfg = self.config
        h, w = rgb.shape[:2]
        if min(h, w) < 32:
            rejected.append({"frame": index, "reason": IMAGE_TOO_SMALL,
                             "detail": f"{w}x{h} pixels"})
            return
        t = time.perf_counter()
        faces = self.mesh(rgb)
        self.stage["mesh"] += time.perf_counter() - t
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
            t = time.perf_counter()
            crop = align_face(rgb, face, cfg.size)
            self.stage["align"] += time.perf_counter() - t
            if crop.inside < cfg.min_inside:
                rejected.append({"frame": index, "reason": FACE_CUT_OFF,
                                 "detail": f"face {k}: {crop.inside:.0%} of the crop in frame"})
                continue
            t = time.perf_counter()
            aus = self.estimator(face)
            self.stage["aus"] += time.perf_counter() - t
            crop_id = task.base + (f"_f{index:06d}" if task.video else "") + f"_{k}"
            t = time.perf_counter()
            write_image(self.images / f"{crop_id}.{cfg.image_format}", crop.image,
                        quality=cfg.quality)
            self.stage["write"] += time.perf_counter() - t
            rows.append({"id": crop_id, "frame": index, "face": k,
                         "aus": [round(float(v), 5) for v in aus]})


_WORKER: _Worker | None = None
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _init_worker(config: PrepareConfig, out: str) -> None:
    global _WORKER
    logging.getLogger("absl").setLevel(logging.ERROR)
    _WORKER = _Worker(config, Path(out))


def _run_task(task: _Task) -> dict:
    return _WORKER.run(task)


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def _read_journal(out: Path) -> tuple[dict | None, dict[str, dict]]:
    path = out / JOURNAL
    header, entries = None, {}
    if not path.is_file():
        return header, entries
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: that source is simply redone
            if "options" in item:
                header = item
            elif "source" in item:
                entries[item["source"]] = item
    return header, entries


def _split_of(source: str, split_by: str, test_fraction: float) -> str:
    p = Path(source)
    key = {"source": source, "stem": p.stem, "folder": p.parent.as_posix()}[split_by]
    h = int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "big") / 2.0**64
    return "test" if h < test_fraction else "train"


def _csv_text(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def prepare_dataset(sources: Sequence[str | os.PathLike], out: str | os.PathLike,
                    config: PrepareConfig = PrepareConfig()) -> PrepareReport:
    """Build (or continue) a dataset in ``out`` from the photos and videos of ``sources``."""
    config.validate()
    start = time.perf_counter()
    out = Path(out)
    inputs = find_inputs(sources)
    if not inputs:
        raise GanimateError(
            f"no photos or videos under {', '.join(map(str, sources))} "
            f"(looked for {' '.join(IMAGE_SUFFIXES + VIDEO_SUFFIXES)})"
        )
    header, done = _continued_journal(out, config)
    openface = _load_openface(config.openface, inputs) if config.openface else None
    tasks = _tasks(inputs)
    todo = [t for t in tasks if done.get(t.source, {}).get("key") != t.key]
    report = PrepareReport(out=out, processed=len(todo), skipped=len(tasks) - len(todo))

    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / JOURNAL).parent.mkdir(parents=True, exist_ok=True)
    stage: Counter = Counter()
    with open(out / JOURNAL, "a", encoding="utf-8") as journal:
        if header is None:
            journal.write(json.dumps({"options": config.fingerprint()}) + "\n")
            journal.flush()

        def record(result: dict) -> None:
            journal.write(json.dumps(result) + "\n")
            journal.flush()
            done[result["source"]] = result
            stage.update(result.get("stage", {}))
            report.frames += result.get("frames", 0)

        if todo:
            _run_all(todo, config, out, record, progress)

    _finalize(out, config, tasks, done, openface, report)
    report.seconds = time.perf_counter() - start
    if report.frames:
        report.stage_ms = {k: 1000 * v / report.frames for k, v in stage.items()}
    return report


def _continued_journal(out: Path, config: PrepareConfig) -> tuple[dict | None, dict[str, dict]]:
    """The journal of an earlier run into ``out`` (header, done sources), refusing a folder
    that another tool wrote or that was prepared with other options."""
    if (out / "meta.json").is_file() and not (out / JOURNAL).is_file():
        raise GanimateError(f"{out}: holds a dataset not made by `ganimate prepare` here; "
                            "choose a new --out folder")
    header, done = _read_journal(out)
    if header is not None and header["options"] != config.fingerprint():
        raise GanimateError(
            f"{out}: was prepared with {header['options']}; use the same --size/--every/"
            "--image-format/--estimator to continue it, or a new --out folder"
        )
    return header, done


def _tasks(inputs: list[tuple[Path, str]]) -> list[_Task]:
    """One task per input, with crop-id prefixes unique even when two display paths sanitise to
    the same text."""
    tasks: list[_Task] = []
    used: set[str] = set()
    for path, disp in inputs:
        base = safe_name(str(Path(disp).with_suffix("")).replace("/", "_"))
        if base in used:
            base = f"{base}_{hashlib.sha1(disp.encode()).hexdigest()[:6]}"
        used.add(base)
        st = path.stat()
        tasks.append(_Task(f"{disp}|{st.st_size}|{st.st_mtime_ns}", str(path), disp, base,
                           is_video(path)))
    return tasks


def _run_all(todo: list[_Task], config: PrepareConfig, out: Path, record, progress) -> None:
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


# ---------------------------------------------------------------------------------------------
# Labels from OpenFace
# ---------------------------------------------------------------------------------------------


@dataclass
class _OpenFaceLabels:
    by_source: dict[str, dict[tuple[int, int], np.ndarray]]  # source -> (frame, face) -> AUs
    path: Path


def _load_openface(path: Path, inputs: list[tuple[Path, str]]) -> _OpenFaceLabels:
    """Match OpenFace rows to our sources.

    - a folder of per-image CSVs (FaceLandmarkImg): ``<stem>.csv`` for each photo, face by face_id;
    - a CSV with a file-name column: rows matched by file stem;
    - one video source: OpenFace's frame n (1-based) is our frame n - 1;
    - otherwise the photos in sorted order are OpenFace's frames 1..N (FeatureExtraction -fdir).
    """
    path = Path(path)
    by_source: dict[str, dict[tuple[int, int], np.ndarray]] = {}

    def good(table: OpenFaceTable) -> np.ndarray:
        return table.success & (table.confidence >= 0.5)

    if path.is_dir():
        for file, disp in inputs:
            csv_path = path / f"{file.stem}.csv"
            if csv_path.is_file():
                t = read_openface_csv(csv_path)
                ok = good(t)
                by_source[disp] = {(0, int(t.faces[i])): t.aus[i] for i in np.flatnonzero(ok)}
        return _OpenFaceLabels(by_source, path)
    table = read_openface_csv(path)
    ok = good(table)
    name_col = next(iter(table.extra.values()), None)
    if name_col is not None:
        rows_by_stem: dict[str, dict] = {}
        for i in np.flatnonzero(ok):
            stem = Path(name_col[i].replace("\\", "/")).stem
            rows_by_stem.setdefault(stem, {})[(0, int(table.faces[i]))] = table.aus[i]
        for file, disp in inputs:
            if file.stem in rows_by_stem:
                by_source[disp] = rows_by_stem[file.stem]
        return _OpenFaceLabels(by_source, path)
    videos = [(f, d) for f, d in inputs if is_video(f)]
    if len(inputs) == 1 and videos:
        by_source[videos[0][1]] = {(int(table.frames[i]) - 1, int(table.faces[i])): table.aus[i]
                                   for i in np.flatnonzero(ok)}
        return _OpenFaceLabels(by_source, path)
    photos = [(f, d) for f, d in inputs if not is_video(f)]
    frames = sorted(set(table.frames.tolist()))
    if videos or len(frames) != len(photos):
        raise GanimateError(
            f"--aus {path}: cannot match its {len(frames)} frames to {len(photos)} photos and "
            f"{len(videos)} videos; give a CSV with a file-name column, a folder of per-image "
            "CSVs (OpenFace FaceLandmarkImg), or the CSV of a single video"
        )
    frame_rank = {f: r for r, f in enumerate(frames)}
    for i in np.flatnonzero(ok):
        disp = photos[frame_rank[int(table.frames[i])]][1]
        by_source.setdefault(disp, {})[(0, int(table.faces[i]))] = table.aus[i]
    return _OpenFaceLabels(by_source, path)


# ---------------------------------------------------------------------------------------------
# Writing the dataset files
# ---------------------------------------------------------------------------------------------


def _finalize(out: Path, config: PrepareConfig, tasks: list[_Task], done: dict[str, dict],
              openface: _OpenFaceLabels | None, report: PrepareReport) -> None:
    present = {t.source for t in tasks}
    # Sources of earlier runs that this run was not given stay in the dataset (a dataset grows).
    entries = sorted(done.values(), key=lambda e: e["source"])
    rows, raw, rejected = _collect_rows(entries, present, openface)
    raw_arr = np.stack(raw) if raw else np.zeros((0, len(AU_NAMES)), np.float32)
    labels, calibration = _calibrate(raw_arr, openface, config, out)
    ids_train, ids_test = _split_ids(rows, config)
    header = ["id", *AU_NAMES]
    fmt = lambda arr: [f"{v:.4f}" for v in arr]  # noqa: E731
    write_text(out / "aus.csv", _csv_text(header, [[r[0], *fmt(y)] for r, y in
                                                    zip(rows, labels, strict=True)]))
    if openface is None:
        write_text(out / "aus_raw.csv", _csv_text(header, [[r[0], *fmt(y)] for r, y in
                                                            zip(rows, raw_arr, strict=True)]))
    write_text(out / "sources.csv", _csv_text(["id", "source", "frame", "face"], rows))
    write_text(out / "rejected.csv", _csv_text(["source", "frame", "reason", "detail"],
                                                rejected))
    write_text(out / "train.txt", "".join(f"{i}\n" for i in ids_train))
    write_text(out / "test.txt", "".join(f"{i}\n" for i in ids_test))
    meta = _dataset_meta(config, openface is not None, len(rows), calibration)
    write_text(out / "meta.json", json.dumps(meta, indent=2) + "\n")
    report.count = len(rows)
    report.train, report.test = len(ids_train), len(ids_test)
    report.rejected = Counter(r[2] for r in rejected)
    report.first_rejected = [Rejection(*r) for r in rejected[:_SHOWN_REJECTIONS]]


def _collect_rows(entries: list[dict], present: set[str], openface: _OpenFaceLabels | None
                  ) -> tuple[list[tuple], list[np.ndarray], list[list]]:
    """(id, source, frame, face) rows, their raw AU labels and the rejected rows of the journal's
    entries; with OpenFace labels, a face without one is rejected."""
    rows, raw, rejected = [], [], []
    for entry in entries:
        src = entry["source"]
        for r in entry["rejected"]:
            rejected.append([src, r["frame"], r["reason"], r.get("detail", "")])
        for r in entry["rows"]:
            if openface is not None and src in present:
                label = openface.by_source.get(src, {}).get((r["frame"], r["face"]))
                if label is None:
                    detail = f"face {r['face']}: no successful row in {openface.path.name}"
                    rejected.append([src, r["frame"], NO_LABEL, detail])
                    continue
                raw.append(np.asarray(label, np.float32))
            else:
                raw.append(np.asarray(r["aus"], np.float32))
            rows.append((r["id"], src, r["frame"], r["face"]))
    return rows, raw, rejected


def _calibrate(raw: np.ndarray, openface: _OpenFaceLabels | None, config: PrepareConfig,
               out: Path) -> tuple[np.ndarray, AUCalibration | None]:
    """(labels, calibration): estimated labels mapped to [0, 1] by their robust percentiles
    when asked and there are enough of them; OpenFace labels as they are."""
    if openface is not None or not config.calibrate:
        return raw, None
    if len(raw) < 20:
        if len(raw):  # none: the run fails on its empty dataset, a warning would be noise
            log.warning("%s: only %d crops; AU labels left uncalibrated (need 20)", out, len(raw))
        return raw, None
    calibration = AUCalibration.fit(raw)
    return calibration.apply(raw), calibration


def _split_ids(rows: list[tuple], config: PrepareConfig) -> tuple[list[str], list[str]]:
    """(train ids, test ids), split by person; a small dataset keeps at least one test
    source."""
    splits = {src: _split_of(src, config.split_by, config.test_fraction)
              for src in {r[1] for r in rows}}
    ids_train = [r[0] for r in rows if splits[r[1]] == "train"]
    ids_test = [r[0] for r in rows if splits[r[1]] == "test"]
    if not ids_test and len(splits) > 1 and config.test_fraction > 0:
        last = sorted(splits)[-1]
        ids_test = [r[0] for r in rows if r[1] == last]
        ids_train = [r[0] for r in rows if r[1] != last]
    return ids_train, ids_test


def _dataset_meta(config: PrepareConfig, openface: bool, count: int,
                  calibration: AUCalibration | None) -> dict:
    return {
        "format": "ganimate-dataset",
        "version": 1,
        "size": config.size,
        "image_ext": config.image_format,
        "au_names": list(AU_NAMES),
        "au_source": "openface" if openface else "mesh",
        "created_by": f"ganimate {__version__}",
        "count": count,
        "framing": "ganimate-v1",
        "estimator": None if openface else config.estimator,
        "au_calibration": None if calibration is None else calibration.to_dict(),
        "split_by": config.split_by,
        "test_fraction": config.test_fraction,
        "every": config.every,
    }


# ---------------------------------------------------------------------------------------------
# The original GANimation layout
# ---------------------------------------------------------------------------------------------


def build_dataset(sources: Sequence[str | os.PathLike], out: str | os.PathLike,
                  config: PrepareConfig = PrepareConfig()) -> PrepareReport:
    """`ganimate prepare`: one folder in GANimation's layout is converted (resized to
    ``config.size`` when that is not the default); anything else goes to
    :func:`prepare_dataset`. A run that keeps no crop fails and leaves the output as it was."""
    convert = len(sources) == 1 and is_original_layout(sources[0])
    if not convert and config.openface is not None and not config.openface.exists():
        raise GanimateError(f"--aus {config.openface}: no such file or folder")
    check_output(out, "--out", folder=True)
    before = _OutputBefore.take(Path(out))
    if convert:
        size = config.size if config.size != PrepareConfig.size else None
        report = convert_original_layout(sources[0], out, size=size,
                                         image_format=config.image_format)
    else:
        report = prepare_dataset(sources, out, config)
    if report.count == 0:  # no half-made dataset: take back what this run wrote
        before.restore()
    report.require_crops()
    return report


@dataclass(frozen=True)
class _OutputBefore:
    """What the output folder held before a run, so that a run that made no dataset can take
    back what it wrote (and never what was there before: a continued dataset, the user's files).
    """

    out: Path
    existed: bool
    names: frozenset[str]  # entries of out, out/images and out/.prepare ("images/a.jpg")

    @classmethod
    def take(cls, out: Path) -> _OutputBefore:
        if not out.is_dir():
            return cls(out, out.exists(), frozenset())
        names = set(os.listdir(out))
        for sub in ("images", ".prepare"):
            if (out / sub).is_dir():
                names.update(f"{sub}/{name}" for name in os.listdir(out / sub))
        return cls(out, True, frozenset(names))

    def restore(self) -> None:
        """Remove what the run added: the output folder if the run made it, else the dataset
        files and crops that were not there before."""
        if not self.existed:
            shutil.rmtree(self.out, ignore_errors=True)
            return
        new = [self.out / n for n in _DATASET_FILES if n not in self.names]
        for sub in ("images", ".prepare"):
            if sub in self.names and (self.out / sub).is_dir():
                new += [p for p in (self.out / sub).iterdir()
                        if f"{sub}/{p.name}" not in self.names]
        for path in new:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def is_original_layout(path: str | os.PathLike) -> bool:
    p = Path(path)
    return p.is_dir() and (p / "aus_openface.pkl").is_file() and (p / "imgs").is_dir()


def convert_original_layout(src: str | os.PathLike, out: str | os.PathLike,
                            size: int | None = None, image_format: str = "jpg",
                            quality: int = 95) -> PrepareReport:
    """Convert GANimation's layout (imgs/, aus_openface.pkl, train/test_ids.csv) to ours.

    The crops are copied as they are (their framing is the original tool's, noted in meta.json as
    ``framing: original``), resized when ``size`` differs; the labels are the pickle's OpenFace
    intensities divided by 5; the split is the layout's own.
    """
    start = time.perf_counter()
    out = Path(out)
    if (out / "meta.json").is_file():
        raise GanimateError(f"{out}: already holds a dataset; choose a new --out folder")
    layout = load_original_layout(src)
    if not layout.ids:
        raise GanimateError(f"{src}: no image has AUs in aus_openface.pkl")
    (out / "images").mkdir(parents=True, exist_ok=True)
    ids, rejected, kept, crop_size = _copy_original_crops(layout, out, size, image_format,
                                                          quality)
    aus = layout.aus[kept]
    new = {o: n for o, n, _ in ids}
    train = [new[i] for i in layout.train_ids if i in new]
    test = [new[i] for i in layout.test_ids if i in new]
    write_text(out / "aus.csv", _csv_text(["id", *AU_NAMES], [
        [n, *[f"{v:.4f}" for v in y]] for (_, n, _), y in zip(ids, aus, strict=True)]))
    write_text(out / "sources.csv", _csv_text(["id", "source", "frame", "face"],
                                               [[n, f"imgs/{name}", 0, 0] for _, n, name in ids]))
    write_text(out / "rejected.csv", _csv_text(["source", "frame", "reason", "detail"],
                                                rejected))
    write_text(out / "train.txt", "".join(f"{i}\n" for i in train))
    write_text(out / "test.txt", "".join(f"{i}\n" for i in test))
    meta = {"format": "ganimate-dataset", "version": 1, "size": crop_size,
            "image_ext": image_format, "au_names": list(AU_NAMES), "au_source": "ganimation",
            "created_by": f"ganimate {__version__}", "count": len(ids), "framing": "original",
            "converted_from": str(Path(src).resolve())}
    write_text(out / "meta.json", json.dumps(meta, indent=2) + "\n")
    report = PrepareReport(out=out, count=len(ids), train=len(train), test=len(test),
                           processed=len(layout.ids), rejected=Counter(r[2] for r in rejected),
                           first_rejected=[Rejection(*r) for r in rejected[:_SHOWN_REJECTIONS]])
    report.seconds = time.perf_counter() - start
    return report


def _copy_original_crops(layout, out: Path, size: int | None, image_format: str,
                         quality: int) -> tuple[list[tuple], list[list], list[int], int | None]:
    """Copy (or resize and write) the layout's crops into out/images: (original id, new id,
    file name) per crop, rejected rows, indices kept, crop size."""
    ids, rejected, kept = [], [], []
    crop_size = size
    for i, (orig_id, path) in enumerate(zip(layout.ids, layout.image_paths, strict=True)):
        new_id = safe_name(orig_id)
        try:
            rgb = read_rgb(path)
        except GanimateError as exc:
            rejected.append([path.name, 0, UNREADABLE, str(exc).split(": ", 1)[-1][:200]])
            continue
        if crop_size is None:
            crop_size = rgb.shape[0]
        if rgb.shape[:2] != (crop_size, crop_size):
            from PIL import Image

            rgb = np.asarray(Image.fromarray(rgb).resize((crop_size, crop_size),
                                                          Image.Resampling.LANCZOS))
        dst = out / "images" / f"{new_id}.{image_format}"
        if path.suffix.lower() == f".{image_format}" and rgb.shape[0] == read_rgb(path).shape[0]:
            shutil.copyfile(path, dst)  # no re-encoding of the JPEGs as they are
        else:
            write_image(dst, rgb, quality=quality)
        ids.append((orig_id, new_id, path.name))
        kept.append(i)
    return ids, rejected, kept, crop_size
