"""The studio's controller: what each of the page's requests does with the open photo and clip,
the engines, the keyframes and the render; JSON objects in, JSON objects out (the HTTP layer,
server.py, parses the requests and writes the answers).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganimate.editing import write_photo_edit
from ganimate.engines import ENGINES, Engine
from ganimate.errors import GanimateError
from ganimate.faces import AU_DESCRIPTIONS, SCANNED_EXTRA_AUS, FaceMesh, facs_group
from ganimate.studio.config import StudioConfig
from ganimate.studio.requests import KNOWN_AUS, PhotoRequest, VideoRequest
from ganimate.studio.sessions import (
    Engines,
    Folder,
    PhotoSession,
    Render,
    VideoSession,
    as_uploaded,
    caught_warnings,
    jpeg_data_url,
    kind_of,
    start_render,
)
from ganimate.targets import (
    EASINGS,
    NOTHING_TO_CHANGE,
    PRESETS,
    keyframe_text,
    keyframes_of,
    read_keyframe_rows,
    write_keyframes,
)

# A request's body or an answer: a JSON object.
Json = dict[str, Any]

# Writes an upload's body into a file, at most the given number of bytes (GanimateError past it).
BodyWriter = Callable[[Path, int], None]

# Where the studio's folder is served: outputs and keyframe files are fetched under it.
FILES_URL = "/files/"


class Studio:
    """What the page talks to: the folder, the engines, the open photo and clip, the render."""

    def __init__(self, config: StudioConfig):
        self.config = config
        self.folder = Folder(config.keep)
        self.engines = Engines(config)
        self.mesh = FaceMesh()
        self.lock = threading.Lock()  # one edit at a time: mediapipe's graphs are not shared
        self.render_lock = threading.Lock()
        self.photo: PhotoSession | None = None
        self.video: VideoSession | None = None
        self.render: Render | None = None
        self.keys: list = []  # the clip's keyframes as the page last sent them (kept on reload)
        try:
            if config.media is not None:
                self.open(Path(config.media))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.render is not None and self.render.running:
            self.render.stop()
        with self.lock:  # an edit still running finishes before its graphs go
            self.mesh.close()
            if self.video is not None:
                self.video.close()
        self.folder.close()

    # --- opening files ---

    def open(self, path: Path, title: str | None = None) -> Json:
        """Open a photo or a clip; ``title``: the name the page shows (an upload's own)."""
        if kind_of(path) == "photo":
            with self.lock:
                self.photo = PhotoSession.open(path, self.mesh, title)
            return {"kind": "photo", "photo": self.photo.describe()}
        with self.render_lock:
            if self.render is not None and self.render.running:
                raise GanimateError("a render is running: wait for it before opening another clip")
            with self.lock:  # a preview still running finishes first
                if self.video is not None:
                    self.video.close()
                self.video, self.render, self.keys = VideoSession.open(path, title), None, []
        return {"kind": "video", "video": self.video.describe()}

    def state(self, _body: Json | None = None) -> Json:
        return {
            "folder": str(self.folder.root), "keep": self.folder.keep,
            "engine": self.config.engine, "engines": list(ENGINES), "presets": list(PRESETS),
            "preset_values": {name: {au: round(v, 2) for au, v in p.aus.items()}
                              for name, p in PRESETS.items()},
            "easings": list(EASINGS),
            "aus": [{"name": n, "label": AU_DESCRIPTIONS[n], "group": facs_group(n),
                     "extra": n in SCANNED_EXTRA_AUS} for n in KNOWN_AUS],
            "photo": None if self.photo is None else self.photo.describe(),
            "video": None if self.video is None else self.video.describe(),
            "keys": self.keys,
        }

    # --- the photo tab ---

    def _photo_request(self, body: Json) -> tuple[PhotoSession, PhotoRequest, Engine]:
        if self.photo is None:
            raise GanimateError("no photo open: load one first")
        request = PhotoRequest.from_json(body)
        engine = self.engines.get(request.engine)
        return self.photo, request.for_engine(engine.au_names), engine

    def photo_edit(self, body: Json) -> Json:
        photo, request, engine = self._photo_request(body)
        started = time.perf_counter()
        with self.lock:
            edit = photo.edit(request, engine)
        ms = (time.perf_counter() - started) * 1000
        # own and target: the first edited face's AUs before and after (absolute sliders show
        # the target: with a preset, the preset's values)
        return {"image": jpeg_data_url(edit.rgb), "ms": round(ms, 1),
                "own": edit.source[0].tolist(), "target": edit.target[0].tolist(),
                "au_names": list(engine.au_names), "edited": edit.selected,
                "command": self._photo_command(photo, request),
                "warnings": self.engines.warnings(engine.name)}

    def _photo_command(self, photo: PhotoSession, request: PhotoRequest) -> str:
        return request.command(str(photo.path), photo.output_name, self.engines.checkpoint)

    def photo_download(self, body: Json) -> Json:
        """Write the edit as `edit image` would and name it for the page to fetch."""
        photo, request, engine = self._photo_request(body)
        if not request.targets.given:
            raise GanimateError(NOTHING_TO_CHANGE)
        out = self.folder.out / photo.output_name
        with self.lock:
            write_photo_edit(photo.edit(request, engine), out)
        return {"url": self._url(out), "command": self._photo_command(photo, request),
                "file": str(out)}

    # --- the clip tab ---

    def _video_request(self, body: Json) -> tuple[VideoSession, VideoRequest, Engine]:
        if self.video is None:
            raise GanimateError("no clip open: load one first")
        video = self.video
        request = VideoRequest.from_json(body).check_times(video.duration, video.fps)
        engine = self.engines.get(request.engine)
        return video, request.for_engine(engine.au_names), engine

    def _keys_file(self, video: VideoSession, request: VideoRequest, engine: Engine,
                   suffix: str = ".csv") -> Path:
        """The keyframes' file, named by its content: a line copied earlier keeps naming the
        keyframes it was copied with."""
        text = keyframe_text(request.require_keys().keys, suffix, engine.au_names)
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        path = self.folder.root / f"{video.path.stem}-keys-{digest}{suffix}"
        if not path.exists():
            write_keyframes(path, request.keys, engine.au_names)
        return path

    def video_preview(self, body: Json) -> Json:
        video, request, engine = self._video_request(body)
        index = body.get("index", 0)
        if not isinstance(index, int) or not 0 <= index < video.frames:
            raise GanimateError(f"frame {index!r}: the clip has frames 0 to {video.frames - 1}")
        started = time.perf_counter()
        with self.lock:
            preview = video.preview(index, request, engine)
        return {"image": jpeg_data_url(preview.rgb), "alpha": preview.alpha, "own": preview.own,
                "target": preview.target, "au_names": list(engine.au_names),
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "warnings": self.engines.warnings(engine.name)}

    def video_keys(self, body: Json) -> Json:
        """The page's keyframes changed: kept (a reload shows them again), plotted, and the
        command that renders them."""
        video, request, engine = self._video_request(body)
        self.keys = body.get("keys") or []
        if not request.keys:
            return {"times": [], "alpha": [], "aus": {}, "command": ""}
        return {**video.curves(request, engine), "command": self._video_command(video, request,
                                                                                engine)}

    def _video_command(self, video: VideoSession, request: VideoRequest, engine: Engine) -> str:
        if not any(k.values for k in request.keys):
            return ""
        return request.command(str(video.path), str(self._keys_file(video, request, engine)),
                               video.output_name, self.engines.checkpoint)

    def video_render(self, body: Json) -> Json:
        video, request, engine = self._video_request(body)
        keys = self._keys_file(video, request, engine)
        with self.render_lock:
            if self.render is not None and self.render.running:
                raise GanimateError("a render is running; wait for it to finish")
            self.render = start_render(video, engine, keys, self.folder.out / video.output_name,
                                       self.engines.warnings(engine.name))
        return {"command": self._video_command(video, request, engine), **self.video_progress()}

    def video_progress(self, _body: Json | None = None) -> Json:
        render = self.render
        if render is None:
            return {"state": "idle"}
        return {**render.as_json(), "url": None if render.out is None else self._url(render.out)}

    def keys_export(self, body: Json) -> Json:
        video, request, engine = self._video_request(body)
        path = self._keys_file(video, request, engine,
                               ".json" if body.get("format") == "json" else ".csv")
        return {"url": self._url(path), "file": str(path)}

    def keys_import(self, path: Path, name: str) -> Json:
        """Keyframes from a file the page sent, in the page's form (seconds, alpha, AUs): all or
        nothing. They are checked as the page's own are (a row past the clip's end refuses the
        file) and kept, so the page, the server and a reload agree."""
        if self.video is None:
            raise GanimateError("no clip open: load one first")
        video = self.video
        rows = read_keyframe_rows(path, KNOWN_AUS)
        keys = keyframes_of(rows, video.fps, video.frames, KNOWN_AUS, where=name)
        imported = [{"time": round(pos / video.fps, 6), "alpha": r.alpha,
                     "easing": r.easing or "linear", "aus": r.values}
                    for pos, r in zip(keys.schedule.keyframes, rows, strict=True)]
        try:
            VideoRequest.from_json({"keys": imported}).check_times(video.duration, video.fps)
        except GanimateError as exc:
            raise GanimateError(f"{name}: {exc}") from None
        self.keys = imported
        return {"keys": imported}

    # --- uploads and files ---

    def open_upload(self, name: str, write: BodyWriter) -> Json:
        """A photo or a clip sent by the page (``name``: the user's file name)."""
        return self._upload(name, write, keys=False)

    def keys_upload(self, name: str, write: BodyWriter) -> Json:
        """A keyframe file sent by the page (``name``: the user's file name)."""
        return self._upload(name, write, keys=True)

    def _upload(self, name: str, write: BodyWriter, keys: bool) -> Json:
        """A file sent by the page: saved in the studio's uploads/ folder, then opened."""
        name = Path(name).name
        path = self.folder.upload_path(name)
        try:
            if not keys:
                kind_of(path)  # refuse an unknown type before reading the body
            write(path, self.config.max_upload)
            if keys:
                return self.keys_import(path, name)
            return self.open(path, name)
        except BaseException as exc:
            path.unlink(missing_ok=True)  # nothing half-read or unreadable is kept
            if isinstance(exc, GanimateError):  # name the user's file, not its copy
                raise as_uploaded(exc, path, name) from None
            raise
        finally:
            if keys:
                path.unlink(missing_ok=True)

    def served_file(self, relative: str) -> Path:
        """The file of the studio's folder at ``relative`` (under FILES_URL); GanimateError for
        one outside it."""
        return self.folder.resolve(relative)

    def _url(self, path: Path) -> str:
        return FILES_URL + path.relative_to(self.folder.root).as_posix()


def with_warnings(action: Callable[[], Json]) -> Json:
    """The answer of one of the studio's actions, with the warnings it raised added."""
    with caught_warnings() as caught:  # the page shows them beside the result
        answer = action()
    if caught:
        answer["warnings"] = list(dict.fromkeys([*answer.get("warnings", ()), *caught]))
    return answer
