"""Edit the expression of faces in photos: read upright, find faces, crop, y_r -> y_g, engine,
paste-back.

:func:`edit_photo` reads a photo upright (EXIF orientation applied, alpha kept aside), finds its
faces (numbered 0, 1, ... from left to right, the same numbers as the ``face`` column of
``ganimate aus``), builds each face's target from a :class:`ganimate.targets.TargetSpec` and returns
a :class:`PhotoEdit` at the photo's full resolution; :func:`edit_photos` does a batch and writes
the results.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ganimate.editing.outputs import mask_images, plan_outputs
from ganimate.engines import (
    BlendConfig,
    Engine,
    GanEngine,
    edit_crops,
    edit_frame,
    keep_in_front,
    photo_aus,
)
from ganimate.errors import GanimateError
from ganimate.faces import (
    DEFAULT_ESTIMATOR,
    MAX_CROP,
    FaceCrop,
    crop_faces,
    model_au_index,
    open_mesh,
    pick_faces,
    source_aus,
)
from ganimate.images import Photo, is_greyscale, read_photo, write_image
from ganimate.progress import track
from ganimate.targets import AUChange, TargetSpec, apply_changes, build_target

if TYPE_CHECKING:
    from ganimate.engines import CropEdits
    from ganimate.faces import Face, FaceMesh, Hand

log = logging.getLogger("ganimate")


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
    # AU estimator for y_r and --like: mesh, inversion or geometric (see ganimate.faces.aus).
    estimator: str = DEFAULT_ESTIMATOR
    # Largest crop side (see MAX_CROP).
    max_crop: int = MAX_CROP
    # Keep hands in front of the faces: where mediapipe's hand tracker finds a hand over a face,
    # the output keeps the photo's pixels (:mod:`ganimate.faces.hands`).
    hands: bool = True


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


def no_face_error(path: Path, aligned_hint: bool = True) -> GanimateError:
    """The error of a photo without a face; ``aligned_hint``: name `edit image --aligned`, the
    mode for face crops (the Python API has none)."""
    hint = "; for an already aligned face crop add --aligned" if aligned_hint else ""
    return GanimateError(
        f"no face found in {path}; the face must be visible, roughly frontal (turned less than "
        f"about 45 degrees) and at least about 40 px tall{hint}"
    )


def _with_source_overrides(y_r: np.ndarray, config: EditConfig,
                           au_names: Sequence[str]) -> np.ndarray:
    if not config.source:
        return y_r
    return np.stack([apply_changes(row, config.source, au_names) for row in y_r])


@dataclass
class FoundFaces:
    """A photo read upright and its faces found: all of :func:`edit_photo` that does not depend
    on the target (the studio keeps it while the sliders move)."""

    photo: Photo
    faces: list[Face]  # left to right (index = --face number)
    hands: tuple[Hand, ...] = ()  # hands found (kept in front of the edit); () if not looked for


def find_faces(path: str | os.PathLike, mesh: FaceMesh | None = None, hands: bool = True
               ) -> FoundFaces:
    """Read a photo upright and find its faces (and, with ``hands``, its hands); no face is an
    error naming the fix."""
    return find_faces_in(read_photo(path), mesh, hands)


def find_faces_in(photo: Photo, mesh: FaceMesh | None = None, hands: bool = True,
                  aligned_hint: bool = True) -> FoundFaces:
    """The faces (and, with ``hands``, the hands) of a decoded photo; no face is an error
    (:func:`no_face_error`)."""
    with open_mesh(mesh) as m:
        faces = m(photo.rgb)
        if not faces:
            raise no_face_error(photo.path, aligned_hint)
        found = m.hands(photo.rgb) if hands else ()
    return FoundFaces(photo, faces, found)


def edit_found(found: FoundFaces, config: EditConfig, engine: Engine) -> PhotoEdit:
    """Edit the faces of a photo whose faces were found (:func:`find_faces`)."""
    photo, faces = found.photo, found.faces
    if config.aligned:
        selected = [_central(faces, photo.rgb)]
    else:
        selected = pick_faces(faces, config.face, photo.path)
    chosen = [faces[i] for i in selected]
    y_r = photo_aus(engine, chosen, config.estimator)
    y_r = _with_source_overrides(y_r, config, engine.au_names)
    y_g = build_target(y_r, config.spec, engine.au_names)
    crops = crop_faces(photo.rgb, chosen, engine.image_size, config.max_crop)
    frame = edit_frame(photo.rgb, crops, y_r, y_g, engine, config.blend,
                       hands=found.hands if config.hands else ())
    rgb = keep_in_front(photo.rgb, frame.frame, found.hands) if config.hands else frame.frame
    return PhotoEdit(photo.path, rgb, photo.alpha, faces, selected, crops, frame.edits, y_r, y_g)


def edit_photo(path: str | os.PathLike, config: EditConfig, engine: Engine,
               mesh: FaceMesh | None = None) -> PhotoEdit:
    """Edit the faces of one photo (or, with ``config.aligned``, one aligned crop) with an engine
    (:mod:`ganimate.engines`; a loaded generator is taken as its GAN engine).

    The photo is read upright (EXIF orientation applied) and its alpha channel kept aside and
    returned unchanged. Pass a ``mesh`` to reuse mediapipe's graphs across photos.
    """
    if config.aligned and isinstance(engine, GanEngine):
        return _edit_aligned(read_photo(path), config, engine, mesh)
    return edit_found(find_faces(path, mesh, config.hands), config, engine)


def _central(faces: Sequence[Face], rgb: np.ndarray) -> int:
    """The face nearest the image centre (an aligned crop may show a neighbour's edge)."""
    h, w = rgb.shape[:2]
    return min(range(len(faces)), key=lambda i: (faces[i].box.center[0] - w / 2) ** 2
               + (faces[i].box.center[1] - h / 2) ** 2)


def _edit_aligned(photo, config: EditConfig, engine: GanEngine,
                  mesh: FaceMesh | None) -> PhotoEdit:
    h, w = photo.rgb.shape[:2]
    if h != w:
        raise GanimateError(
            f"{photo.path} is {w}x{h}; --aligned expects a square aligned face crop (as "
            "`ganimate prepare` writes them); drop --aligned to edit the faces of a photo"
        )
    names = engine.au_names
    model_au_index(names)
    with open_mesh(mesh) as m:
        faces = m(photo.rgb)
    if faces:
        face = faces[_central(faces, photo.rgb)]
        y_r = source_aus([face], engine.au_space, config.estimator)
        landmarks = face.landmarks
    else:
        log.warning("%s: no face found in the crop; its source AUs count as 0 (set them with "
                    "--source-au)", photo.path)
        y_r = np.zeros((1, len(names)), np.float32)
        landmarks = np.zeros((0, 3), np.float32)
    y_r = _with_source_overrides(y_r, config, names)
    y_g = build_target(y_r, config.spec, names)

    edits = edit_crops(engine.loaded, photo.rgb[None], y_g)
    identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    crop = FaceCrop(photo.rgb, identity, w, landmarks)
    return PhotoEdit(photo.path, edits.images[0], photo.alpha, [], [0], [crop], edits, y_r, y_g)


def edit_with_attention(src: str | os.PathLike, dst: str | os.PathLike, config: EditConfig,
                        engine: Engine, attention: str | os.PathLike,
                        masks: str | os.PathLike | None = None) -> Path:
    """Edit one aligned crop into ``dst`` and write its attention mask to ``attention`` (and
    its masks into the folder ``masks``); returns the edited crop's path."""
    edit = edit_photo(src, config, engine)
    path = write_photo_edit(edit, dst)
    write_image(attention, mask_images(edit.edits, 0)[0])
    if masks is not None:
        save_masks(edit, masks)
    return path


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
                engine: Engine, masks: str | os.PathLike | None = None,
                mesh: FaceMesh | None = None) -> BatchResult:
    """Edit photos (files or folders of them) into ``out`` (a file for one photo, else a folder),
    with a progress bar. Every output path is checked before anything is written. One photo that
    fails raises; in a batch the others are still edited and the failures reported."""
    pairs = plan_outputs(inputs, out)
    if masks is not None and not isinstance(engine, GanEngine):
        raise GanimateError("--save-masks writes the generator's attention and colour masks; "
                            "the warp engine has none (use --engine gan)")
    if not config.aligned:
        # a model the estimator cannot read fails up front
        model_au_index(engine.au_names, engine.unread_aus)
    result = BatchResult([], [], [], total=len(pairs))
    with open_mesh(mesh) as m, track("editing photos", total=len(pairs)) as bar:
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


def save_masks(edit: PhotoEdit, folder: str | os.PathLike) -> list[Path]:
    """Write, per edited face, its crop, attention A (white = input kept), colour mask C, edited
    crop, and a strip of the four side by side (like the paper's Fig. 5); returns the paths.

    Files are named ``<photo stem>.face<N>.<what>.png`` with N the face's --face number.
    """
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


def write_photo_edit(edit: PhotoEdit, out: str | os.PathLike) -> Path:
    """Write an edited photo; the format follows ``out``'s extension, alpha is kept where the
    format can store it (PNG, WebP, TIFF)."""
    out = Path(out)
    if edit.alpha is not None and out.suffix.lower() in (".jpg", ".jpeg", ".bmp"):
        log.warning("%s has an alpha channel that %s cannot store; it is dropped (write .png to "
                    "keep it)", edit.path, out.suffix)
    return write_image(out, edit.rgb, edit.alpha, grey=is_greyscale(edit.path))
