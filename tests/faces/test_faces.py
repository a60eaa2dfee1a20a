"""Face mesh on real photos and a real video: several faces, small faces, tracking ids."""

from __future__ import annotations

import numpy as np
import pytest

from ganimate.faces import Face, FaceMesh, FaceTracker, largest_face
from ganimate.faces.mesh import N_LANDMARKS, Box, TrackedFace
from ganimate.images import read_rgb


@pytest.fixture(scope="module")
def mesh():
    with FaceMesh() as m:
        yield m


def test_one_face_in_a_portrait(media, mesh):
    rgb = read_rgb(media / "photos" / "lisa1.jpg")
    faces = mesh(rgb)
    assert len(faces) == 1
    f = faces[0]
    assert isinstance(f, Face)
    assert f.landmarks.shape == (N_LANDMARKS, 3) and f.landmarks.dtype == np.float32
    h, w = rgb.shape[:2]
    assert 0 <= f.box.x0 < f.box.x1 <= w and 0 <= f.box.y0 < f.box.y1 <= h
    assert 0.5 <= f.score <= 1.0
    # image-left eye (33) left of image-right eye (263); forehead above chin; irises in the eyes
    assert f.landmarks[33, 0] < f.landmarks[263, 0]
    assert f.landmarks[10, 1] < f.landmarks[152, 1]
    assert f.box.x0 <= f.landmarks[468, 0] <= f.box.x1


def test_several_faces_come_left_to_right(media, mesh):
    a = read_rgb(media / "faces/london/neutral/001.jpg")
    b = read_rgb(media / "faces/london/smiling/002.jpg")
    both = np.concatenate([a, b], axis=1)
    faces = mesh(both)
    assert len(faces) == 2
    assert faces[0].box.x1 < 512 <= faces[1].box.x0
    # each face's landmarks match the ones found in its own photo
    alone = mesh(b)[0].landmarks[:, :2] + [512, 0]
    assert np.abs(faces[1].landmarks[:, :2] - alone).mean() < 2.0


def test_small_face_is_upscaled_and_found(media, mesh):
    import cv2

    rgb = read_rgb(media / "photos" / "lisa1.jpg")
    small = cv2.resize(rgb, (120, 160), interpolation=cv2.INTER_AREA)  # face ~ 60 px high
    canvas = np.full((720, 960, 3), 90, np.uint8)
    canvas[400:560, 700:820] = small
    faces = mesh(canvas)
    assert len(faces) == 1
    cx, cy = faces[0].box.center
    assert 700 < cx < 820 and 400 < cy < 560
    # same landmarks as on the small image alone, within a pixel or so
    ref = mesh(cv2.resize(rgb, (120, 160), interpolation=cv2.INTER_AREA))
    if ref:  # (the tiny picture alone may be too small to find, the canvas case is the test)
        assert np.abs(faces[0].landmarks[:, :2] - ref[0].landmarks[:, :2] - [700, 400]).mean() < 2


def test_no_face_and_bad_arrays(media, mesh):
    assert mesh(np.full((240, 320, 3), 128, np.uint8)) == []
    with pytest.raises(ValueError):
        mesh(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError):
        mesh(np.zeros((10, 10, 3), np.float32))


def test_tracker_keeps_one_id_over_a_video(media):
    from ganimate.video import iter_video_frames

    ids, boxes = [], []
    with FaceTracker() as tracker:
        for _, _, frame in iter_video_frames(media / "video" / "single_face.mp4", every=3):
            faces = tracker(frame)
            assert len(faces) == 1 and isinstance(faces[0], TrackedFace)
            ids.append(faces[0].track_id)
            boxes.append(faces[0].box.center)
    assert len(ids) >= 20 and set(ids) == {ids[0]}
    assert np.abs(np.diff(np.array(boxes), axis=0)).max() < 30  # no jumps


def test_tracker_gives_new_ids_to_new_faces(media):
    a = read_rgb(media / "faces/london/neutral/001.jpg")
    b = read_rgb(media / "faces/london/neutral/002.jpg")
    with FaceTracker(max_missing=0) as tracker:
        first = tracker(a)[0].track_id
        assert tracker(a)[0].track_id == first
        for _ in range(3):
            tracker(np.full_like(a, 20))  # the face is gone long enough to be forgotten
        assert tracker(b)[0].track_id != first


def test_tracker_follows_as_many_faces_as_are_in_view(media):
    """mediapipe's video mode detects on every frame while it follows fewer faces than it was
    built for: the tracker's graph follows the faces in view (one here, not max_faces), and a
    face that comes in is found at the next recount."""
    from ganimate.video import iter_video_frames

    frames = [f for _, _, f in iter_video_frames(media / "video" / "single_face.mp4", every=2)]
    grey = np.full_like(frames[0], 90)
    counts = []
    with FaceTracker(max_faces=4, recount_every=5) as tracker:
        for i, frame in enumerate(frames[:24]):
            right = frame if i >= 10 else grey  # a second face from the 11th frame on
            counts.append(len(tracker(np.hstack([frame, right]))))
            if i == 0:
                assert tracker.following == 1
        assert tracker.following == 2
    assert counts[:10] == [1] * 10
    assert counts[15:] == [2] * 9  # found by the recount at the 15th frame at the latest


def test_largest_face_is_the_one_with_the_largest_box():
    def face(x0, y0, x1, y1):
        return Face(np.zeros((N_LANDMARKS, 3), np.float32), Box(x0, y0, x1, y1), 1.0)

    wide, tall, small = face(0, 0, 60, 20), face(100, 0, 130, 50), face(200, 0, 210, 10)
    assert largest_face([small, wide, tall]) is tall  # 30 x 50 beats 60 x 20
    assert largest_face([wide, face(0, 0, 20, 60)]) is wide  # the first of equals
    with pytest.raises(ValueError):
        largest_face([])


GLOG = b"W0000 00:00:1718000000.123456    3812 landmark_projection_calculator.cc:186] NORM_RECT\n"


def test_native_log_lines_are_kept_off_stderr_and_everything_else_forwarded(capfd):
    """mediapipe's C++ logs straight to fd 2: within a window its lines are dropped, the rest (a
    Python warning, a progress bar without its newline, a fatal glog line) comes through in
    order, and fd 2 is itself again afterwards."""
    import os

    from ganimate.runtime import native_logs

    with native_logs.window():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are "
                    b"written to STDERR\n")
        os.write(2, GLOG)
        os.write(2, b"kept: a warning\n")
        os.write(2, b"\rediting photos 1/3")  # a progress bar, then native text on its line
        os.write(2, GLOG)
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        with native_logs.window():  # nested (a tracker building its still-image mesh)
            os.write(2, b"I0000 00:00:1718000000.5 17 gl_context.cc:357] GL version\n")
            os.write(2, b"E0520 14:03:12.345678 17 graph.cc:9] error\n")
        os.write(2, b"F0000 00:00:1718000000.5 17 check.cc:1] fatal, kept\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == ("kept: a warning\n\rediting photos 1/3"
                                      "F0000 00:00:1718000000.5 17 check.cc:1] fatal, kept\n"
                                      "after\n")


def test_min_cost_assignment_matches_scipy():
    from scipy.optimize import linear_sum_assignment

    from ganimate.faces.mesh import min_cost_assignment

    rng = np.random.default_rng(0)
    for _ in range(300):
        n, m = rng.integers(1, 6, 2)
        cost = np.round(rng.random((n, m)), 1)  # ties included
        rows, cols = min_cost_assignment(cost)
        r0, c0 = linear_sum_assignment(cost)
        assert cost[rows, cols].sum() == pytest.approx(cost[r0, c0].sum())
        assert list(rows) == sorted(rows) and len(set(cols)) == len(cols) == min(n, m)

