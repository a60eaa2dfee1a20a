"""What the studio's page asks for, checked once: a photo edit or a clip's keyframes, each with
the `ganimate` command line that reproduces it.

The page sends slider values; they are rounded to two decimals and written as the CLI's options
(``-e happy:0.60``, ``--au AU12+0.30``, ``--ramp keys.csv``), and the studio itself parses those
same options, so the command and the page cannot disagree.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from typing import Any

from ganimate.engines import ENGINES
from ganimate.errors import GanimateError
from ganimate.faces import AU_DESCRIPTIONS
from ganimate.targets import EASINGS, KeyframeRow, TargetOptions

MODES = ("relative", "absolute")
# Every AU a slider may name: the 17 OpenFace AUs, then those only the warp's scanned basis moves.
KNOWN_AUS: tuple[str, ...] = tuple(AU_DESCRIPTIONS)


_KIND_NAMES = {float: "a number", int: "a whole number", dict: "an object", list: "a list",
               str: "a string"}


def _field(data: dict, name: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    value = data.get(name, default)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        raise GanimateError(f"studio: {name} = {value!r} is not {_KIND_NAMES[kinds[-1]]}")
    return value


def _aus(data: dict, name: str = "aus") -> dict[str, float]:
    raw = _field(data, name, dict, {})
    out = {}
    for au, value in raw.items():
        if au not in KNOWN_AUS:
            raise GanimateError(f"studio: unknown AU {au!r}; known AUs: {' '.join(KNOWN_AUS)}")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise GanimateError(f"studio: {au} = {value!r} is not a number")
        out[au] = round(float(value), 2)
    return out


def _engine(data: dict) -> str:
    engine = _field(data, "engine", str, "warp")
    if engine not in ENGINES:
        raise GanimateError(f"--engine {engine!r}: choose one of {', '.join(ENGINES)}")
    return engine


def _face(data: dict) -> int | None:
    face = _field(data, "face", int)
    if face is not None and face < 0:
        raise GanimateError(f"--face {face}: faces are numbered from 0")
    return face


@dataclass(frozen=True)
class PhotoRequest:
    """An edit of the photo tab: preset and strength, AU sliders, mode, engine, face."""

    engine: str = "warp"
    preset: str | None = None  # a preset name (neutral, happy, ...); None: none
    strength: float = 1.0  # the preset's strength (-e NAME:STRENGTH)
    mode: str = "relative"  # relative: sliders add to the face's AUs; absolute: they set them
    aus: tuple[tuple[str, float], ...] = ()  # the moved sliders, AU order
    face: int | None = None  # None: every face

    @classmethod
    def from_json(cls, data: dict) -> PhotoRequest:
        mode = _field(data, "mode", str, "relative")
        if mode not in MODES:
            raise GanimateError(f"studio: mode {mode!r}: use relative or absolute")
        strength = _field(data, "strength", (int, float), 1.0)
        aus = _aus(data)
        return cls(_engine(data), _field(data, "preset", str) or None,
                   round(float(strength), 2), mode,
                   tuple((n, aus[n]) for n in KNOWN_AUS if n in aus), _face(data))

    @property
    def targets(self) -> TargetOptions:
        """The CLI's target options for this edit, as the text the command line carries."""
        expression = None if self.preset is None else f"{self.preset}:{self.strength:.2f}"
        if self.mode == "absolute":
            au = tuple(f"{name}={value:.2f}" for name, value in self.aus)
        else:
            au = tuple(f"{name}{'+' if value > 0 else '-'}{abs(value):.2f}"
                       for name, value in self.aus if round(value, 2) != 0)
        return TargetOptions(expression=expression, au=au)

    def target_args(self) -> list[str]:
        """The target options as command-line words (what the studio itself parses)."""
        targets = self.targets
        expression = [] if targets.expression is None else ["-e", targets.expression]
        return expression + [word for a in targets.au for word in ("--au", a)]

    def for_engine(self, au_names: tuple[str, ...]) -> PhotoRequest:
        """The request without the sliders of AUs the engine does not have (the page greys
        them out once the engine answers)."""
        return replace(self, aus=tuple((n, v) for n, v in self.aus if n in au_names))

    def command(self, photo: str, out: str, checkpoint: str | None = None) -> str:
        """The `ganimate edit image` line that writes the same file ('' when nothing is asked:
        the CLI would refuse it)."""
        if not self.targets.given:
            return ""
        face = [] if self.face is None else ["--face", str(self.face)]
        return shlex.join(["ganimate", "edit", "image", photo, *_engine_args(self.engine,
                           checkpoint), *self.target_args(), *face, "-o", out])


def _engine_args(engine: str, checkpoint: str | None) -> list[str]:
    ckpt = [] if checkpoint is None or engine == "warp" else ["-c", str(checkpoint)]
    return ["--engine", engine, *ckpt]


def _keyframe(data: Any, i: int) -> KeyframeRow:
    if not isinstance(data, dict):
        raise GanimateError(f"studio: keyframe {i + 1} is not an object")
    time = _field(data, "time", (int, float))
    if time is None or time < 0:
        raise GanimateError(f"studio: keyframe {i + 1} needs a time in seconds >= 0")
    alpha = round(float(_field(data, "alpha", (int, float), 1.0)), 2)
    if not 0.0 <= alpha <= 1.0:
        raise GanimateError(f"studio: keyframe {i + 1}: alpha {alpha} must be in [0, 1]")
    easing = _field(data, "easing", str, "linear")
    if easing not in EASINGS:
        raise GanimateError(f"studio: keyframe {i + 1}: unknown easing {easing!r}; use one of "
                            f"{', '.join(EASINGS)}")
    values = _aus(data)
    if any(not 0.0 <= v <= 1.0 for v in values.values()):
        raise GanimateError(f"studio: keyframe {i + 1}: AU values must be in [0, 1]")
    # Seconds to the microsecond: a keyframe set on a frame lands on it (to 1e-6 of a frame).
    return KeyframeRow(f"{float(time):.6f}".rstrip("0").rstrip(".") + "s", alpha, easing, values)


def _seconds(key: KeyframeRow) -> float:
    """The time of a keyframe the studio wrote (always in seconds: ``1.2s``)."""
    return float(key.time.removesuffix("s"))


@dataclass(frozen=True)
class VideoRequest:
    """The clip tab's keyframes and engine (every face of the clip is edited)."""

    engine: str = "warp"
    keys: tuple[KeyframeRow, ...] = ()

    @classmethod
    def from_json(cls, data: dict) -> VideoRequest:
        raw = _field(data, "keys", list, [])
        keys = sorted((_keyframe(k, i) for i, k in enumerate(raw)), key=_seconds)
        times = [k.time for k in keys]
        if len(set(times)) != len(times):
            raise GanimateError("studio: two keyframes at the same time; move or delete one")
        return cls(_engine(data), tuple(keys))

    def for_engine(self, au_names: tuple[str, ...]) -> VideoRequest:
        """The keyframes without the AUs the engine does not have."""
        keys = tuple(replace(k, values={n: v for n, v in k.values.items() if n in au_names})
                     for k in self.keys)
        return replace(self, keys=keys)

    def check_times(self, duration: float, fps: float) -> VideoRequest:
        """Refuse keyframes after the clip's last frame."""
        last = max(duration - 1 / fps, 0.0)
        for key in self.keys:
            if _seconds(key) > last + 0.5 / fps:
                raise GanimateError(f"a keyframe at {key.time} is after the clip's last frame "
                                    f"({last:.3f}s); move or delete it")
        return self

    def require_keys(self) -> VideoRequest:
        if not self.keys:
            raise GanimateError("no keyframes: set the sliders at a time and add a keyframe")
        if not any(k.values for k in self.keys):
            raise GanimateError("the keyframes set no AU: move a slider before adding one")
        return self

    def command(self, clip: str, keys: str, out: str, checkpoint: str | None = None) -> str:
        """The `ganimate animate video` line that renders the same clip from the keyframe file."""
        return shlex.join(["ganimate", "animate", "video", clip,
                           *_engine_args(self.engine, checkpoint), "--ramp", keys, "-o", out])
