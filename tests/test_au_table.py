"""au_table.scan_aus on a clip without mediapipe (the fake tracker): rows, times, baselines,
problems. tests/test_cli_aus.py runs the same through `ganimate aus` with the real face mesh."""

from __future__ import annotations

import shutil

import numpy as np

from ganimate.au_table import TABLE_COLUMNS, AUScanProblem, scan_aus
from ganimate.faces import AU_NAMES

AU12 = AU_NAMES.index("AU12")


def test_video_rows_follow_every_kth_frame_with_times_and_track_ids(synthetic_clip, fake_tracker):
    fake_tracker.smiles = frozenset({5, 6})  # the 6th and 7th frames read: frames 15 and 18
    rows = list(scan_aus(synthetic_clip, method="geometric", every=3))
    assert [r.frame for r in rows] == [0, 3, 6, 9, 12, 15, 18]
    assert np.allclose([r.time for r in rows], [r.frame / 10 for r in rows])
    assert {r.face for r in rows} == {7} and {r.source for r in rows} == {"clip.mp4"}
    assert [r.aus[AU12] > 0.5 for r in rows] == [False] * 5 + [True] * 2
    assert list(rows[0].as_dict()) == list(TABLE_COLUMNS)


def test_the_baseline_removes_the_resting_face_and_keeps_the_smile(synthetic_clip, fake_tracker):
    fake_tracker.smiles = frozenset({5, 6})
    plain = np.stack([r.aus for r in scan_aus(synthetic_clip, method="geometric", every=3)])
    based = np.stack([r.aus for r in scan_aus(synthetic_clip, method="geometric", every=3,
                                              baseline=True)])
    assert plain[:5].max() > 0.3  # the canonical face is not all zeros on the raw scale
    below = plain[0] < 0.95  # the baseline stops at 0.95 so that 1 stays reachable
    assert based[:5][:, below].max() < 1e-5  # a resting face reads neutral
    assert based[5:, AU12].min() > 0.5


def test_files_that_give_nothing_are_reported(synthetic_clip, fake_tracker, tmp_path):
    shutil.copy(synthetic_clip, tmp_path / "good.mp4")
    (tmp_path / "broken.mp4").write_bytes(b"\0" * 100)
    problems: list[AUScanProblem] = []
    rows = list(scan_aus(tmp_path, method="geometric", every=10, problems=problems))
    assert {r.source for r in rows} == {"good.mp4"} and len(rows) == 2
    assert [p.source for p in problems] == ["broken.mp4"]
    assert problems[0].reason.startswith("unreadable")
