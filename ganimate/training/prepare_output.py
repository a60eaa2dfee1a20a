"""The dataset files of a prepare run (aus.csv, aus_raw.csv, sources.csv, rejected.csv, the
splits, meta.json), written from its journal, and the report of the run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES, AUCalibration
from ganimate.files import write_text
from ganimate.training.config import PrepareConfig
from ganimate.training.prepare_crops import NO_LABEL, CropTask
from ganimate.training.prepare_openface import OpenFaceLabels
from ganimate.version import __version__

log = logging.getLogger("ganimate")


# The rows of rejected.csv that the error of an empty dataset shows.
SHOWN_REJECTIONS = 3


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


# ---------------------------------------------------------------------------------------------
# Writing the dataset files
# ---------------------------------------------------------------------------------------------


def _split_of(source: str, split_by: str, test_fraction: float) -> str:
    p = Path(source)
    key = {"source": source, "stem": p.stem, "folder": p.parent.as_posix()}[split_by]
    h = int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "big") / 2.0**64
    return "test" if h < test_fraction else "train"


def csv_text(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def finalize_dataset(out: Path, config: PrepareConfig, tasks: list[CropTask], done: dict[str, dict],
                     openface: OpenFaceLabels | None, report: PrepareReport) -> None:
    present = {t.source for t in tasks}
    # Sources of earlier runs that this run was not given stay in the dataset (a dataset grows).
    entries = sorted(done.values(), key=lambda e: e["source"])
    rows, raw, rejected = _collect_rows(entries, present, openface)
    raw_arr = np.stack(raw) if raw else np.zeros((0, len(AU_NAMES)), np.float32)
    labels, calibration = _calibrate(raw_arr, openface, config, out)
    ids_train, ids_test = _split_ids(rows, config)
    header = ["id", *AU_NAMES]
    fmt = lambda arr: [f"{v:.4f}" for v in arr]  # noqa: E731
    write_text(out / "aus.csv", csv_text(header, [[r[0], *fmt(y)] for r, y in
                                                    zip(rows, labels, strict=True)]))
    if openface is None:
        write_text(out / "aus_raw.csv", csv_text(header, [[r[0], *fmt(y)] for r, y in
                                                            zip(rows, raw_arr, strict=True)]))
    write_text(out / "sources.csv", csv_text(["id", "source", "frame", "face"], rows))
    write_text(out / "rejected.csv", csv_text(["source", "frame", "reason", "detail"],
                                                rejected))
    write_text(out / "train.txt", "".join(f"{i}\n" for i in ids_train))
    write_text(out / "test.txt", "".join(f"{i}\n" for i in ids_test))
    meta = _dataset_meta(config, openface is not None, len(rows), calibration)
    write_text(out / "meta.json", json.dumps(meta, indent=2) + "\n")
    report.count = len(rows)
    report.train, report.test = len(ids_train), len(ids_test)
    report.rejected = Counter(r[2] for r in rejected)
    report.first_rejected = [Rejection(*r) for r in rejected[:SHOWN_REJECTIONS]]


def _collect_rows(entries: list[dict], present: set[str], openface: OpenFaceLabels | None
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


def _calibrate(raw: np.ndarray, openface: OpenFaceLabels | None, config: PrepareConfig,
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
