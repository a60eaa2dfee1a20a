"""AU values from a file (``--aus-file``): a JSON object or list, or a row of a ``ganimate aus`` or
OpenFace CSV, picked by ``--row``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES, read_csv_rows

# ---------------------------------------------------------------------------------------------
# AU values from files (--aus-file) and target composition
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AUValues:
    """AU intensities in [0, 1] by name, read from a file; may name only some AUs."""

    values: dict[str, float]
    source: str = ""

    def complete(self, au_names: Sequence[str] = AU_NAMES) -> bool:
        return all(n in self.values for n in au_names)


def au_columns(columns: Sequence[str], au_names: Sequence[str]) -> dict[str, tuple[str, float]]:
    """Map AU names to (column, scale): ``AU12``/``au12`` are [0, 1]; OpenFace ``AU12_r`` is 0-5.

    OpenFace's presence columns (``AU12_c``) and anything that is not an AU are ignored.
    """
    found: dict[str, tuple[str, float]] = {}
    for col in columns:
        key = col.strip()
        m = re.fullmatch(r"[Aa][Uu]\s*(\d+)(_[rRcC])?", key)
        if m is None or (m.group(2) or "").lower() == "_c":
            continue
        name = f"AU{int(m.group(1)):02d}"
        if name in au_names:
            found[name] = (col, 0.2 if m.group(2) else 1.0)
    return found


def _check_range(values: dict[str, float], where: str) -> dict[str, float]:
    for name, v in values.items():
        if not np.isfinite(v) or not 0.0 <= v <= 1.0:
            raise GanimateError(
                f"{where}: {name} = {v} is outside [0, 1]; AU intensities are FACS 0-5 divided by "
                "5 (OpenFace columns named AU12_r are divided for you)"
            )
    return values


def read_aus_file(path: str | os.PathLike, row: int | None = None,
                  au_names: Sequence[str] = AU_NAMES) -> AUValues:
    """Read the AU values for ``--aus-file``.

    Accepted: a JSON object ``{"AU12": 0.8, ...}`` (other keys ignored; only the AUs it names are
    set), a JSON list of numbers (a full vector in ``au_names`` order), a JSON list of objects
    (pick one with ``row``), or a CSV as ``ganimate aus`` writes it (columns ``AU01``... plus others
    that are ignored; OpenFace's ``AU01_r`` 0-5 columns are divided by 5); pick a data row with
    ``row`` (0-based) when there is more than one.
    """
    path = Path(path)
    if not path.is_file():
        raise GanimateError(f"--aus-file {path}: no such file")
    if path.suffix.lower() == ".json":
        values = _json_au_values(path, row, au_names)
    else:
        values = _csv_au_values(path, row, au_names)
    if not values:
        raise GanimateError(f"--aus-file {path}: names none of the AUs {' '.join(au_names)}")
    return AUValues(_check_range(values, f"--aus-file {path}"), str(path))


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _json_au_values(path: Path, row: int | None, au_names: Sequence[str]) -> dict[str, float]:
    """The AU values of a JSON --aus-file: an object, a list of numbers, or a list of objects."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GanimateError(f"--aus-file {path}: not valid JSON ({exc})") from exc
    if isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        data = _pick_row(data, row, path)
    if isinstance(data, list):
        if len(data) != len(au_names) or not all(_is_number(v) for v in data):
            raise GanimateError(
                f"--aus-file {path}: a JSON list must hold {len(au_names)} numbers in the "
                f"order {' '.join(au_names)}, or be a list of objects"
            )
        return dict(zip(au_names, map(float, data), strict=True))
    if not isinstance(data, dict):
        raise GanimateError(
            f"--aus-file {path}: expected a JSON object of AU values, e.g. {{\"AU12\": 0.8}}"
        )
    values = {}
    for name, (col, scale) in au_columns(list(data), au_names).items():
        v = data[col]
        if not _is_number(v):
            raise GanimateError(f"--aus-file {path}: {col} must be a number, got {v!r}")
        values[name] = float(v) * scale
    return values


def _csv_au_values(path: Path, row: int | None, au_names: Sequence[str]) -> dict[str, float]:
    """The AU values of one row of a `ganimate aus` (or OpenFace) CSV --aus-file."""
    columns, rows = read_csv_rows(path)
    au_cols = au_columns(columns, au_names)
    if not au_cols:
        raise GanimateError(
            f"--aus-file {path}: no AU columns (expected columns named like AU01 ... AU45, "
            "as `ganimate aus` writes them)"
        )
    picked = _pick_row(rows, row, path)
    values = {}
    for name, (col, scale) in au_cols.items():
        try:
            values[name] = float(picked[col]) * scale
        except (KeyError, ValueError):
            raise GanimateError(
                f"--aus-file {path}: row {row or 0} has no number in column {col!r} "
                "(no face in that frame?); pick another --row"
            ) from None
    return values


def _pick_row(rows: list, row: int | None, path: Path):
    if not rows:
        raise GanimateError(f"--aus-file {path}: has no data rows")
    if row is None:
        if len(rows) > 1:
            raise GanimateError(
                f"--aus-file {path}: has {len(rows)} rows; pick one with --row N (0-based)"
            )
        return rows[0]
    if not 0 <= row < len(rows):
        raise GanimateError(
            f"--aus-file {path}: --row {row} is out of range; it has {len(rows)} rows (0-based)"
        )
    return rows[row]
