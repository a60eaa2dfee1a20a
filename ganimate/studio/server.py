"""The studio's web server: the page (assets/studio/) and its JSON API, on 127.0.0.1 only.

Python's own threading HTTP server: no web framework to install, nothing loaded until `ganimate
studio` runs. A request that fails answers ``{"error": "error: ..."}``, the CLI's one-line
message; the server goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import signal
import threading
import time
import webbrowser
from collections.abc import Callable
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from ganimate.editing import write_photo_edit
from ganimate.engines import ENGINES, Engine
from ganimate.errors import GanimateError
from ganimate.faces import AU_DESCRIPTIONS, FaceMesh
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

log = logging.getLogger("ganimate")

# The header the page sends with every POST (see _Handler._refused).
PAGE_HEADER = "X-Ganimate-Studio"

# FACS groups the AUs by the part of the face they move.
UPPER_FACE = ("AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU45")


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

    def open(self, path: Path, title: str | None = None) -> dict:
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

    def state(self, _body=None) -> dict:
        return {
            "folder": str(self.folder.root), "keep": self.folder.keep,
            "engine": self.config.engine, "engines": list(ENGINES), "presets": list(PRESETS),
            "preset_values": {name: {au: round(v, 2) for au, v in p.aus.items()}
                              for name, p in PRESETS.items()},
            "easings": list(EASINGS),
            "aus": [{"name": n, "label": AU_DESCRIPTIONS[n],
                     "group": "upper" if n in UPPER_FACE else "lower",
                     "extra": i >= 17} for i, n in enumerate(KNOWN_AUS)],
            "photo": None if self.photo is None else self.photo.describe(),
            "video": None if self.video is None else self.video.describe(),
            "keys": self.keys,
        }

    # --- the photo tab ---

    def _photo_request(self, body: dict) -> tuple[PhotoSession, PhotoRequest, Engine]:
        if self.photo is None:
            raise GanimateError("no photo open: load one first")
        request = PhotoRequest.from_json(body)
        engine = self.engines.get(request.engine)
        return self.photo, request.for_engine(engine.au_names), engine

    def photo_edit(self, body: dict) -> dict:
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

    def photo_download(self, body: dict) -> dict:
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

    def _video_request(self, body: dict) -> tuple[VideoSession, VideoRequest, Engine]:
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

    def video_preview(self, body: dict) -> dict:
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

    def video_keys(self, body: dict) -> dict:
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

    def video_render(self, body: dict) -> dict:
        video, request, engine = self._video_request(body)
        keys = self._keys_file(video, request, engine)
        with self.render_lock:
            if self.render is not None and self.render.running:
                raise GanimateError("a render is running; wait for it to finish")
            self.render = start_render(video, engine, keys, self.folder.out / video.output_name,
                                       self.engines.warnings(engine.name))
        return {"command": self._video_command(video, request, engine), **self.video_progress()}

    def video_progress(self, _body=None) -> dict:
        render = self.render
        if render is None:
            return {"state": "idle"}
        return {**render.as_json(), "url": None if render.out is None else self._url(render.out)}

    def keys_export(self, body: dict) -> dict:
        video, request, engine = self._video_request(body)
        path = self._keys_file(video, request, engine,
                               ".json" if body.get("format") == "json" else ".csv")
        return {"url": self._url(path), "file": str(path)}

    def keys_import(self, path: Path, name: str) -> dict:
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

    def _url(self, path: Path) -> str:
        return "/files/" + path.relative_to(self.folder.root).as_posix()


# The JSON API: path -> handler (GET or POST). Uploads go to /api/open and /api/keys/import.
def _routes(studio: Studio) -> dict[str, Callable[[dict], dict]]:
    return {
        "/api/state": studio.state, "/api/photo/edit": studio.photo_edit,
        "/api/photo/download": studio.photo_download, "/api/video/preview": studio.video_preview,
        "/api/video/keys": studio.video_keys, "/api/video/render": studio.video_render,
        "/api/video/progress": studio.video_progress, "/api/keys/export": studio.keys_export,
    }


def _asset(name: str) -> bytes:
    return resources.files("ganimate").joinpath("assets", "studio", name).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    studio: Studio  # set on the subclass made by make_server
    routes: dict[str, Callable[[dict], dict]]
    server_version = "ganimate-studio"

    def log_message(self, format, *args) -> None:  # noqa: A002 (the base class's name)
        log.debug("studio: " + format, *args)

    def _send(self, status: int, body: bytes, kind: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, data: dict, status: int = 200) -> None:
        self._send(status, json.dumps(data).encode("utf-8"), "application/json")

    def _refused(self, post: bool) -> bool:
        """Answers only its own page: a Host other than 127.0.0.1/localhost:PORT (another site
        reaching it through DNS rebinding) and a POST without the page's header (another site's
        form or script: a cross-site request cannot set it) are refused."""
        port = self.server.server_address[1]
        if self.headers.get("Host") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            self._json({"error": f"error: the studio answers only on 127.0.0.1:{port}"},
                       HTTPStatus.FORBIDDEN)
            return True
        if post and self.headers.get(PAGE_HEADER) is None:
            self._json({"error": "error: requests come from the studio's own page"},
                       HTTPStatus.FORBIDDEN)
            return True
        return False

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self._refused(post=False):
            return None
        path = urlparse(self.path).path
        if path in ("/", "/index.html"):
            return self._send(200, _asset("index.html"), "text/html; charset=utf-8")
        if path in ("/studio.js", "/studio.css"):
            kind = "text/javascript" if path.endswith(".js") else "text/css"
            return self._send(200, _asset(path[1:]), kind + "; charset=utf-8")
        if path.startswith("/files/"):
            return self._file(unquote(path[len("/files/"):]))
        if path in ("/api/state", "/api/video/progress"):
            return self._answer(self.routes[path], {})
        self._json({"error": f"error: {path}: not found"}, HTTPStatus.NOT_FOUND)

    def _file(self, relative: str) -> None:
        try:
            file = self.studio.folder.resolve(relative)
            size = file.stat().st_size
        except (GanimateError, OSError) as exc:  # OSError: removed since
            return self._json({"error": f"error: {exc}"}, HTTPStatus.NOT_FOUND)
        wanted = _byte_range(self.headers.get("Range"), size)
        if wanted is None:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            return self.end_headers()
        start, end = wanted
        partial = (start, end) != (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if partial else HTTPStatus.OK)
        self.send_header("Content-Type", mimetypes.guess_type(file.name)[0]
                         or "application/octet-stream")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")  # the page's video player seeks by ranges
        if partial:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Disposition", f'inline; filename="{file.name}"')
        self.end_headers()
        with open(file, "rb") as fh:  # streamed: a rendered clip never sits in memory
            fh.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = fh.read(min(left, 1 << 20))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)

    def do_POST(self) -> None:  # noqa: N802
        if self._refused(post=True):
            return None
        url = urlparse(self.path)
        if url.path in ("/api/open", "/api/keys/import"):
            return self._upload(url.path, parse_qs(url.query))
        if url.path not in self.routes:
            return self._json({"error": f"error: {url.path}: not found"}, HTTPStatus.NOT_FOUND)
        try:
            body = json.loads(self._read(1 << 20) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError) as exc:
            return self._json({"error": f"error: bad request ({exc})"}, HTTPStatus.BAD_REQUEST)
        self._answer(self.routes[url.path], body)

    def _length(self, limit: int) -> int:
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            raise GanimateError(f"the file is {length / 2**20:.0f} MiB; the studio takes up to "
                                f"{limit / 2**20:.0f} MiB")
        return length

    def _read(self, limit: int) -> bytes:
        return self.rfile.read(self._length(limit))

    def _save_body(self, path: Path, limit: int) -> None:
        """The request's body into ``path``, a MiB at a time (a clip never sits in memory)."""
        left = self._length(limit)
        with open(path, "wb") as fh:
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    raise GanimateError(f"{path.name}: the upload stopped before its end")
                fh.write(chunk)
                left -= len(chunk)

    def _answer(self, handler: Callable[[dict], dict], body: dict) -> None:
        try:
            with caught_warnings() as caught:  # the page shows them beside the result
                answer = handler(body)
            if caught:
                answer["warnings"] = list(dict.fromkeys([*answer.get("warnings", ()), *caught]))
            return self._json(answer)
        except GanimateError as exc:
            return self._json({"error": f"error: {exc}"}, HTTPStatus.BAD_REQUEST)
        except Exception as exc:  # noqa: BLE001 (a bad request never stops the server)
            log.exception("studio: %s failed", self.path)
            return self._json({"error": f"error: {type(exc).__name__}: {exc}"},
                              HTTPStatus.INTERNAL_SERVER_ERROR)

    def _upload(self, route: str, query: dict) -> None:
        """A file sent by the page: saved in the studio's uploads/ folder, then opened."""
        def receive(_body) -> dict:
            name = Path((query.get("name") or ["upload"])[0]).name
            path = self.studio.folder.upload_path(name)
            keys = route == "/api/keys/import"
            try:
                if not keys:
                    kind_of(path)  # refuse an unknown type before reading the body
                self._save_body(path, self.studio.config.max_upload)
                if keys:
                    return self.studio.keys_import(path, name)
                return self.studio.open(path, name)
            except BaseException as exc:
                path.unlink(missing_ok=True)  # nothing half-read or unreadable is kept
                if isinstance(exc, GanimateError):  # name the user's file, not its copy
                    raise as_uploaded(exc, path, name) from None
                raise
            finally:
                if keys:
                    path.unlink(missing_ok=True)
        self._answer(receive, {})


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first byte range of a ``Range: bytes=A-B`` header as (first, last), clipped to the
    file; the whole file without one (or with one it cannot read); None when it asks only for
    bytes past the end (416)."""
    whole = (0, size - 1)
    if not header or not header.startswith("bytes=") or size == 0:
        return whole
    first, _, last = header[len("bytes="):].split(",")[0].strip().partition("-")
    try:
        if first == "":  # the last N bytes
            n = int(last)
            return (max(size - n, 0), size - 1) if n > 0 else None
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return whole
    if start >= size:
        return None
    return (start, end) if start <= end else whole


def make_server(studio: Studio, port: int) -> ThreadingHTTPServer:
    """The studio's server on 127.0.0.1:port (0: a free port); never on another address."""
    handler = type("StudioHandler", (_Handler,), {"studio": studio, "routes": _routes(studio)})
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise GanimateError(f"--port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror}); "
                            "pick another port, or 0 for any free one") from exc
    server.daemon_threads = True
    return server


def serve(config: StudioConfig, ready: Callable[[str, Path], None] | None = None) -> None:
    """Run the studio until interrupted: ``ready(url, folder)`` is called once it listens."""
    studio = Studio(config)  # removes its folder itself when the media cannot be opened
    try:
        server = make_server(studio, config.port)
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        if ready is not None:
            ready(url, studio.folder.root)
        if config.browser:
            webbrowser.open(url)
        try:
            with _terminate_as_interrupt():
                server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    finally:
        studio.close()


@contextmanager
def _terminate_as_interrupt():
    """SIGTERM (``kill PID``) stops the studio as Ctrl-C does: its folder is removed."""
    def interrupt(_signum, _frame):
        raise KeyboardInterrupt
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
