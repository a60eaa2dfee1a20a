"""The studio without a browser: its requests and command lines, its JSON API over real HTTP on
127.0.0.1, and its engines' downloads against the commands it shows."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from ganimate.errors import GanimateError
from ganimate.studio.config import StudioConfig
from ganimate.studio.requests import PhotoRequest, VideoRequest


def test_a_photo_request_is_written_as_the_cli_options_it_is_parsed_from():
    request = PhotoRequest.from_json({"engine": "gan", "preset": "happy", "strength": 0.6049,
                                      "aus": {"AU12": 0.3, "AU04": -0.2, "AU25": 0.0},
                                      "face": 1})
    assert request.target_args() == ["-e", "happy:0.60", "--au", "AU04-0.20", "--au",
                                     "AU12+0.30"]
    assert request.targets.expression == "happy:0.60"
    assert request.targets.au == ("AU04-0.20", "AU12+0.30")
    assert request.command("my photo.jpg", "out.jpg", "/m/g.safetensors") == (
        "ganimate edit image 'my photo.jpg' --engine gan -c /m/g.safetensors -e happy:0.60 "
        "--au AU04-0.20 --au AU12+0.30 --face 1 -o out.jpg")
    absolute = PhotoRequest.from_json({"mode": "absolute", "aus": {"AU12": 0.8, "AU25": 0}})
    assert absolute.target_args() == ["--au", "AU12=0.80", "--au", "AU25=0.00"]
    assert absolute.command("a.jpg", "b.jpg", "/m/g.safetensors") == (
        "ganimate edit image a.jpg --engine warp --au AU12=0.80 --au AU25=0.00 -o b.jpg")


@pytest.mark.parametrize(("data", "message"), [
    ({"mode": "sideways"}, "mode 'sideways'"),
    ({"engine": "paint"}, "--engine 'paint': choose one of warp, gan, hybrid"),
    ({"aus": {"AU99": 0.1}}, "unknown AU 'AU99'"),
    ({"aus": {"AU12": "lots"}}, "AU12 = 'lots' is not a number"),
    ({"strength": True}, "strength = True is not a number"),
    ({"face": -1}, "--face -1"),
    ({"aus": [1, 2]}, "aus = [1, 2] is not an object"),
])
def test_bad_photo_requests_say_what_is_wrong(data, message):
    with pytest.raises(GanimateError, match=re.escape(message)):
        PhotoRequest.from_json(data)


def test_video_requests_sort_keyframes_and_refuse_clashes():
    request = VideoRequest.from_json({"keys": [
        {"time": 2, "alpha": 0.5, "aus": {"AU12": 0.2}},
        {"time": 0.5, "alpha": 1, "easing": "cosine", "aus": {"AU12": 0.9}}]})
    assert [k.time for k in request.keys] == ["0.5s", "2s"]
    assert request.command("c.mp4", "k.csv", "o.mp4") == (
        "ganimate animate video c.mp4 --engine warp --ramp k.csv -o o.mp4")
    with pytest.raises(GanimateError, match="two keyframes at the same time"):
        VideoRequest.from_json({"keys": [{"time": 1, "aus": {}}, {"time": 1.0000001, "aus": {}}]})
    with pytest.raises(GanimateError, match="unknown easing 'wobble'"):
        VideoRequest.from_json({"keys": [{"time": 1, "easing": "wobble"}]})
    with pytest.raises(GanimateError, match="no keyframes"):
        VideoRequest.from_json({}).require_keys()
    with pytest.raises(GanimateError, match="set no AU"):
        VideoRequest.from_json({"keys": [{"time": 0, "alpha": 1}]}).require_keys()


class Api:
    """The studio's server in a thread; ``post``/``get`` answer (status, JSON)."""

    def __init__(self, config: StudioConfig):
        from ganimate.studio.controller import Studio
        from ganimate.studio.server import make_server

        self.studio = Studio(config)
        self.server = make_server(self.studio, 0)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def request(self, path: str, data: bytes | None = None, raw: bool = False,
                headers: dict | None = None):
        page = {} if data is None else {"X-Ganimate-Studio": "1"}  # what the page sends
        req = urllib.request.Request(self.base + path, data=data,
                                     method="GET" if data is None else "POST",
                                     headers=page if headers is None else headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as res:
                body = res.read()
                return res.status, body if raw else json.loads(body)
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def post(self, path: str, body) -> tuple[int, dict]:
        return self.request(path, json.dumps(body).encode())

    def close(self) -> Path:
        self.server.shutdown()
        self.server.server_close()
        self.studio.close()
        return self.studio.folder.root


@pytest.fixture(scope="module")
def api(media):
    api = Api(StudioConfig(media=str(media / "photos" / "lisa1.jpg"), browser=False))
    yield api
    assert not api.close().exists()


def test_the_server_listens_on_loopback_only_and_answers_errors_as_the_cli(api):
    assert api.server.server_address[0] == "127.0.0.1"
    status, state = api.request("/api/state")
    assert status == 200 and state["photo"]["name"] == "lisa1.jpg"
    assert [a["name"] for a in state["aus"]][:3] == ["AU01", "AU02", "AU04"]
    assert {a["group"] for a in state["aus"] if a["name"] in ("AU01", "AU45")} == {"upper"}
    assert {a["group"] for a in state["aus"] if a["name"] in ("AU12", "AU26")} == {"lower"}
    # the scanned AUs (the warp's alone) come last, in their own box
    assert [a["name"] for a in state["aus"] if a["extra"]] == ["AU16", "AU18", "AU22", "AU24",
                                                               "AU27"]
    assert [a["name"] for a in state["aus"]][-5:] == ["AU16", "AU18", "AU22", "AU24", "AU27"]
    assert api.post("/api/photo/edit", {"preset": "gleeful"}) == (400, {
        "error": "error: --expression 'gleeful:1.00': unknown expression; known: neutral, "
                 "happy, sad, surprise, fear, anger, disgust (optionally with a strength, "
                 "e.g. happy:0.6)"})
    assert api.post("/api/photo/edit", {"face": 3})[1]["error"].startswith(
        "error: --face 3: ")
    assert api.post("/api/video/preview", {})[1] == {"error": "error: no clip open: load one "
                                                              "first"}
    assert api.request("/api/photo/edit", b"{not json")[0] == 400
    assert api.request("/api/nothing")[0] == 404
    assert api.request("/files/../../../etc/passwd")[0] == 404
    status, answer = api.request("/api/open?name=x.txt", b"hello")
    assert status == 400
    assert answer["error"].startswith("error: x.txt: neither a photo (.jpg, .jpeg, .png, ")
    status, answer = api.request("/api/open?name=broken.png", b"\x89PNG not really")
    assert status == 400 and answer["error"].startswith("error: ")
    assert api.request("/api/state")[1]["photo"]["name"] == "lisa1.jpg"  # still open
    assert list(api.studio.folder.uploads.iterdir()) == []  # what could not be opened is gone


def test_only_its_own_page_may_use_it(api):
    """Another site cannot post to it (no page header) nor read it through DNS rebinding."""
    status, answer = api.request("/api/photo/edit", b"{}", headers={})
    assert (status, answer) == (403, {"error": "error: requests come from the studio's own page"})
    port = api.server.server_address[1]
    status, answer = api.request("/api/state", headers={"Host": f"evil.example:{port}"})
    assert (status, answer["error"]) == (403, f"error: the studio answers only on 127.0.0.1:{port}")
    assert api.request("/api/state", headers={"Host": f"localhost:{port}"})[0] == 200


def test_nothing_asked_gives_no_command_and_no_download(api):
    """The CLI refuses a line with no target, so the studio offers none; AUs the engine lacks
    are dropped from the line (the page greys their sliders out)."""
    status, answer = api.post("/api/photo/edit", {"mode": "absolute"})
    assert status == 200 and answer["command"] == ""
    assert api.post("/api/photo/download", {})[1]["error"].startswith(
        "error: nothing to change: give --expression")
    answer = api.post("/api/photo/edit", {"engine": "gan", "aus": {"AU16": 0.5, "AU12": 0.3}})[1]
    assert "AU16" not in answer["au_names"]
    assert answer["command"].endswith("--engine gan --au AU12+0.30 -o lisa1-edited.jpg")


@pytest.mark.parametrize("engine", ["gan", "hybrid"])
def test_a_generator_download_is_what_its_command_writes(api, invoke, tmp_path, engine):
    body = {"engine": engine, "preset": "surprise", "strength": 0.7, "aus": {"AU12": 0.25}}
    status, answer = api.post("/api/photo/download", body)
    assert status == 200, answer
    status, data = api.request(answer["url"], raw=True)
    assert status == 200
    req = urllib.request.Request(api.base + answer["url"], headers={"Range": "bytes=10-19"})
    with urllib.request.urlopen(req, timeout=60) as res:  # the video player's seeks
        assert (res.status, res.headers["Content-Range"]) == (206, f"bytes 10-19/{len(data)}")
        assert res.read() == data[10:20]
    args = shlex.split(answer["command"])
    assert args[:3] == ["ganimate", "edit", "image"] and f"--engine {engine}" in answer["command"]
    args[args.index("-o") + 1] = str(tmp_path / "cli.jpg")
    res = invoke(*args[1:])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cli.jpg").read_bytes() == data


def test_a_taken_port_is_refused_with_the_fix(invoke, api):
    port = api.server.server_address[1]
    res = invoke("studio", "--no-browser", "--port", str(port))
    assert res.exit_code == 1
    assert f"error: --port {port}: cannot listen on 127.0.0.1:{port}" in res.output
    assert "pick another port, or 0 for any free one" in res.output
    res = invoke("studio", "--no-browser", "--port", "0", "missing.jpg")
    assert res.exit_code == 1 and "missing.jpg: no such file" in res.output


def test_the_studio_loads_nothing_into_the_cli():
    import subprocess
    import sys

    code = ("import sys, ganimate.cli.entry; print(sorted(m for m in sys.modules if m.startswith("
            "('ganimate.studio.', 'http.server', 'webbrowser'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['ganimate.studio.config']"


@pytest.mark.parametrize(("sig", "keep"), [(signal.SIGTERM, False), (signal.SIGINT, True)])
def test_the_studio_cleans_up_when_stopped_unless_asked_to_keep(media, tmp_path, sig, keep):
    import subprocess
    import sys

    args = [sys.executable, "-m", "ganimate", "studio", str(media / "photos" / "lisa1.jpg"),
            "--no-browser", "--port", "0", *(["--keep"] if keep else [])]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT,
                                                                        signal.SIG_DFL))
    url = proc.stdout.readline().strip()
    with urllib.request.urlopen(url + "api/state", timeout=60) as res:
        folder = Path(json.loads(res.read())["folder"])
    assert folder.is_dir() and (folder / "uploads").is_dir()
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 0
    assert folder.exists() == keep
    shutil.rmtree(folder, ignore_errors=True)
    assert list(tmp_path.iterdir()) == []


def test_the_clip_api_previews_plots_and_names_a_keyframe_file_that_exists(api, media):
    from ganimate.targets import read_keyframe_rows

    clip = media / "video" / "single_face.mp4"
    status, opened = api.request("/api/open?name=single_face.mp4", clip.read_bytes())
    assert status == 200 and opened["video"]["frames"] == 72 and opened["video"]["fps"] == 30
    keys = {"keys": [{"time": 0, "alpha": 0, "aus": {"AU12": 0.9}},
                     {"time": 1, "alpha": 1, "easing": "cosine", "aus": {"AU12": 0.9}}]}
    status, preview = api.post("/api/video/preview", {**keys, "index": 30})
    assert status == 200 and preview["alpha"] == 1.0
    assert preview["target"][preview["au_names"].index("AU12")] == pytest.approx(0.9)
    assert preview["image"].startswith("data:image/jpeg;base64,")
    assert api.post("/api/video/preview", {**keys, "index": 72})[1]["error"] == (
        "error: frame 72: the clip has frames 0 to 71")
    answer = api.post("/api/video/keys", keys)[1]
    assert list(answer["aus"]) == ["AU12"] and answer["alpha"][0] == 0 and answer["alpha"][-1] == 1
    command = shlex.split(answer["command"])
    assert command[-2:] == ["-o", "single_face-edited.mp4"]
    keys_file = Path(command[command.index("--ramp") + 1])
    rows = read_keyframe_rows(keys_file)
    assert [(r.time, r.alpha, r.easing, r.values) for r in rows] == [
        ("0s", 0.0, "linear", {"AU12": 0.9}), ("1s", 1.0, "cosine", {"AU12": 0.9})]
    assert api.request("/api/state")[1]["keys"] == keys["keys"]  # a reload shows them again
    # other keyframes, another file: a line copied before still names the keyframes it had
    moved = {"keys": [{**keys["keys"][0]}, {**keys["keys"][1], "alpha": 0.5}]}
    other = shlex.split(api.post("/api/video/keys", moved)[1]["command"])
    assert other[other.index("--ramp") + 1] != str(keys_file) and keys_file.is_file()
    assert api.post("/api/video/keys", {"keys": [{"time": 5, "aus": {"AU12": 1}}]})[1][
        "error"] == "error: a keyframe at 5s is after the clip's last frame (2.367s); move or " \
                    "delete it"
    assert api.post("/api/video/render", {"keys": []})[1]["error"] == (
        "error: no keyframes: set the sliders at a time and add a keyframe")


def test_byte_ranges_are_read_as_players_send_them():
    from ganimate.studio.server import _byte_range

    assert _byte_range(None, 100) == (0, 99)
    assert _byte_range("bytes=0-", 100) == (0, 99)
    assert _byte_range("bytes=10-19", 100) == (10, 19)
    assert _byte_range("bytes=90-500", 100) == (90, 99)
    assert _byte_range("bytes=-30", 100) == (70, 99)
    assert _byte_range("bytes=50-40", 100) == (0, 99)
    assert _byte_range("items=1-2", 100) == (0, 99)
    assert _byte_range("bytes=x-2", 100) == (0, 99)
    assert _byte_range("bytes=100-", 100) is None  # past the end: 416
    assert _byte_range("bytes=-0", 100) is None
    assert _byte_range("bytes=0-10", 0) == (0, -1)  # an empty file: all of it, nothing


def test_previews_of_large_photos_are_scaled_down_for_the_page():
    import base64
    import io

    import numpy as np
    from PIL import Image

    from ganimate.studio.sessions import PREVIEW_SIDE, jpeg_data_url

    for shape, size in [((2000, 3000, 3), (PREVIEW_SIDE, 1067)), ((600, 800, 3), (800, 600))]:
        url = jpeg_data_url(np.zeros(shape, np.uint8))
        image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        assert image.size == size


def test_a_running_render_holds_the_clip_and_is_cancelled_when_the_studio_stops(media):
    clip = media / "video" / "single_face.mp4"
    long_clip = media / "video" / "WolfgangLanger_Pexels.mp4"  # 472 frames: still rendering
    api = Api(StudioConfig(media=str(long_clip), browser=False))
    try:
        keys = {"keys": [{"time": 0, "aus": {"AU12": 0.9}}]}
        status, answer = api.post("/api/video/render", keys)
        assert status == 200 and answer["state"] == "running"
        assert api.post("/api/video/render", keys)[1]["error"] == (
            "error: a render is running; wait for it to finish")
        assert api.request("/api/open?name=b.mp4", clip.read_bytes())[1]["error"] == (
            "error: a render is running: wait for it before opening another clip")
    finally:
        render = api.studio.render
        folder = api.close()
    assert render.state == "failed" and "cancelled" in render.error
    assert not folder.exists()


def test_a_clip_preview_is_the_lossless_renders_frame(media, tmp_path):
    """The clip tab's preview (before its JPEG) is the frame `animate video --ramp KEYS` renders,
    bit for bit: the same planner (smoothing, neutral baseline, the mouth's track)."""
    from ganimate.animation import AnimateConfig, Timeline, animate_video
    from ganimate.engines import load_engine
    from ganimate.studio.sessions import VideoSession
    from ganimate.targets import TargetSpec, write_keyframes
    from ganimate.video import probe, read_frames

    clip = media / "video" / "single_face.mp4"
    request = VideoRequest.from_json({"keys": [
        {"time": 0, "alpha": 0, "aus": {"AU12": 0.9, "AU25": 0.8}},
        {"time": 1, "alpha": 1, "easing": "cosine", "aus": {"AU12": 0.9, "AU25": 0.8}}]})
    engine = load_engine("warp", None, "cpu")
    keys = tmp_path / "keys.csv"
    write_keyframes(keys, request.keys, engine.au_names)
    out = tmp_path / "render.mkv"
    animate_video(clip, out, engine, TargetSpec(), AnimateConfig(lossless=True),
                  Timeline(ramp=str(keys)))
    rendered = list(read_frames(out, probe(out)))
    session = VideoSession.open(clip)
    try:
        for index in (50, 12, 30):
            preview = session.preview(index, request, engine)
            assert np.array_equal(preview.rgb, rendered[index]), index
            assert preview.target[engine.au_names.index("AU12")] == pytest.approx(0.9)
    finally:
        session.close()


@pytest.mark.parametrize("path", ["/files/x%00", "/files/" + "a" * 5000, "/files/a%00/../b",
                                  "/files/%2e%2e/%2e%2e/etc/passwd", "/files/uploads",
                                  "//[x/files/a", "/files/%ff%fe"])
def test_a_malformed_file_path_is_a_one_line_answer(api, path):
    """A null byte or an over-long name is a 404 with the CLI's line (it raised in the handler:
    an empty reply and a traceback on the terminal); the server goes on."""
    status, answer = api.request(path)
    assert status in (400, 404) and answer["error"].startswith("error: "), answer
    assert api.request("/api/state")[0] == 200


def test_an_upload_that_fails_names_the_users_file_and_no_option_the_page_lacks(api):
    """Not the studio's copy in uploads/, nor --aligned (#35); the photo open before stays."""
    import io

    from PIL import Image

    status, answer = api.request("/api/open?name=my%20broken.jpg", b"not a photo")
    assert status == 400
    assert answer["error"].startswith("error: my broken.jpg: cannot decode image"), answer
    assert str(api.studio.folder.root) not in answer["error"]
    grey = io.BytesIO()
    Image.new("RGB", (200, 200), (128, 128, 128)).save(grey, "JPEG")
    status, answer = api.request("/api/open?name=grey.jpg", grey.getvalue())
    assert (status, answer["error"]) == (400, (
        "error: no face found in grey.jpg; the face must be visible, roughly frontal (turned "
        "less than about 45 degrees) and at least about 40 px tall"))
    photo = api.request("/api/state")[1]["photo"]
    assert (photo["name"], photo["title"]) == ("lisa1.jpg", "lisa1.jpg")


def test_engine_warnings_come_with_the_answer(api):
    """The stand-in model's warning (logged once, as it loads) comes with every gan edit, and an
    edit's own warnings with that edit; the warp has none (#35)."""
    answer = api.post("/api/photo/edit", {"engine": "gan", "aus": {"AU12": 0.3}})[1]
    assert [w for w in answer["warnings"] if "STAND-IN" in w], answer["warnings"]
    answer = api.post("/api/photo/edit", {"engine": "gan", "preset": "disgust"})[1]
    assert "warning: expression disgust: the model has no AU16; those AUs are left out" in \
        answer["warnings"]
    assert api.post("/api/photo/edit", {"aus": {"AU12": 0.3}})[1]["warnings"] == []


def test_a_keyframe_import_is_all_or_nothing_on_the_server(api, media):
    clip = media / "video" / "single_face.mp4"
    assert api.request("/api/open?name=single_face.mp4", clip.read_bytes())[0] == 200
    keys = [{"time": 0.5, "alpha": 1, "easing": "linear", "aus": {"AU12": 0.4}}]
    assert api.post("/api/video/keys", {"keys": keys})[0] == 200
    late = b"time,alpha,easing,AU12\n0.5s,0,linear,0.2\n5s,1,linear,0.9\n"
    assert api.request("/api/keys/import?name=late.csv", late) == (400, {
        "error": "error: late.csv: a keyframe at 5s is after the clip's last frame (2.367s); "
                 "move or delete it"})
    assert api.request("/api/state")[1]["keys"] == keys
    status, answer = api.request("/api/keys/import?name=ok.csv", late.replace(b"\n5s", b"\n2s"))
    assert status == 200 and [k["time"] for k in answer["keys"]] == [0.5, 2]
    assert api.request("/api/state")[1]["keys"] == answer["keys"]
