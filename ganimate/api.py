"""ganimate from Python: edit the expression of a photo, animate a video, read the AUs of faces,
load an engine once and reuse it. Images go in as numpy arrays, PIL images or paths and come out
as numpy arrays (uint8 RGB, the input's size); every failure is a
:class:`~ganimate.errors.GanimateError` whose message names the fix.

These functions are re-exported at the top: ``ganimate.edit_image`` is
:func:`ganimate.api.edit_image`. docs/api.md walks through them.

Every example here runs as a test::

    >>> import ganimate
    >>> photo = ganimate.demo_photo()  # a bundled portrait (London set, CC BY 4.0)
    >>> happy = ganimate.edit_image(photo, "happy")
    >>> happy.shape, happy.dtype
    ((512, 512, 3), dtype('uint8'))
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES, DEFAULT_ESTIMATOR

if TYPE_CHECKING:
    from PIL.Image import Image

    from ganimate.animation import AnimationResult
    from ganimate.engines import Engine
    from ganimate.images import Photo

# A photo: a uint8 array (H, W, 3) RGB, (H, W) grey or (H, W, 4) RGBA; a PIL image; or a file.
ImageLike = Union[np.ndarray, "Image", str, os.PathLike]
# AU targets: {"AU12": 0.8} (absolute values in [0, 1]), or the CLI's --au words:
# ["AU12=0.8", "AU04-0.2"] (relative changes to the face's own AUs).
AUTargets = Mapping[str, float] | Sequence[str]


@dataclass(frozen=True)
class FaceAUs:
    """One face in one photo or video frame, as `ganimate aus` lists it (docs/aus.md)."""

    face: int  # photos: 0, 1, ... left to right; videos: the face's track id
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels
    aus: dict[str, float]  # AU name -> intensity in [0, 1] (FACS 0-5 divided by 5)
    frame: int = 0  # the video frame (0 for a photo)
    time: float = 0.0  # seconds into the video (0 for a photo)


def demo_photo() -> Path:
    """The bundled demo portrait (London set, CC BY 4.0): a file to try the API on."""
    from ganimate.demo import PHOTO, asset

    return asset(PHOTO)


def demo_clip() -> Path:
    """The bundled demo clip (2.4 s, a man's face going from neutral to a smile; MIT)."""
    from ganimate.demo import VIDEO, asset

    return asset(VIDEO)


def load_engine(engine: str = "warp", checkpoint: str | os.PathLike | None = None,
                device: str = "auto") -> Engine:
    """An engine to pass to :func:`edit_image` and :func:`animate_video` many times over.

    ``engine``: "warp" (scanned FACS geometry, no model), "gan" (the generator of
    ``checkpoint``, default the shipped model) or "hybrid" (the warp, then the generator for
    texture). ``device``: "auto", "cpu", "cuda", "cuda:N" (gan and hybrid).

    >>> import ganimate
    >>> warp = ganimate.load_engine("warp")
    >>> warp.name, len(warp.au_names)
    ('warp', 22)
    """
    from ganimate.engines import load_engine as load

    with _python_words():
        return load(engine, checkpoint, device)


def edit_image(image: ImageLike, expression: str | None = None, aus: AUTargets | None = None,
               engine: str | Engine = "warp", *, face: int | None = None, hands: bool = True,
               checkpoint: str | os.PathLike | None = None, device: str = "auto",
               estimator: str = DEFAULT_ESTIMATOR) -> np.ndarray:
    """The photo with its faces' expression changed: a uint8 array of the input's size (RGB, or
    RGBA with the input's alpha unchanged); pixels away from the faces are untouched.

    ``expression``: a preset (neutral, happy, sad, surprise, fear, anger, disgust), with a
    strength ("happy:0.6") or an amount ("happy+0.5"); ``aus`` on top of it (see
    :data:`AUTargets`). ``engine``: a name or a loaded engine (:func:`load_engine`).
    ``face``: only face N (0-based, left to right). A path is read upright (its EXIF
    orientation applied); an array or a PIL image is taken as it is.

    >>> import ganimate, numpy as np
    >>> from PIL import Image
    >>> photo = np.asarray(Image.open(ganimate.demo_photo()))  # any uint8 RGB array
    >>> smile = ganimate.edit_image(photo, aus={"AU12": 0.9, "AU25": 0.6})
    >>> smile.shape == photo.shape, int(np.abs(smile.astype(int) - photo).max()) > 20
    (True, True)
    """
    from ganimate.editing import EditConfig, FoundFaces, edit_found, find_faces_in

    engine = _engine(engine, checkpoint, device)
    source = _photo(image)
    with _python_words():
        spec = _targets(expression, aus).require(_NOTHING).spec(engine.au_space, estimator)
        found: FoundFaces = find_faces_in(source, hands=hands, aligned_hint=False)
        edit = edit_found(found, EditConfig(spec=spec, face=face, estimator=estimator,
                                            hands=hands), engine)
    if source.alpha is None:
        return edit.rgb
    return np.dstack([edit.rgb, source.alpha])


def animate_video(src: str | os.PathLike, dst: str | os.PathLike,
                  expression: str | None = None, aus: AUTargets | None = None,
                  engine: str | Engine = "warp", *, hold: bool = False, ramp: str | None = None,
                  face: int | None = None, lossless: bool = False,
                  checkpoint: str | os.PathLike | None = None, device: str = "auto",
                  estimator: str = DEFAULT_ESTIMATOR) -> AnimationResult:
    """Change the expression of the people in video ``src``, written to ``dst`` (.mp4 .mov .mkv
    .m4v with the input's audio, .gif, or a folder for PNG frames), streamed frame by frame.

    By default the expression grows from none at the first frame to full at the last; ``hold``
    shows it throughout; ``ramp`` takes `animate video`'s keyframes ("0s:0,1s:1,3s:1,4s:0").
    Returns what was written (``.out``, ``.frames``, ``.fps``, ...).

    >>> import ganimate, tempfile
    >>> out = tempfile.mkdtemp()
    >>> result = ganimate.animate_video(ganimate.demo_clip(), f"{out}/happy.mp4", "happy",
    ...                                 hold=True)
    >>> result.frames
    72
    """
    from ganimate.animation import AnimateConfig, Timeline, check_video_request
    from ganimate.animation import animate_video as animate

    targets = _targets(expression, aus)
    timeline = Timeline(ramp, hold)
    with _python_words():
        check_video_request(src, dst, targets, timeline, None)
        engine = _engine(engine, checkpoint, device)
        config = AnimateConfig(face=face, estimator=estimator, lossless=lossless)
        spec = targets.spec(engine.au_space, estimator)
        return animate(src, dst, engine, spec, config, timeline)


def read_aus(image_or_video: ImageLike, *, estimator: str = DEFAULT_ESTIMATOR, every: int = 1,
             baseline: bool = False) -> list[FaceAUs]:
    """The AU intensities of every face: one :class:`FaceAUs` per face per photo or video
    frame (videos: faces tracked, ``face`` is the track id; ``every`` k-th frame; ``baseline``
    subtracts each person's neutral face). A folder lists every photo and video in it.

    >>> import ganimate
    >>> faces = ganimate.read_aus(ganimate.demo_photo())
    >>> len(faces), faces[0].aus["AU12"] < 0.3
    (1, True)
    """
    if isinstance(image_or_video, (str, os.PathLike)):
        from ganimate.au_table import scan_aus

        return [FaceAUs(r.face, r.box, _named(r.aus), r.frame, r.time)
                for r in scan_aus(image_or_video, estimator, every, baseline)]
    from ganimate.faces import AUEstimator, open_mesh

    read = AUEstimator(estimator)
    with open_mesh(None) as mesh:
        faces = mesh(_photo(image_or_video).rgb)
    return [FaceAUs(k, f.box.as_tuple(), _named(read(f))) for k, f in enumerate(faces)]


# The library's errors name the command line's options (``--au 'AU12=1.5': ...``); a Python caller
# reads the parameter's name instead.
_OPTIONS = {"au": "aus", "expression": "expression", "ramp": "ramp", "engine": "engine",
            "device": "device", "face": "face", "checkpoint": "checkpoint", "hold": "hold",
            "estimator": "estimator", "every": "every"}
_OPTION = re.compile(r"--(" + "|".join(sorted(_OPTIONS, key=len, reverse=True)) + r")\b")


@contextmanager
def _python_words() -> Iterator[None]:
    """Errors raised inside, with the command line's option names as this module's parameters."""
    try:
        yield
    except GanimateError as exc:
        text = _OPTION.sub(lambda m: _OPTIONS[m.group(1)], str(exc))
        if text == str(exc):
            raise
        raise GanimateError(text) from exc


_NOTHING = "nothing to change: give an expression (e.g. 'happy') or aus (e.g. {'AU12': 0.8})"


def _engine(engine: str | Engine, checkpoint, device: str) -> Engine:
    if isinstance(engine, str):
        return load_engine(engine, checkpoint, device)
    if checkpoint is not None:
        raise GanimateError("checkpoint: give it to load_engine, or pass the engine's name")
    return engine


def _targets(expression: str | None, aus: AUTargets | None):
    from ganimate.targets import TargetOptions

    if aus is None:
        words: tuple[str, ...] = ()
    elif isinstance(aus, Mapping):
        words = tuple(f"{name}={float(value)!r}" for name, value in aus.items())
    elif isinstance(aus, str):
        raise GanimateError(f"aus={aus!r}: give a dict ({{'AU12': 0.8}}) or a list of words "
                            "(['AU12=0.8', 'AU04-0.2'])")
    else:
        words = tuple(aus)
    return TargetOptions(expression, au=words)


def _named(values: np.ndarray) -> dict[str, float]:
    return {name: float(v) for name, v in zip(AU_NAMES, values, strict=True)}


def _photo(image: ImageLike) -> Photo:
    """A photo from a file (read upright), a PIL image or a uint8 array, as the editor reads."""
    from ganimate.images import Photo, photo_of, read_photo

    if isinstance(image, (str, os.PathLike)):
        return read_photo(image)
    if not isinstance(image, np.ndarray):
        if not hasattr(image, "getbands"):
            raise GanimateError(f"image: {type(image).__name__} is not a photo; give a numpy "
                                "array, a PIL image or a path")
        return photo_of(image, Path("the image"))
    if image.dtype != np.uint8:
        raise GanimateError(f"image: dtype {image.dtype}; give uint8 RGB (0-255), e.g. "
                            "(array * 255).round().astype(np.uint8)")
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise GanimateError(f"image: shape {image.shape}; give (H, W, 3) RGB, (H, W, 4) RGBA "
                            "or (H, W) grey")
    alpha = image[..., 3].copy() if image.shape[2] == 4 else None
    return Photo(np.ascontiguousarray(image[..., :3]), alpha, Path("the image"))
