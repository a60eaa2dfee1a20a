"""Targets: presets, composition order, --aus-file, alpha schedules and AU tracks."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ganimate.au_table import TABLE_COLUMNS, AURow
from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES
from ganimate.targets import (
    EASINGS,
    AlphaSchedule,
    apply_changes,
    build_target,
    condition,
    parse_ramp,
    read_au_track,
    target_spec,
)
from ganimate.targets.au_file import read_aus_file
from ganimate.targets.presets import PRESETS, parse_expression
from ganimate.targets.spec import parse_au_option

K = len(AU_NAMES)
IDX = {n: i for i, n in enumerate(AU_NAMES)}


def vec(**aus) -> np.ndarray:
    y = np.zeros(K, np.float32)
    for n, v in aus.items():
        y[IDX[n]] = v
    return y


# --- --au (kept from the skeleton) -------------------------------------------------------------


def test_au_options_absolute_and_relative():
    y = vec(AU12=0.5, AU04=0.1)
    changes = [parse_au_option("AU12=0.8"), parse_au_option("au4-0.2"), parse_au_option("6+0.3")]
    out = apply_changes(y, changes)
    assert out[IDX["AU12"]] == pytest.approx(0.8)
    assert out[IDX["AU04"]] == 0.0  # clipped
    assert out[IDX["AU06"]] == pytest.approx(0.3)
    for bad in ("AU12", "AU12=1.5", "AU99=0.2", "AU12*2"):
        with pytest.raises(GanimateError):
            parse_au_option(bad)


# --- presets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name,aus", [
    ("happy", {"AU06", "AU12", "AU25", "AU26"}),
    ("sad", {"AU01", "AU04", "AU15", "AU17"}),
    ("surprise", {"AU01", "AU02", "AU05", "AU26", "AU25"}),
    ("fear", {"AU01", "AU02", "AU04", "AU05", "AU07", "AU20", "AU26", "AU25"}),
    ("anger", {"AU04", "AU05", "AU07", "AU10", "AU16", "AU23", "AU25"}),
    ("disgust", {"AU09", "AU10", "AU15", "AU16"}),
])
def test_presets_follow_the_facs_prototypes(name, aus):
    preset = PRESETS[name]
    assert set(preset.aus) == aus
    assert set(preset.prototype.split("+")) >= {a[2:].lstrip("0") for a in aus}
    assert all(0.0 < v <= 1.0 for v in preset.aus.values())
    # at full strength from a face showing none of it: the preset exactly
    np.testing.assert_allclose(build_target(np.zeros(K), target_spec(name)), preset.vector(),
                               atol=1e-6)
    # from any face: AUs outside it relax to 0 (those it carries to at most the face's own),
    # its defining AUs never fall below the face's own, its other AUs stay within [preset,
    # face's own] (blink kept from the source)
    y_r = np.random.default_rng(0).uniform(0, 1, K).astype(np.float32)
    y_g = build_target(y_r, target_spec(name))
    p = preset.vector()
    for i, au in enumerate(AU_NAMES):
        if au == "AU45":
            assert y_g[i] == pytest.approx(y_r[i])
        elif au in preset.carries:
            assert 0.0 <= y_g[i] <= y_r[i] + 1e-6
        elif p[i] == 0:
            assert y_g[i] == 0.0
        elif any(au in g for g in preset.defining):
            assert y_g[i] == pytest.approx(max(p[i], y_r[i]))
        else:
            assert p[i] - 1e-6 <= y_g[i] <= max(p[i], y_r[i]) + 1e-6


def test_a_preset_never_takes_away_what_the_face_already_shows_of_it():
    laughing = vec(AU06=0.7, AU12=1.0, AU25=1.0, AU26=0.6, AU04=0.3)
    y_g = build_target(laughing, target_spec("happy"))
    for au in ("AU06", "AU12", "AU25", "AU26"):  # a laugh stays a laugh, not a smaller smile
        assert y_g[IDX[au]] == pytest.approx(laughing[IDX[au]])
    assert y_g[IDX["AU04"]] == 0.0  # what is not a smile relaxes
    # a surprised face's gaping jaw is not a smile's: it closes toward the preset's
    surprised = vec(AU01=1.0, AU02=1.0, AU05=0.6, AU25=1.0, AU26=1.0)
    y_g = build_target(surprised, target_spec("happy"))
    assert y_g[IDX["AU12"]] == pytest.approx(0.7) and y_g[IDX["AU26"]] == pytest.approx(0.2)
    assert y_g[IDX["AU01"]] == 0.0
    # ... and half a smile keeps half of its open mouth's excess
    half_laugh = vec(AU12=0.35, AU25=1.0)
    assert build_target(half_laugh, target_spec("happy"))[IDX["AU25"]] == pytest.approx(0.7)
    half = build_target(laughing, target_spec("happy:0.5"))
    assert half[IDX["AU12"]] == pytest.approx(1.0) and half[IDX["AU04"]] == pytest.approx(0.15)
    # neutral has no AU of its own: it still relaxes everything
    assert build_target(laughing, target_spec("neutral"))[IDX["AU12"]] == 0.0


def test_happy_keeps_a_grins_raised_upper_lip_as_far_as_the_face_smiles():
    """A broad smile raises the upper lip off the teeth (AU10): `happy` taken to 0 lowered
    face_noface.mov's grin over his teeth; it keeps it in the share the face smiles, and takes
    away an upper lip that a sneer raises."""
    assert PRESETS["happy"].carries == ("AU10",)
    grin = vec(AU06=0.5, AU12=0.9, AU10=0.22, AU25=1.0, AU26=0.4)
    assert build_target(grin, target_spec("happy"))[IDX["AU10"]] == pytest.approx(0.22)
    half = vec(AU12=0.35, AU10=0.22)  # half of happy's AU12: half of the lip kept
    assert build_target(half, target_spec("happy"))[IDX["AU10"]] == pytest.approx(0.11)
    sneer = vec(AU09=0.8, AU10=0.8)
    assert build_target(sneer, target_spec("happy"))[IDX["AU10"]] == 0.0
    for other in ("sad", "surprise", "neutral"):
        assert build_target(grin, target_spec(other))[IDX["AU10"]] == 0.0, other


def test_disgust_has_au16_for_the_warp_only_and_contempt_is_refused(caplog):
    from ganimate.faces import SCANNED_EXTRA_AUS

    disgust = PRESETS["disgust"]
    assert disgust.aus["AU16"] == 0.6 and disgust.unavailable == ()
    warp_names = AU_NAMES + SCANNED_EXTRA_AUS
    y = build_target(np.zeros(len(warp_names)), target_spec("disgust", au_names=warp_names),
                     warp_names)
    assert y[warp_names.index("AU16")] == pytest.approx(0.6)
    with caplog.at_level("WARNING"):
        y17 = build_target(np.zeros(K), target_spec("disgust"))
    assert len(y17) == K and "AU16" in caplog.text  # a 17-AU model: left out, said so
    with pytest.raises(GanimateError, match="asymmetric"):
        parse_expression("contempt")
    with pytest.raises(GanimateError, match="unknown expression.*happy"):
        parse_expression("joyful")
    for bad in ("happy:", "happy:x", "happy:-0.1", "happy:3"):
        with pytest.raises(GanimateError, match="strength"):
            parse_expression(bad)


def test_strength_scales_from_neutral_and_blends_from_a_face():
    happy = PRESETS["happy"].vector()
    np.testing.assert_allclose(build_target(np.zeros(K), target_spec("Happy:0.6")), 0.6 * happy,
                               atol=1e-6)
    y_r = vec(AU12=0.2, AU15=0.5, AU45=0.9)
    y_g = build_target(y_r, target_spec("happy:0.5"))
    assert y_g[IDX["AU12"]] == pytest.approx(0.45)  # halfway from 0.2 to the preset's 0.7
    assert y_g[IDX["AU15"]] == pytest.approx(0.25)  # halfway from 0.5 to 0
    assert y_g[IDX["AU45"]] == pytest.approx(0.9)  # a blink is not an expression
    np.testing.assert_allclose(build_target(y_r, target_spec("happy:0")), y_r)
    # above 1 extrapolates and clips
    assert build_target(np.zeros(K), target_spec("happy:2"))[IDX["AU12"]] == 1.0


def test_relative_expression_adds_to_the_face_and_never_takes_away():
    smiling = vec(AU06=0.5, AU12=0.7, AU15=0.3, AU45=0.4)
    y_g = build_target(smiling, target_spec("happy+0.5"))
    assert y_g[IDX["AU12"]] == pytest.approx(1.0)  # 0.7 + 0.5 x 0.7, clipped
    assert y_g[IDX["AU06"]] == pytest.approx(0.7)  # 0.5 + 0.5 x 0.4
    assert y_g[IDX["AU25"]] == pytest.approx(0.2)
    assert y_g[IDX["AU15"]] == pytest.approx(0.3)  # not part of the preset: kept
    assert np.all(y_g >= smiling)  # a smiling face is never made to smile less
    # the absolute form moves toward the preset instead: AU15 relaxes
    assert build_target(smiling, target_spec("happy:0.5"))[IDX["AU15"]] == pytest.approx(0.15)
    for bad in ("happy+2", "happy+x", "happy:0.5+0.2", "smirk+0.5"):
        with pytest.raises(GanimateError):
            target_spec(bad)


# --- composition -------------------------------------------------------------------------------


def test_empty_spec_keeps_the_source():
    y_r = np.linspace(0, 1, K, dtype=np.float32)
    spec = target_spec()
    assert spec.empty
    np.testing.assert_array_equal(build_target(y_r, spec), y_r)


def test_composition_order(tmp_path):
    y_r = vec(AU12=0.3, AU04=0.5)
    like = vec(AU01=0.7, AU12=0.1)
    path = tmp_path / "aus.json"
    path.write_text(json.dumps({"AU12": 0.9, "source": "x.jpg", "AU26_r": 2.5}))
    spec = target_spec(expression="sad", like=like, aus_file=path, au=["AU12-0.2", "AU02=0.4"])
    y_g = build_target(y_r, spec)
    expected = like.copy()  # --like replaces what the expression did
    expected[IDX["AU12"]] = 0.9 - 0.2  # the file sets AU12, the --au change is relative to it
    expected[IDX["AU26"]] = 0.5  # OpenFace _r columns are 0-5
    expected[IDX["AU02"]] = 0.4
    np.testing.assert_allclose(y_g, expected, atol=1e-6)
    # expression then --au: relative change on top of the preset
    y_g = build_target(np.zeros(K), target_spec("happy", au=["AU12-0.1", "AU04=0.3"]))
    assert y_g[IDX["AU12"]] == pytest.approx(0.6) and y_g[IDX["AU04"]] == pytest.approx(0.3)


def test_build_target_per_frame():
    y_r = np.stack([vec(AU12=0.0), vec(AU12=0.5)])
    y_g = build_target(y_r, target_spec(au=["AU12+0.25"]))
    np.testing.assert_allclose(y_g[:, IDX["AU12"]], [0.25, 0.75])


def test_aus_file_json_forms(tmp_path):
    full = tmp_path / "full.json"
    full.write_text(json.dumps([0.1] * K))
    assert read_aus_file(full).complete()
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([{"AU12": 0.1}, {"AU12": 0.6}]))
    assert read_aus_file(rows, row=1).values == {"AU12": 0.6}
    with pytest.raises(GanimateError, match="--row"):
        read_aus_file(rows)
    with pytest.raises(GanimateError, match="out of range"):
        read_aus_file(rows, row=2)
    bad = tmp_path / "bad.json"
    for content, match in (("{", "not valid JSON"), ('{"AU12": 3}', "outside"),
                           ("[0.1, 0.2]", "17 numbers"), ('{"foo": 1}', "names none"),
                           ('"x"', "JSON object")):
        bad.write_text(content)
        with pytest.raises(GanimateError, match=match):
            read_aus_file(bad)
    with pytest.raises(GanimateError, match="no such file"):
        read_aus_file(tmp_path / "nope.json")
    with pytest.raises(GanimateError, match="--aus-file"):
        target_spec(row=1)


def test_aus_file_csv_row_as_ganimate_aus_writes_it(tmp_path):
    path = tmp_path / "aus.csv"
    write_track(path, [0.0, 0.0], [np.full(K, 0.1), np.full(K, 0.6)], faces=[0, 1])
    values = read_aus_file(path, row=1)
    assert values.complete() and values.values["AU45"] == pytest.approx(0.6)
    with pytest.raises(GanimateError, match="2 rows"):
        read_aus_file(path)
    nocols = tmp_path / "nocols.csv"
    nocols.write_text("source,frame\na,1\n")
    with pytest.raises(GanimateError, match="no AU columns"):
        read_aus_file(nocols)


def test_aus_file_reads_openface_csv(media):
    values = read_aus_file(media / "formats/openface/OpenFace_Test.csv", row=3)
    assert values.complete()
    assert all(0.0 <= v <= 1.0 for v in values.values.values())


# --- condition and alpha schedules -------------------------------------------------------------


def test_condition_is_the_papers_interpolation():
    rng = np.random.default_rng(1)
    y_g, y_r = rng.uniform(0, 1, K), rng.uniform(0, 1, (5, K))
    alpha = np.linspace(0, 1, 5)
    c = condition(alpha, y_g, y_r)
    assert c.dtype == np.float32 and c.shape == (5, K)
    for t in range(5):
        np.testing.assert_allclose(c[t], alpha[t] * y_g + (1 - alpha[t]) * y_r[t], atol=1e-6)
    np.testing.assert_allclose(condition(0.25, y_g, y_r[0]), 0.25 * y_g + 0.75 * y_r[0],
                               atol=1e-6)


def test_parse_ramp_seconds_frames_and_easing():
    s = parse_ramp("0s:0,1.5s:1,4s:1,5s:0", fps=30, n_frames=150)
    a = s.as_array()
    assert len(s) == 150 and a.shape == (150,)
    assert a[0] == 0 and a[45] == 1 and a[120] == 1 and a[90] == 1
    assert a[22] == pytest.approx(22 / 45)  # linear by default
    assert a[135] == pytest.approx(0.5)
    assert s.alpha(149) == pytest.approx(1 / 30)
    np.testing.assert_allclose(s(np.array([22, 135])), a[[22, 135]])
    # frames with or without "f", percentages, per-segment easing
    f = parse_ramp("10:0,20f:1:smoothstep,100%:0:cosine", fps=25, n_frames=41)
    assert f.alpha(5) == 0 and f.alpha(20) == 1 and f.alpha(40) == 0
    assert f.alpha(15) == pytest.approx(0.5)  # symmetric easing, midpoint
    assert f.alpha(12) == pytest.approx(EASINGS["smoothstep"](np.array(0.2)))
    assert f.alpha(12) < 0.2  # eased: slow start
    assert f.easings == ("smoothstep", "cosine")
    g = parse_ramp("0s:0,1s:1", fps=10, n_frames=11, easing="ease-in-out")
    assert g.alpha(2) < 0.2 and g.alpha(8) > 0.8 and g.alpha(5) == pytest.approx(0.5)


def test_named_schedules():
    r = parse_ramp("ramp", fps=25, n_frames=11).as_array()
    np.testing.assert_allclose(r, np.linspace(0, 1, 11))
    assert np.all(parse_ramp("hold", fps=25, n_frames=7).as_array() == 1.0)
    b = parse_ramp("bounce", fps=25, n_frames=21).as_array()
    assert b[0] == 0 and b[10] == 1 and b[20] == 0
    np.testing.assert_allclose(b, b[::-1], atol=1e-12)
    assert np.all(np.diff(b[:11]) > 0)
    assert parse_ramp("ramp", fps=25, n_frames=1).as_array().tolist() == [1.0]


@pytest.mark.parametrize("text,match", [
    ("0s:0,1s", "TIME:ALPHA"),
    ("0s:0,xs:1", "bad time"),
    ("0s:0,1s:2", r"\[0, 1\]"),
    ("0s:0,1s:1:wobble", "unknown easing"),
    ("1s:0,1s:1", "increase"),
    ("2s:0,1s:1", "increase"),
    ("", "TIME:ALPHA"),
])
def test_bad_ramps(text, match):
    with pytest.raises(GanimateError, match=match):
        parse_ramp(text, fps=30, n_frames=100)


def test_alpha_schedule_validates():
    with pytest.raises(ValueError):
        AlphaSchedule(10, (0.0, 5.0), (0.0, 1.0), ())


# --- AU tracks ---------------------------------------------------------------------------------


def write_track(path, times, values, faces=None, drop=()):
    """Write rows exactly as `ganimate aus` does (au_table.TABLE_COLUMNS, AURow.as_dict)."""
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=TABLE_COLUMNS)
        writer.writeheader()
        for i, (t, v) in enumerate(zip(times, values, strict=True)):
            if i in drop:  # no face in that frame: `ganimate aus` writes no row
                continue
            face = 0 if faces is None else faces[i]
            row = AURow("driver.mp4", i, float(t), face, (1.0, 2.0, 3.0, 4.0),
                        np.asarray(v, np.float32))
            writer.writerow(row.as_dict())


def test_track_resampled_by_time(tmp_path):
    times = np.arange(10) / 10.0  # a 10 fps driver
    values = np.zeros((10, K), np.float32)
    values[:, IDX["AU12"]] = times  # AU12 = t seconds
    path = tmp_path / "track.csv"
    write_track(path, times, values, drop={4})  # no face in frame 4: interpolated across
    track = read_au_track(path)
    assert len(track.times) == 9
    y = track.resample(fps=25, n_frames=40)  # 1.6 s at 25 fps: held after 0.9 s
    assert y.shape == (40, K) and y.dtype == np.float32
    expected = np.minimum(np.arange(40) / 25.0, 0.9)
    np.testing.assert_allclose(y[:, IDX["AU12"]], expected, atol=1e-5)
    assert np.all(y[:, IDX["AU04"]] == 0)


def test_track_faces_and_missing_columns(tmp_path):
    path = tmp_path / "two.csv"
    values = np.full((4, K), 0.2, np.float32)
    values[1::2] = 0.7
    write_track(path, [0, 0, 0.1, 0.1], values, faces=[0, 1, 0, 1])
    with pytest.raises(GanimateError, match="2 faces"):
        read_au_track(path)
    assert np.allclose(read_au_track(path, face=1).values, 0.7)
    with pytest.raises(GanimateError, match="no face 3"):
        read_au_track(path, face=3)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(path.read_text() + path.read_text().splitlines()[1].replace(
        "driver.mp4", "other.mp4") + "\n")
    assert "box" in path.read_text().splitlines()[0]
    with pytest.raises(GanimateError, match="2 files"):
        read_au_track(mixed, face=0)
    assert len(read_au_track(mixed, face=0, source="other.mp4").times) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("source,frame,face,AU01\nx,0,0,0.1\n")
    with pytest.raises(GanimateError, match="missing column.*time.*AU02"):
        read_au_track(bad)
    with pytest.raises(GanimateError, match="no such file"):
        read_au_track(tmp_path / "none.csv")


def test_track_reads_openface_csv(media):
    track = read_au_track(media / "formats/openface/OpenFace_Test.csv")
    assert track.values.shape[1] == K and np.all(np.diff(track.times) > 0)
    assert track.resample(fps=30, n_frames=5).shape == (5, K)


@pytest.mark.parametrize("name", [n for n, p in PRESETS.items() if p.defining])
def test_a_model_without_a_defining_group_is_refused(name):
    """Each preset names the AUs that make it (lip corners, brows, ...): a model lacking a whole
    group gets an error, one lacking only other AUs a warning (tests/cli/test_bad_input.py)."""
    from ganimate.targets.presets import check_preset

    preset = PRESETS[name]
    check_preset(preset, AU_NAMES + ("AU16",))  # the warp's names: nothing missing, no error
    for group in preset.defining:
        names = [n for n in AU_NAMES if n not in group]
        with pytest.raises(GanimateError, match=name):
            check_preset(preset, names)
