"""Keyframe files (``--ramp keys.csv|keys.json``): alpha and AU values at chosen times, eased in
between; what `ganimate studio` exports and imports.

A keyframe is a TIME (as in ``--ramp``: ``1.5s``, ``200ms``, ``38``/``38f``, ``50%``), an ALPHA
(default 1), an EASING for the segment that ends at it (default ``--easing``) and values for
some AUs. Each AU named by any keyframe is a curve through the keyframes that name it, held before
its first and after its last; an AU no keyframe names stays the face's own. CSV::

    time,alpha,easing,AU12,AU06
    0s,0,,0.80,0.60
    1.5s,1,cosine,0.80,0.60
    4s,1,linear,0.10,

JSON: a list of objects (or ``{"keyframes": [...]}``), e.g. ``{"time": "1.5s", "alpha": 1,
"easing": "cosine", "AU12": 0.8}``. An empty CSV cell or a missing JSON key leaves that AU
unkeyed at that keyframe.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES, read_csv_rows
from ganimate.files import write_text
from ganimate.targets.au_file import au_columns
from ganimate.targets.timeline import EASINGS, AlphaSchedule, keyframe_position

# The suffixes that make ``--ramp`` a keyframe file rather than TIME:ALPHA text.
KEYFRAME_SUFFIXES = (".csv", ".json")


def is_keyframe_file(ramp: str | os.PathLike | None) -> bool:
    """Whether a ``--ramp`` value names a keyframe file (by its suffix)."""
    return ramp is not None and Path(ramp).suffix.lower() in KEYFRAME_SUFFIXES


@dataclass(frozen=True)
class KeyframeRow:
    """One keyframe as written in a file."""

    time: str  # TIME as in --ramp: 1.5s, 200ms, 38 or 38f (frames), 50%
    alpha: float = 1.0  # how far toward the keyframe's AUs (0: the face as filmed)
    easing: str | None = None  # easing of the segment that ends here; None: the default
    values: dict[str, float] = field(default_factory=dict)  # AU name -> intensity in [0, 1]


@dataclass(frozen=True)
class AUCurves:
    """Keyed AUs over frames: one eased curve per AU that some keyframe names."""

    au_names: tuple[str, ...]
    curves: tuple[tuple[int, AlphaSchedule], ...]  # (index into au_names, curve over frames)

    def at(self, frame: float) -> np.ndarray:
        """(K,) float32: the keyed AUs at a (fractional) frame position, NaN where unkeyed."""
        out = np.full(len(self.au_names), np.nan, dtype=np.float32)
        for k, curve in self.curves:
            out[k] = curve(frame)
        return out


@dataclass(frozen=True)
class Keyframes:
    """A keyframe file read for one clip: alpha over its frames and the keyed AU curves."""

    schedule: AlphaSchedule
    curves: AUCurves | None  # None: the file keys no AU (alpha only)


def _error(path: Path, message: str) -> GanimateError:
    return GanimateError(f"--ramp {path}: {message}")


def _number(text, path: Path, where: str, scale: float = 1.0) -> float:
    try:
        value = float(text) * scale
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or not 0.0 <= value <= 1.0:
        raise _error(path, f"{where} = {text!r} must be a number in [0, 1]")
    return value


def _row(raw: dict, path: Path, i: int, au_cols: dict[str, tuple[str, float]]) -> KeyframeRow:
    """One file row (column -> value) as a KeyframeRow; values checked."""
    time = raw.get("time")
    if time is None or str(time).strip() == "":
        raise _error(path, f"keyframe {i + 1} has no time")
    alpha = raw.get("alpha")
    alpha = 1.0 if alpha is None or alpha == "" else _number(alpha, path, f"keyframe {i + 1} alpha")
    easing = raw.get("easing") or None
    if easing is not None:
        easing = str(easing).strip().lower()
        if easing not in EASINGS:
            raise _error(path, f"keyframe {i + 1}: unknown easing {easing!r}; use one of "
                               f"{', '.join(EASINGS)}")
    values = {}
    for name, (col, scale) in au_cols.items():
        cell = raw.get(col)
        if cell is None or cell == "":
            continue
        values[name] = _number(cell, path, f"keyframe {i + 1} {col}", scale)
    return KeyframeRow(str(time).strip(), alpha, easing, values)


def _json_rows(path: Path) -> list[dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _error(path, f"not valid JSON ({exc})") from exc
    if isinstance(data, dict):
        data = data.get("keyframes")
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise _error(path, 'expected a JSON list of keyframes, e.g. [{"time": "0s", "alpha": 0}, '
                           '{"time": "1.5s", "AU12": 0.8}]')
    return data


def read_keyframe_rows(path: str | os.PathLike,
                       au_names: Sequence[str] = AU_NAMES) -> list[KeyframeRow]:
    """The keyframes of a CSV or JSON keyframe file, in file order, values checked."""
    path = Path(path)
    if not path.is_file():
        raise _error(path, "no such file")
    if path.suffix.lower() == ".json":
        raw = _json_rows(path)
        columns = sorted({k for r in raw for k in r})
    else:
        columns, raw = read_csv_rows(path)
        raw = [r for r in raw if any(r.values())]
    if "time" not in columns:
        raise _error(path, "needs a time column (TIME as in --ramp: 1.5s, 38f, 50%)")
    if not raw:
        raise _error(path, "holds no keyframe")
    au_cols = au_columns(columns, au_names)
    return [_row(r, path, i, au_cols) for i, r in enumerate(raw)]


def read_keyframes(path: str | os.PathLike, fps: float, n_frames: int,
                   au_names: Sequence[str] = AU_NAMES, easing: str = "linear") -> Keyframes:
    """A keyframe file for a clip of ``n_frames`` at ``fps``: alpha and keyed AU curves."""
    path = Path(path)
    return keyframes_of(read_keyframe_rows(path, au_names), fps, n_frames, au_names, easing,
                        str(path))


def keyframes_of(rows: Sequence[KeyframeRow], fps: float, n_frames: int,
                 au_names: Sequence[str] = AU_NAMES, easing: str = "linear",
                 where: str = "keyframes") -> Keyframes:
    """Keyframes (as read from a file) over a clip of ``n_frames`` at ``fps``."""
    n = max(int(n_frames), 1)
    positions = [keyframe_position(r.time, fps, n, where) for r in rows]
    if not rows or any(b <= a for a, b in zip(positions[:-1], positions[1:], strict=False)):
        raise GanimateError(f"--ramp {where}: keyframe times must increase from row to row")
    easings = [r.easing or easing for r in rows]
    schedule = AlphaSchedule(n, tuple(positions), tuple(r.alpha for r in rows),
                             tuple(easings[1:]))
    curves = []
    for k, name in enumerate(au_names):
        keyed = [i for i, r in enumerate(rows) if name in r.values]
        if keyed:
            curves.append((k, AlphaSchedule(
                n, tuple(positions[i] for i in keyed), tuple(rows[i].values[name] for i in keyed),
                tuple(easings[i] for i in keyed[1:]))))
    return Keyframes(schedule, AUCurves(tuple(au_names), tuple(curves)) if curves else None)


def keyframe_text(rows: Sequence[KeyframeRow], suffix: str,
                  au_names: Sequence[str] = AU_NAMES) -> str:
    """The keyframes as the CSV or JSON text that :func:`read_keyframe_rows` reads."""
    keyed = [n for n in au_names if any(n in r.values for r in rows)]
    if suffix.lower() == ".json":
        items = [{"time": r.time, "alpha": r.alpha, "easing": r.easing or "linear",
                  **{n: r.values[n] for n in keyed if n in r.values}} for r in rows]
        return json.dumps(items, indent=1) + "\n"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["time", "alpha", "easing", *keyed])
    for r in rows:
        writer.writerow([r.time, f"{r.alpha:g}", r.easing or "linear",
                         *(f"{r.values[n]:g}" if n in r.values else "" for n in keyed)])
    return buf.getvalue()


def write_keyframes(path: str | os.PathLike, rows: Sequence[KeyframeRow],
                    au_names: Sequence[str] = AU_NAMES) -> Path:
    """Write a keyframe file (CSV or JSON by ``path``'s suffix), atomically."""
    path = Path(path)
    if path.suffix.lower() not in KEYFRAME_SUFFIXES:
        raise GanimateError(f"{path}: a keyframe file ends in .csv or .json")
    return write_text(path, keyframe_text(rows, path.suffix, au_names))
