"""Where edited photos go and what is written beside them: inputs listed, outputs planned and
checked before any model is loaded, photos written with their alpha, masks (paper Fig. 5).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ganimate import files
from ganimate.errors import GanimateError
from ganimate.images import IMAGE_SUFFIXES
from ganimate.targets import NOTHING_TO_CHANGE, TargetOptions

if TYPE_CHECKING:
    from ganimate.engines import CropEdits

log = logging.getLogger("ganimate")


# --- masks (paper Fig. 5) -------------------------------------------------------------------


def mask_images(edits: CropEdits, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(attention as grey, A = 1 white; colour mask C) of crop ``i``, uint8 RGB."""
    grey = np.rint(np.clip(edits.attention[i], 0, 1) * 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2), edits.colour[i]


# --- batches --------------------------------------------------------------------------------


def list_photos(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Photo files named directly or found in folders (not recursive, sorted by name)."""
    photos: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.iterdir()
                           if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES
                           and not q.name.startswith("."))
            if not found:
                raise GanimateError(f"{p}: a folder without photos ({', '.join(IMAGE_SUFFIXES)})")
            photos += found
        elif p.is_file():
            photos.append(p)
        else:
            raise GanimateError(f"{p}: no such photo or folder")
    return photos


def plan_outputs(inputs: Sequence[str | os.PathLike], out: str | os.PathLike
                 ) -> list[tuple[Path, Path]]:
    """(input photo, output path) pairs; refuses any output that would overwrite an input or
    that cannot be written (:func:`ganimate.files.check_output`).

    One photo and an ``out`` with an image extension: ``out`` is the file. Otherwise ``out`` is a
    folder and each result keeps its photo's file name.
    """
    photos = list_photos(inputs)
    out = Path(out)
    single = len(inputs) == 1 and len(photos) == 1 and not Path(inputs[0]).is_dir()
    if single and not out.is_dir():
        if out.suffix.lower() not in IMAGE_SUFFIXES:
            raise GanimateError(f"-o {out}: give the edited photo an image extension "
                                f"({', '.join(IMAGE_SUFFIXES)}), or -o an existing folder")
        pairs = [(photos[0], out)]
        files.check_output(out, "-o")
    else:
        if out.suffix.lower() in IMAGE_SUFFIXES and not out.is_dir():
            raise GanimateError(f"-o {out}: {len(photos)} photos need an output folder, not "
                                "a file name")
        if out.is_file():
            raise GanimateError(f"-o {out}: is a file; several photos need an output folder")
        files.check_output(out, "-o", folder=True)
        pairs = [(p, out / p.name) for p in photos]
        seen: dict[Path, Path] = {}
        for src, dst in pairs:
            if dst in seen:
                raise GanimateError(f"{seen[dst]} and {src} would both be written to {dst}; "
                                    "edit them in separate calls")
            seen[dst] = src
    for _, dst in pairs:
        for other in photos:
            if files.same_file(dst, other):
                raise GanimateError(f"-o {dst} is the input photo {other}; refusing to overwrite "
                                    "it; choose another output path")
    return pairs


def plan_edit(photos: Sequence[str | os.PathLike], out: str | os.PathLike,
              targets: TargetOptions, attention: str | os.PathLike | None = None,
              aligned: bool = False) -> list[tuple[Path, Path]]:
    """Check the request of `edit image` before any model is loaded: a target is given, an
    ``attention`` file goes with one ``aligned`` crop and has an image extension, and no output
    overwrites an input. Returns the (input, output) pairs of :func:`plan_outputs`."""
    targets.require(NOTHING_TO_CHANGE)
    if attention is not None:
        if not aligned or len(photos) != 1:
            raise GanimateError("--attention writes the mask of one --aligned crop; for photos "
                                "use --save-masks DIR")
        if Path(attention).suffix.lower() not in IMAGE_SUFFIXES:
            raise GanimateError(f"--attention {attention}: use an image extension "
                                f"({', '.join(IMAGE_SUFFIXES)})")
    pairs = plan_outputs(photos, out)  # refuses to overwrite an input, early
    if attention is not None and any(files.same_file(Path(attention), p) for p, _ in pairs):
        raise GanimateError(f"--attention {attention} is the input; choose another path")
    return pairs


