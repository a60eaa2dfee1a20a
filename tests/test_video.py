"""Video I/O on the test clips: probing, streaming reads, writing with audio and rotation."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from ganimate import video
from ganimate.errors import GanimateError
from ganimate.video import VideoWriter, probe, read_frames, reading


def ffmpeg(*args: str) -> None:
    subprocess.run([video.ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                    *args], check=True)


def first_frames(path, n):
    out = []
    for frame in read_frames(path):
        out.append(frame)
        if len(out) == n:
            break
    return out


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- probe ---------------------------------------------------------------------------------------


def test_probe_shared_clips(media):
    v = media / "video"
    single = probe(v / "single_face.mp4")
    assert (single.width, single.height, single.fps, single.frame_count) == (640, 360, 30, 72)
    assert single.has_audio and single.audio_codec == "mp3" and single.video_codec == "h264"
    assert single.rotation == 0 and single.pixel_format == "yuv420p"
    assert single.duration == pytest.approx(2.42, abs=0.01)

    wolf = probe(v / "WolfgangLanger_Pexels.mp4")
    assert wolf.fps == Fraction(24000, 1001) and wolf.frame_count == 472
    assert not wolf.variable_frame_rate

    # HEVC, audio first (video is stream 1), variable frame rate: the rate is the average
    mov = probe(v / "face_noface.mov")
    assert (mov.width, mov.height, mov.video_codec, mov.stream_index) == (960, 540, "hevc", 1)
    assert mov.frame_count == 169 and mov.variable_frame_rate and mov.has_audio
    assert float(mov.fps) == pytest.approx(169 / 6.40, rel=1e-3)

    # an edit list discards leading packets: they are not frames
    assert probe(v / "no_face.mp4").frame_count == 95


def test_probe_errors(tmp_path, media):
    with pytest.raises(GanimateError, match="no such file"):
        probe(tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(GanimateError, match=r"junk\.mp4: cannot read video"):
        probe(junk)
    audio = tmp_path / "audio.m4a"
    ffmpeg("-i", str(media / "video/single_face.mp4"), "-vn", "-c:a", "aac", "-t", "0.3",
           str(audio))
    with pytest.raises(GanimateError, match=r"audio\.m4a: has no video stream"):
        probe(audio)
    with pytest.raises(GanimateError, match="no video stream"):
        list(read_frames(audio))


# --- reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["single_face.mp4", "face_noface.mov", "no_face.mp4"])
def test_read_every_frame_once(media, name):
    info = probe(media / "video" / name)
    n = 0
    for frame in read_frames(info.path, info):
        assert frame.dtype == np.uint8 and frame.shape == (info.height, info.width, 3)
        n += 1
    assert n == info.frame_count


def test_every_nth_frame_up_to_a_stop_are_the_same_frames(media, tmp_path):
    """``every`` and ``stop`` (the teeth scan's sampling) give exactly the frames the full read
    gives at those indices, from a clip and from a folder of PNG frames."""
    from ganimate.video import VideoWriter

    path = media / "video" / "single_face.mp4"
    full = list(read_frames(path))
    with VideoWriter(tmp_path / "frames", fps=30) as w:
        for f in full[:20]:
            w.write(f)
    for every, stop in ((6, 40), (7, None), (1, 5), (4, 0)):
        part = list(read_frames(path, every=every, stop=stop))
        want = full[0:stop:every]
        assert len(part) == len(want)
        assert all(np.array_equal(a, b) for a, b in zip(part, want, strict=True))
    folder = list(read_frames(tmp_path / "frames", every=3, stop=10))
    assert len(folder) == 4
    assert all(np.array_equal(a, b) for a, b in zip(folder, full[0:10:3], strict=True))


def test_early_exit_ends_ffmpeg(media, monkeypatch):
    started = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(reading.subprocess, "Popen", recording_popen)
    frames = read_frames(media / "video/WolfgangLanger_Pexels.mp4")
    first = next(frames)
    first[0, 0] = 0  # frames are writable arrays of their own
    frames.close()
    decoder = started[-1]
    assert decoder.poll() is not None and decoder.stdout.closed


# --- writing -------------------------------------------------------------------------------------


def test_lossless_round_trip_keeps_frames_fps_and_audio(media, tmp_path):
    src = media / "video/single_face.mp4"
    info = probe(src)
    out = tmp_path / "copy.mkv"
    frames = []
    with VideoWriter(out, info.fps, audio_from=src, lossless=True, preset="ultrafast") as w:
        for frame in read_frames(src, info):
            w.write(frame)
            frames.append(frame)
    back = probe(out)
    assert (back.size, back.fps, back.frame_count) == (info.size, info.fps, info.frame_count)
    assert back.has_audio
    n = 0
    for a, b in zip(read_frames(out), frames, strict=True):
        np.testing.assert_array_equal(a, b)
        n += 1
    assert n == 72
    assert out.stat().st_mode & 0o044  # not a private temp file
    assert leftovers(tmp_path) == []


def test_h264_keeps_ntsc_rate_and_count(media, tmp_path):
    src = media / "video/WolfgangLanger_Pexels.mp4"
    info = probe(src)
    out = tmp_path / "cut.mp4"
    with VideoWriter(out, info.fps, crf=23, preset="ultrafast") as w:
        for frame in first_frames(src, 30):
            w.write(frame)
    back = probe(out)
    assert back.fps == Fraction(24000, 1001) and back.frame_count == 30 == w.frame_count
    assert not back.has_audio and back.pixel_format == "yuv420p"
    orig, enc = first_frames(src, 3)[2], first_frames(out, 3)[2]
    assert np.abs(orig.astype(int) - enc.astype(int)).mean() < 4  # close, not exact


def test_variable_rate_hevc_with_late_audio(media, tmp_path):
    src = media / "video/face_noface.mov"
    info = probe(src)
    out = tmp_path / "out.mp4"
    with VideoWriter(out, info.fps, preset="ultrafast", crf=30, audio_from=src) as w:
        for frame in read_frames(src, info):
            w.write(frame)
    back = probe(out)
    assert back.frame_count == 169 and back.size == (960, 540) and back.has_audio
    assert back.duration == pytest.approx(info.duration, abs=0.1)


def test_rotation_metadata_kept(media, tmp_path):
    rotated = tmp_path / "portrait.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(media / "video/single_face.mp4"), "-t", "0.4",
           "-c", "copy", str(rotated))
    info = probe(rotated)
    assert info.rotation == 90 and info.size == (360, 640) and info.stored_size == (640, 360)
    upright = list(read_frames(rotated, info))
    plain = first_frames(media / "video/single_face.mp4", len(upright))
    assert upright[0].shape == (640, 360, 3)
    np.testing.assert_array_equal(upright[0], np.rot90(plain[0], 1))  # ffmpeg's CCW convention
    out = tmp_path / "out.mkv"
    with VideoWriter(out, info.fps, rotation=info.rotation, lossless=True,
                     preset="ultrafast") as w:
        for frame in upright:
            w.write(frame)
    back = probe(out)
    assert back.rotation == 90 and back.size == info.size and back.stored_size == (640, 360)
    for a, b in zip(read_frames(out), upright, strict=True):
        np.testing.assert_array_equal(a, b)


def test_audio_reencoded_when_the_container_refuses_it(media, tmp_path):
    opus = tmp_path / "opus.mkv"
    ffmpeg("-i", str(media / "video/single_face.mp4"), "-t", "0.5", "-c:v", "copy",
           "-c:a", "libopus", str(opus))
    out = tmp_path / "out.mov"  # QuickTime cannot hold Opus: AAC instead
    with VideoWriter(out, 30, audio_from=opus, preset="ultrafast") as w:
        for frame in read_frames(opus):
            w.write(frame)
    back = probe(out)
    assert back.has_audio and back.audio_codec == "aac"


def test_gif_and_png_frames(media, tmp_path):
    frames = [f[::4, ::4].copy() for f in first_frames(media / "video/single_face.mp4", 8)]
    with VideoWriter(tmp_path / "clip.gif", 10) as w:
        for f in frames:
            w.write(f)
    gif = probe(tmp_path / "clip.gif")
    assert gif.frame_count == 8 and gif.size == (160, 90)
    folder = tmp_path / "frames"
    for _ in range(2):  # the second run replaces the folder
        with VideoWriter(folder, 10) as w:
            for f in frames:
                w.write(f)
    assert sorted(p.name for p in folder.iterdir())[:2] == ["000000.png", "000001.png"]
    for a, b in zip(read_frames(folder), frames, strict=True):
        np.testing.assert_array_equal(a, b)
    assert leftovers(tmp_path) == []


def test_odd_size_is_padded_to_even(tmp_path):
    rng = np.random.default_rng(0)
    out = tmp_path / "odd.mp4"
    with VideoWriter(out, 25, preset="ultrafast") as w:
        for _ in range(3):
            w.write(rng.integers(0, 255, (17, 33, 3), dtype=np.uint8))
    assert probe(out).size == (34, 18)


def test_failure_leaves_nothing_behind(media, tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    with pytest.raises(RuntimeError):
        with VideoWriter(out, 25, preset="ultrafast") as w:
            for frame in first_frames(media / "video/single_face.mp4", 3):
                w.write(frame)
            raise RuntimeError("the pipeline failed")
    assert out.read_bytes() == b"precious" and leftovers(tmp_path) == []
    with pytest.raises(GanimateError, match="no frames"):
        with VideoWriter(tmp_path / "empty.mp4", 25):
            pass
    assert not (tmp_path / "empty.mp4").exists() and leftovers(tmp_path) == []


def test_bad_writer_options(media, tmp_path):
    src = media / "video/single_face.mp4"
    with pytest.raises(GanimateError, match="overwrite the input"):
        VideoWriter(src, 30, audio_from=src)
    with pytest.raises(GanimateError, match="cannot write '.avi'"):
        VideoWriter(tmp_path / "x.avi", 30)
    with pytest.raises(GanimateError, match="--crf"):
        VideoWriter(tmp_path / "x.mp4", 30, crf=60)
    with pytest.raises(GanimateError, match="--preset"):
        VideoWriter(tmp_path / "x.mp4", 30, preset="turbo")
    with pytest.raises(GanimateError, match="audio source"):
        VideoWriter(tmp_path / "x.mp4", 30, audio_from=tmp_path / "none.mp4")
    w = VideoWriter(tmp_path / "x.mp4", 30, preset="ultrafast")
    w.write(np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(ValueError, match="differs"):
        w.write(np.zeros((8, 16, 3), np.uint8))
    w.abort()
    assert not (tmp_path / "x.mp4").exists() and leftovers(tmp_path) == []
