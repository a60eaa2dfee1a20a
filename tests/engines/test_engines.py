"""The engine seam: every engine speaks the Engine protocol (AU space, video form, frame edits),
and the hybrid's gating (texture_gate, shading_only).
"""

from __future__ import annotations

import numpy as np
import pytest

from ganimate.engines import Engine, FrameJob, GanEngine, HybridEngine, WarpEngine, load_engine
from ganimate.engines.geometry import Field
from ganimate.engines.mouth import INNER_LIPS
from ganimate.engines.warp_config import WarpConfig
from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES, SCANNED_EXTRA_AUS, AUCalibration, AUSpace
from ganimate.model import load_generator


def test_every_engine_speaks_the_engine_protocol(save_generator, tmp_path):
    """The pipeline reads an engine only through the Engine protocol: its AU space (names, unread
    AUs, calibration: where y_r is read), whether it runs a network, its video form."""
    cal = AUCalibration(np.full(17, 0.1, np.float32), np.full(17, 0.6, np.float32))
    path = save_generator(tmp_path / "g.safetensors", metadata={"au_calibration": cal.to_dict()})
    loaded = load_generator(path, device="cpu")
    warp, fitted = WarpEngine(), WarpEngine(WarpConfig(basis="fitted"))
    gan, hybrid = GanEngine(loaded), HybridEngine(loaded)
    for engine in (warp, fitted, gan, hybrid):
        assert isinstance(engine, Engine) and isinstance(engine.for_video(), Engine)
        space = engine.au_space
        assert (space.names, space.unread) == (engine.au_names, engine.unread_aus)
        assert (space.calibration is None) == (engine.calibration is None)
    assert warp.au_names == AU_NAMES + SCANNED_EXTRA_AUS and warp.unread_aus == SCANNED_EXTRA_AUS
    assert warp.calibration is not None and fitted.calibration is None  # the scanned scale
    assert fitted.au_space == AUSpace()  # the estimator's own AUs, raw
    assert np.array_equal(warp.au_space.calibration.high, warp.calibration.high)
    for engine in (gan, hybrid):  # the model's own AUs, on its training labels' scale
        assert engine.au_names == AU_NAMES and engine.unread_aus == ()
        assert np.array_equal(engine.calibration.low, cal.low)
    assert [e.uses_network for e in (warp, gan, hybrid)] == [False, True, True]
    assert [e.device for e in (warp, gan, hybrid)] == ["cpu"] * 3
    assert warp.for_video().config.sampling == "cubic" and gan.for_video() is gan


def test_an_engine_edits_a_frame_without_faces_into_the_same_frame():
    frame = np.zeros((8, 8, 3), np.uint8)
    y = np.zeros((0, len(WarpEngine().au_names)), np.float32)
    edit = WarpEngine().edit_frames([FrameJob(frame, [], y, y)])[0]
    assert edit.frame is frame and edit.crops == []


def test_load_engine_picks_by_name_and_checkpoint(save_generator, tmp_path):
    assert isinstance(load_engine(), WarpEngine)
    path = save_generator(tmp_path / "g.safetensors")
    assert isinstance(load_engine(checkpoint=path, device="cpu"), GanEngine)
    assert isinstance(load_engine("hybrid", path, device="cpu"), HybridEngine)
    with pytest.raises(GanimateError, match="choose one of warp, gan, hybrid"):
        load_engine("paint")
    with pytest.raises(GanimateError, match="uses no model"):
        load_engine("warp", path)


def test_hybrid_keeps_the_models_colour_only_in_the_mouth_and_paints_only_where_the_warp_moves():
    from ganimate.engines.hybrid import shading_only, texture_gate
    from ganimate.faces import FaceCrop

    size = 64
    lm = np.zeros((478, 3), np.float32)
    xs = np.linspace(20, 44, 11)
    lm[list(INNER_LIPS), :2] = np.concatenate([np.stack([xs, np.full(11, 44.0)], 1),
                                               np.stack([xs[::-1][1:-1], np.full(9, 50.0)], 1)])
    image = np.full((size, size, 3), (200, 150, 130), np.uint8)
    crop = FaceCrop(image, np.array([[2.0, 0, 100], [0, 2.0, 50]]), size, lm)
    edited = image.copy()
    edited[:] = (150, 200, 130)  # the model turned the whole crop green
    out = shading_only(crop, edited).astype(int)
    luma = lambda a: a @ np.array([0.299, 0.587, 0.114])  # noqa: E731
    assert np.allclose(luma(out), luma(edited.astype(int)), atol=1.0)  # the lightness is kept
    forehead, mouth = out[10, 32] - image[10, 32], out[47, 32] - image[47, 32]
    assert forehead.max() - forehead.min() <= 2  # the same shift in R, G, B: no green
    assert mouth[1] - mouth[0] > 80  # the model's colour inside the mouth opening
    # the gate: 0 where the warp does not move, 1 over what it moves and beside it
    assert not texture_gate(crop, None).any()
    dx = np.zeros((100, 100), np.float32)
    dx[45:55, 45:55] = 3.0  # the field moves a patch 3 px in frame space: crop (22-27, 47-52)
    field = Field(100, 50, dx, np.zeros_like(dx), np.ones_like(dx))
    gate = texture_gate(crop, field)
    assert gate[25, 0] == 0 and gate[0, 25] == 0  # far from the move
    assert gate[24, 25] > 0.9  # the moved patch: crop (x, y) -> frame (2x + 100, 2y + 50)
