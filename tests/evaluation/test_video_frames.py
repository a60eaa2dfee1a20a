"""The frame-to-frame measures of `eval video`: the teeth reader on real photos, teeth pops, mouth
and edit-layer flicker, the classifier's box, the strip; known answers on constructed frames."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganimate.errors import GanimateError
from ganimate.evaluation import video
from ganimate.evaluation.mouth import (
    MouthFlickerMeter,
    MouthRead,
    TeethPopMeter,
    mouth_change,
    read_mouth,
)
from ganimate.evaluation.video_frames import EditFlickerMeter, FrameStrip, square_box

# --- the teeth reader on real photos -------------------------------------------------------------

# London people smiling with a row of teeth (002 and 030 pale, 096 and 129 dark), and the same
# people neutral (closed mouths).
SMILES_WITH_TEETH = ("002", "030", "096", "129")


@pytest.fixture(scope="module")
def london_mouths(media):
    from ganimate.faces import FaceMesh, largest_face
    from ganimate.images import read_rgb

    found = {}
    with FaceMesh() as mesh:
        for kind in ("smiling", "neutral"):
            for stem in SMILES_WITH_TEETH:
                rgb = read_rgb(media / "faces" / "london" / kind / f"{stem}.jpg")
                found[kind, stem] = rgb, largest_face(mesh(rgb)).landmarks
    return found


def test_teeth_reader_sees_teeth_on_every_skin_tone_and_none_in_closed_mouths(london_mouths):
    for stem in SMILES_WITH_TEETH:
        rgb, landmarks = london_mouths["smiling", stem]
        smile = read_mouth(rgb, landmarks)
        assert 0.25 < smile.teeth < 0.8 and smile.opening > 0.05, (stem, smile.teeth)
        assert smile.polygon.shape == (20, 2)
        # a darker exposure: the thresholds follow the cheeks
        darker = read_mouth((rgb * 0.6).round().astype(np.uint8), landmarks)
        assert abs(darker.teeth - smile.teeth) < 0.1, stem
        closed = read_mouth(*london_mouths["neutral", stem])
        assert closed.teeth == 0 and closed.opening < 0.01, stem


def test_teeth_reader_tells_teeth_from_lips_by_redness(london_mouths):
    rgb, landmarks = london_mouths["smiling", "030"]
    import cv2

    red = rgb.copy()
    poly = read_mouth(rgb, landmarks).polygon
    inside = cv2.fillPoly(np.zeros(rgb.shape[:2], np.uint8), [poly], 1).astype(bool)
    red[inside] = (235, 150, 150)  # as bright as teeth, as red as lips
    assert read_mouth(red, landmarks).teeth < 0.05
    red[inside] = (235, 232, 222)  # near-white
    assert read_mouth(red, landmarks).teeth > 0.9


# --- teeth pops and mouth flicker: known answers -------------------------------------------------

_POLY = np.array([[10, 10], [30, 10], [30, 20], [10, 20]], np.int32)


def _read(teeth: float, poly: np.ndarray = _POLY) -> MouthRead:
    return MouthRead(poly, 0.05, teeth)


def test_teeth_pops_count_output_jumps_while_the_input_holds_still():
    meter = TeethPopMeter()
    inputs = [0.3, 0.3, 0.35, 0.35, 0.7, 0.7, 0.7]
    outputs = [0.3, 0.9, 0.35, 0.95, 0.7, 0.7, 0.2]
    for i, o in zip(inputs, outputs, strict=True):
        meter.update(_read(i), _read(o))
    meter.update(None, _read(0.0))  # no face in the input: the chain breaks
    meter.update(_read(0.7), _read(0.0))
    r = meter.result()
    # steps: 6 in the first run, none across the break
    assert r.steps == 6
    # pops: 0->1 (+0.6), 1->2 (-0.55), 2->3 (+0.6, input +0.05: still); 3->4: input jumps too
    # (0.35), so no pop; 5->6: -0.5 while the input holds: a pop
    assert r.pops == 4 and r.pops_per_100 == pytest.approx(400 / 6)
    assert r.input_jumps == 1 and r.input_jumps_per_100 == pytest.approx(100 / 6)
    assert r.output_teeth == pytest.approx(np.mean(outputs + [0.0]))
    assert r.input_teeth == pytest.approx(np.mean(inputs + [0.7]))


def test_teeth_pops_are_nan_without_steps():
    r = TeethPopMeter().result()
    assert r.steps == 0 and math.isnan(r.pops_per_100) and math.isnan(r.output_teeth)


def test_mouth_flicker_reads_the_union_of_each_videos_own_polygons():
    h, w = 40, 40
    still = np.full((h, w, 3), 100, np.uint8)
    moved = _POLY + (0, 10)  # the output's mouth one polygon lower in the next frame
    cur = still.copy()
    cur[moved[0, 1]:moved[2, 1], 10:30] = 130  # its new place lights up by 30
    # fillPoly includes the outline: the union is rows 10-30 by columns 10-30 (21 x 21 px), of
    # which rows 20-29, columns 10-29 (10 x 20) changed
    assert mouth_change(still, cur, _POLY, moved) == pytest.approx(30 * 200 / 441)

    meter = MouthFlickerMeter()
    meter.update(still, still, _read(0), _read(0))
    meter.update(still, cur, _read(0), _read(0, moved))
    r = meter.result()
    assert r.steps == 1 and r.input_change == 0 and r.output_change > 10
    assert math.isnan(r.ratio)  # the input did not move at all

    same = MouthFlickerMeter()
    for frame in (still, cur, still):
        same.update(frame, frame, _read(0), _read(0))
    r = same.result()
    assert r.ratio == 1 and r.output_change == r.input_change > 0 and r.steps == 2


def test_edit_flicker_ignores_motion_that_the_edit_follows():
    rng = np.random.default_rng(0)
    region = np.zeros((20, 20), bool)
    region[5:15, 5:15] = True
    steady, flicker = EditFlickerMeter(), EditFlickerMeter()
    for t in range(6):
        frame = rng.integers(0, 200, (20, 20, 3), dtype=np.uint8)  # the input moves a lot
        steady.update(frame, frame + 7, region)  # an edit that moves with it
        flicker.update(frame, frame + (10 if t % 2 else 0), region)
    assert steady.result().change == 0 and steady.result().steps == 5
    assert flicker.result().change == pytest.approx(10)
    empty = EditFlickerMeter()
    empty.update(frame, frame, None)
    assert empty.result().steps == 0 and math.isnan(empty.result().change)


# --- the classifier's box, options and the strip --------------------------------------------------


def test_square_box_frames_the_face_as_the_haar_detector_does():
    box = square_box((100.0, 50.0, 180.0, 150.0))  # 80 wide, 100 high (forehead top to chin)
    assert box.side == 104 and box.x == 140 - 52 and box.y == round(100 - 8.4 - 52)


def test_frame_options_reject_an_unknown_label():
    with pytest.raises(GanimateError, match="unknown expression 'joy'"):
        video.FrameOptions(expect="joy")


def test_strip_samples_every_nth_face_frame_and_keeps_only_the_crops():
    strip = FrameStrip(every=3, size=32)
    box = (20.0, 10.0, 40.0, 40.0)
    for t in range(10):
        frame_in = np.full((60, 80, 3), t * 10, np.uint8)
        strip.update(t, frame_in, 255 - frame_in, None if t == 3 else box)
    assert strip.frames == [0, 4, 6, 9]  # frame 3 had no face: frame 4 took its turn
    assert strip.inputs[1].shape == (32, 32, 3) and strip.inputs[1].max() == 40
    assert strip.outputs[1].min() == 255 - 40
    image = strip.image()
    assert image.shape[0] > 2 * 32 and image.shape[1] > 4 * 32
    assert FrameStrip(every=5).image() is None


def test_the_warping_error_leaves_out_what_the_inputs_motion_explains():
    """A textured mouth moved by 2 px between frames: its raw change is large, its warping error
    (the previous frame carried along the input's optical flow) small; an output whose mouth
    changes on its own keeps its error."""
    from ganimate.evaluation.mouth import input_flow, mouth_change, warped_change

    rng = np.random.default_rng(0)
    texture = np.clip(128 + 60 * rng.standard_normal((120, 160, 3)), 0, 255).astype(np.uint8)
    import cv2

    texture = cv2.GaussianBlur(texture, (0, 0), 2.0)
    prev = texture[10:110, 10:150]
    cur = texture[10:110, 12:152]  # the content moved 2 px to the left
    polygon = np.array([[40, 40], [100, 40], [100, 70], [40, 70]], np.int32)
    bounds = (0, 0, prev.shape[1], prev.shape[0])
    flow = input_flow(prev, cur, bounds)
    raw = mouth_change(prev, cur, polygon, polygon)
    moved = warped_change(prev, cur, flow, bounds, polygon)
    assert raw > 3 * moved and moved < 3.0, (raw, moved)
    flashing = cur.copy()
    flashing[45:65, 50:90] = 255  # teeth that appear in this frame only
    assert warped_change(prev, flashing, flow, bounds, polygon) > 5 * moved


def test_mouth_flicker_is_also_split_by_the_inputs_own_mouth():
    """Steps where the input's mouth is open in both frames and those where it is closed in both
    get their own ratios: an edit that opens a closed mouth changes several times more there,
    whatever it does; the open steps compare like with like."""
    rng = np.random.default_rng(1)
    frames = [(100 + rng.integers(0, 5, (40, 40, 3))).astype(np.uint8) for _ in range(7)]
    meter = MouthFlickerMeter()
    openings = [0.05, 0.05, 0.05, 0.0, 0.0, 0.0, 0.0]  # open for 2 steps, closed for 3
    for k, (frame, opening) in enumerate(zip(frames, openings, strict=True)):
        out = frame if opening > 0 else frame + 40 * (k % 2)  # the edit flickers when closed
        meter.update(frame, out.astype(np.uint8), MouthRead(_POLY, opening, 0.0),
                     MouthRead(_POLY, 0.05, 0.0))
    r = meter.result()
    assert r.steps == 6 and r.open_steps == 2 and r.closed_steps == 3
    assert r.open_ratio == 1.0 and r.closed_ratio > 1.2


def test_the_mouths_level_flickers_when_teeth_flash_not_when_they_move():
    """A mouth whose teeth move with the head changes many pixels but not its mean level; one
    whose teeth appear and vanish frame to frame changes its level."""
    base = np.full((40, 40, 3), 60, np.uint8)
    polygon = np.array([[8, 10], [32, 10], [32, 24], [8, 24]], np.int32)
    moving, flashing = [], []
    for k in range(6):
        m = base.copy()
        m[12:18, 10 + k % 2 * 2:22 + k % 2 * 2] = 220  # a row of teeth, 2 px left and right
        moving.append(m)
        f = base.copy()
        if k % 2:
            f[12:18, 10:22] = 220  # the row, every other frame
        flashing.append(f)
    results = {}
    for name, frames in (("moving", moving), ("flashing", flashing)):
        meter = MouthFlickerMeter()
        for frame in frames:
            meter.update(base, frame, MouthRead(polygon, 0.05, 0.0), MouthRead(polygon, 0.05, 0.3))
        results[name] = meter.result()
    assert results["moving"].output_change > 10 and results["moving"].level_output < 0.5
    assert results["flashing"].level_output > 30
    assert results["flashing"].level_input == 0 and math.isnan(results["flashing"].level_ratio)

