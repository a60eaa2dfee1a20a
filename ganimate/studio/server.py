"""The studio's web server: the page (assets/studio/) and its JSON API, on 127.0.0.1 only; what
each request does is the controller's (controller.Studio).

Python's own threading HTTP server: no web framework to install, nothing loaded until `ganimate
studio` runs. A request that fails answers ``{"error": "error: ..."}``, the CLI's one-line
message; the server goes on.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import signal
import threading
import webbrowser
from collections.abc import Callable
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from ganimate.errors import GanimateError
from ganimate.studio.config import StudioConfig
from ganimate.studio.controller import FILES_URL, BodyWriter, Json, Studio, with_warnings

log = logging.getLogger("ganimate")

# The header the page sends with every POST (see _Handler._refused).
PAGE_HEADER = "X-Ganimate-Studio"

# The JSON API: path -> handler (GET or POST). Uploads go to /api/open and /api/keys/import.
def _routes(studio: Studio) -> dict[str, Callable[[Json], Json]]:
    return {
        "/api/state": studio.state, "/api/photo/edit": studio.photo_edit,
        "/api/photo/download": studio.photo_download, "/api/video/preview": studio.video_preview,
        "/api/video/keys": studio.video_keys, "/api/video/render": studio.video_render,
        "/api/video/progress": studio.video_progress, "/api/keys/export": studio.keys_export,
    }


# The uploads: path -> handler of the file the page sends as the request's body.
def _uploads(studio: Studio) -> dict[str, Callable[[str, BodyWriter], Json]]:
    return {"/api/open": studio.open_upload, "/api/keys/import": studio.keys_upload}


def _asset(name: str) -> bytes:
    return resources.files("ganimate").joinpath("assets", "studio", name).read_bytes()


class _Handler(BaseHTTPRequestHandler):
    studio: Studio  # set on the subclass made by make_server
    routes: dict[str, Callable[[Json], Json]]
    uploads: dict[str, Callable[[str, BodyWriter], Json]]
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

    def _json(self, data: Json, status: int = 200) -> None:
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
        if path.startswith(FILES_URL):
            return self._file(unquote(path[len(FILES_URL):]))
        if path in ("/api/state", "/api/video/progress"):
            return self._answer(lambda: self.routes[path]({}))
        self._json({"error": f"error: {path}: not found"}, HTTPStatus.NOT_FOUND)

    def _file(self, relative: str) -> None:
        try:
            file = self.studio.served_file(relative)
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
        if url.path in self.uploads:
            name = (parse_qs(url.query).get("name") or ["upload"])[0]
            return self._answer(lambda: self.uploads[url.path](name, self._save_body))
        if url.path not in self.routes:
            return self._json({"error": f"error: {url.path}: not found"}, HTTPStatus.NOT_FOUND)
        try:
            body = json.loads(self._read(1 << 20) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError) as exc:
            return self._json({"error": f"error: bad request ({exc})"}, HTTPStatus.BAD_REQUEST)
        self._answer(lambda: self.routes[url.path](body))

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

    def _answer(self, action: Callable[[], Json]) -> None:
        try:
            return self._json(with_warnings(action))
        except GanimateError as exc:
            return self._json({"error": f"error: {exc}"}, HTTPStatus.BAD_REQUEST)
        except Exception as exc:  # noqa: BLE001 (a bad request never stops the server)
            log.exception("studio: %s failed", self.path)
            return self._json({"error": f"error: {type(exc).__name__}: {exc}"},
                              HTTPStatus.INTERNAL_SERVER_ERROR)


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
    handler = type("StudioHandler", (_Handler,), {"studio": studio, "routes": _routes(studio),
                                                  "uploads": _uploads(studio)})
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
