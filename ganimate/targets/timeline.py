"""When: alpha schedules over frames (``--ramp``, ``--hold``, ``--bounce``), easing, keyframes, and
driver AU tracks read from a ``ganimate aus`` CSV (``--track``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES, read_csv_rows
from ganimate.progress import log
from ganimate.targets.au_file import au_columns

# ---------------------------------------------------------------------------------------------
# Alpha schedules (--ramp, --hold, --bounce)
# ---------------------------------------------------------------------------------------------


def _ease_in_out(t: np.ndarray) -> np.ndarray:
    return np.where(t < 0.5, 4 * t**3, 1 - (-2 * t + 2) ** 3 / 2)


# Per-segment easing curves on t in [0, 1] -> [0, 1]; all start at 0 and end at 1.
EASINGS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda t: t,
    "ease-in": lambda t: t**2,  # quadratic: slow start
    "ease-out": lambda t: 1 - (1 - t) ** 2,  # quadratic: slow end
    "ease-in-out": _ease_in_out,  # cubic: slow start and end, fastest in the middle
    "cosine": lambda t: (1 - np.cos(np.pi * t)) / 2,  # sine ease-in-out, gentler than cubic
    "smoothstep": lambda t: t * t * (3 - 2 * t),  # Hermite: zero slope at both ends
}


@dataclass(frozen=True)
class AlphaSchedule:
    """alpha over the frames of a clip: keyframes (in frames) joined by eased segments.

    Before the first keyframe alpha holds the first value, after the last it holds the last.
    """

    n_frames: int
    keyframes: tuple[float, ...]  # keyframe positions in frames (fractional allowed), increasing
    values: tuple[float, ...]  # alpha at each keyframe
    easings: tuple[str, ...]  # easing of each segment (len(keyframes) - 1)

    def __post_init__(self):
        if len(self.keyframes) != len(self.values) or len(self.easings) != max(
                len(self.keyframes) - 1, 0) or not self.keyframes:
            raise ValueError("AlphaSchedule: keyframes, values and easings do not match")
        if any(b <= a for a, b in zip(self.keyframes[:-1], self.keyframes[1:], strict=True)):
            raise ValueError("AlphaSchedule: keyframes must increase")
        unknown = set(self.easings) - set(EASINGS)
        if unknown:
            raise ValueError(f"AlphaSchedule: unknown easing {sorted(unknown)}")

    def __len__(self) -> int:
        return self.n_frames

    def __call__(self, frames) -> np.ndarray:
        """alpha at (possibly fractional) frame positions, vectorised; float64 array."""
        f = np.asarray(frames, dtype=np.float64)
        k = np.asarray(self.keyframes)
        v = np.asarray(self.values)
        out = np.full(f.shape, v[-1])
        out[f <= k[0]] = v[0]
        for i, easing in enumerate(self.easings):
            inside = (f > k[i]) & (f <= k[i + 1])
            t = (f[inside] - k[i]) / (k[i + 1] - k[i])
            out[inside] = v[i] + (v[i + 1] - v[i]) * EASINGS[easing](t)
        return out

    def alpha(self, frame_index: int) -> float:
        return float(self(frame_index))

    def as_array(self) -> np.ndarray:
        """alpha for every frame 0 .. n_frames - 1."""
        return self(np.arange(self.n_frames))


def ramp_schedule(n_frames: int, easing: str = "linear") -> AlphaSchedule:
    """The default: alpha from 0 on the first frame to 1 on the last."""
    if n_frames <= 1:
        return hold_schedule(max(n_frames, 1))
    return AlphaSchedule(n_frames, (0.0, float(n_frames - 1)), (0.0, 1.0), (easing,))


def hold_schedule(n_frames: int, value: float = 1.0) -> AlphaSchedule:
    """A constant alpha (``--hold``): the target from the first frame on."""
    return AlphaSchedule(n_frames, (0.0,), (value,), ())


def bounce_schedule(n_frames: int, easing: str = "cosine") -> AlphaSchedule:
    """There and back: 0 -> 1 at the middle frame -> 0 on the last (``animate image --bounce``)."""
    if n_frames < 3:
        return hold_schedule(max(n_frames, 1))
    last = float(n_frames - 1)
    return AlphaSchedule(n_frames, (0.0, last / 2, last), (0.0, 1.0, 0.0), (easing, easing))


_TIME = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(s|ms|f|%)?\s*$")


def keyframe_position(text: str, fps: float, n_frames: int, spec: str) -> float:
    """A keyframe TIME (1.5s, 200ms, 38 or 38f, 50%) as a frame position; ``spec`` names the
    --ramp value in errors."""
    m = _TIME.match(text)
    if m is None:
        raise GanimateError(
            f"--ramp {spec!r}: bad time {text.strip()!r}; use seconds (1.5s), milliseconds "
            "(200ms), frames (38 or 38f) or a percentage of the clip (50%)"
        )
    value, unit = float(m.group(1)), m.group(2) or "f"
    if unit == "s":
        return value * fps
    if unit == "ms":
        return value / 1000.0 * fps
    if unit == "%":
        return value / 100.0 * max(n_frames - 1, 0)
    return value


def parse_ramp(text: str, fps: float, n_frames: int, easing: str = "linear") -> AlphaSchedule:
    """Parse ``--ramp``.

    ``TIME:ALPHA[:EASING],TIME:ALPHA[:EASING],...`` with TIME in seconds (``1.5s``), milliseconds
    (``200ms``), frames (``38`` or ``38f``; frame i is shown at time i / fps) or percent of the clip
    (``50%``), ALPHA in [0, 1], and an optional easing for the segment that ends at that keyframe
    (default ``easing``; one of EASINGS). The words ``ramp`` (0 -> 1 over the clip, the default),
    ``hold`` (constant 1) and ``bounce`` (0 -> 1 -> 0) name the common schedules.
    """
    if easing not in EASINGS:
        raise GanimateError(f"unknown easing {easing!r}; use one of {', '.join(EASINGS)}")
    if fps <= 0 or n_frames < 1:
        raise ValueError(f"parse_ramp: need fps > 0 and n_frames >= 1, got {fps}, {n_frames}")
    word = text.strip().lower()
    if word == "ramp":
        return ramp_schedule(n_frames, easing)
    if word == "hold":
        return hold_schedule(n_frames)
    if word == "bounce":
        return bounce_schedule(n_frames, easing if easing != "linear" else "cosine")
    positions, values, easings = [], [], []
    for part in text.split(","):
        pos, value, seg = _parse_keyframe(part, text, fps, n_frames, easing)
        if positions and pos <= positions[-1]:
            raise GanimateError(
                f"--ramp {text!r}: keyframe times must increase ({part.strip()!r} is not after "
                "the previous one)"
            )
        positions.append(pos)
        values.append(value)
        if len(positions) > 1:
            easings.append(seg)
    _check_keyframe_span(text, positions, values, fps, n_frames)
    return AlphaSchedule(n_frames, tuple(positions), tuple(values), tuple(easings))


def _parse_keyframe(part: str, text: str, fps: float, n_frames: int, easing: str
                    ) -> tuple[float, float, str]:
    """One ``TIME:ALPHA[:EASING]`` of ``--ramp text`` -> (frame position, alpha, easing)."""
    fields = part.split(":")
    if len(fields) not in (2, 3):
        raise GanimateError(
            f"--ramp {text!r}: bad keyframe {part.strip()!r}; expected TIME:ALPHA[:EASING], "
            "e.g. 0s:0,1.5s:1,4s:1,5s:0"
        )
    pos = keyframe_position(fields[0], fps, n_frames, text)
    try:
        value = float(fields[1])
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise GanimateError(
            f"--ramp {text!r}: alpha {fields[1].strip()!r} must be a number in [0, 1]"
        )
    seg = fields[2].strip().lower() if len(fields) == 3 else easing
    if seg not in EASINGS:
        raise GanimateError(
            f"--ramp {text!r}: unknown easing {seg!r}; use one of {', '.join(EASINGS)}"
        )
    return pos, value, seg


def _check_keyframe_span(text: str, positions: list[float], values: list[float], fps: float,
                         n_frames: int) -> None:
    """Refuse keyframes after the clip's end; warn when the first comes after its last frame."""
    last = n_frames - 1
    if positions[-1] > n_frames:  # n_frames / fps is the clip's end; later keyframes never play
        raise GanimateError(
            f"--ramp {text!r}: the last keyframe ({positions[-1] / fps:.2f} s) is after the end "
            f"of the clip ({n_frames} frames, {n_frames / fps:.2f} s), so alpha would never reach "
            "its value; use times within the clip, or percentages (0%:0,100%:1)"
        )
    if positions[0] > last:
        log.warning("--ramp %s: the first keyframe is after the last frame (%d); alpha stays %g",
                    text, last, values[0])


# ---------------------------------------------------------------------------------------------
# AU tracks (--track): AUs over time from `ganimate aus`, resampled to another clip's frames
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AUTrack:
    """AU intensities over time: ``values[i]`` (AU_NAMES order) at ``times[i]`` seconds."""

    times: np.ndarray  # (T,) float64 seconds, increasing
    values: np.ndarray  # (T, K) float32 in [0, 1]
    au_names: tuple[str, ...]
    source: str = ""

    def at(self, times) -> np.ndarray:
        """AUs at the given times (seconds), linearly interpolated, held beyond the ends."""
        t = np.asarray(times, dtype=np.float64)
        out = np.stack([np.interp(t, self.times, self.values[:, k])
                        for k in range(self.values.shape[1])], axis=-1)
        return out.astype(np.float32)

    def resample(self, fps: float, n_frames: int, offset: float = 0.0) -> np.ndarray:
        """(n_frames, K): the AUs for frames shown at ``offset + i / fps`` seconds.

        A driver shorter than the target holds its last AUs for the rest of the clip.
        """
        return self.at(offset + np.arange(n_frames, dtype=np.float64) / float(fps))

    @property
    def duration(self) -> float:
        return float(self.times[-1] - self.times[0])


def read_au_track(path: str | os.PathLike, au_names: Sequence[str] = AU_NAMES,
                  face: int | None = None, source: str | None = None) -> AUTrack:
    """Read an AU track from a ``ganimate aus`` CSV (columns source, frame, time, face, AU01...).

    OpenFace CSVs work too (``timestamp``, ``face_id``, ``AU01_r`` on its 0-5 scale). Rows without
    AU values (frames where no face was found) are skipped, so the track interpolates across them.
    With several faces in the file, pick one with ``face`` (default: the only face, else an error);
    a CSV of several files (a folder scan) needs ``source``.
    """
    path = Path(path)
    if not path.is_file():
        raise GanimateError(f"--track {path}: no such file")
    columns, rows = read_csv_rows(path)
    time_col = next((c for c in ("time", "timestamp") if c in columns), None)
    au_cols = au_columns(columns, au_names)
    missing = [n for n in au_names if n not in au_cols]
    if time_col is None or missing:
        what = ([] if time_col is not None else ["time (seconds)"]) + missing
        raise GanimateError(
            f"--track {path}: missing column(s) {', '.join(what)}; expected a CSV written by "
            f"`ganimate aus VIDEO` with columns source, frame, time, face, {au_names[0]} ... "
            f"{au_names[-1]}"
        )
    if "source" in columns:
        rows = _track_rows_of_source(rows, path, source)
    face_col = next((c for c in ("face", "face_id") if c in columns), None)
    if face_col is not None:
        rows = _track_rows_of_face(rows, face_col, path, face)
    return _track_of_rows(rows, time_col, au_cols, au_names, path)


def _track_rows_of_source(rows: list[dict], path: Path, source: str | None) -> list[dict]:
    sources = sorted({r.get("source", "") for r in rows})
    if source is None and len(sources) > 1:
        raise GanimateError(
            f"--track {path}: holds rows of {len(sources)} files ({', '.join(sources[:3])}"
            f"{'...' if len(sources) > 3 else ''}); run `ganimate aus` on the one driver video"
        )
    if source is None:
        return rows
    if source not in sources:
        raise GanimateError(f"--track {path}: no rows of {source!r}")
    return [r for r in rows if r.get("source") == source]


def _track_rows_of_face(rows: list[dict], face_col: str, path: Path, face: int | None
                        ) -> list[dict]:
    ids = sorted({r[face_col] for r in rows if r.get(face_col, "") != ""}, key=_natural)
    if face is None and len(ids) > 1:
        raise GanimateError(
            f"--track {path}: holds {len(ids)} faces ({', '.join(ids)}); pick one with --face"
        )
    wanted = str(face) if face is not None else (ids[0] if ids else None)
    if face is not None and wanted not in ids:
        raise GanimateError(
            f"--track {path}: no face {face}; it has faces {', '.join(ids) or 'none'}"
        )
    return [r for r in rows if r.get(face_col) == wanted]


def _track_of_rows(rows: list[dict], time_col: str, au_cols: dict, au_names: Sequence[str],
                   path: Path) -> AUTrack:
    """The rows with AU values, in time order (one per time), as a checked AUTrack."""
    times, values = [], []
    for r in rows:
        try:
            t = float(r[time_col])
            v = [float(r[au_cols[n][0]]) * au_cols[n][1] for n in au_names]
        except (KeyError, ValueError):
            continue  # no face in that frame: interpolate across it
        times.append(t)
        values.append(v)
    if not times:
        raise GanimateError(f"--track {path}: no rows with AU values (was a face ever found?)")
    times_arr = np.asarray(times, dtype=np.float64)
    values_arr = np.asarray(values, dtype=np.float32)
    order = np.argsort(times_arr, kind="stable")
    times_arr, values_arr = times_arr[order], values_arr[order]
    keep = np.concatenate([[True], np.diff(times_arr) > 0])  # np.interp needs increasing times
    if not np.all((values_arr >= 0) & (values_arr <= 1)):
        raise GanimateError(
            f"--track {path}: AU values outside [0, 1]; AU intensities are FACS 0-5 divided by 5"
        )
    return AUTrack(times_arr[keep], values_arr[keep], tuple(au_names), str(path))


def _natural(text: str):
    return (0, int(text), "") if text.lstrip("-").isdigit() else (1, 0, text)
