"""Every failure is one clear line and nothing is lost (issue #14).

Each case runs a command on a bad input and checks the whole contract: exit code 1 (130 for
Ctrl-C), the last stderr line starts with ``error:``, no traceback, every input byte-identical,
nothing at the output path and no temporary file left beside it. Write failures use a real tmpfs
(full / read-only) where the test may mount one, and monkeypatched OS errors always.
"""

from __future__ import annotations

import errno
import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import png_header_only
from PIL import Image
from typer.testing import CliRunner

from ganimate import files, video
from ganimate.cli import app
from ganimate.video import writing

runner = CliRunner()
GANIMATE = [sys.executable, "-m", "ganimate"]


def _digests(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_one_line_failure(result, out: Path, code: int = 1, expect: str = "") -> str:
    """Exit code, last stderr line `error: ...`, no traceback, nothing at or beside ``out``."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    err = result.stderr
    assert "Traceback" not in err + result.stdout, err
    last = [ln for ln in err.splitlines() if ln.strip()][-1]
    assert last.startswith("error: "), err
    assert expect in last, (expect, last)
    assert not out.exists(), out
    if out.parent.is_dir():
        assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    return last


def k(path: str):
    """A path in the kit folder, resolved when the case runs."""
    return ("kit", path)


CASES = {
    # images
    "truncated jpeg": (["edit", "image", k("truncated.jpg"), "-e", "happy"], "cannot decode"),
    "random bytes": (["edit", "image", k("noise.jpg"), "-e", "happy"], "cannot decode"),
    "empty file": (["edit", "image", k("empty.png"), "-e", "happy"], "cannot decode"),
    "text as png": (["edit", "image", k("text.png"), "-e", "happy"], "cannot decode"),
    "missing photo": (["edit", "image", k("missing.jpg"), "-e", "happy"], "no such"),
    "folder without photos": (["edit", "image", k("empty_dir"), "-e", "happy"], "without photos"),
    "decompression bomb": (["edit", "image", k("bomb.png"), "-e", "happy"],
                           "--max-megapixels 201"),
    "bomb in aus": (["aus", k("bomb.png")], "no face found"),
    # targets
    "au below 0": (["edit", "image", k("face.jpg"), "--au", "AU12=-1"], "outside [0, 1]"),
    "au above 1": (["edit", "image", k("face.jpg"), "--au", "AU12=2"], "outside [0, 1]"),
    "au syntax": (["edit", "image", k("face.jpg"), "--au", "smile"], "expected NAME=VALUE"),
    "au double sign": (["edit", "image", k("face.jpg"), "--au", "AU12+-0.2"], "one sign"),
    "unknown au": (["edit", "image", k("face.jpg"), "--au", "AU99=0.5"], "AU99"),
    "unknown preset": (["edit", "image", k("face.jpg"), "-e", "ecstatic"], "unknown expression"),
    "strength": (["edit", "image", k("face.jpg"), "-e", "happy:9"], "strength"),
    "model lacks the preset's AUs": (["edit", "image", k("face.jpg"), "-e", "happy", "-c",
                                      k("g2.safetensors")], "none of its AUs"),
    "model lacks the smile's lip corners": (["edit", "image", k("face.jpg"), "-e", "happy", "-c",
                                             k("g_nosmile.safetensors")], "has no AU12"),
    "video: model lacks the lip corners": (["animate", "video", k("clip.mp4"), "-e", "happy:0.5",
                                            "-c", k("g_nosmile.safetensors")], "has no AU12"),
    "model lacks the brows of surprise": (["edit", "image", k("face.jpg"), "-e", "surprise",
                                           "-c", k("g_nobrows.safetensors")],
                                          "AU01/AU02"),
    "aus file missing": (["edit", "image", k("face.jpg"), "--aus-file", k("nope.json")], "nope"),
    "aus file broken": (["edit", "image", k("face.jpg"), "--aus-file", k("aus.json")],
                        "aus.json"),
    "nothing to change": (["edit", "image", k("face.jpg")], "nothing to change"),
    "row without file": (["edit", "image", k("face.jpg"), "-e", "happy", "--row", "1"], "--row"),
    # checkpoints
    "missing checkpoint": (["edit", "image", k("face.jpg"), "-e", "happy", "-c",
                            k("none.safetensors")], "no such checkpoint"),
    "torch.save zip": (["edit", "image", k("face.jpg"), "-e", "happy", "-c", k("zip.pt")],
                       "never pickles"),
    "pickle protocol 2": (["edit", "image", k("face.jpg"), "-e", "happy", "-c", k("old.pt")],
                          "never pickles"),
    "truncated checkpoint": (["edit", "image", k("face.jpg"), "-e", "happy", "-c",
                              k("half.safetensors")], "is it complete"),
    "photo as checkpoint": (["edit", "image", k("face.jpg"), "-e", "happy", "-c",
                             k("face.jpg")], "not a readable safetensors"),
    "foreign safetensors": (["edit", "image", k("face.jpg"), "-e", "happy", "-c",
                             k("foreign.safetensors")], "without ganimate metadata"),
    "folder without checkpoints": (["edit", "image", k("face.jpg"), "-e", "happy", "-c",
                                    k("no_ckpt")], "without checkpoints"),
    # videos
    "missing video": (["animate", "video", k("missing.mp4"), "-e", "happy"], "no such"),
    "photo as video": (["animate", "video", k("face.jpg"), "-e", "happy"],
                       "a photo, not a video; to animate a photo use `ganimate animate image"),
    "random bytes video": (["animate", "video", k("noise.mp4"), "-e", "happy"], "noise.mp4"),
    "ramp after the clip": (["animate", "video", k("clip.mp4"), "-e", "happy", "--ramp",
                             "0s:0,5s:1"], "after the end of the clip"),
    "bad ramp": (["animate", "video", k("clip.mp4"), "-e", "happy", "--ramp", "0s:0,1s:7"],
                 "must be a number in [0, 1]"),
    "animate photo missing": (["animate", "image", k("missing.jpg"), "--to", "happy"],
                              "no such"),
}


def _resolve(args, kit):
    return [str(kit.dir / a[1]) if isinstance(a, tuple) else a for a in args]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line(kit, tmp_path, name):
    args, expect = CASES[name]
    suffix = ".mp4" if args[0] == "animate" else ".png"
    out = tmp_path / f"out{suffix}"
    argv = _resolve(args, kit)
    if "-c" not in argv and argv[0] != "aus":
        argv += ["-c", str(kit.g17)]
    if argv[0] != "aus":
        argv += ["-o", str(out), "--device", "cpu"]
    before = _digests(kit.dir)
    result = runner.invoke(app, argv)
    assert_one_line_failure(result, out, expect=expect)
    assert _digests(kit.dir) == before


@pytest.mark.parametrize("args, out_name, expect", [
    (["edit", "image", k("face.jpg"), "-e", "happy"], "x.txt", "image extension"),
    (["edit", "image", k("face.jpg"), "-e", "happy"], "face.jpg", "refusing to overwrite"),
    (["animate", "video", k("clip.mp4"), "-e", "happy"], "x.avi", "cannot write '.avi'"),
    (["animate", "video", k("clip.mp4"), "-e", "happy"], "clip.mp4", "input"),
])
def test_bad_output_paths(kit, tmp_path, args, out_name, expect):
    # the output is the input itself, or has a suffix nothing can write
    out = kit.dir / out_name if out_name in ("face.jpg", "clip.mp4") else tmp_path / out_name
    before = _digests(kit.dir)
    result = runner.invoke(app, [*_resolve(args, kit), "-c", str(kit.g17), "-o", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert expect in result.stderr, result.stderr
    assert _digests(kit.dir) == before
    if out.parent == tmp_path:
        assert not out.exists()


@pytest.mark.parametrize("command, out, expect", [
    ("edit", k("face.jpg/x.png"), "face.jpg is a file, not a folder"),
    ("edit", "/proc/x.png", "-o /proc/x.png: /proc is not writable ("),
    ("edit-folder", k("face.jpg/edited"), "face.jpg is a file, not a folder"),
    ("animate", k("face.jpg/x.mp4"), "face.jpg is a file, not a folder"),
    ("animate", "/proc/x.mp4", "-o /proc/x.mp4: /proc is not writable ("),
])
def test_output_that_cannot_be_written_is_refused_before_the_work(kit, monkeypatch, command, out,
                                                                   expect):
    """A folder on the output's path that is a file, or that takes no file (here /proc, where
    creating a file fails with a misleading "No such file or directory"), is named before any
    model is loaded."""
    from ganimate import engines

    if str(out).startswith("/proc") and not Path("/proc").is_dir():
        pytest.skip("no /proc here")
    monkeypatch.setattr(engines, "load_engine", lambda *a: pytest.fail("the work started"))
    out = kit.dir / out[1] if isinstance(out, tuple) else Path(out)
    args = {"edit": ["edit", "image", str(kit.face), "-e", "happy"],
            "edit-folder": ["edit", "image", str(kit.face), str(kit.dir / "truncated.jpg"), "-e",
                            "happy"],
            "animate": ["animate", "video", str(kit.dir / "clip.mp4"), "-e", "happy"]}[command]
    before = _digests(kit.dir)
    result = runner.invoke(app, [*args, "-c", str(kit.g17), "-o", str(out)])
    last = assert_one_line_failure(result, out, expect=expect)
    assert last.startswith(f"error: -o {out}: "), last
    assert _digests(kit.dir) == before


# --- write failures: monkeypatched OS errors (always) and a real tmpfs (where mountable) -----


def _failing(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, __import__("os").strerror(code))
    return fail


@pytest.mark.parametrize("code, reason", [
    (errno.EROFS, "Read-only file system; choose an output on a writable disk"),
    (errno.ENOSPC, "No space left on device; free some space"),
    (errno.EACCES, "Permission denied; choose a folder you can write to"),
])
def test_edit_write_failure(kit, tmp_path, monkeypatch, code, reason):
    out = tmp_path / "o.png"
    if code == errno.ENOSPC:  # the disk fills while the image is being written
        monkeypatch.setattr(Image.Image, "save", _failing(code))
    else:  # the folder refuses the temporary file
        monkeypatch.setattr(files, "tempfile", SimpleNamespace(mkstemp=_failing(code)))
    before = _digests(kit.dir)
    result = runner.invoke(app, ["edit", "image", str(kit.face), "-e", "happy", "-c",
                                 str(kit.g17), "-o", str(out), "--device", "cpu"])
    last = assert_one_line_failure(result, out, expect=reason)
    assert last.startswith(f"error: cannot write {out}: ")
    assert _digests(kit.dir) == before


def test_video_write_failure(kit, tmp_path, monkeypatch):
    import tempfile

    out = tmp_path / "o.mp4"
    monkeypatch.setattr(writing, "tempfile", SimpleNamespace(
        mkstemp=_failing(errno.EROFS), mkdtemp=_failing(errno.EROFS),
        TemporaryFile=tempfile.TemporaryFile))
    result = runner.invoke(app, ["animate", "video", str(kit.dir / "clip.mp4"), "-e", "happy",
                                 "-c", str(kit.g17), "-o", str(out), "--device", "cpu"])
    assert_one_line_failure(result, out, expect="Read-only file system")


def test_ffmpeg_reports_a_full_disk_as_a_write_error(tmp_path):
    writer = video.VideoWriter(tmp_path / "v.mp4", fps=10)
    failure = writer._failure("[out#0/mp4] Could not write header: No space left on device")
    assert str(failure).startswith(f"cannot write {tmp_path / 'v.mp4'}: No space left")


def test_stray_os_errors_and_interrupts_are_one_line():
    from ganimate.cli import guarded

    def raises(exc):
        @guarded
        def command():
            raise exc
        result = runner.invoke(_one_command_app(command), [])
        return result.exit_code, result.stderr

    code, err = raises(OSError(errno.ENOSPC, "No space left on device", "/data/x.csv"))
    assert code == 1 and err.strip() == ("error: cannot write /data/x.csv: No space left on "
                                         "device; free some space or write to another disk")
    code, err = raises(KeyboardInterrupt())
    assert code == 130 and err.strip().startswith("error: interrupted")
    code, err = raises(BrokenPipeError(errno.EPIPE, "Broken pipe"))  # `ganimate aus | head`
    assert code == 0 and err == ""


def _one_command_app(command):
    import typer

    one = typer.Typer()
    one.command()(command)
    return one


@pytest.fixture
def tmpfs(tmp_path):
    """Mount a tmpfs (root only); yields mount(options) -> folder, unmounted afterwards."""
    mounted = []

    def mount(name: str, options: str) -> Path:
        point = tmp_path / name
        point.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                          capture_output=True).returncode != 0:
            pytest.skip("cannot mount a tmpfs here (needs root); the monkeypatched cases run")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], capture_output=True)


def test_real_read_only_and_full_disks(kit, tmpfs):
    ro = tmpfs("ro", "ro,size=1m")
    full = tmpfs("full", "size=64k")
    try:  # fill it to the last byte
        with (full / "filler").open("wb", buffering=0) as f:
            while True:
                f.write(b"\0" * 4096)
    except OSError:
        pass
    for folder, reason in ((ro, "Read-only file system"), (full, "No space left on device")):
        for args, out in ((["edit", "image", str(kit.face), "-e", "happy"], folder / "o.png"),
                          (["animate", "video", str(kit.dir / "clip.mp4"), "-e", "happy"],
                           folder / "o.mp4")):
            result = runner.invoke(app, [*args, "-c", str(kit.g17), "-o", str(out),
                                         "--device", "cpu"])
            assert_one_line_failure(result, out, expect=reason)
    assert sorted(p.name for p in full.iterdir()) == ["filler"]


def test_train_refuses_a_disk_without_room(tiny_train_args, trained_run, tmpfs):
    small = tmpfs("small", "size=100k")
    out = small / "run"
    result = runner.invoke(app, ["train", str(trained_run.data), "-o", str(out), *tiny_train_args,
                                 "--steps", "2"])
    assert_one_line_failure(result, out, expect="MiB free")


def test_train_save_failure_keeps_the_last_checkpoint(tiny_train_args, trained_run, tmp_path,
                                                       monkeypatch):
    from ganimate.model import checkpoint
    from ganimate.training import train_output

    saves = []

    def save_once(path, tensors, meta):
        if saves:
            raise files.write_error(path, OSError(errno.ENOSPC, "No space left on device"))
        saves.append(path)
        return checkpoint.save_checkpoint(path, tensors, meta)

    monkeypatch.setattr(train_output, "save_checkpoint", save_once)
    run = tmp_path / "run"
    result = runner.invoke(app, ["train", str(trained_run.data), "-o", str(run), *tiny_train_args,
                                 "--steps", "2", "--checkpoint-every", "1"])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    kept = run / "checkpoints" / "step_00000001.safetensors"
    assert last.startswith("error: saving step 2 failed: cannot write ")
    assert f"{kept} is kept" in last
    assert [p.name for p in (run / "checkpoints").iterdir()] == [kept.name]


# --- Ctrl-C and SIGKILL in a real process ----------------------------------------------------


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    """10 minutes of a test pattern: long enough to be still running when the signal comes."""
    clip = tmp_path_factory.mktemp("long") / "long.mp4"
    subprocess.run([video.ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=size=64x48:rate=25", "-t", "600", "-pix_fmt", "yuv420p", str(clip)],
                   check=True)
    return clip


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_animate_video_interrupted(kit, tmp_path, long_clip, sig):
    out = tmp_path / "o.mp4"
    before = _digests(kit.dir)
    clip = long_clip
    # A test run started in the background by a non-interactive shell (`bash .ci/run &`)
    # inherits SIGINT ignored, and Python then keeps ignoring Ctrl-C (rc 0, the whole clip
    # written): give the child the default disposition, as a terminal would.
    proc = subprocess.Popen([*GANIMATE, "animate", "video", str(clip), "-e", "happy", "-c",
                             str(kit.g17), "-o", str(out), "--device", "cpu", "--preset",
                             "ultrafast"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_default_sigint)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
            p.name.startswith(".o.mp4.") and p.stat().st_size > 20_000
            for p in tmp_path.iterdir()):
        time.sleep(0.2)  # wait until frames are being written (past start-up)
    assert proc.poll() is None, "finished before the signal: make the clip longer"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=180)  # a loaded 2-core machine tears down slowly
    assert not out.exists(), (proc.returncode, err[-2000:])
    assert _digests(kit.dir) == before
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err
        assert err.strip().splitlines()[-1].startswith("error: interrupted"), err
        assert "Traceback" not in err
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".o.mp4.")]
    else:
        assert proc.returncode == -signal.SIGKILL


# --- prepare: nothing usable is a failure ----------------------------------------------------


def test_prepare_of_unreadable_files_fails_naming_the_reasons(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"b{i}.jpg").write_bytes(np.random.default_rng(i).bytes(400))
    before = _digests(src)
    out = tmp_path / "ds"
    result = runner.invoke(app, ["prepare", str(src), "-o", str(out), "--workers", "1"])
    assert result.exit_code == 1, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "every input was rejected (3 unreadable)" in last
    assert "b0.jpg: unreadable" in last and "Traceback" not in result.stderr
    assert _digests(src) == before
    assert not out.exists()


def test_prepare_with_every_input_rejected_leaves_no_half_made_dataset(media, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    _, _, frame = next(iter(video.iter_video_frames(media / "video/no_face.mp4", 1)))
    Image.fromarray(frame).save(src / "room.png")  # a real picture without a face
    (src / "notes.jpg").write_text("not an image\n")
    out = tmp_path / "ds"  # a new folder: removed again
    result = runner.invoke(app, ["prepare", str(src), "-o", str(out), "--workers", "1"])
    last = assert_one_line_failure(result, out, expect="every input was rejected")
    assert "1 no face, 1 unreadable" in last and "room.png: no face" in last, last
    # an existing folder keeps what it held, and only that
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    result = runner.invoke(app, ["prepare", str(src), "-o", str(out), "--workers", "1"])
    assert result.exit_code == 1 and "every input was rejected" in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "mine\n"


# --- images: every mode, greyscale in and out ------------------------------------------------


@pytest.mark.parametrize("mode, suffix", [
    ("I;16", ".png"), ("I", ".tif"), ("F", ".tif"), ("P", ".png"), ("LA", ".png"),
    ("CMYK", ".tif"), ("1", ".png"), ("L", ".png"),
])
def test_every_image_mode_decodes(tmp_path, mode, suffix):
    from ganimate.images import read_photo

    ramp = np.tile(np.linspace(0, 255, 64).astype(np.uint8), (48, 1))
    base = Image.fromarray(np.dstack([ramp, ramp, ramp]), "RGB")
    if mode == "I;16":
        im = Image.fromarray(ramp.astype(np.uint16) * 257)
    elif mode == "I":
        im = Image.fromarray(ramp.astype(np.int32) * 257)
    elif mode == "F":
        im = Image.fromarray(ramp.astype(np.float32) / 255.0)
    else:
        im = base.convert(mode)
    path = tmp_path / f"img{suffix}"
    im.save(path)
    photo = read_photo(path)
    assert photo.rgb.shape == (48, 64, 3) and photo.rgb.dtype == np.uint8
    if mode in ("1", "P"):  # dithered: the ramp survives on average (not clipped to white)
        assert abs(photo.rgb.mean() - ramp.mean()) < 20, mode
    else:
        assert np.abs(photo.rgb[..., 0].astype(int) - ramp).max() <= 3, mode
    assert (photo.alpha is not None) == (mode == "LA")


def test_grey16_london_face_is_edited_and_stays_grey(kit, media, tmp_path):
    grey = np.asarray(Image.open(media / "faces/london/neutral/002.jpg").convert("L")
                      .resize((256, 256)), dtype=np.uint16) * 257
    src = tmp_path / "grey16.png"
    Image.fromarray(grey).save(src)
    assert Image.open(src).mode == "I;16"
    out = tmp_path / "out.png"
    result = runner.invoke(app, ["edit", "image", str(src), "-e", "happy", "-c", str(kit.g17),
                                 "-o", str(out), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    edited = Image.open(out)
    assert edited.mode == "L" and edited.size == (256, 256)
    diff = np.abs(np.asarray(edited, dtype=int) - (grey // 257).astype(int))
    assert diff.max() > 0 and np.median(diff) <= 1  # the face was edited, the rest kept


def test_size_limit_can_be_raised(tmp_path):
    from ganimate.images import DEFAULT_MAX_PIXELS, read_photo, set_max_pixels

    path = png_header_only(tmp_path / "big.png", 20000, 10000)
    try:
        set_max_pixels(300_000_000)
        with pytest.raises(Exception, match="cannot decode"):  # past the limit: PIL decodes
            read_photo(path)
    finally:
        set_max_pixels(DEFAULT_MAX_PIXELS)


# --- help pages, -q anywhere, progress -------------------------------------------------------


# --- variable frame rate ---------------------------------------------------------------------




def test_a_preset_missing_only_minor_aus_warns_and_edits(kit, tmp_path, save_generator):
    """A model without the smile's cheek raiser (AU06) still has its lip corners: a warning
    naming AU06, and the photo is written (the defining-AU refusal is above, in CASES)."""
    from ganimate.faces import AU_NAMES

    model = save_generator(tmp_path / "g_no06.safetensors", [n for n in AU_NAMES if n != "AU06"])
    out = tmp_path / "happy.png"
    result = runner.invoke(app, ["edit", "image", str(kit.face), "-e", "happy", "-c", str(model),
                                 "-o", str(out), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "has no AU06" in result.stderr and "left out" in result.stderr
    assert result.stderr.count("has no AU06") == 1  # said once, not once per face or frame
    assert out.is_file()
