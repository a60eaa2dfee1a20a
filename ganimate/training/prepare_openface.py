"""AU labels from OpenFace instead of the estimator: the rows of an OpenFace CSV (or a folder of
per-image CSVs) matched to the sources of a prepare run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import OpenFaceTable, read_openface_csv
from ganimate.video import is_video


@dataclass
class OpenFaceLabels:
    by_source: dict[str, dict[tuple[int, int], np.ndarray]]  # source -> (frame, face) -> AUs
    path: Path


def load_openface(path: Path, inputs: list[tuple[Path, str]]) -> OpenFaceLabels:
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
        return OpenFaceLabels(by_source, path)
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
        return OpenFaceLabels(by_source, path)
    videos = [(f, d) for f, d in inputs if is_video(f)]
    if len(inputs) == 1 and videos:
        by_source[videos[0][1]] = {(int(table.frames[i]) - 1, int(table.faces[i])): table.aus[i]
                                   for i in np.flatnonzero(ok)}
        return OpenFaceLabels(by_source, path)
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
    return OpenFaceLabels(by_source, path)
