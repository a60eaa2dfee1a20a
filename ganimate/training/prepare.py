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

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ganimate import progress
from ganimate.errors import GanimateError
from ganimate.files import check_output, safe_name
from ganimate.images import IMAGE_SUFFIXES
from ganimate.training.config import PrepareConfig
from ganimate.training.prepare_crops import CropTask, run_crop_tasks
from ganimate.training.prepare_openface import load_openface
from ganimate.training.prepare_original import convert_original_layout, is_original_layout
from ganimate.training.prepare_output import PrepareReport, finalize_dataset
from ganimate.video import VIDEO_SUFFIXES, find_inputs, is_video

JOURNAL = Path(".prepare") / "journal.jsonl"

# What `ganimate prepare` writes in its output folder (besides the crops in images/).
_DATASET_FILES = ("images", ".prepare", "aus.csv", "aus_raw.csv", "sources.csv", "rejected.csv",
                  "train.txt", "test.txt", "meta.json")


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def _tasks(inputs: list[tuple[Path, str]]) -> list[CropTask]:
    """One task per input, with crop-id prefixes unique even when two display paths sanitise to
    the same text."""
    tasks: list[CropTask] = []
    used: set[str] = set()
    for path, disp in inputs:
        base = safe_name(str(Path(disp).with_suffix("")).replace("/", "_"))
        if base in used:
            base = f"{base}_{hashlib.sha1(disp.encode()).hexdigest()[:6]}"
        used.add(base)
        st = path.stat()
        tasks.append(CropTask(f"{disp}|{st.st_size}|{st.st_mtime_ns}", str(path), disp, base,
                              is_video(path)))
    return tasks


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
    openface = load_openface(config.openface, inputs) if config.openface else None
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
            run_crop_tasks(todo, config, out, record, progress)

    finalize_dataset(out, config, tasks, done, openface, report)
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
