"""Target AU vectors and alpha schedules: what the generator is asked to produce, and when.

A target y_g is a full AU vector in [0, 1] in AU_NAMES order, built from the source face's own AU
vector y_r and what the user asked for (see :class:`TargetSpec` for the order): an expression
preset (``happy:0.6``), another face's AUs (``--like``), AU values from a file (``--aus-file``),
and absolute (``AU12=0.8``) or relative (``AU12+0.3``, ``AU04-0.2``) ``--au`` changes.

Animation conditions the generator on ``alpha * y_g + (1 - alpha) * y_r`` (:func:`condition`),
alpha following an :class:`AlphaSchedule` over the frames (``--ramp``, ``--hold``, ``--bounce``),
or drives y_g from an :class:`AUTrack` read from a ``ganimate aus`` CSV (``--track``).
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ganimate.aus import AU_NAMES, canonical_au_name, reorder
from ganimate.errors import GanimateError
from ganimate.progress import log

_AU_OPTION = re.compile(r"^\s*([A-Za-z]*\d+(?:_r)?)\s*(=|\+|-)\s*([-+]?[0-9]*\.?[0-9]+)\s*$")


@dataclass(frozen=True)
class AUChange:
    """One ``--au`` option: set an AU to a value, or add a (signed) delta to the source's value."""

    name: str
    value: float
    mode: Literal["set", "add"]


def parse_au_option(text: str, au_names: Sequence[str] = AU_NAMES) -> AUChange:
    """Parse ``AU12=0.8`` (absolute), ``AU12+0.3`` or ``AU04-0.2`` (relative)."""
    m = _AU_OPTION.match(text)
    if m is None:
        raise GanimateError(
            f"--au {text!r}: expected NAME=VALUE (absolute) or NAME+DELTA / NAME-DELTA "
            "(relative), e.g. AU12=0.8 or AU04-0.2"
        )
    name = canonical_au_name(m.group(1), tuple(au_names))
    value = float(m.group(3))
    if m.group(2) != "=" and m.group(3)[0] in "+-":
        raise GanimateError(f"--au {text!r}: one sign only: AU12+0.3 or AU12-0.3")
    if m.group(2) == "=":
        if not 0.0 <= value <= 1.0:
            raise GanimateError(
                f"--au {text!r}: intensity {value} is outside [0, 1] (FACS 0-5 divided by 5)"
            )
        return AUChange(name, value, "set")
    if value > 1.0:
        raise GanimateError(f"--au {text!r}: a relative change must be within [-1, 1]")
    return AUChange(name, value if m.group(2) == "+" else -value, "add")


def apply_changes(y: np.ndarray, changes: Sequence[AUChange],
                  au_names: Sequence[str] = AU_NAMES) -> np.ndarray:
    """Apply changes in order to a copy of ``y``; the result is clipped to [0, 1]."""
    out = np.array(y, dtype=np.float32, copy=True)
    index = {n: i for i, n in enumerate(au_names)}
    for change in changes:
        i = index[change.name]
        out[i] = change.value if change.mode == "set" else out[i] + change.value
    return np.clip(out, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Expression presets (FACS / EMFACS prototypes)
# ---------------------------------------------------------------------------------------------
#
# Which AUs make up each basic emotion follows the EMFACS prototypes (Friesen & Ekman, EMFACS-7,
# 1983; tabulated in Ekman, Friesen & Hager, "Facial Action Coding System: Investigator's Guide",
# 2002, and as the reference set of Lucey et al., "The Extended Cohn-Kanade Dataset (CK+)", CVPR
# Workshops 2010, Table 3). EMFACS lists several AU combinations per emotion; each preset names
# the one it uses (docs/aus.md has the table and why). Presets are at *full strength*: each
# prototype AU at E (1.0, the scanned shape of the warp's basis), except where an AU is an
# accompaniment (the lips parting with a smile), two AUs cancel at E (anger's 5 and 7), or the
# scanned E overshoots real expressions (happy's 6 and 12: each note says why, with numbers).
# Intensities are FACS letters A (trace) ... E (maximum) divided by 5, like every AU vector of
# the package.
# FACS intensity letters on the package's [0, 1] scale.
_A, _B, _C, _D, _E = 0.2, 0.4, 0.6, 0.8, 1.0

_WITH_AU25 = "AU25 (lips part) with AU26: a jaw drop parts the lips"

# AUs that no emotion prototype involves and that a preset therefore leaves as the source has
# them, even at full strength: blinking is not an expression, and zeroing it would pop a closing
# eye open in the middle of a blink.
KEEP_AUS: tuple[str, ...] = ("AU45",)

# The largest --expression strength: above 1 the preset is extrapolated (exaggerated) and clipped
# to [0, 1]; the paper shows the generator extrapolates plausibly a little beyond its training
# range, and 2 is already a caricature.
MAX_STRENGTH = 2.0


@dataclass(frozen=True)
class Preset:
    """One named expression: FACS prototype AUs with intensities in [0, 1]."""

    name: str
    prototype: str  # the FACS/EMFACS formula, as published, e.g. "6+12"
    aus: dict[str, float]  # the prototype's AUs -> intensity (an engine uses those it has)
    unavailable: tuple[str, ...] = ()  # prototype AUs no engine can represent
    note: str = ""

    def vector(self, au_names: Sequence[str] = AU_NAMES) -> np.ndarray:
        """The preset as a full AU vector: prototype intensities, 0 for every other AU."""
        return reorder(np.array(list(self.aus.values()), np.float32), list(self.aus), au_names,
                       fill=0.0)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("neutral", "0", {}, note="every expressive AU relaxed to 0"),
        Preset("happy", "6+12+25+26", {"AU06": _B, "AU12": _D, "AU25": 0.7, "AU26": _A},
               note="Duchenne smile (6+12) with the lips parted over the upper teeth, as broad "
                    "real smiles are (25 at 0.7, a trace of 26). 12 at D and 6 at B: the "
                    "scanned 6E+12E is broader than the London people's own broad smiles "
                    "(identity distance 0.29 against their 0.22, eyes half shut); happy:1.25 "
                    "is 6+12 at C+E"),
        Preset("sad", "1+4+15+17", {"AU01": _E, "AU04": _E, "AU15": _E, "AU17": _C},
               note="EMFACS 1+4+15 with the chin raiser (17) that usually accompanies it; with "
                    "the scanned basis' per-point clamp, 1 and 4 at E give the oblique brows "
                    "(4 at C: 13/26 read sad instead of 15/26)"),
        Preset("surprise", "1+2+5+25+26", {"AU01": _E, "AU02": _E, "AU05": _C, "AU25": _E,
                                           "AU26": _E},
               note=_WITH_AU25 + "; 5 at C where EMFACS writes 5B: the scanned lid raise at B "
                                 "barely shows on a photo"),
        Preset("fear", "1+2+4+5+7+20+25+26", {"AU01": _E, "AU02": _D, "AU04": _C, "AU05": _E,
                                              "AU07": _C, "AU20": _E, "AU25": _D, "AU26": _C},
               note=_WITH_AU25 + "; 4 and 7 at C: at E they cancel the brow and lid raise"),
        Preset("anger", "4+5+7+10+16+23+25", {"AU04": _E, "AU05": _C, "AU07": _E, "AU10": _E,
                                               "AU16": _C, "AU23": _C, "AU25": _E},
               note="EMFACS 4+5+7+10+23+25 (anger with bared teeth) with the lower lip "
                    "depressor (16, C) that bares the lower teeth as a snarl does; the "
                    "closed-mouth 4+5+7+23 barely shows on a photo, and 23 at E or a jaw drop "
                    "(26) rounds the lips into an 'O' that reads as speech. 5 at C: eyeWide and "
                    "the lid tightener (7) cancel at full strength"),
        Preset("disgust", "9+10+15+16", {"AU09": _E, "AU10": _C, "AU15": _D, "AU16": _C},
               note="EMFACS 9+15+16 with the upper lip raiser (10, as in 10+16+25). AU16 (lower "
                    "lip depressor) is not among the 17 OpenFace AUs: the warp's scanned basis "
                    "moves it, a 17-AU model leaves it out (with a warning)"),
    )
}

# Expressions that are real prototypes but cannot be expressed by a symmetric AU vector.
UNREPRESENTABLE: dict[str, str] = {
    "contempt": (
        "contempt (EMFACS R12A+R14A: lip corner puller and dimpler on ONE side of the face) is "
        "asymmetric, and an AU vector has one intensity per AU for the whole face, so it cannot be "
        "represented; for a symmetric approximation use --au AU12=0.2 --au AU14=0.4"
    ),
}


@dataclass(frozen=True)
class Expression:
    """A parsed ``--expression NAME[:STRENGTH]`` or ``NAME+AMOUNT`` (relative)."""

    preset: Preset
    strength: float = 1.0
    # ``happy+0.5``: add 0.5 of the preset to the face's own AUs (more of it on a face that
    # already shows it) instead of moving toward the preset (which would make a broad smile
    # smaller when the target is a smaller smile).
    relative: bool = False


def parse_expression(text: str) -> Expression:
    """Parse ``happy``, ``happy:0.6`` (toward the preset; strength in [0, MAX_STRENGTH], default 1)
    or ``happy+0.5`` (the preset's AUs added to the face's own, times 0.5; in [0, 1])."""
    name, plus, amount = text.strip().partition("+")
    if plus:
        expression = parse_expression(name)
        try:
            value = float(amount)
        except ValueError:
            value = float("nan")
        if ":" in name or not 0.0 <= value <= 1.0:
            raise GanimateError(
                f"--expression {text!r}: a relative expression is NAME+AMOUNT with AMOUNT in "
                "[0, 1], e.g. happy+0.5 (or NAME:STRENGTH to move toward the preset)")
        return Expression(expression.preset, value, relative=True)
    name, sep, strength_text = text.strip().partition(":")
    key = name.strip().lower()
    if key in UNREPRESENTABLE:
        raise GanimateError(f"--expression {text!r}: {UNREPRESENTABLE[key]}")
    if key not in PRESETS:
        raise GanimateError(
            f"--expression {text!r}: unknown expression; known: {', '.join(PRESETS)} "
            "(optionally with a strength, e.g. happy:0.6)"
        )
    strength = 1.0
    if sep:
        try:
            strength = float(strength_text)
        except ValueError:
            strength = float("nan")
        if not 0.0 <= strength <= MAX_STRENGTH:  # also rejects nan
            raise GanimateError(
                f"--expression {text!r}: strength must be a number in [0, {MAX_STRENGTH:g}], "
                "e.g. happy:0.6"
            )
    return Expression(PRESETS[key], strength)


def apply_expression(y: np.ndarray, expression: Expression,
                     au_names: Sequence[str] = AU_NAMES) -> np.ndarray:
    """Move ``y`` (shape (..., K)) toward the preset by the expression's strength.

    ``y + s * (preset - y)`` for every AU except KEEP_AUS: at strength 1 the result is exactly the
    preset (AUs outside the prototype are relaxed to 0, so a smiling source becomes sad rather
    than sad-and-smiling); at strength 0.6 it is 60 % of the way there, which for a neutral source
    (y = 0) is the preset's intensities scaled by 0.6. Above 1 it extrapolates; the result is
    clipped to [0, 1]. A relative expression (``happy+0.5``) adds ``0.5 * preset`` to ``y``.
    """
    y = np.asarray(y, dtype=np.float32)
    preset = expression.preset.vector(au_names)
    if expression.relative:  # add the preset's AUs; the others stay as the face has them
        out = y + np.float32(expression.strength) * preset
    else:
        out = y + np.float32(expression.strength) * (preset - y)
    keep = [i for i, n in enumerate(au_names) if n in KEEP_AUS]
    out[..., keep] = y[..., keep]
    missing = [n for n in expression.preset.aus if n not in au_names]
    if missing:
        log.warning("expression %s: the model has no %s; those AUs are left out",
                    expression.preset.name, ", ".join(missing))
    return np.clip(out, 0.0, 1.0).astype(np.float32)


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


def _au_columns(columns: Sequence[str], au_names: Sequence[str]) -> dict[str, tuple[str, float]]:
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


def _read_csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
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
    for name, (col, scale) in _au_columns(list(data), au_names).items():
        v = data[col]
        if not _is_number(v):
            raise GanimateError(f"--aus-file {path}: {col} must be a number, got {v!r}")
        values[name] = float(v) * scale
    return values


def _csv_au_values(path: Path, row: int | None, au_names: Sequence[str]) -> dict[str, float]:
    """The AU values of one row of a `ganimate aus` (or OpenFace) CSV --aus-file."""
    columns, rows = _read_csv_rows(path)
    au_cols = _au_columns(columns, au_names)
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


@dataclass(frozen=True)
class TargetSpec:
    """Everything the user asked for, parsed; :func:`build_target` turns it into y_g.

    Applied in this order, each step on the result of the previous one (later steps win for the
    AUs they touch):

    1. the source's own AUs y_r (so that whatever is not asked for stays as it is);
    2. ``expression``: move toward a preset by its strength (see :func:`apply_expression`);
    3. ``like``: the full AU vector of another face (estimated by the caller), replacing all AUs;
    4. ``aus_file``: set the AUs that the file names (a CSV row or full list sets them all);
    5. ``changes``: ``--au`` options in the order given (absolute, then relative on the result).
    """

    expression: Expression | None = None
    like: np.ndarray | None = None
    aus_file: AUValues | None = None
    changes: tuple[AUChange, ...] = ()

    @property
    def empty(self) -> bool:
        """True when nothing was asked for (the target would equal the source)."""
        return (self.expression is None and self.like is None and self.aus_file is None
                and not self.changes)


def target_spec(expression: str | None = None, like: np.ndarray | None = None,
                aus_file: str | os.PathLike | None = None, row: int | None = None,
                au: Sequence[str] = (), au_names: Sequence[str] = AU_NAMES) -> TargetSpec:
    """Parse the CLI's target options into a :class:`TargetSpec` (errors are GanimateError)."""
    like_vec = None
    if like is not None:
        like_vec = np.asarray(like, dtype=np.float32)
        if like_vec.shape != (len(au_names),):
            raise ValueError(f"like: expected shape ({len(au_names)},), got {like_vec.shape}")
    if row is not None and aus_file is None:
        raise GanimateError("--row picks a row of --aus-file; give --aus-file too")
    spec = TargetSpec(
        expression=None if expression is None else parse_expression(expression),
        like=like_vec,
        aus_file=None if aus_file is None else read_aus_file(aus_file, row, au_names),
        changes=tuple(parse_au_option(a, au_names) for a in au),
    )
    preset = spec.expression.preset if spec.expression is not None else None
    if preset is not None and preset.aus and not set(preset.aus) & set(au_names):
        raise GanimateError(
            f"--expression {preset.name}: this model has none of its AUs "
            f"({' '.join(preset.aus)}; the model knows {' '.join(au_names)}); the photo would "
            "come back unedited. Use --au with the model's AUs, or a model trained on them"
        )
    if spec.expression is not None and spec.like is not None:
        log.warning("--like replaces every AU, so --expression %s has no effect",
                    spec.expression.preset.name)
    return spec


def build_target(y_r: np.ndarray, spec: TargetSpec,
                 au_names: Sequence[str] = AU_NAMES) -> np.ndarray:
    """The target AU vector(s) y_g for source AUs ``y_r`` of shape (K,) or (T, K).

    Works on a batch of source vectors (one per video frame) so that relative changes follow the
    source over time.
    """
    y = np.array(y_r, dtype=np.float32, copy=True)
    if y.shape[-1] != len(au_names):
        raise ValueError(f"y_r: expected last dimension {len(au_names)}, got {y.shape}")
    if spec.expression is not None:
        y = apply_expression(y, spec.expression, au_names)
    if spec.like is not None:
        y = np.broadcast_to(spec.like.astype(np.float32), y.shape).copy()
    if spec.aus_file is not None:
        for i, name in enumerate(au_names):
            if name in spec.aus_file.values:
                y[..., i] = spec.aus_file.values[name]
    if spec.changes:
        index = {n: i for i, n in enumerate(au_names)}
        for change in spec.changes:
            i = index[change.name]
            y[..., i] = change.value if change.mode == "set" else y[..., i] + change.value
    return np.clip(y, 0.0, 1.0).astype(np.float32)


def condition(alpha, y_g: np.ndarray, y_r: np.ndarray) -> np.ndarray:
    """The generator's condition ``alpha * y_g + (1 - alpha) * y_r`` (paper, animation).

    ``alpha`` is a scalar or an array of shape (T,) (one per frame); ``y_g`` and ``y_r`` are (K,)
    or (T, K). The result is float32, (K,) or (T, K).
    """
    a = np.asarray(alpha, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]
    elif a.ndim > 1:
        raise ValueError(f"alpha: expected a scalar or shape (T,), got {a.shape}")
    y_g = np.asarray(y_g, dtype=np.float32)
    y_r = np.asarray(y_r, dtype=np.float32)
    return (a * y_g + (1.0 - a) * y_r).astype(np.float32)


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


def _keyframe_position(text: str, fps: float, n_frames: int, spec: str) -> float:
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
    pos = _keyframe_position(fields[0], fps, n_frames, text)
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
    columns, rows = _read_csv_rows(path)
    time_col = next((c for c in ("time", "timestamp") if c in columns), None)
    au_cols = _au_columns(columns, au_names)
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
