"""AU tables of photos, folders and videos: the rows that `ganimate aus` prints.

One row per face per photo or video frame (:class:`AURow`); :func:`scan_aus` streams them for a
photo, a folder of photos and videos, or a video (tracked faces, optionally baselined per person).
``TABLE_COLUMNS`` is the stable column order of the CSV and JSON output (docs/aus.md).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import (
    AU_DESCRIPTIONS,
    AU_NAMES,
    DEFAULT_ESTIMATOR,
    AUEstimator,
    FaceMesh,
    FaceTracker,
    NeutralBaseline,
)
from ganimate.images import read_rgb
from ganimate.video import find_inputs, is_video, iter_video_frames

# Imported in the functions that use them, on purpose (start-up): rich (where a table or bar is
# drawn).

# Columns of `ganimate aus` CSV/JSON output, a stable interface (docs/aus.md): ``source`` the file
# (relative to the folder given), ``frame`` the video frame index (0 for photos), ``time`` in
# seconds (0 for photos), ``face`` the face index (photos: left to right; videos: the track id,
# stable while the face is followed), ``box`` in frame pixels ("x0 y0 x1 y1" in CSV, [x0, y0, x1,
# y1] in JSON), then the AUs.
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
        """The row as CSV writes it: ``box`` is one text field, "x0 y0 x1 y1"."""
        d = {"source": self.source, "frame": self.frame, "time": round(self.time, 4),
             "face": self.face, "box": " ".join(f"{v:.1f}" for v in self.box)}
        d.update({n: round(float(v), 4) for n, v in zip(AU_NAMES, self.aus, strict=True)})
        return d

    def as_json(self) -> dict:
        """The row as JSON writes it: :meth:`as_dict` with ``box`` as four numbers."""
        return {**self.as_dict(), "box": [round(float(v), 1) for v in self.box]}


@dataclass
class AUScanProblem:
    """An input that produced no row, and why (unreadable, no face...)."""

    source: str
    reason: str


def _video_rows(file: Path, disp: str, est: AUEstimator, every: int, baseline: bool,
                note) -> Iterator[AURow]:
    """The rows of a video's tracked faces (``face`` is the track id), per-track baselined."""
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
            return
    if not found:
        note(disp, "no face")


def scan_aus(paths: str | os.PathLike | Sequence[str | os.PathLike],
             method: str = DEFAULT_ESTIMATOR, every: int = 1, baseline: bool = False,
             problems: list[AUScanProblem] | None = None) -> Iterable[AURow]:
    """AU rows of photos, videos and folders of them, streamed (one per face per frame).

    Videos use the face tracker (``face`` is the track id) and, with ``baseline``, a per-track
    :class:`NeutralBaseline`. Files that give nothing are appended to ``problems`` (if given).
    """
    est = AUEstimator(method)
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    inputs = find_inputs(paths)
    if not inputs:
        raise GanimateError(f"{' '.join(map(str, paths))}: no photos or videos in it")

    def note(source: str, reason: str) -> None:
        if problems is not None:
            problems.append(AUScanProblem(source, reason))

    mesh = None
    try:
        for file, disp in inputs:
            if is_video(file):
                yield from _video_rows(file, disp, est, every, baseline, note)
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


# --- output of `ganimate aus` ------------------------------------------------------------------

AU_FORMATS = ("table", "csv", "json")


@dataclass(frozen=True)
class AUListing:
    """How `ganimate aus` lists AUs; every field is one of its options (checked here)."""

    # table, csv or json; None: a table on a terminal, csv otherwise (--format).
    fmt: str | None = None
    # AU estimator: mesh, inversion or geometric (--estimator).
    estimator: str = DEFAULT_ESTIMATOR
    # Videos: every k-th frame (--every).
    every: int = 1
    # Videos: subtract each person's neutral baseline (--baseline).
    baseline: bool = False

    def __post_init__(self):
        if self.fmt is not None and self.fmt not in AU_FORMATS:
            raise GanimateError(f"--format {self.fmt}: use table, csv or json")
        if self.every < 1:
            raise GanimateError(f"--every {self.every}: must be 1 or more")


class AURendering:
    """The output of `ganimate aus`, for the CLI to write: :attr:`chunks` yields text (CSV and
    JSON, streamed row by row) or one rich table; :attr:`count` (rows) and :attr:`problems`
    (inputs that gave no row, and why) are complete once the chunks are consumed."""

    def __init__(self, rows: Iterable[AURow], fmt: str, problems: list[AUScanProblem]):
        self.count = 0
        self.problems = problems
        self._rows, self._fmt = rows, fmt

    @property
    def chunks(self) -> Iterator:
        return {"csv": self._csv, "json": self._json, "table": self._table}[self._fmt]()

    def _counted(self) -> Iterator[AURow]:
        for row in self._rows:
            self.count += 1
            yield row

    def _csv(self) -> Iterator[str]:
        """The header with the first row (nothing at all when no face is found), then a row at
        a time, as they are measured."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=TABLE_COLUMNS, lineterminator="\n")
        for row in self._counted():
            if self.count == 1:
                writer.writeheader()
            writer.writerow(row.as_dict())
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    def _json(self) -> Iterator[str]:
        yield "["
        for row in self._counted():
            yield ("\n" if self.count == 1 else ",\n") + json.dumps(row.as_json())
        yield "\n]\n" if self.count else "]\n"

    def _table(self) -> Iterator:
        """A few faces read best one column per face (AU names and descriptions down the side);
        many rows (folders, videos) get one line each, with short AU headers to fit a
        terminal."""
        rows = list(self._counted())
        yield _face_columns(rows) if 0 < len(rows) <= 4 else _row_lines(rows)


def render_aus(paths: str | os.PathLike | Sequence[str | os.PathLike], listing: AUListing,
               terminal: bool = False) -> AURendering:
    """Scan ``paths`` (lazily) and render their rows as ``listing.fmt`` (``terminal`` picks a
    table when no format is given)."""
    fmt = listing.fmt or ("table" if terminal else "csv")
    problems: list[AUScanProblem] = []
    rows = scan_aus(paths, method=listing.estimator, every=listing.every,
                    baseline=listing.baseline, problems=problems)
    return AURendering(rows, fmt, problems)


def _face_columns(rows: list[AURow]):
    from rich.table import Table


    table = Table("AU", "", *[f"{r.source} #{r.face}" if r.frame == 0
                              else f"{r.source} f{r.frame} #{r.face}" for r in rows], box=None)
    for i, name in enumerate(AU_NAMES):
        table.add_row(name, AU_DESCRIPTIONS[name], *[f"{r.aus[i]:.2f}" for r in rows])
    return table


def _row_lines(rows: list[AURow]):
    from rich.table import Table

    table = Table(box=None, pad_edge=False, title="AU intensities (columns: AU numbers)")
    width = min(28, max((len(r.source) for r in rows), default=6))
    table.add_column("source", min_width=width, no_wrap=True, overflow="ellipsis")
    table.add_column("frame", justify="right", min_width=5)
    table.add_column("face", justify="right", min_width=4)
    for n in AU_NAMES:
        table.add_column(n[2:], min_width=3)
    for r in rows:
        table.add_row(r.source, str(r.frame), str(r.face),
                      *[f"{v:.2f}"[1:] if v < 1 else "1.0" for v in r.aus])
    return table
