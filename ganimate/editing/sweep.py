"""``ganimate edit sweep``: one face swept over AU intensities, drawn as the paper's Fig. 4 grid
(a row per AU, a column per intensity).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ganimate.editing.config import SweepConfig
from ganimate.editing.outputs import plan_outputs
from ganimate.editing.photos import no_face_error
from ganimate.engines import Engine, FrameJob, photo_aus
from ganimate.errors import GanimateError
from ganimate.faces import (
    AU_DESCRIPTIONS,
    canonical_au_name,
    crop_faces,
    largest_face,
    open_mesh,
    pick_faces,
)
from ganimate.images import read_photo
from ganimate.targets import AUChange, apply_changes

if TYPE_CHECKING:
    from ganimate.faces import FaceMesh

# Imported in the functions that use them, on purpose (start-up): PIL (where files are decoded), cv2
# (where pixels are warped or drawn).


def plan_sweep(photo: str | os.PathLike, out: str | os.PathLike) -> Path:
    """The grid's path, once ``photo`` is checked to be one photo that ``out`` does not
    overwrite."""
    if Path(photo).is_dir():
        raise GanimateError(f"{photo}: a sweep takes one photo, not a folder")
    return plan_outputs([photo], out)[0][1]


def sweep_aus(texts: Sequence[str], au_names: Sequence[str]) -> tuple[str, ...]:
    """``--au AU12 --au 4`` -> the model's AU names, each once, in the order given."""
    return tuple(dict.fromkeys(canonical_au_name(a, au_names) for a in texts))


def parse_steps(text: str) -> tuple[float, ...]:
    """``0,0.33,0.66,1`` -> intensities in [0, 1]."""
    try:
        steps = tuple(float(s) for s in text.split(",") if s.strip())
    except ValueError:
        steps = ()
    if not steps:
        raise GanimateError(f"--steps {text!r}: expected comma-separated intensities in [0, 1], "
                            "e.g. 0,0.33,0.66,1")
    bad = [s for s in steps if not 0.0 <= s <= 1.0]
    if bad:
        raise GanimateError(f"--steps {text!r}: {bad[0]:g} is outside [0, 1] (FACS 0-5 divided "
                            "by 5)")
    return steps


@dataclass
class SweepResult:
    grid: np.ndarray  # uint8 (H, W, 3): the labelled grid
    cells: np.ndarray  # uint8 (rows, 1 + columns, cell, cell, 3): the input, then each step
    source: np.ndarray  # float32 (K,): the face's y_r
    targets: np.ndarray  # float32 (rows, columns, K): y_g of every cell
    face: int  # the swept face's --face number


def face_cell(rgb: np.ndarray, box, whole: bool, cell: int) -> np.ndarray:
    """The square around a face box (1.6x its larger side), padded white, resized to a cell."""
    import cv2

    h, w = rgb.shape[:2]
    if whole:
        side = max(h, w)
        x0, y0 = (w - side) // 2, (h - side) // 2
    else:
        cx, cy = box.center
        side = int(np.ceil(1.6 * max(box.width, box.height)))
        x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    sub = rgb[max(y0, 0):min(y0 + side, h), max(x0, 0):min(x0 + side, w)]
    top, left = max(0, -y0), max(0, -x0)
    sub = cv2.copyMakeBorder(sub, top, side - sub.shape[0] - top, left,
                             side - sub.shape[1] - left, cv2.BORDER_CONSTANT,
                             value=(255, 255, 255))
    interp = cv2.INTER_AREA if side > cell else cv2.INTER_CUBIC
    return cv2.resize(sub, (cell, cell), interpolation=interp)


def sweep_photo(path: str | os.PathLike, config: SweepConfig, engine: Engine,
                mesh: FaceMesh | None = None) -> SweepResult:
    """Edit one face of a photo to every (AU, intensity) pair, other AUs kept at the face's own
    values, and lay the results out as a labelled grid: a row per AU, the input first, then a
    column per intensity."""
    photo = read_photo(path)
    names = engine.au_names
    with open_mesh(mesh) as m:
        faces = m(photo.rgb)
    if not faces:
        raise no_face_error(photo.path)
    if config.face is None:
        index = faces.index(largest_face(faces))
    else:
        index = pick_faces(faces, config.face, photo.path)[0]
    face = faces[index]
    y_r = photo_aus(engine, [face], config.estimator)[0]
    targets = np.stack([
        np.stack([apply_changes(y_r, [AUChange(au, v, "set")], names) for v in config.steps])
        for au in config.aus
    ])
    n_rows, n_cols = targets.shape[:2]
    crop = crop_faces(photo.rgb, [face], engine.image_size, config.max_crop)[0]
    jobs = [FrameJob(photo.rgb, [crop], y_r[None], t[None])
            for t in targets.reshape(n_rows * n_cols, -1)]
    frames = engine.edit_frames(jobs, config.blend)
    first = face_cell(photo.rgb, face.box, config.whole, config.cell)
    cells = np.empty((n_rows, n_cols + 1, config.cell, config.cell, 3), np.uint8)
    for r in range(n_rows):
        cells[r, 0] = first
        for c in range(n_cols):
            edited = frames[r * n_cols + c].frame
            cells[r, c + 1] = face_cell(edited, face.box, config.whole, config.cell)
    col_labels = ["input"] + [f"{v:.2f}" for v in config.steps]
    row_labels = [f"{au}\n{_describe(au)}\ninput {y_r[names.index(au)]:.2f}"
                  for au in config.aus]
    return SweepResult(draw_grid(cells, row_labels, col_labels), cells, y_r, targets, index)


def _describe(au: str) -> str:
    return AU_DESCRIPTIONS.get(au, "")


def draw_grid(cells: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str]
              ) -> np.ndarray:
    """Lay out (rows, cols, s, s, 3) cells on white with row labels left and column labels on
    top (PIL's default font)."""
    from PIL import Image, ImageDraw, ImageFont

    rows, cols, s = cells.shape[0], cells.shape[1], cells.shape[2]
    font_px = max(12, s // 12)
    try:
        font = ImageFont.load_default(size=font_px)
    except TypeError:  # Pillow < 10.1: a fixed-size bitmap font
        font = ImageFont.load_default()
    pad = max(4, s // 32)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = max((probe.multiline_textbbox((0, 0), t, font=font)[2] for t in row_labels),
                  default=0) + 2 * pad
    header_h = max((probe.multiline_textbbox((0, 0), t, font=font)[3] for t in col_labels),
                   default=0) + 2 * pad
    width = label_w + cols * (s + pad) + pad
    height = header_h + rows * (s + pad) + pad
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for c, text in enumerate(col_labels):
        x = label_w + c * (s + pad) + s // 2
        draw.multiline_text((x, header_h // 2), text, fill=(0, 0, 0), font=font, anchor="mm",
                            align="center")
    for r, text in enumerate(row_labels):
        y = header_h + r * (s + pad)
        draw.multiline_text((pad, y + s // 2), text, fill=(0, 0, 0), font=font, anchor="lm")
        for c in range(cols):
            canvas.paste(Image.fromarray(cells[r, c]), (label_w + c * (s + pad), y))
    return np.asarray(canvas).copy()
