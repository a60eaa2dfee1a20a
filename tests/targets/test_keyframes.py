"""Keyframe files for `animate video --ramp keys.csv|keys.json` (what the studio exports)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES
from ganimate.targets import (
    EASINGS,
    KeyframeRow,
    keyframe_text,
    parse_ramp,
    read_keyframe_rows,
    read_keyframes,
)

CSV = "time,alpha,easing,AU12,AU06\n0s,0,,0.8,0.6\n1s,1,cosine,0.8,\n2s,0.5,ease-out,0.2,0.1\n"


def test_a_csv_keys_alpha_and_each_au_on_its_own_keyframes(tmp_path):
    path = tmp_path / "keys.csv"
    path.write_text(CSV)
    keys = read_keyframes(path, fps=10, n_frames=30)
    # alpha follows the same schedule --ramp text would give
    ramp = parse_ramp("0s:0,1s:1:cosine,2s:0.5:ease-out", 10, 30)
    assert np.array_equal(keys.schedule.as_array(), ramp.as_array())
    i12, i06 = AU_NAMES.index("AU12"), AU_NAMES.index("AU06")
    at = np.stack([keys.curves.at(f) for f in range(30)])
    assert np.isnan(at[:, AU_NAMES.index("AU01")]).all()  # unkeyed: the face's own
    assert at[0, i12] == pytest.approx(0.8) and at[10, i12] == pytest.approx(0.8)
    assert at[15, i12] == pytest.approx(0.8 - 0.6 * EASINGS["ease-out"](np.array(0.5)), abs=1e-6)
    assert at[29, i12] == pytest.approx(0.2)
    # AU06 has no key at 1 s: one ease-out segment from 0 s to 2 s
    assert at[10, i06] == pytest.approx(0.6 - 0.5 * EASINGS["ease-out"](np.array(0.5)), abs=1e-6)


def test_json_and_csv_say_the_same_and_round_trip(tmp_path):
    rows = [KeyframeRow("0.000s", 0.0, "linear", {"AU12": 0.8}),
            KeyframeRow("1.500s", 1.0, "cosine", {"AU12": 0.25, "AU04": 0.5})]
    for suffix in (".csv", ".json"):
        path = tmp_path / f"keys{suffix}"
        path.write_text(keyframe_text(rows, suffix))
        assert read_keyframe_rows(path) == rows
    data = json.loads((tmp_path / "keys.json").read_text())
    assert data[1] == {"time": "1.500s", "alpha": 1.0, "easing": "cosine", "AU04": 0.5,
                       "AU12": 0.25}
    (tmp_path / "wrapped.json").write_text(json.dumps({"keyframes": data}))
    assert read_keyframe_rows(tmp_path / "wrapped.json") == rows


@pytest.mark.parametrize(("text", "message"), [
    ("alpha,AU12\n1,0.5\n", "needs a time column"),
    ("time,alpha\n0s,1.5\n", "keyframe 1 alpha = '1.5' must be a number in [0, 1]"),
    ("time,AU12\n0s,2\n", "keyframe 1 AU12 = '2' must be a number in [0, 1]"),
    ("time,AU12\n0s,x\n", "keyframe 1 AU12 = 'x'"),
    ("time,easing,AU12\n0s,,0\n1s,bouncy,1\n", "unknown easing 'bouncy'"),
    ("time,AU12\n1s,0\n0.5s,1\n", "keyframe times must increase"),
    ("time,AU12\n", "holds no keyframe"),
    ("time,AU12\nsoon,1\n", "bad time 'soon'"),
])
def test_bad_keyframe_files_say_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "keys.csv"
    path.write_text(text)
    with pytest.raises(GanimateError, match="--ramp .*" + message.replace("[", r"\[")
                       .replace("]", r"\]").replace("(", r"\(")):
        read_keyframes(path, fps=10, n_frames=30)


def test_a_missing_or_broken_file(tmp_path):
    with pytest.raises(GanimateError, match="no such file"):
        read_keyframe_rows(tmp_path / "nope.csv")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(GanimateError, match="not valid JSON"):
        read_keyframe_rows(tmp_path / "bad.json")
    (tmp_path / "obj.json").write_text('{"AU12": 1}')
    with pytest.raises(GanimateError, match="expected a JSON list of keyframes"):
        read_keyframe_rows(tmp_path / "obj.json")


def _frames(folder):
    from ganimate.video import read_frames

    return list(read_frames(folder))


def test_animate_video_reads_a_keyframe_file_as_it_reads_ramp_text(
        invoke, synthetic_clip, fake_tracker, tmp_path):
    """The file's alpha is --ramp's schedule and its AU columns are targets: both bit-identical
    to the options they stand for."""
    (tmp_path / "alpha.csv").write_text("time,alpha,easing\n0s,0,\n1s,1,cosine\n")
    runs = {
        "file": ["--ramp", tmp_path / "alpha.csv", "-e", "happy"],
        "text": ["--ramp", "0s:0,1s:1:cosine", "-e", "happy"],
    }
    (tmp_path / "aus.json").write_text('[{"time": "0s", "AU12": 0.9, "AU25": 0.5}]')
    runs["aus"] = ["--ramp", tmp_path / "aus.json"]
    runs["hold"] = ["--hold", "--au", "AU12=0.9", "--au", "AU25=0.5"]
    for name, args in runs.items():
        res = invoke("animate", "video", synthetic_clip, *args, "-o", tmp_path / name)
        assert res.exit_code == 0, res.output
    file, text, aus, hold = (_frames(tmp_path / n) for n in ("file", "text", "aus", "hold"))
    assert all(np.array_equal(a, b) for a, b in zip(file, text, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(aus, hold, strict=True))
    assert not np.array_equal(file[-1], _frames(synthetic_clip)[-1])  # they do edit


def test_animate_video_refuses_a_keyframe_file_with_track_or_nothing_to_do(
        invoke, synthetic_clip, tmp_path):
    (tmp_path / "alpha.csv").write_text("time,alpha\n0s,0\n1s,1\n")
    res = invoke("animate", "video", synthetic_clip, "--ramp", tmp_path / "alpha.csv",
                 "-o", tmp_path / "out.mp4")
    assert res.exit_code == 1
    assert "its keyframes set no AU" in res.output
    res = invoke("animate", "video", synthetic_clip, "--ramp", tmp_path / "gone.csv",
                 "-o", tmp_path / "out.mp4")
    assert res.exit_code == 1 and "gone.csv: no such file" in res.output
