"""The studio's state: its folder, the engines it has loaded, the open photo and the open clip,
and a clip's render running in the background.

Every edit goes through the same library calls as the CLI (``edit_found`` is ``edit image`` once
the faces are found; a render is ``animate_video`` with the keyframe file), so a download is the
file the copied command writes.
"""

from __future__ import annotations

import base64
import io
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ganimate.animation import AnimateConfig, ClipPlans, Conditions, Timeline, animate_video
from ganimate.editing import EditConfig, FoundFaces, PhotoEdit, edit_found, find_faces
from ganimate.engines import Engine, load_engine
from ganimate.errors import GanimateError
from ganimate.faces import FaceMesh
from ganimate.files import safe_name
from ganimate.images import IMAGE_SUFFIXES
from ganimate.studio.config import StudioConfig
from ganimate.studio.requests import PhotoRequest, VideoRequest
from ganimate.targets import TargetSpec, keyframes_of
from ganimate.video import VIDEO_SUFFIXES, VideoInfo, is_video, probe, read_frame_at

log = logging.getLogger("ganimate")

# Outputs the photo tab can write in the input's own format; others become PNG.
_SAME_FORMAT = (".jpg", ".jpeg", ".png", ".webp")


# The longest side of a preview sent to the page: larger photos and frames are shown scaled
# down (a screen shows no more; the download keeps every pixel).
PREVIEW_SIDE = 1600


def jpeg_data_url(rgb: np.ndarray, quality: int = 90) -> str:
    """An RGB array as a JPEG ``data:`` URL for the page (the preview, not the download)."""
    from PIL import Image  # deferred: only the studio's previews need it here

    image = Image.fromarray(np.ascontiguousarray(rgb))
    if max(image.size) > PREVIEW_SIDE:
        image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.BILINEAR)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class Folder:
    """The studio's temporary folder: uploads/, out/ and keyframe files; nothing is written
    anywhere else."""

    def __init__(self, keep: bool = False):
        self.root = Path(tempfile.mkdtemp(prefix="ganimate-studio-"))
        self.uploads = self.root / "uploads"
        self.out = self.root / "out"
        self.uploads.mkdir()
        self.out.mkdir()
        self.keep = keep

    def upload_path(self, name: str) -> Path:
        """A fresh path in uploads/ for a file the page sent (its name made safe)."""
        stem = safe_name(Path(name).name)
        path = self.uploads / stem
        i = 1
        while path.exists():
            path = self.uploads / f"{Path(stem).stem}-{i}{Path(stem).suffix}"
            i += 1
        return path

    def resolve(self, relative: str) -> Path:
        """A file inside the folder named by the page; refuses anything outside it."""
        try:
            path = (self.root / relative).resolve()
            inside = self.root.resolve() in path.parents and path.is_file()
        except (OSError, ValueError):  # a null byte, a name longer than the file system takes
            inside = False
        if not inside:
            raise GanimateError(f"{relative!r}: no such file in the studio's folder")
        return path

    def close(self) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


class _Caught(logging.Handler):
    """Keeps the warnings one thread logs (the server answers each request in a thread)."""

    def __init__(self, into: list[str]):
        super().__init__(logging.WARNING)
        self.thread, self.into = threading.get_ident(), into

    def emit(self, record: logging.LogRecord) -> None:
        message = f"warning: {record.getMessage()}"
        if record.thread == self.thread and message not in self.into:
            self.into.append(message)


@contextmanager
def caught_warnings(into: list[str] | None = None) -> Iterator[list[str]]:
    """The warnings the ``ganimate`` logger gets from this thread inside the block, as lines for
    the page (they still reach the terminal too); appended to ``into`` as they come."""
    handler = _Caught([] if into is None else into)
    log.addHandler(handler)
    try:
        yield handler.into
    finally:
        log.removeHandler(handler)


class Engines:
    """The engines the page has asked for, each loaded once (a generator takes seconds), with
    the warnings each gave as it loaded (a stand-in model says so only then)."""

    def __init__(self, config: StudioConfig):
        self._config = config
        self._loaded: dict[str, Engine] = {}
        self._warnings: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Engine:
        with self._lock:
            if name not in self._loaded:
                ckpt = None if name == "warp" else self._config.checkpoint
                with caught_warnings() as caught:
                    self._loaded[name] = load_engine(name, ckpt, self._config.device)
                self._warnings[name] = caught
            return self._loaded[name]

    def warnings(self, name: str) -> list[str]:
        """What the engine warned of when it loaded (the page shows it with every edit)."""
        return list(self._warnings.get(name, ()))

    @property
    def checkpoint(self) -> str | None:
        ckpt = self._config.checkpoint
        return None if ckpt is None else str(Path(ckpt).resolve())


# Options of the CLI that the page does not offer: an error's hint to add one is left out.
_CLI_ONLY = ("--aligned",)


def as_uploaded(exc: GanimateError, path: Path, name: str) -> GanimateError:
    """``exc`` as the page should say it: naming the user's file, not the studio's copy of it in
    uploads/, and without the clauses that suggest an option the page lacks."""
    message = str(exc)
    for internal in (str(path.resolve()), str(path)):
        message = message.replace(internal, name)
    if message.startswith(f"{path.name}: "):  # the copy's name: made safe, maybe numbered
        message = name + message[len(path.name):]
    clauses = [c for c in message.split("; ") if not any(opt in c for opt in _CLI_ONLY)]
    return GanimateError("; ".join(clauses))


def kind_of(path: Path) -> str:
    """photo or video, by the file's suffix (the CLI's own lists)."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return "photo"
    if is_video(path):
        return "video"
    raise GanimateError(f"{path.name}: neither a photo ({', '.join(IMAGE_SUFFIXES)}) nor a "
                        f"video ({', '.join(VIDEO_SUFFIXES)})")


@dataclass
class PhotoSession:
    """The open photo: read, its faces found once; each slider move edits it again."""

    path: Path
    found: FoundFaces
    title: str  # the name the page shows: the user's own file's (an upload is renamed)

    @classmethod
    def open(cls, path: Path, mesh: FaceMesh, title: str | None = None) -> PhotoSession:
        if not path.is_file():
            raise GanimateError(f"{path}: no such file")
        return cls(path.resolve(), find_faces(path, mesh), title or path.name)

    @property
    def output_name(self) -> str:
        suffix = self.path.suffix.lower()
        return f"{self.path.stem}-edited{suffix if suffix in _SAME_FORMAT else '.png'}"

    def describe(self) -> dict:
        h, w = self.found.photo.rgb.shape[:2]
        return {"name": self.path.name, "title": self.title, "path": str(self.path),
                "width": w, "height": h,
                "faces": [list(map(float, f.box.as_tuple())) for f in self.found.faces],
                "original": jpeg_data_url(self.found.photo.rgb)}

    def edit(self, request: PhotoRequest, engine: Engine) -> PhotoEdit:
        spec = request.targets.spec(engine.au_space)
        return edit_found(self.found, EditConfig(spec=spec, face=request.face), engine)


@dataclass
class Preview:
    """A frame of the clip edited as the keyframes ask at its time."""

    rgb: np.ndarray
    alpha: float
    own: list[float] | None  # the largest face's AUs (engine order); None: no face
    target: list[float] | None  # its keyed AUs at this time (own where unkeyed)


@dataclass
class VideoSession:
    """The open clip: probed once; frames are decoded on demand, never the whole clip. Its
    previews are the render's frames: per engine, the render's plans of the frames
    (:class:`ganimate.animation.ClipPlans`), made as far as the playhead has gone."""

    path: Path
    info: VideoInfo
    title: str  # the name the page shows: the user's own file's (an upload is renamed)
    plans: dict[str, ClipPlans] = field(default_factory=dict)

    def close(self) -> None:
        for plans in self.plans.values():
            plans.close()
        self.plans.clear()

    def _plans(self, engine: Engine) -> ClipPlans:
        if engine.name not in self.plans:
            self.plans[engine.name] = ClipPlans(self.path, engine, AnimateConfig(), self.info)
        return self.plans[engine.name]

    @classmethod
    def open(cls, path: Path, title: str | None = None) -> VideoSession:
        if not path.is_file():
            raise GanimateError(f"{path}: no such file")
        return cls(path.resolve(), probe(path), title or path.name)

    @property
    def frames(self) -> int:
        return self.info.frame_count or 1

    @property
    def fps(self) -> float:
        return float(self.info.fps)

    @property
    def duration(self) -> float:
        """Seconds the clip lasts: its frames at its rate."""
        return self.frames / self.fps

    @property
    def output_name(self) -> str:
        return f"{self.path.stem}-edited.mp4"

    def describe(self) -> dict:
        return {"name": self.path.name, "title": self.title, "path": str(self.path),
                "frames": self.frames, "fps": self.fps, "duration": self.duration,
                "width": self.info.width, "height": self.info.height}

    def keyframes(self, request: VideoRequest, engine: Engine):
        return keyframes_of(request.keys, self.fps, self.frames, engine.au_names,
                            where="(studio)")

    def preview(self, index: int, request: VideoRequest, engine: Engine) -> Preview:
        """Frame ``index`` as the render of the request's keyframes makes it (the same plan,
        conditions and engine call: :class:`ganimate.animation.ClipPlans`)."""
        plans = self._plans(engine)
        if not request.keys:
            faces = plans.plan(index).faces
            frame = read_frame_at(self.path, index, self.info)
            if not faces:
                return Preview(frame, 0.0, None, None)
            own = _largest(faces).y_r.tolist()
            return Preview(frame, 0.0, own, own)
        keys = self.keyframes(request, engine)
        conditions = Conditions(keys.schedule, TargetSpec(), tuple(engine.au_names), self.fps,
                                keys=keys.curves)
        edited = plans.edit(index, conditions)
        job = edited.job
        if not job.crops:
            return Preview(edited.rgb, job.alpha, None, None)
        k = job.crops.index(_largest(plans.plan(index).faces).crop)
        return Preview(edited.rgb, job.alpha, job.y_r[k].tolist(), job.targets[k].tolist())

    def curves(self, request: VideoRequest, engine: Engine, samples: int = 200) -> dict:
        """alpha and each keyed AU over the clip, sampled for the page's plot."""
        keys = self.keyframes(request, engine)
        frames = np.linspace(0, self.frames - 1, min(samples, self.frames))
        out = {"times": (frames / self.fps).round(4).tolist(),
               "alpha": keys.schedule(frames).round(4).tolist(), "aus": {}}
        if keys.curves is not None:
            for k, curve in keys.curves.curves:
                out["aus"][engine.au_names[k]] = curve(frames).round(4).tolist()
        return out


@dataclass
class Render:
    """A clip's render in a background thread, with its progress."""

    total: int
    done: int = 0
    state: str = "running"  # running, done, failed
    error: str = ""
    out: Path | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)  # the engine's, then the render's own
    thread: threading.Thread | None = field(default=None, repr=False)
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def running(self) -> bool:
        return self.state == "running"

    def stop(self, timeout: float = 60.0) -> None:
        """Cancel a running render (its partial output is removed) and wait for it."""
        self.cancel.set()
        if self.thread is not None:
            self.thread.join(timeout)

    def as_json(self) -> dict:
        return {"state": self.state, "done": self.done, "total": self.total, "error": self.error,
                "seconds": round(self.seconds, 2), "warnings": list(self.warnings)}


def _largest(faces):
    """The planned face whose crop covers the most of the frame."""
    return max(faces, key=lambda f: abs(np.linalg.det(f.crop.to_frame[:, :2])))


def start_render(clip: VideoSession, engine: Engine, keys: Path, out: Path,
                 warnings: Sequence[str] = ()) -> Render:
    """Render the clip from a keyframe file in a thread, as `animate video CLIP --ramp KEYS`
    does; ``warnings`` (the engine's) come first in its progress, then those it logs."""
    render = Render(clip.frames, warnings=list(warnings))
    started = time.perf_counter()

    def count(_record) -> None:
        if render.cancel.is_set():
            raise GanimateError("the render was cancelled")
        render.done += 1

    def run() -> None:
        try:
            with caught_warnings(into=render.warnings):
                animate_video(clip.path, out, engine, TargetSpec(), AnimateConfig(),
                              Timeline(ramp=str(keys)), on_frame=count)
            render.out, render.state = out, "done"
        except GanimateError as exc:
            render.state, render.error = "failed", f"error: {exc}"
        except Exception as exc:  # noqa: BLE001 (the page shows it; the server goes on)
            render.state, render.error = "failed", f"error: {type(exc).__name__}: {exc}"
        render.seconds = time.perf_counter() - started

    render.thread = threading.Thread(target=run, name="studio-render", daemon=True)
    render.thread.start()
    return render
