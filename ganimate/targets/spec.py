"""Target AU vectors and alpha schedules: what the generator is asked to produce, and when.

A target y_g is a full AU vector in [0, 1] in AU_NAMES order, built from the source face's own AU
vector y_r and what the user asked for (see :class:`TargetSpec` for the order): an expression
preset (``happy:0.6``), another face's AUs (``--like``), AU values from a file (``--aus-file``),
and absolute (``AU12=0.8``) or relative (``AU12+0.3``, ``AU04-0.2``) ``--au`` changes.

:func:`condition` is the animation's ``alpha * y_g + (1 - alpha) * y_r``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES, canonical_au_name
from ganimate.progress import log
from ganimate.targets.au_file import AUValues, read_aus_file
from ganimate.targets.presets import (
    Expression,
    apply_expression,
    check_preset,
    parse_expression,
)

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
    if row is not None and aus_file is None:
        raise GanimateError("--row picks a row of --aus-file; give --aus-file too")
    spec = TargetSpec(
        expression=None if expression is None else parse_expression(expression),
        aus_file=None if aus_file is None else read_aus_file(aus_file, row, au_names),
        changes=tuple(parse_au_option(a, au_names) for a in au),
    )
    if spec.expression is not None:
        check_preset(spec.expression.preset, au_names)
    return spec if like is None else with_like(spec, like, au_names)


def with_like(spec: TargetSpec, like: np.ndarray, au_names: Sequence[str] = AU_NAMES
              ) -> TargetSpec:
    """``spec`` with the AUs of ``--like`` (a vector in ``au_names`` order)."""
    like_vec = np.asarray(like, dtype=np.float32)
    if like_vec.shape != (len(au_names),):
        raise ValueError(f"like: expected shape ({len(au_names)},), got {like_vec.shape}")
    if spec.expression is not None:
        log.warning("--like replaces every AU, so --expression %s has no effect",
                    spec.expression.preset.name)
    return dataclasses.replace(spec, like=like_vec)


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
