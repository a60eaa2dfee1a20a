"""A video track's mouth (issue #30): drawn teeth that do not pop on and off with a talking mouth
whose lips hover around the closed/open thresholds."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
from test_mouth import closed_mesh, lip_photo, opening_of, target

from ganimate.engines import geometry
from ganimate.engines.mouth import INNER_LIPS, MouthConfig, gap_of
from ganimate.engines.mouth_track import MouthTrack, MouthTrackConfig
from ganimate.faces import AU_NAMES, eye_centre_distance

LOWER = list(INNER_LIPS[11:])


def ajar(gap: float) -> np.ndarray:
    """The closed synthetic face with its lower inner lip lowered to ``gap`` IOD."""
    lm = closed_mesh()
    lips = lm[list(INNER_LIPS), :2]
    now = gap_of(lips) / eye_centre_distance(lm)
    lm[LOWER, 1] += (gap - now) * eye_centre_distance(lm) * np.cos(
        (lm[LOWER, 0] - lm[LOWER, 0].mean()) / np.ptp(lm[LOWER, 0]) * np.pi / 2)
    return lm


def test_a_jittering_lip_gap_keeps_the_tracks_decision():
    """Gaps that wander inside the hysteresis band (0.025-0.045 IOD) leave the track's mouth as
    it was, where each frame alone would swing the drawn teeth between 0.1 and 0.9 of full."""
    photo = lip_photo(closed_mesh())
    track = MouthTrack(30.0)
    gaps = [0.030, 0.038, 0.027, 0.041, 0.029, 0.040, 0.031, 0.037] * 3
    memories = [track.update(photo, ajar(g)) for g in gaps]
    assert all(abs(m.closedness - 1.0) < 1e-9 for m in memories)
    cfg = MouthConfig()
    alone = [1 - np.clip((g - cfg.open_from) / (cfg.open_at - cfg.open_from), 0, 1) for g in gaps]
    assert max(alone) - min(alone) > 0.5  # what the photo rule would have drawn frame by frame


def test_a_mouth_that_really_opens_turns_open_within_the_fade():
    photo = lip_photo(closed_mesh())
    config = MouthTrackConfig()
    track = MouthTrack(30.0, config=config)
    for _ in range(5):
        assert track.update(photo, ajar(0.0)).closedness == 1.0
    steps = [track.update(photo, ajar(0.05)).closedness for _ in range(6)]
    assert steps[0] < 1.0 and steps == sorted(steps, reverse=True)  # leaves at once, smoothly
    assert steps[int(np.ceil(config.fade * 30))] == 0.0
    assert np.all(np.abs(np.diff([1.0, *steps])) <= 1 / (config.fade * 30) + 1e-9)
    # even a mouth far past both thresholds, onto teeth of its own or a dark inside, is handed
    # over at the fade's pace (taken at once, a smile snapping open onto motion-blurred teeth
    # popped them)
    for teeth in (False, True):
        wide = MouthTrack(30.0)
        wide.update(photo, ajar(0.0))
        lm = ajar(0.08)
        opened = lip_photo(lm)
        lips = np.round(lm[list(INNER_LIPS), :2]).astype(np.int32)
        cv2.fillPoly(opened, [lips], (230, 226, 215) if teeth else (60, 20, 25))
        assert wide.update(opened, lm).closedness == pytest.approx(1 - 1 / (config.fade * 30))


def test_the_warp_with_a_memory_draws_teeth_over_a_held_closed_mouth():
    """A mouth held closed by its track gets the same drawn teeth whatever its slit's width in
    the band, where the photo rule fades them out as the slit widens."""
    y_r, y_g = target(AU06=0.8, AU12=1.0, AU25=0.7, AU26=0.2)
    shares = {"track": [], "photo": []}
    track = MouthTrack(30.0)
    for g in (0.0, 0.030, 0.040, 0.030, 0.040):
        lm = ajar(g)
        photo = lip_photo(lm)
        memory = track.update(photo, lm)
        for name, mem in (("track", memory), ("photo", None)):
            out, plan = geometry.warp_face(photo, lm, y_r, y_g, AU_NAMES, memory=mem)
            inside = opening_of(lm, plan)
            shares[name].append(float(np.mean(out[inside].astype(int).sum(1) > 600)))
    assert np.ptp(shares["track"][1:]) < 0.1 and min(shares["track"]) > 0.1, shares
    assert np.ptp(shares["photo"]) > 0.1, shares  # the per-frame rule it replaces



def test_video_shades_drawn_teeth_less_by_the_lips():
    """Video's drawn teeth keep 0.8 of their light at the lips' edge (``WarpConfig.
    video_lip_shadow``; photos 0.55): the dark rim round a row of teeth moving with the head is
    its most contrasted edge, and changed the mouth's pixels from frame to frame the most."""
    from ganimate.engines.warp_config import WarpConfig

    y_r, y_g = target(AU06=0.8, AU12=1.0, AU25=0.7, AU26=0.2)
    lm = ajar(0.0)
    photo = lip_photo(lm)
    memory = MouthTrack(30.0).update(photo, lm)
    video = WarpConfig().for_video()
    assert video.mouth.lip_shadow == video.video_lip_shadow > WarpConfig().mouth.lip_shadow
    rim = []
    for config in (video, dataclasses.replace(video, video_lip_shadow=0.55).for_video()):
        out, plan = geometry.warp_face(photo, lm, y_r, y_g, AU_NAMES, config, memory=memory)
        inside = opening_of(lm, plan)
        edge = inside & ~cv2.erode(inside.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(
            bool)  # the opening's outer 2 px, along the lips
        rim.append(float(out[edge].astype(float).mean()))
    assert rim[0] > rim[1] + 3, rim


def test_drawn_teeth_take_the_colour_of_the_persons_own(media):
    """A track that has seen the person's teeth (a real smile, London 009) draws its teeth in
    their colour; before, and on a photo, in the cheeks' lightness + 40, near grey."""
    from PIL import Image

    from ganimate.engines.mouth import own_teeth_lab, teeth_split
    from ganimate.engines.teeth import draw_interior, drawn_teeth_lab, skin_lightness
    from ganimate.faces import FaceMesh, largest_face

    rgb = np.asarray(Image.open(media / "faces/london/smiling/009.jpg").convert("RGB"))
    with FaceMesh() as mesh:
        lm = largest_face(mesh(rgb)).landmarks
    lips = lm[list(INNER_LIPS), :2]
    own = own_teeth_lab(rgb, lips, teeth_split(rgb, lips))
    skin = skin_lightness(rgb, lm, eye_centre_distance(lm))
    assert own is not None and own[0] >= 0.8 * skin and np.hypot(own[1], own[2]) < 30
    track = MouthTrack(30.0)
    assert track.update(rgb, lm).teeth is None  # learnt as frames arrive (observe), not here
    track.observe(rgb, lm)
    first = track.update(rgb, lm).teeth
    drawn_lab = drawn_teeth_lab(skin)
    # one sight moves the drawn teeth's colour a third of the way toward the person's (a first
    # sight on a video is often motion-blurred: taken whole, it turned the drawn teeth grey)
    assert first is not None and np.allclose(first, (2 * drawn_lab + own) / 3, atol=1e-3)
    for _ in range(30):  # a second of the person's own teeth: theirs
        track.observe(rgb, lm)
    memory = track.update(rgb, lm)
    assert np.allclose(memory.teeth, own, atol=0.05 * np.linalg.norm(own - drawn_lab) + 0.1)
    box = tuple(int(v) for v in (*lips.min(0) - 10, *lips.max(0) + 10))
    seam = np.array([120, 50, 60], np.float32)
    drawn = [draw_interior(lm, 0.3, box, skin, seam, eye_centre_distance(lm), teeth_lab=t)
             for t in (None, own)]
    teeth = [d.rgb[(d.coverage > 0.9) & (d.rgb.mean(axis=2) >= np.quantile(
        d.rgb.mean(axis=2)[d.coverage > 0.9], 0.8))] for d in drawn]  # the lightest: teeth
    lab = [cv2.cvtColor(t[None].astype(np.float32) / 255, cv2.COLOR_RGB2LAB)[0].mean(0)
           for t in teeth]
    # the own colour's warmth (b*) replaces the default's near grey
    assert abs(lab[1][2] - own[2]) < abs(lab[0][2] - own[2]), (lab, own)


def test_a_track_seeded_by_enough_sights_takes_their_median_few_are_learnt():
    """A scan of the clip's first seconds (animation.scan) seeds a new track's teeth colour:
    three sights or more by their median (a blurred one left out), fewer as frames' sights."""
    a = np.array([60.0, 10, 10])
    track, few = MouthTrack(30.0), MouthTrack(30.0)
    lm = closed_mesh()
    photo = lip_photo(lm)
    track.seed(photo, lm, [a, a + [2, 0, 0], a - [40, 0, 0]])  # one blurred, dark sight
    assert np.allclose(track.update(photo, lm).teeth, a, atol=1e-3)
    few.seed(photo, lm, [a])  # a single sight moves the drawn colour a third of the way
    one = few.update(photo, lm).teeth
    assert one is not None and 0 < one[0] - a[0] and not np.allclose(one, a)


def test_the_state_follows_the_frames_own_lips_not_the_smoothed_ones():
    """Smoothed landmarks lag a mouth that snaps shut: the frame's own (unsmoothed) lips decide
    the state, so the drawn teeth are back on the frame where the lips meet."""
    lm_open = ajar(0.08)
    toothy = lip_photo(lm_open)
    cv2.fillPoly(toothy, [np.round(lm_open[list(INNER_LIPS), :2]).astype(np.int32)],
                 (230, 226, 215))
    results = []
    for seen in (None, ajar(0.0)):
        track = MouthTrack(30.0)
        assert track.update(toothy, lm_open).closedness == 0.0
        lagging = ajar(0.035)  # the smoothed lips, still half open
        results.append(track.update(lip_photo(lagging), lagging, seen).closedness)
    step = 1 / (MouthTrackConfig().fade * 30)
    assert results[0] == 0.0 and results[1] == pytest.approx(step), results  # the wipe starts


def test_a_change_of_state_wipes_the_drawn_teeth_instead_of_fading_them():
    """Between closed and open, the drawn row covers part of the mouth in full (from the middle
    out), never the whole mouth at part strength: a cross-fade showed grey half-teeth, which read
    as no teeth at all, so the teeth still popped on the frame the fade crossed half."""
    from ganimate.engines.mouth import find_opening

    y_r, y_g = target(AU06=0.8, AU12=1.0, AU25=0.7, AU26=0.2)
    lm = ajar(0.0)
    plan = geometry.plan_warp(lm, y_r, y_g, AU_NAMES, (640, 600), geometry.WarpConfig())
    scale = eye_centre_distance(lm)
    full = find_opening(lm, plan.shifts, plan.field, scale, closedness=1.0, wants_open=1.0)
    core = full.alpha > 0.99  # well inside the parted lips
    shares = []
    for amount in (0.25, 0.5, 0.75):
        part = find_opening(lm, plan.shifts, plan.field, scale, closedness=amount,
                            wants_open=1.0).alpha[core]
        assert np.mean((part > 0.1) & (part < 0.9)) < 0.3, amount  # whole or nothing
        shares.append(float(np.mean(part >= 0.9)))
    assert shares[0] < shares[1] < shares[2] < 1.0 and shares[0] > 0.05, shares


def test_during_the_wipe_the_mouth_with_more_teeth_takes_the_middle():
    """Mid-wipe, the person's own mouth shows its teeth (a smile of theirs) where the drawn one
    shows a dark cavity (a surprise's upper teeth under the lip): the own teeth take the middle
    and the cavity the corners, not the other way round (teeth at the sides of a dark hole read
    as lost front teeth, `-e surprise` on single_face.mp4 frames 20-22). Where the drawn mouth
    has the teeth, the wipe stays as it was."""
    from ganimate.engines.mouth import find_opening, teeth_in_middle

    y_r, y_g = target(AU06=0.8, AU12=1.0, AU25=0.7, AU26=0.2)
    lm = ajar(0.0)
    plan = geometry.plan_warp(lm, y_r, y_g, AU_NAMES, (640, 600), geometry.WarpConfig())
    scale = eye_centre_distance(lm)
    opening = find_opening(lm, plan.shifts, plan.field, scale, closedness=0.5, wants_open=1.0)
    assert opening.turned is not None
    h, w = opening.alpha.shape
    lips = (lm[list(INNER_LIPS), :2] + plan.shifts[list(INNER_LIPS)]).mean(axis=0)
    mid = (int(lips[1]) - opening.y0, int(lips[0]) - opening.x0)
    cavity = np.array([90.0, 30.0, 35.0], np.float32)
    teeth = np.full((600, 640, 3), (225, 222, 212), np.uint8)
    dark = np.full((600, 640, 3), (60, 25, 28), np.uint8)
    turned = teeth_in_middle(teeth, opening, cavity, scale, 60.0)
    kept = teeth_in_middle(dark, opening, cavity, scale, 60.0)
    assert opening.alpha[mid] > 0.9 and turned.alpha[mid] < 0.1  # own teeth in the middle
    assert kept is opening
    off = find_opening(lm, plan.shifts, plan.field, scale, closedness=0.5, wants_open=1.0,
                       config=MouthConfig(wipe_teeth_middle=False))
    assert off.turned is None and teeth_in_middle(teeth, off, cavity, scale, 60.0) is off
    assert find_opening(lm, plan.shifts, plan.field, scale, closedness=1.0,
                        wants_open=1.0).turned is None  # no wipe under way


def test_a_hand_over_the_mouth_holds_the_tracks_state():
    """While a hand covers the lips the track keeps what it had: the landmarks there lie on the
    fingers (a parted "mouth" under them must not hand the drawn teeth over)."""
    from ganimate.faces import Hand

    photo = lip_photo(closed_mesh())
    lm = ajar(0.08)
    lips = lm[list(INNER_LIPS), :2]
    centre, width = lips.mean(axis=0), np.ptp(lips[:, 0])
    # a flat hand laid across the mouth: wrist below-left, fingers up to the right
    points = np.array([centre + (width * (0.4 * (k % 5) - 0.8), width * (0.6 - 0.3 * (k // 5)))
                       for k in range(21)], np.float64)
    for covered, expected in (((Hand(points),), 1.0), ((), 1 - 1 / (0.15 * 30))):
        track = MouthTrack(30.0)
        track.update(photo, closed_mesh())
        assert track.update(lip_photo(lm), lm, hands=covered).closedness == pytest.approx(
            expected)


def test_lips_that_have_met_show_no_row_of_teeth_at_once_while_the_wipe_brings_them():
    """A track turning closed on lips that have met: the open mouth's path (the person's own
    teeth moved rigidly, the gap painted with a whole drawn row) stands aside, so the drawn teeth
    come in by the wipe, not all at once on the first frame (a teeth pop as a smile closes)."""
    from ganimate.engines.mouth import MouthMemory, rigid_teeth

    y_r, y_g = target(AU06=0.8, AU12=1.0, AU25=0.7, AU26=0.2)
    for gap, expect_none in ((0.0, True), (0.08, False)):
        lm = ajar(gap)
        plan = geometry.plan_warp(lm, y_r, y_g, AU_NAMES, (640, 600), geometry.WarpConfig())
        memory = MouthMemory(0.5, 0.5, 70.0, None, np.array([120, 50, 60], np.float32), None)
        found = rigid_teeth(lip_photo(lm), lm, plan.shifts, plan.field, eye_centre_distance(lm),
                            memory=memory)
        assert (found is None) == expect_none, gap


def test_a_tracks_drawn_teeth_take_the_pictures_colour_cast(media):
    """A warm-graded clip (R x1.12, B x0.78): before the person's own teeth are seen, the drawn
    teeth take the cast read on the whites of the eyes (yellower by the whites' offset); in
    ordinary light the track carries no colour until it sees theirs, as before, and with
    ``cast=False`` (TeethConfig.cast off) neither in the warm clip."""
    from ganimate.engines.teeth import drawn_teeth_lab
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo

    photo = read_photo(media / "faces/london/neutral/013.jpg").rgb
    warm = np.clip(photo.astype(np.float64) * (1.12, 1.0, 0.78), 0, 255).astype(np.uint8)
    with FaceMesh() as mesh:
        marks = {name: mesh(rgb)[0].landmarks for name, rgb in (("plain", photo), ("warm", warm))}
    memories = {}
    for name, rgb, cast in (("plain", photo, True), ("warm", warm, True),
                            ("off", warm, False)):
        track = MouthTrack(30.0, cast=cast)
        for _ in range(30):  # a second of a still, closed-mouthed face
            memory = track.update(rgb, marks["plain" if name == "plain" else "warm"])
        memories[name] = memory
    assert memories["plain"].teeth is None and memories["off"].teeth is None
    drawn = drawn_teeth_lab(memories["warm"].skin_l)
    assert memories["warm"].teeth is not None
    assert memories["warm"].teeth[2] - drawn[2] > 10  # yellower, as the whites


def test_drawn_teeth_blur_along_the_mouths_move():
    """A camera blurs what moves while its shutter is open; the lips around the drawn teeth carry
    the clip's own blur, and the teeth were crisp. A track gives each frame the mouth's move
    since the last one, and the video's teeth are smeared along half of it
    (TeethConfig.motion_blur): WolfgangLanger_Pexels.mp4 held at happy, mouth flicker where the
    input's mouth is closed 1.84 -> 1.74x the input's."""
    from ganimate.engines.teeth import Interior, motion_blurred

    track = MouthTrack(30.0)
    photo = lip_photo(closed_mesh())
    first = track.update(photo, ajar(0.0))
    moved = ajar(0.0)
    moved[:, 0] += 6.0
    assert first.move is None
    assert np.allclose(track.update(photo, moved).move, (6.0, 0.0))
    bar = np.zeros((20, 40), np.float32)
    bar[:, 18:22] = 1.0  # a tooth 4 px wide
    interior = Interior(0, 0, np.full((20, 40, 3), 200.0, np.float32), bar)
    assert motion_blurred(interior, np.array([0.3, 0.0])) is interior  # under half a pixel
    smeared = motion_blurred(interior, np.array([6.0, 0.0]))
    row = smeared.coverage[10]
    assert row.sum() == pytest.approx(4.0, abs=0.05)  # as much tooth, spread over 10 px
    assert np.count_nonzero(row > 0.01) >= 9 and row.max() < 0.8
    assert np.allclose(smeared.rgb[10][row > 0.01], 200.0, atol=0.5)  # no dark fringe
    # the warp's drawn teeth in video: smeared by the memory's move, crisp without one
    y_r, y_g = target(AU06=0.8, AU12=1.0, AU25=0.7, AU26=0.2)
    memory = MouthTrack(30.0).update(photo, ajar(0.0))
    sharpness = []
    for move in (None, np.array([8.0, 0.0])):
        out, plan = geometry.warp_face(photo, ajar(0.0), y_r, y_g, AU_NAMES,
                                       memory=dataclasses.replace(memory, move=move))
        inside = opening_of(ajar(0.0), plan)[:, 1:]
        across = np.abs(np.diff(out.astype(np.float32), axis=1)).sum(axis=2)
        sharpness.append(float(across[inside].mean()))
    assert sharpness[1] < 0.9 * sharpness[0], sharpness  # measured 0.80


def test_a_tracks_gap_under_its_own_teeth_shows_the_tongue_its_drawn_mouth_shows(
        media, monkeypatch):
    """On a track, the gap a smile's own teeth leave when `surprise` drops the jaw (London 013's
    smile) shows the drawn mouth, tongue and all, as a closed mouth opened by the edit does:
    with the drawn upper teeth alone it was a dark hole, and between the two states (the wipe)
    a lighter patch showed in the middle of single_face.mp4's mouth for three frames."""
    from PIL import Image

    from ganimate.engines import mouth_paint
    from ganimate.faces import FaceMesh, largest_face
    from ganimate.targets.presets import apply_expression, parse_expression

    rgb = np.asarray(Image.open(media / "faces/london/smiling/013.jpg").convert("RGB"))
    with FaceMesh() as mesh:
        lm = largest_face(mesh(rgb)).landmarks
    config = geometry.WarpConfig().for_video()
    y_r = np.zeros(len(AU_NAMES), np.float32)
    y_r[AU_NAMES.index("AU12")], y_r[AU_NAMES.index("AU25")] = 0.8, 0.6
    y_g = apply_expression(y_r, parse_expression("surprise"), AU_NAMES)
    memory = MouthTrack(30.0).update(rgb, lm)
    assert memory.closedness == 0.0  # her mouth is open: her own teeth move rigidly
    drawn, _ = geometry.warp_face(rgb, lm, y_r, y_g, AU_NAMES, config, memory=memory)
    interior = mouth_paint.mouth_interior
    monkeypatch.setattr(mouth_paint, "mouth_interior", lambda edit, box, plan, parts="all",
                        moved=None: interior(edit, box, plan, "upper", moved))
    upper, _ = geometry.warp_face(rgb, lm, y_r, y_g, AU_NAMES, config, memory=memory)
    changed = np.any(drawn != upper, axis=-1)
    assert changed.sum() > 50, changed.sum()  # 1699 px; median L* 20.8 against 6.4
    lab = [cv2.cvtColor(x.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)[changed] for x in (drawn,
                                                                                     upper)]
    assert np.median(lab[0][:, 0]) > np.median(lab[1][:, 0]) + 5, [np.median(x[:, 0])
                                                                   for x in lab]


def test_a_track_reads_the_lips_colour_and_focus_on_its_first_frame_then_every_few(
        monkeypatch):
    """The lips' colour and the edges' softness (the drawn tongue's, the painted rim's) are
    read on a track's first frame and then on every ``look_every``-th, their averages moved as
    far as the frames between would have moved them."""
    from ganimate.engines import mouth_track

    calls = []
    real = mouth_track.camera_blur
    monkeypatch.setattr(mouth_track, "camera_blur",
                        lambda frame, lm: calls.append(1) or real(frame, lm))
    lm = ajar(0.0)
    photo = lip_photo(lm)
    track = MouthTrack(30.0, config=MouthTrackConfig(look_every=5))
    first = track.update(photo, lm)
    assert first.lips is not None and first.blur == pytest.approx(real(photo, lm))
    for _ in range(9):
        track.update(photo, lm)
    assert len(calls) == 2  # frames 0 and 5 of 10
    assert MouthTrack(30.0)._look_rate == pytest.approx(1 - (1 - MouthTrack(30.0)._rate) ** 5)
