"""OpenFace 2.x CSV files (``AU01_r`` ... in FACS 0-5): the one reader of AU tables on disk.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces.au_names import AU_NAMES


@dataclass
class OpenFaceTable:
    """The AU intensities of an OpenFace 2.x CSV (FeatureExtraction or FaceLandmarkImg output)."""

    path: Path
    frames: np.ndarray  # int (N,): OpenFace's 1-based frame number (0 when the file has none)
    faces: np.ndarray  # int (N,): face_id (0 when the file has none)
    timestamps: np.ndarray  # float (N,) seconds (NaN when the file has none)
    success: np.ndarray  # bool (N,): OpenFace tracked the face in that row
    confidence: np.ndarray  # float (N,)
    aus: np.ndarray  # float32 (N, 17) in [0, 1]: the AUxx_r columns (0-5) divided by 5
    au_names: tuple[str, ...] = AU_NAMES
    extra: dict[str, list[str]] = field(default_factory=dict)  # other text columns (file names)


def read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The one reader of AU tables in CSV (``ganimate aus``, OpenFace, ``--aus-file``,
    ``--track``): the stripped column names, and each row as column -> stripped text ('' for a
    missing cell)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh, skipinitialspace=True)
            rows = list(reader)
            columns = [c.strip() for c in (reader.fieldnames or [])]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise GanimateError(f"{path}: cannot read CSV ({exc})") from exc
    # DictReader puts surplus cells under the key None as a list; they are not ours to read.
    rows = [{(k or "").strip(): v.strip() if isinstance(v, str) else "" for k, v in r.items()}
            for r in rows]
    return columns, rows


def read_openface_csv(path: str | os.PathLike,
                      au_names: Sequence[str] = AU_NAMES) -> OpenFaceTable:
    """Read OpenFace's CSV (``AU01_r``... 0-5 columns, spaces after the commas) to [0, 1]."""
    path = Path(path)
    if not path.is_file():
        raise GanimateError(f"{path}: no such OpenFace CSV file")
    header, rows = read_csv_rows(path)
    rows = [r for r in rows if any(r.values())]
    col = set(header)
    missing = [n for n in au_names if f"{n}_r" not in col]
    if missing:
        raise GanimateError(
            f"{path}: not an OpenFace AU file: no intensity columns "
            f"{', '.join(m + '_r' for m in missing)} (run OpenFace's FeatureExtraction with -aus)"
        )

    def numbers(name: str, default: float) -> np.ndarray:
        if name not in col:
            return np.full(len(rows), default, dtype=np.float64)
        out = np.empty(len(rows), dtype=np.float64)
        for k, r in enumerate(rows):
            try:
                out[k] = float(r.get(name, ""))
            except ValueError:
                raise GanimateError(
                    f"{path}: row {k + 2}, column {name}: {r.get(name, '')!r} is not a number"
                ) from None
        return out

    aus = np.stack([numbers(f"{n}_r", 0.0) for n in au_names], axis=1) / 5.0 \
        if rows else np.zeros((0, len(au_names)))
    extra = {}
    for name in ("filename", "file", "input", "image", "name", "path"):
        if name in col:
            extra[name] = [r.get(name, "") for r in rows]
    return OpenFaceTable(
        path=path,
        frames=numbers("frame", 0).astype(np.int64),
        faces=numbers("face_id", 0).astype(np.int64) if "face_id" in col
        else numbers("face", 0).astype(np.int64),
        timestamps=numbers("timestamp", math.nan),
        success=numbers("success", 1) > 0.5,
        confidence=numbers("confidence", 1.0),
        aus=np.clip(aus, 0.0, 1.0).astype(np.float32),
        au_names=tuple(au_names),
        extra=extra,
    )
