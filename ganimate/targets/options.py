"""The target options of the commands (``--expression``, ``--like``, ``--aus-file``, ``--row``,
``--au``, ``--source-au``) parsed and checked for an engine's AUs into a :class:`TargetSpec`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import (
    DEFAULT_ESTIMATOR,
    AUSpace,
    largest_face,
    open_mesh,
    source_aus,
)
from ganimate.images import read_rgb
from ganimate.targets.spec import AUChange, TargetSpec, parse_au_option, target_spec, with_like

if TYPE_CHECKING:
    from ganimate.faces import FaceMesh

log = logging.getLogger("ganimate")


def like_aus(path: str | os.PathLike, space: AUSpace = AUSpace(),
             method: str = DEFAULT_ESTIMATOR, mesh: FaceMesh | None = None) -> np.ndarray:
    """The AUs (in ``space``, (K,)) of the largest face of another photo, for ``--like``."""
    path = Path(path)
    if not path.is_file():
        raise GanimateError(f"--like {path}: no such file")
    rgb = read_rgb(path)
    with open_mesh(mesh) as m:
        faces = m(rgb)
    if not faces:
        raise GanimateError(f"--like {path}: no face found in it; pass a photo of the face whose "
                            "expression to copy")
    face = largest_face(faces)
    if len(faces) > 1:
        log.info("--like %s: %d faces; copying the largest", path, len(faces))
    return source_aus([face], space, method)[0]


def build_spec(space: AUSpace, expression: str | None = None,
               like: str | os.PathLike | None = None, aus_file: str | os.PathLike | None = None,
               row: int | None = None, au: Sequence[str] = (),
               method: str = DEFAULT_ESTIMATOR, mesh: FaceMesh | None = None) -> TargetSpec:
    """The CLI's target options, parsed and checked, as a TargetSpec for an engine's AUs
    (``engine.au_space``)."""
    # The cheap options first, so that a typo fails before the --like photo is read.
    spec = target_spec(expression, None, aus_file, row, au, space.names)
    if like is None:
        return spec
    return with_like(spec, like_aus(like, space, method, mesh), space.names)


@dataclass(frozen=True)
class TargetOptions:
    """The target options of `edit image`, `animate image|video` and `eval photos`, as given.

    They combine in this order: expression, like, aus_file, then each au (see targets.py).
    """

    # A preset with an optional strength, e.g. happy or happy:0.6 (--expression, --to).
    expression: str | None = None
    # A photo whose largest face's AUs are copied (--like).
    like: str | os.PathLike | None = None
    # AU values from a JSON object/list or a `ganimate aus` CSV (--aus-file) ...
    aus_file: str | os.PathLike | None = None
    # ... and the 0-based row of it to use (--row).
    row: int | None = None
    # AU changes: AU12=0.8 (absolute), AU12+0.3 / AU04-0.2 (relative) (--au, repeatable).
    au: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "au", tuple(self.au))

    @property
    def given(self) -> bool:
        """Whether any target was asked for."""
        return bool(self.expression or self.like or self.aus_file or self.au)

    def require(self, message: str) -> TargetOptions:
        """Refuse an empty target (before any model is loaded) with ``message``."""
        if not self.given:
            raise GanimateError(message)
        return self

    def spec(self, space: AUSpace, method: str = DEFAULT_ESTIMATOR,
             mesh: FaceMesh | None = None) -> TargetSpec:
        """The options parsed and checked for an engine's AUs (see :func:`build_spec`)."""
        return build_spec(space, self.expression, self.like, self.aus_file, self.row, self.au,
                          method, mesh)


# The error of `edit image` without a target.
NOTHING_TO_CHANGE = ("nothing to change: give --expression, --au, --like or --aus-file "
                     "(e.g. --expression happy or --au AU12=0.8)")


def parse_source_aus(texts: Sequence[str], au_names: Sequence[str]) -> tuple[AUChange, ...]:
    """``--source-au AU12=0.3`` options (absolute values only)."""
    out = []
    for text in texts:
        change = parse_au_option(text, au_names)
        if change.mode != "set":
            raise GanimateError(f"--source-au {text!r}: give an absolute value, e.g. AU12=0.3")
        out.append(change)
    return tuple(out)
