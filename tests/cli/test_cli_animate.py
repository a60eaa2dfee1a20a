"""`ganimate animate video` and `ganimate animate image` end to end on the test clips and photos.

The model is a tiny, randomly initialised generator (it only needs to run). Clips are decoded and
re-encoded for real; long ones are cut to 1-2 s with ganimate.video first.
"""

from __future__ import annotations

import itertools
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from ganimate.video import VideoWriter, ffmpeg_exe, probe, read_frames

FAST = ["--preset", "ultrafast"]


def cut(src, out, start, stop, lossless=False):
    """Frames [start, stop) of ``src`` into ``out`` (no audio), with ganimate.video."""
    info = probe(src)
    with VideoWriter(out, fps=info.fps, preset="ultrafast", crf=12, lossless=lossless) as w:
        for frame in itertools.islice(read_frames(src, info), start, stop):
            w.write(frame)
    return out


@pytest.fixture(scope="module")
def hands_clip(media, tmp_path_factory):
    """2 s of WolfgangLanger_Pexels.mp4 (frames 96-143) where her hands cover the face."""
    return cut(media / "video" / "WolfgangLanger_Pexels.mp4",
               tmp_path_factory.mktemp("hands") / "hands.mp4", 96, 144)


@pytest.fixture(scope="module")
def hand_on_mouth_clip(media, tmp_path_factory):
    """Frames 96-108 of WolfgangLanger_Pexels.mp4: her hand rests on her mouth in every one."""
    return cut(media / "video" / "WolfgangLanger_Pexels.mp4",
               tmp_path_factory.mktemp("mouth") / "hand_on_mouth.mp4", 96, 109)


def assert_same_stream(src, out, audio=None):
    a, b = probe(src), probe(out)
    assert b.frame_count == a.frame_count
    assert b.size == a.size
    assert abs(float(b.fps) - float(a.fps)) <= 0.005 * float(a.fps), (a.fps, b.fps)
    assert b.has_audio == (a.has_audio if audio is None else audio)
    return a, b


def faceless_frames(path) -> list[bool]:
    from ganimate.faces import FaceTracker

    with FaceTracker() as tracker:
        return [not tracker(f) for f in read_frames(path)]


# --- real clips -----------------------------------------------------------------------------------


def test_single_face_keeps_size_rate_count_and_audio(invoke, media, tiny, tmp_path):
    src = media / "video" / "single_face.mp4"
    out = tmp_path / "happy.mp4"
    res = invoke("animate", "video", src, "-c", tiny, "-e", "happy", "--au", "AU25+0.2",
                 "-o", out, *FAST)
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == str(out)
    _, info = assert_same_stream(src, out)
    assert info.video_codec == "h264" and info.pixel_format == "yuv420p"
    first = next(read_frames(src))
    edited = next(read_frames(out))
    assert np.abs(edited.astype(int) - first).mean() < 12  # the frame is still the frame


def test_frames_without_a_face_pass_through_exactly(invoke, media, tiny, tmp_path):
    """face_noface.mov (HEVC, variable rate, late audio): the face leaves after ~2.7 s."""
    src = media / "video" / "face_noface.mov"
    out = tmp_path / "out.mov"  # Matroska's millisecond clock could not hold 26.398 fps
    res = invoke("animate", "video", src, "-c", tiny, "-e", "surprise", "--hold", "--lossless",
                 "-o", out, *FAST)
    assert res.exit_code == 0, res.output
    assert_same_stream(src, out)
    empty = faceless_frames(src)
    assert 20 < sum(empty) < len(empty) - 20
    changed = []
    for no_face, a, b in zip(empty, read_frames(src), read_frames(out), strict=True):
        if no_face:
            assert np.array_equal(a, b)
        else:
            changed.append(not np.array_equal(a, b))
    assert np.mean(changed) > 0.9


def test_a_face_that_enters_mid_clip_is_picked_up(invoke, media, tiny, tmp_path):
    """Faces that appear after the start: 12 frames of an empty room, then the man of
    single_face.mp4 (both losslessly into one 640x360 clip). The empty frames come out exact, the
    face is tracked and edited from the frame it appears in."""
    from PIL import Image

    src = tmp_path / "enters.mkv"
    with VideoWriter(src, fps=Fraction(30), lossless=True, preset="ultrafast") as w:
        for frame in itertools.islice(read_frames(media / "video" / "no_face.mp4"), 12):
            w.write(np.asarray(Image.fromarray(frame).resize((640, 360), Image.BILINEAR)))
        for frame in itertools.islice(read_frames(media / "video" / "single_face.mp4"), 18):
            w.write(frame)
    out = tmp_path / "out.mkv"
    res = invoke("animate", "video", src, "-c", tiny, "-e", "happy", "--hold", "--lossless",
                 "-o", out, *FAST)
    assert res.exit_code == 0, res.output
    assert_same_stream(src, out)
    same = [np.array_equal(a, b) for a, b in zip(read_frames(src), read_frames(out), strict=True)]
    assert all(same[:12])
    assert not any(same[14:])  # a frame or two for the tracker to lock on, then every frame


def test_no_face_at_all_gives_the_input_frames_as_png(invoke, media, tiny, tmp_path):
    src = media / "video" / "no_face.mp4"
    out = tmp_path / "frames"
    res = invoke("animate", "video", src, "-c", tiny, "-e", "sad", "-o", out)
    assert res.exit_code == 0, res.output
    files = sorted(out.glob("*.png"))
    assert len(files) == probe(src).frame_count
    for a, b in zip(read_frames(src), read_frames(out), strict=True):
        assert np.array_equal(a, b)


def test_hands_over_the_face_with_keyframes_and_preview(invoke, hands_clip, tiny, tmp_path):
    out, preview = tmp_path / "out.mp4", tmp_path / "preview.mp4"
    res = invoke("animate", "video", hands_clip, "-c", tiny, "-e", "happy:0.7",
                 "--ramp", "0s:0,0.5s:1:ease-in-out,1.5s:1,2s:0", "--preview", preview,
                 "-o", out, *FAST)
    assert res.exit_code == 0, res.output
    src, _ = assert_same_stream(hands_clip, out)
    p = probe(preview)
    assert p.frame_count == src.frame_count and p.size == (3 * src.width, src.height)


def test_a_hand_over_the_mouth_stays_in_front_of_the_edit(invoke, hand_on_mouth_clip, tmp_path):
    """The warp's smile where her hand rests on her mouth: with --hands (the default) the pixels
    under her fingers are the input's, with --no-hands the edit parted the lips through the
    fingers and drew teeth on them; `eval video` leaves the covered mouths unread."""
    import json

    import cv2

    from ganimate.engines.mouth import INNER_LIPS
    from ganimate.faces import FaceMesh, HandTracker, largest_face, occluder_mask

    outs = {}
    for flag in ("--hands", "--no-hands"):
        out = tmp_path / f"{flag[2:]}.mkv"
        res = invoke("animate", "video", hand_on_mouth_clip, "-e", "happy", "--hold",
                     "--lossless", flag, "-o", out, *FAST)
        assert res.exit_code == 0, res.output
        outs[flag] = list(read_frames(out))
    change = {flag: [] for flag in outs}
    lips = list(INNER_LIPS)
    with FaceMesh() as mesh, HandTracker(still=True) as tracker:
        for i, frame in enumerate(read_frames(hand_on_mouth_clip)):
            mouth = largest_face(mesh(frame)).landmarks[lips, :2]
            x0, y0 = np.floor(mouth.min(axis=0)).astype(int) - 10
            x1, y1 = np.ceil(mouth.max(axis=0)).astype(int) + 10
            mask = occluder_mask(tracker(frame), (x0, y0, x1, y1))
            assert mask is not None, i  # her hand is on her mouth in all of these
            core = cv2.erode((mask > 0.999).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            for flag, frames in outs.items():
                diff = np.abs(frames[i][y0:y1, x0:x1].astype(int) - frame[y0:y1, x0:x1]).mean(2)
                change[flag].append(diff[core].mean())
    assert np.mean(change["--hands"]) < 1.0 and max(change["--hands"]) < 3, change
    assert np.mean(change["--no-hands"]) > 8, change
    res = invoke("eval", "video", hand_on_mouth_clip, tmp_path / "hands.mkv", "--no-identity",
                 "--read-every", "0", "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["mouth_covered"] >= 10  # of 13 frames (all 13 on this machine)
    assert report["teeth"]["steps"] <= 13 - report["mouth_covered"]


def test_a_hand_coming_to_her_mouth_stills_the_edit_there(invoke, media, tmp_path):
    """WolfgangLanger_Pexels.mp4 frames 50-73, `-e surprise --hold`: her hand comes up to her
    mouth (found from frame 59-60). Before it the edit opens her mouth; where the hand is at her
    mouth her mouth is left as it was (the lips were parted through her fingers and a dark hole
    drawn on them where the hand's mask missed), her brows still raised; no jump as it comes."""
    from ganimate.engines.mouth import INNER_LIPS
    from ganimate.faces import FaceMesh, eye_centre_distance, largest_face

    clip = cut(media / "video" / "WolfgangLanger_Pexels.mp4", tmp_path / "arrives.mkv", 50, 74,
               lossless=True)
    out = tmp_path / "out.mkv"
    res = invoke("animate", "video", clip, "-e", "surprise", "--hold", "--lossless", "-o", out,
                 *FAST)
    assert res.exit_code == 0, res.output
    brows_at = [70, 63, 105, 66, 107, 336, 296, 334, 293, 300]
    mouth, brows = [], []
    with FaceMesh() as mesh:
        for frame, edited in zip(read_frames(clip), read_frames(out), strict=True):
            lm = largest_face(mesh(frame)).landmarks
            scale = eye_centre_distance(lm)
            for points, into in ((lm[list(INNER_LIPS), :2], mouth), (lm[brows_at, :2], brows)):
                x0, y0 = np.floor(points.min(axis=0) - 0.15 * scale).astype(int)
                x1, y1 = np.ceil(points.max(axis=0) + 0.15 * scale).astype(int)
                into.append(np.abs(edited[y0:y1, x0:x1].astype(int) - frame[y0:y1, x0:x1]).mean())
    mouth, brows = np.array(mouth), np.array(brows)
    assert mouth[:4].min() > 15, mouth  # frames 50-53: her mouth opened
    assert mouth[12:].max() < 6, mouth  # frames 62-73: her hand at it
    assert np.abs(np.diff(mouth)).max() < 16, mouth  # eased out over the frames before (32)
    assert brows.min() > 15, brows


def test_rotation_metadata_is_kept(invoke, media, tiny, tmp_path):
    """A phone clip stored sideways with a display rotation comes out the same way."""
    src = media / "video" / "single_face.mp4"
    phone = tmp_path / "phone.mp4"
    with VideoWriter(phone, fps=30, rotation=90, preset="ultrafast", crf=12) as w:
        for frame in itertools.islice(read_frames(src), 15):
            w.write(frame)
    out = tmp_path / "out.mp4"
    res = invoke("animate", "video", phone, "-c", tiny, "-e", "happy", "--hold", "-o", out, *FAST)
    assert res.exit_code == 0, res.output
    a, b = assert_same_stream(phone, out)
    assert a.rotation == b.rotation == 90 and b.stored_size == a.stored_size


def test_track_from_ganimate_aus_drives_another_video(invoke, media, hands_clip, tiny, tmp_path):
    aus = invoke("aus", media / "video" / "single_face.mp4", "--format", "csv")
    assert aus.exit_code == 0, aus.output
    track = tmp_path / "driver.csv"
    track.write_text(aus.stdout)
    out = tmp_path / "driven.mp4"
    res = invoke("animate", "video", hands_clip, "-c", tiny, "--track", track, "--track-face",
                 "0", "-o", out, *FAST)
    assert res.exit_code == 0, res.output
    assert_same_stream(hands_clip, out)


def test_two_faces_keep_their_ids_and_face_picks_one(invoke, media, tiny, tmp_path):
    """Two people side by side; --face (a track id from `ganimate aus`) edits only that one."""
    left = read_frames(media / "video" / "single_face.mp4")
    right = itertools.islice(read_frames(media / "video" / "WolfgangLanger_Pexels.mp4"), 96,
                             None)
    two = tmp_path / "two.mkv"
    with VideoWriter(two, fps=30, lossless=True, preset="ultrafast") as w:
        for a, b in itertools.islice(zip(left, right, strict=False), 30):
            w.write(np.hstack([a, b]))
    aus = invoke("aus", two, "--format", "csv")
    assert aus.exit_code == 0, aus.output
    rows = [line.split(",") for line in aus.stdout.strip().splitlines()[1:]]
    ids = {int(r[3]): float(r[4].split()[0]) for r in rows}  # track id -> box x0
    assert len(ids) == 2
    right_id = max(ids, key=ids.get)
    out = tmp_path / "right.mkv"
    res = invoke("animate", "video", two, "-c", tiny, "-e", "anger", "--hold", "--face",
                 right_id, "--lossless", "-o", out, *FAST)
    assert res.exit_code == 0, res.output
    right_changed = 0
    for a, b in zip(read_frames(two), read_frames(out), strict=True):
        assert np.array_equal(a[:, :640], b[:, :640])  # the other face is untouched
        right_changed += not np.array_equal(a[:, 640:], b[:, 640:])
    assert right_changed >= 28


def test_bad_input_gives_one_clear_error_and_leaves_nothing(invoke, media, tiny, tmp_path):
    src = media / "video" / "single_face.mp4"
    broken = tmp_path / "broken.mp4"
    broken.write_text("not a video\n")
    audio_only = tmp_path / "audio.mp3"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(src), "-vn", "-c:a", "copy",
                    str(audio_only)], check=True)
    bad_track = tmp_path / "bad_track.csv"
    bad_track.write_text("source,frame,time,face,AU01,AU02\nx.mp4,0,0.0,0,0.1,0.2\n")
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(src.read_bytes())
    out = tmp_path / "out.mp4"
    cases = [
        ([broken, "-e", "happy"], "cannot read video"),
        ([audio_only, "-e", "happy"], "no video stream"),
        ([tmp_path / "missing.mp4", "-e", "happy"], "no such video file"),
        ([src, "-e", "happy", "--ramp", "0s:0,1s:1.5"], "--ramp"),
        ([src, "-e", "happy", "--ramp", "1s:0,0.5s:1"], "must increase"),
        ([src, "--track", bad_track], "missing column(s)"),
        ([src, "--track", tmp_path / "none.csv"], "no such file"),
        ([src], "nothing to animate to"),
        ([src, "-e", "grumpy"], "unknown expression"),
        ([src, "-e", "happy", "--crf", "70"], "--crf"),
        ([src, "-e", "happy", "--preset", "warp"], "--preset"),
        ([src, "-e", "happy", "--hold", "--ramp", "0:0,5:1"], "--ramp and --hold: give one"),
    ]
    for args, message in cases:
        res = invoke("animate", "video", args[0], "-c", tiny, "-o", out, *args[1:])
        assert res.exit_code == 1, (args, res.output)
        errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and message in errors[0], (args, res.stderr)
        assert not out.exists()
    # the output would overwrite the input: refused, the input untouched
    res = invoke("animate", "video", copy, "-c", tiny, "-e", "happy", "-o", copy)
    assert res.exit_code == 1 and "overwrite the input" in res.stderr
    assert copy.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["broken.mp4", "audio.mp3", "bad_track.csv", "copy.mp4"])


# --- animate image --------------------------------------------------------------------------------


def test_animate_image_mp4_and_gif_have_the_requested_frames(invoke, media, tiny, tmp_path):
    photo = media / "faces" / "london" / "neutral" / "010.jpg"
    clip = tmp_path / "smile.mp4"
    res = invoke("animate", "image", photo, "-c", tiny, "--to", "happy", "--seconds", "1.2",
                 "--fps", "10", "--easing", "ease-in-out", "-o", clip, *FAST)
    assert res.exit_code == 0, res.output
    info = probe(clip)
    assert (info.frame_count, info.fps, info.size) == (12, Fraction(10), (512, 512))
    assert info.video_codec == "h264" and info.pixel_format == "yuv420p"
    frames = list(read_frames(clip))
    assert len(frames) == 12
    # alpha 0 at the first frame, 1 at the last: the clip moves
    assert np.abs(frames[-1].astype(int) - frames[0]).mean() > 0.5

    gif = tmp_path / "bounce.gif"
    res = invoke("animate", "image", photo, "-c", tiny, "--to", "surprise:0.8", "--bounce",
                 "--seconds", "0.4", "--fps", "10", "-o", gif)
    assert res.exit_code == 0, res.output
    g = probe(gif)
    assert g.frame_count == 4 and g.fps == Fraction(10)  # GIF delays are in 1/100 s
    assert len(list(read_frames(gif))) == 4


def test_animate_image_bad_input(invoke, media, tiny, tmp_path):
    photo = media / "faces" / "london" / "neutral" / "010.jpg"
    blank = tmp_path / "blank.png"
    from ganimate.images import write_image

    write_image(blank, next(read_frames(media / "video" / "no_face.mp4")))
    out = tmp_path / "out.mp4"
    cases = [
        ([blank, "--to", "happy"], "no face found"),
        ([photo], "nothing to animate to"),
        ([photo, "--to", "contempt"], "asymmetric"),
        ([photo, "--to", "happy", "--easing", "bouncy"], "--easing"),
        ([photo, "--to", "happy", "--seconds", "0"], "must be positive"),
        ([photo, "--to", "happy", "--face", "3"], "--face 3"),
        ([photo, "--to", "happy", "-o", tmp_path / "out.avi"], "cannot write '.avi'"),
    ]
    for args, message in cases:
        extra = [] if "-o" in args else ["-o", out]
        res = invoke("animate", "image", args[0], "-c", tiny, *extra, *args[1:])
        assert res.exit_code == 1, (args, res.output)
        errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and message in errors[0], (args, res.stderr)
    res = invoke("animate", "image", photo, "-c", tiny, "--to", "happy", "-o", photo)
    assert res.exit_code == 1 and "overwrite the input" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blank.png"]
