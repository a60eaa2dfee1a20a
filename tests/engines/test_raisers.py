"""A photo's own brow and lid raise read through the warp's basis where its jaw drops
(ganimate.engines.raisers): ``happy`` on a surprised face lowers the surprise's brows, and faces
whose mouths do not gape are read exactly as before."""

from __future__ import annotations

import numpy as np
import pytest

from ganimate.editing import EditConfig, edit_photo
from ganimate.engines.raisers import RAISER_AUS
from ganimate.engines.warp import WarpEngine
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import FaceMesh, largest_face, source_aus
from ganimate.faces.au_model import geometric_features
from ganimate.images import read_rgb, write_image
from ganimate.targets.options import build_spec


def brow_height(landmarks: np.ndarray) -> float:
    f = geometric_features(landmarks)
    return f["brow_inner"] + f["brow_outer"]


@pytest.fixture(scope="module")
def surprised(media):
    """London 027 edited ``-e surprise`` (brows raised by the basis' AU01 and AU02 at 1)."""
    with FaceMesh() as mesh:
        return largest_face(mesh(read_rgb(media / "edited/london_027_surprise.jpg")))


def test_a_gaping_face_reads_its_raised_brows_a_closed_one_as_before(surprised, media):
    engine = WarpEngine()
    names = list(engine.au_names)
    idx = [names.index(a) for a in RAISER_AUS]
    y = source_aus([surprised], engine.au_space)[0]
    assert np.all(y[idx[:2]] < 0.2)  # the estimator hardly sees the basis' brow raise
    read = engine.own_aus(y, surprised.landmarks, None)
    assert read[idx[0]] > 0.6 and read[idx[1]] > 0.4, read[idx]  # measured 1.0, 0.88
    lips = [names.index("AU25"), names.index("AU26")]  # read through the basis (engines.lips)
    others = [i for i in range(len(names)) if i not in idx + lips]
    assert np.array_equal(read[others], y[others])
    for config in (WarpConfig(raisers_from_landmarks=False, open_lips_from_landmarks=False),
                   WarpConfig().for_video()):
        assert WarpEngine(config).own_aus(y, surprised.landmarks, None) is y
    with FaceMesh() as mesh:
        for stem in ("001", "005", "009", "013"):
            face = largest_face(mesh(read_rgb(media / f"faces/london/neutral/{stem}.jpg")))
            y = source_aus([face], engine.au_space)[0]
            assert engine.own_aus(y, face.landmarks, None) is y  # the gate stays shut


def test_happy_on_a_surprised_face_lowers_its_brows(media, tmp_path):
    src = media / "edited/london_027_surprise.jpg"
    heights = {}
    with FaceMesh() as mesh:
        before = brow_height(largest_face(mesh(read_rgb(src))).landmarks)
        for name, config in (("default", WarpConfig()),
                             ("off", WarpConfig(raisers_from_landmarks=False))):
            engine = WarpEngine(config)
            edit = EditConfig(spec=build_spec(engine.au_space, expression="happy"))
            write_image(tmp_path / "e.png", edit_photo(src, edit, engine, mesh).rgb)
            heights[name] = brow_height(largest_face(mesh(read_rgb(tmp_path / "e.png"))).landmarks)
    # measured: 0.580 before, 0.486 lowered, 0.594 without the reading (brows kept raised)
    assert before - heights["default"] > 0.05 and heights["off"] - heights["default"] > 0.05, (
        before, heights)


def test_animate_image_reads_a_still_as_edit_image_does(media, tmp_path):
    """`animate image` of a surprised photo to happy ends where `edit image` does: the
    surprise's brows come down on its last frame (before, the video engine read the still's
    AUs, without the raise: the brows stayed up)."""
    from ganimate.animation import animate_image
    from ganimate.animation.config import ImageAnimation
    from ganimate.video.reading import read_frames

    src = media / "edited/london_027_surprise.jpg"
    engine = WarpEngine()
    spec = build_spec(engine.au_space, expression="happy")
    animate_image(src, tmp_path / "frames", engine, spec, ImageAnimation(seconds=0.12, fps=25.0))
    last = list(read_frames(tmp_path / "frames"))[-1][..., :3]
    with FaceMesh() as mesh:
        before = brow_height(largest_face(mesh(read_rgb(src))).landmarks)
        after = brow_height(largest_face(mesh(np.ascontiguousarray(last))).landmarks)
    assert before - after > 0.05, (before, after)  # measured 0.58 -> 0.49
