"""Edit the expression of faces in photos: faces -> aligned crops -> y_r -> y_g -> G -> paste-back.

Two levels:

- **frames** (shared with animation): :func:`crop_faces` cuts every face of a frame at one crop
  size, :func:`source_aus` estimates their AUs y_r in the model's AU order, and :func:`edit_frame`
  runs the generator on all faces of the frame in one batch and pastes the edited crops back with
  :func:`ganimate.blend.paste_faces` (feathered face region x attention), so pixels away from the
  faces stay bit-identical;
- **photos**: :func:`edit_photo` reads a photo upright (EXIF orientation applied, alpha kept
  aside), finds its faces (numbered 0, 1, ... from left to right, the same numbers as the ``face``
  column of ``ganimate aus``), builds each face's target from a :class:`ganimate.targets.TargetSpec`
  and returns a :class:`PhotoEdit` at the photo's full resolution; :func:`edit_photos` does a
  batch and writes the results; :func:`sweep_photo` draws the paper's Fig. 4 grid (rows per AU,
  columns per intensity); :func:`save_masks` writes the attention and colour masks (Fig. 5).

Crops are cut at the face's own resolution (at least the model's input size, at most
``max_crop``): the generator runs at model resolution, but ``inference.edit_crops`` composes
``(1 - A) * C + A * I`` at the crop's resolution, so the parts of the face that the attention keeps
retain their detail instead of coming back as an upsampled model-size copy.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ganimate import files
from ganimate.align import FaceCrop, align_face, crop_transform
from ganimate.aus import AU_NAMES, DEFAULT_ESTIMATOR, AUCalibration, default_estimator
from ganimate.blend import BlendConfig
from ganimate.engines import GanEngine, as_engine, edit_frame
from ganimate.errors import GanimateError
from ganimate.faces import largest_face
from ganimate.targets import AUChange, TargetSpec

if TYPE_CHECKING:
    from ganimate.checkpoint import LoadedGenerator
    from ganimate.faces import Face, FaceMesh
    from ganimate.inference import CropEdits

log = logging.getLogger("ganimate")


def __getattr__(name: str):
    """``resolve_checkpoint``, re-exported from :mod:`ganimate.models` when first asked for
    (importing it loads torch, which the warp engine never needs)."""
    if name == "resolve_checkpoint":
        from ganimate.models import resolve_checkpoint

        return resolve_checkpoint
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# Largest side of a face crop. Faces bigger than this in the photo are cut at this size (the
# generator sees model-size crops anyway; 512 keeps the full-resolution composite sharp for faces
# up to ~600 px tall without spending memory on huge crops).
MAX_CROP = 512

# =============================================================================================
# Frames: crops, source AUs, one batched edit + paste-back
# =============================================================================================


def crop_size_for(faces: Sequence[Face], model_size: int, max_crop: int = MAX_CROP) -> int:
    """One crop side for all ``faces`` of a frame: the largest face's own resolution, rounded up
    to a multiple of 8, within [model_size, max(model_size, max_crop)]."""
    if not faces:
        return model_size
    # frame pixels per crop pixel of a model-size crop = how much larger the face is in the frame
    scale = max(np.sqrt(abs(np.linalg.det(crop_transform(f, model_size)[:, :2]))) for f in faces)
    natural = int(np.ceil(model_size * scale / 8) * 8)
    return int(min(max(model_size, natural), max(model_size, max_crop)))


def crop_faces(rgb: np.ndarray, faces: Sequence[Face], model_size: int,
               max_crop: int = MAX_CROP, size: int | None = None) -> list[FaceCrop]:
    """Aligned crops of ``faces`` (same order), all of one size so they edit in one batch.

    ``size`` forces the crop side (animation keeps it fixed over a clip); by default
    :func:`crop_size_for` picks it from the largest face.
    """
    if size is None:
        size = crop_size_for(faces, model_size, max_crop)
    return [align_face(rgb, f, size) for f in faces]


def model_au_index(au_names: Sequence[str], unread: Sequence[str] = ()) -> np.ndarray:
    """Positions in the estimator's AU_NAMES of a model's AUs (by name), -1 for the ``unread``
    ones (AUs an engine moves but the estimator cannot read: taken as 0); refuses others."""
    missing = [n for n in au_names if n not in AU_NAMES and n not in unread]
    if missing:
        raise GanimateError(
            f"the model is conditioned on {' '.join(missing)}, which the AU estimator cannot "
            f"read (it reads {' '.join(AU_NAMES)}); give the targets explicitly or use a model "
            "trained on those AUs"
        )
    return np.array([AU_NAMES.index(n) if n in AU_NAMES else -1 for n in au_names],
                    dtype=np.int64)


def _calibration(model) -> AUCalibration | None:
    return AUCalibration.from_meta(getattr(model, "metadata", None) or {})


def source_aus(faces: Sequence[Face | FaceCrop], model: LoadedGenerator | Sequence[str] | None
               = None, method: str = DEFAULT_ESTIMATOR) -> np.ndarray:
    """AU intensities y_r of faces (or crops: their landmarks) in the model's AU order, (F, K).

    ``model`` is a loaded generator (its ``au_names``; if its metadata carries the training
    data's ``au_calibration``, raw estimates are mapped through it so that y_r is on the scale of
    the model's labels), a list of AU names, or None (all of AU_NAMES).
    """
    if model is None:
        names: Sequence[str] = AU_NAMES
    elif hasattr(model, "au_names"):  # a LoadedGenerator or an engine
        names = model.au_names
    else:
        names = tuple(model)
    index = model_au_index(names, getattr(model, "unread_aus", ()))
    est = default_estimator(method)
    raw = est.many(faces)
    calibration = _calibration(model)
    if calibration is not None:
        raw = calibration.apply(raw, AU_NAMES)
    out = np.where(index >= 0, raw[:, np.maximum(index, 0)], 0.0)  # unread AUs: 0
    return np.ascontiguousarray(out, dtype=np.float32)


# =============================================================================================
# Photos
# =============================================================================================


@dataclass(frozen=True)
class EditConfig:
    """How photos are edited (the CLI builds one from its options)."""

    # What to ask of each face (expression, --like, --aus-file, --au), applied to its own y_r.
    spec: TargetSpec = field(default_factory=TargetSpec)
    # Edit only this face: 0-based, numbered left to right by the centre of its box (the same
    # numbers as the `face` column of `ganimate aus`). None edits every face.
    face: int | None = None
    # Absolute overrides of the estimated source AUs (``--source-au AU12=0.3``), applied to y_r
    # before the target is built (for faces the estimator misreads, or crops without a face).
    source: tuple[AUChange, ...] = ()
    # The input is already an aligned square face crop (`ganimate prepare` output): edit it whole,
    # no detection, no paste-back; the output is the edited crop.
    aligned: bool = False
    # How edited crops are blended back (feather, attention, region).
    blend: BlendConfig = field(default_factory=BlendConfig)
    # AU estimator for y_r and --like: mesh, inversion or geometric (see ganimate.aus).
    estimator: str = DEFAULT_ESTIMATOR
    # Largest crop side (see MAX_CROP).
    max_crop: int = MAX_CROP


@dataclass
class PhotoEdit:
    """One edited photo, upright, at its full resolution, and what went into it."""

    path: Path  # the input photo
    rgb: np.ndarray  # uint8 (H, W, 3): the edited photo (the input's size)
    alpha: np.ndarray | None  # the input's alpha channel, unchanged (None: it had none)
    faces: list[Face]  # every face found, left to right (index = --face number); [] if aligned
    selected: list[int]  # indices into ``faces`` of the faces that were edited
    crops: list[FaceCrop]  # the edited faces' aligned crops, in ``selected`` order
    edits: CropEdits  # the generator's output per crop: edited crop, attention, colour
    source: np.ndarray  # float32 (F, K): y_r of each edited face, model AU order
    target: np.ndarray  # float32 (F, K): y_g handed to the generator


def _open_mesh(mesh: FaceMesh | None):
    from contextlib import nullcontext

    from ganimate.faces import FaceMesh

    return nullcontext(mesh) if mesh is not None else FaceMesh()


def _no_face(path: Path) -> GanimateError:
    return GanimateError(
        f"no face found in {path}; the face must be visible, roughly frontal (turned less than "
        "about 45 degrees) and at least about 40 px tall; for an already aligned face crop add "
        "--aligned"
    )


def _select(faces: Sequence[Face], face: int | None, path: Path) -> list[int]:
    if face is None:
        return list(range(len(faces)))
    if not 0 <= face < len(faces):
        raise GanimateError(
            f"--face {face}: {path} has {len(faces)} face(s), numbered 0 to {len(faces) - 1} "
            "from left to right (the `face` column of `ganimate aus`)"
        )
    return [face]


def _with_source_overrides(y_r: np.ndarray, config: EditConfig,
                           au_names: Sequence[str]) -> np.ndarray:
    from ganimate.targets import apply_changes

    if not config.source:
        return y_r
    return np.stack([apply_changes(row, config.source, au_names) for row in y_r])


def edit_photo(path: str | os.PathLike, config: EditConfig, engine, mesh: FaceMesh | None = None
               ) -> PhotoEdit:
    """Edit the faces of one photo (or, with ``config.aligned``, one aligned crop) with an engine
    (:mod:`ganimate.engines`; a loaded generator is taken as its GAN engine).

    The photo is read upright (EXIF orientation applied) and its alpha channel kept aside and
    returned unchanged. Pass a ``mesh`` to reuse mediapipe's graphs across photos.
    """
    from ganimate.images import read_photo
    from ganimate.targets import build_target

    engine = as_engine(engine)
    photo = read_photo(path)
    names = engine.au_names
    if config.aligned and isinstance(engine, GanEngine):
        return _edit_aligned(photo, config, engine.loaded, mesh)
    with _open_mesh(mesh) as m:
        faces = m(photo.rgb)
    if not faces:
        raise _no_face(photo.path)
    selected = [_central(faces, photo.rgb)] if config.aligned else _select(faces, config.face,
                                                                           photo.path)
    chosen = [faces[i] for i in selected]
    y_r = _with_source_overrides(source_aus(chosen, engine, config.estimator), config, names)
    y_g = build_target(y_r, config.spec, names)
    crops = crop_faces(photo.rgb, chosen, engine.image_size, config.max_crop)
    frame = edit_frame(photo.rgb, crops, y_r, y_g, engine, config.blend)
    return PhotoEdit(photo.path, frame.frame, photo.alpha, faces, selected, crops, frame.edits,
                     y_r, y_g)


def _central(faces: Sequence[Face], rgb: np.ndarray) -> int:
    """The face nearest the image centre (an aligned crop may show a neighbour's edge)."""
    h, w = rgb.shape[:2]
    return min(range(len(faces)), key=lambda i: (faces[i].box.center[0] - w / 2) ** 2
               + (faces[i].box.center[1] - h / 2) ** 2)


def _edit_aligned(photo, config: EditConfig, loaded: LoadedGenerator,
                  mesh: FaceMesh | None) -> PhotoEdit:
    from ganimate.targets import build_target

    h, w = photo.rgb.shape[:2]
    if h != w:
        raise GanimateError(
            f"{photo.path} is {w}x{h}; --aligned expects a square aligned face crop (as "
            "`ganimate prepare` writes them); drop --aligned to edit the faces of a photo"
        )
    names = loaded.au_names
    model_au_index(names)
    with _open_mesh(mesh) as m:
        faces = m(photo.rgb)
    if faces:
        face = faces[_central(faces, photo.rgb)]
        y_r = source_aus([face], loaded, config.estimator)
        landmarks = face.landmarks
    else:
        log.warning("%s: no face found in the crop; its source AUs count as 0 (set them with "
                    "--source-au)", photo.path)
        y_r = np.zeros((1, len(names)), np.float32)
        landmarks = np.zeros((0, 3), np.float32)
    y_r = _with_source_overrides(y_r, config, names)
    y_g = build_target(y_r, config.spec, names)
    from ganimate.inference import edit_crops  # deferred: torch

    edits = edit_crops(loaded, photo.rgb[None], y_g)
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    crop = FaceCrop(photo.rgb, identity, w, landmarks)
    return PhotoEdit(photo.path, edits.images[0], photo.alpha, [], [0], [crop], edits, y_r, y_g)


def like_aus(path: str | os.PathLike, model: LoadedGenerator | Sequence[str] | None = None,
             method: str = DEFAULT_ESTIMATOR, mesh: FaceMesh | None = None) -> np.ndarray:
    """The AUs (model order, (K,)) of the largest face of another photo, for ``--like``."""
    from ganimate.images import read_rgb

    path = Path(path)
    if not path.is_file():
        raise GanimateError(f"--like {path}: no such file")
    rgb = read_rgb(path)
    with _open_mesh(mesh) as m:
        faces = m(rgb)
    if not faces:
        raise GanimateError(f"--like {path}: no face found in it; pass a photo of the face whose "
                            "expression to copy")
    face = largest_face(faces)
    if len(faces) > 1:
        log.info("--like %s: %d faces; copying the largest", path, len(faces))
    return source_aus([face], model, method)[0]


def build_spec(engine, expression: str | None = None,
               like: str | os.PathLike | None = None, aus_file: str | os.PathLike | None = None,
               row: int | None = None, au: Sequence[str] = (),
               method: str = DEFAULT_ESTIMATOR, mesh: FaceMesh | None = None) -> TargetSpec:
    """The CLI's target options, parsed and checked, as a TargetSpec for the engine's AUs."""
    from ganimate.targets import target_spec

    names = engine.au_names
    # Parse the cheap options first so that a typo fails before a photo is read.
    target_spec(expression, None, aus_file, row, au, names)
    like_vec = None if like is None else like_aus(like, engine, method, mesh)
    return target_spec(expression, like_vec, aus_file, row, au, names)


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

    def spec(self, engine, method: str = DEFAULT_ESTIMATOR,
             mesh: FaceMesh | None = None) -> TargetSpec:
        """The options parsed and checked for the engine's AUs (see :func:`build_spec`)."""
        return build_spec(engine, self.expression, self.like, self.aus_file, self.row, self.au,
                          method, mesh)


# The error of `edit image` without a target.
NOTHING_TO_CHANGE = ("nothing to change: give --expression, --au, --like or --aus-file "
                     "(e.g. --expression happy or --au AU12=0.8)")


def parse_source_aus(texts: Sequence[str], au_names: Sequence[str]) -> tuple[AUChange, ...]:
    """``--source-au AU12=0.3`` options (absolute values only)."""
    from ganimate.targets import parse_au_option

    out = []
    for text in texts:
        change = parse_au_option(text, au_names)
        if change.mode != "set":
            raise GanimateError(f"--source-au {text!r}: give an absolute value, e.g. AU12=0.3")
        out.append(change)
    return tuple(out)


# --- masks (paper Fig. 5) -------------------------------------------------------------------


def mask_images(edits: CropEdits, i: int) -> tuple[np.ndarray, np.ndarray]:
    """(attention as grey, A = 1 white; colour mask C) of crop ``i``, uint8 RGB."""
    grey = np.rint(np.clip(edits.attention[i], 0, 1) * 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2), edits.colour[i]


def save_masks(edit: PhotoEdit, folder: str | os.PathLike) -> list[Path]:
    """Write, per edited face, its crop, attention A (white = input kept), colour mask C, edited
    crop, and a strip of the four side by side (like the paper's Fig. 5); returns the paths.

    Files are named ``<photo stem>.face<N>.<what>.png`` with N the face's --face number.
    """
    from ganimate.images import write_image

    folder = Path(folder)
    written = []
    for j, i in enumerate(edit.selected):
        stem = f"{edit.path.stem}.face{i}"
        crop = edit.crops[j].image
        attention, colour = mask_images(edit.edits, j)
        edited = edit.edits.images[j]
        parts = {"crop": crop, "attention": attention, "colour": colour, "edited": edited}
        for what, img in parts.items():
            written.append(write_image(folder / f"{stem}.{what}.png", img))
        gap = np.full((crop.shape[0], max(2, crop.shape[0] // 64), 3), 255, np.uint8)
        strip = np.concatenate([x for img in parts.values() for x in (img, gap)][:-1], axis=1)
        written.append(write_image(folder / f"{stem}.masks.png", strip))
    return written


# --- batches --------------------------------------------------------------------------------


def list_photos(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """Photo files named directly or found in folders (not recursive, sorted by name)."""
    from ganimate.images import IMAGE_SUFFIXES

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
    from ganimate.images import IMAGE_SUFFIXES

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
    from ganimate.images import IMAGE_SUFFIXES

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


def edit_with_attention(src: str | os.PathLike, dst: str | os.PathLike, config: EditConfig,
                        engine, attention: str | os.PathLike,
                        masks: str | os.PathLike | None = None) -> Path:
    """Edit one aligned crop into ``dst`` and write its attention mask to ``attention`` (and
    its masks into the folder ``masks``); returns the edited crop's path."""
    from ganimate.images import write_image

    edit = edit_photo(src, config, engine)
    path = write_photo_edit(edit, dst)
    write_image(attention, mask_images(edit.edits, 0)[0])
    if masks is not None:
        save_masks(edit, masks)
    return path


def write_photo_edit(edit: PhotoEdit, out: str | os.PathLike) -> Path:
    """Write an edited photo; the format follows ``out``'s extension, alpha is kept where the
    format can store it (PNG, WebP, TIFF)."""
    from ganimate.images import is_greyscale, write_image

    out = Path(out)
    if edit.alpha is not None and out.suffix.lower() in (".jpg", ".jpeg", ".bmp"):
        log.warning("%s has an alpha channel that %s cannot store; it is dropped (write .png to "
                    "keep it)", edit.path, out.suffix)
    return write_image(out, edit.rgb, edit.alpha, grey=is_greyscale(edit.path))


@dataclass(frozen=True)
class FailedPhoto:
    path: Path
    reason: str  # the error, as the CLI would print it


@dataclass
class BatchResult:
    written: list[Path]  # edited photos, in input order
    masks: list[Path]  # mask files written (--save-masks)
    failed: list[FailedPhoto]  # photos that could not be edited, and why
    total: int = 0  # photos asked for

    def require_all(self) -> None:
        """Refuse a batch in which some photos could not be edited (the others are written)."""
        if self.failed:
            raise GanimateError(f"{len(self.failed)} of {self.total} photos could not be edited "
                                f"(first: {self.failed[0].reason})")


def edit_photos(inputs: Sequence[str | os.PathLike], out: str | os.PathLike, config: EditConfig,
                engine, masks: str | os.PathLike | None = None,
                mesh: FaceMesh | None = None) -> BatchResult:
    """Edit photos (files or folders of them) into ``out`` (a file for one photo, else a folder),
    with a progress bar. Every output path is checked before anything is written. One photo that
    fails raises; in a batch the others are still edited and the failures reported."""
    from ganimate.progress import track

    pairs = plan_outputs(inputs, out)
    engine = as_engine(engine)
    if masks is not None and not isinstance(engine, GanEngine):
        raise GanimateError("--save-masks writes the generator's attention and colour masks; "
                            "the warp engine has none (use --engine gan)")
    if not config.aligned:
        # a model the estimator cannot read fails up front
        model_au_index(engine.au_names, getattr(engine, "unread_aus", ()))
    result = BatchResult([], [], [], total=len(pairs))
    with _open_mesh(mesh) as m, track("editing photos", total=len(pairs)) as bar:
        for src, dst in pairs:
            try:
                edit = edit_photo(src, config, engine, m)
            except GanimateError as exc:
                if len(pairs) == 1:
                    raise
                log.warning("%s", exc)
                result.failed.append(FailedPhoto(src, str(exc)))
                bar.advance(info=f"{src.name} failed")
                continue
            result.written.append(write_photo_edit(edit, dst))
            if masks is not None:
                result.masks += save_masks(edit, masks)
            bar.advance(info=src.name)
    return result


# =============================================================================================
# Sweeps (paper Fig. 4)
# =============================================================================================


def plan_sweep(photo: str | os.PathLike, out: str | os.PathLike) -> Path:
    """The grid's path, once ``photo`` is checked to be one photo that ``out`` does not
    overwrite."""
    if Path(photo).is_dir():
        raise GanimateError(f"{photo}: a sweep takes one photo, not a folder")
    return plan_outputs([photo], out)[0][1]


def sweep_aus(texts: Sequence[str], au_names: Sequence[str]) -> tuple[str, ...]:
    """``--au AU12 --au 4`` -> the model's AU names, each once, in the order given."""
    from ganimate.aus import canonical_au_name

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


@dataclass(frozen=True)
class SweepConfig:
    """A grid of one face at several intensities of several AUs."""

    aus: tuple[str, ...]  # AUs swept, one row each (canonical names)
    steps: tuple[float, ...]  # intensities, one column each
    # The face to sweep (--face numbering); None: the largest face of the photo.
    face: int | None = None
    # Side of a grid cell in pixels.
    cell: int = 192
    # Show the whole photo in each cell instead of the region around the face.
    whole: bool = False
    blend: BlendConfig = field(default_factory=BlendConfig)
    estimator: str = DEFAULT_ESTIMATOR
    max_crop: int = MAX_CROP


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


def sweep_photo(path: str | os.PathLike, config: SweepConfig, engine,
                mesh: FaceMesh | None = None) -> SweepResult:
    """Edit one face of a photo to every (AU, intensity) pair, other AUs kept at the face's own
    values, and lay the results out as a labelled grid: a row per AU, the input first, then a
    column per intensity."""
    from ganimate.engines import FrameJob
    from ganimate.images import read_photo
    from ganimate.targets import apply_changes

    engine = as_engine(engine)
    photo = read_photo(path)
    names = engine.au_names
    with _open_mesh(mesh) as m:
        faces = m(photo.rgb)
    if not faces:
        raise _no_face(photo.path)
    if config.face is None:
        index = faces.index(largest_face(faces))
    else:
        index = _select(faces, config.face, photo.path)[0]
    face = faces[index]
    y_r = source_aus([face], engine, config.estimator)[0]
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
    from ganimate.aus import AU_DESCRIPTIONS

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
