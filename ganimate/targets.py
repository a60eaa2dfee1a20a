"""Target AU vectors: parsing of ``--au`` options (more target kinds are added as they land).

A target is a full AU vector in [0, 1] in AU_NAMES order, built from the source face's own AU
vector y_r and the user's changes: absolute (``AU12=0.8``) or relative (``AU12+0.3``, ``AU04-0.2``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ganimate.aus import AU_NAMES, canonical_au_name
from ganimate.errors import GanimateError

_AU_OPTION = re.compile(r"^\s*([A-Za-z]*\d+(?:_r)?)\s*(=|\+|-)\s*([0-9]*\.?[0-9]+)\s*$")


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
