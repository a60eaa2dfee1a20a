"""A face's own lip parting read through the warp's basis (ganimate.engines.lips): the edit's lips
part as far as the condition asks, from any start, and in video they hold still while the
person's own mouth opens under a held expression."""

from __future__ import annotations

import numpy as np
import pytest
from test_mouth import closed_mesh, lip_photo
from test_mouth_track import ajar

from ganimate.engines.geometry import mesh_displacement
from ganimate.engines.lips import PARTING_AUS, lips_from_landmarks
from ganimate.engines.mouth import INNER_LIPS, gap_of
from ganimate.engines.warp import WarpEngine
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import apply_transform, eye_centre_distance


def gap(landmarks: np.ndarray, shifts: np.ndarray | None = None) -> float:
    points = np.asarray(landmarks, np.float64)[:468, :2]
    if shifts is not None:
        points = points + shifts
    return gap_of(points[list(INNER_LIPS)]) / eye_centre_distance(landmarks)


@pytest.mark.parametrize("opening", [0.0, 0.04, 0.12, 0.25])
def test_the_read_parting_is_what_the_basis_needs_to_close_the_lips(opening):
    engine = WarpEngine()
    names = engine.au_names
    lm = ajar(opening)
    estimator = np.zeros(len(names), np.float32)
    estimator[[names.index(a) for a in PARTING_AUS]] = (1.0, 0.3)  # saturated, as it reads
    read = lips_from_landmarks(estimator, lm, names, engine.config)
    parts = read[[names.index(a) for a in PARTING_AUS]]
    if opening == 0.0:
        assert np.all(parts == 0)
        return
    closed = gap(lm, mesh_displacement(lm, read, np.zeros_like(read), names, engine.config))
    assert abs(closed) < 0.01, (opening, parts)  # undoing the reading meets the lips
    if opening < 0.1:  # unclipped: the estimator's proportions kept
        assert parts[0] / parts[1] == pytest.approx(1.0 / 0.3, rel=1e-4)
    others = [i for i, a in enumerate(names) if a not in PARTING_AUS]
    assert np.array_equal(read[others], estimator[others])


def output_gaps(clip, config: WarpConfig, frames: range, expression: str | None = "happy",
                au: tuple[str, ...] = ()) -> list[tuple[float, float]]:
    """(the input's, the edit's) inner-lip gap (IOD) at ``frames`` of ``clip`` held at
    ``expression`` and ``au``, as the render plans it (the planner's smoothed landmarks moved by
    the warp's shifts from the planner's y_r to the condition)."""
    from ganimate.animation import AnimateConfig, Timeline
    from ganimate.animation.clip import ClipPlans
    from ganimate.animation.conditions import conditions_for
    from ganimate.targets import TargetOptions

    engine = WarpEngine(config).for_video()
    plans = ClipPlans(clip, engine, AnimateConfig())
    spec = TargetOptions(expression, au=au).spec(engine.au_space)
    conditions = conditions_for(Timeline(hold=True), spec, engine.au_names, plans.info.frame_count,
                                float(plans.info.fps))
    out = []
    try:
        for i in frames:
            plan = plans.plan(i)
            crop = plan.faces[0].crop
            lm = np.asarray(crop.landmarks, np.float64)
            lm[:, :2] = apply_transform(crop.to_frame, lm[:, :2])
            lm[:, 2] *= crop.scale
            job = conditions.job(plan)
            shifts = mesh_displacement(lm, job.y_r[0], job.condition[0], engine.au_names,
                                       engine.config)
            out.append((gap(lm), gap(lm, shifts)))
    finally:
        plans.close()
    return out


def test_a_held_smile_keeps_its_lips_apart_while_the_persons_own_smile_opens(media):
    """single_face.mp4 opens his mouth over frames 17-23; held at a smile set in absolute AUs
    (a preset would keep his own wider parting: its AUs are a floor), the edit's lips stay as
    far apart as asked, where the estimator's reading (its AU25 at 1 on lips a third as far
    apart as the basis' AU25) closed them to 0.056 IOD for a frame."""
    clip, frames = media / "video" / "single_face.mp4", range(12, 26)
    smile = ("AU06=0.4", "AU12=0.8", "AU25=0.7", "AU26=0.2")
    held = [edit for _, edit in output_gaps(clip, WarpConfig(), frames, None, smile)]
    assert max(held) - min(held) < 0.035, held
    assert min(held) > 0.09
    followed = [edit for _, edit in output_gaps(clip, WarpConfig(video_lips_from_landmarks=False),
                                                frames, None, smile)]
    assert max(followed) - min(followed) > 0.06, followed  # what the test tells apart


def test_a_held_preset_keeps_a_wider_smile_of_the_persons_own(media):
    """Once his own smile parts his lips further than the happy preset does (frames 22-26), the
    held preset keeps his parting (its AUs are a floor; his upper lip's raise, AU10, is not the
    preset's and relaxes: 0.02 IOD): it closed them to 0.12 IOD of his 0.2."""
    clip, frames = media / "video" / "single_face.mp4", range(22, 27)
    pairs = output_gaps(clip, WarpConfig(), frames)
    assert min(own for own, _ in pairs) > 0.15
    assert all(edit > own - 0.035 for own, edit in pairs), pairs


def test_targets_that_leave_the_lips_alone_or_move_them_by_an_amount_start_from_them(media):
    """Brows alone: as his mouth opens (frames 16-23) the edit's lips are as far apart as his
    own; AU26+0.2 parts them by the basis' 0.2 of a jaw drop more than his own, all along."""
    clip, frames = media / "video" / "single_face.mp4", range(16, 24)
    pairs = output_gaps(clip, WarpConfig(), frames, None, ("AU01=0.8", "AU02=0.8"))
    assert max(abs(edit - own) for own, edit in pairs) < 0.01, pairs
    assert max(own for own, _ in pairs) > 0.15
    more = [edit - own for own, edit in output_gaps(clip, WarpConfig(), frames, None,
                                                    ("AU26+0.2",))]
    assert min(more) > 0.03 and max(more) - min(more) < 0.015, more


def test_a_photo_keeps_the_estimators_reading_and_a_covered_mouth_holds_its_gap():
    from ganimate.engines.mouth import MouthMemory
    from ganimate.engines.mouth_track import MouthTrack
    from ganimate.faces import Hand

    engine = WarpEngine(WarpConfig().for_video())
    names, lm = engine.au_names, ajar(0.12)
    y = np.zeros(len(names), np.float32)
    y[names.index("AU25")] = 1.0
    assert engine.own_aus(y, lm, None) is y  # a video frame without a track
    photo = WarpEngine()  # a photo's open mouth: its parting read through the basis
    read = photo.own_aus(y, lm, None)
    assert gap(lm, mesh_displacement(lm, read, np.zeros_like(read), names,
                                     photo.config)) == pytest.approx(0.0, abs=0.01)
    assert photo.own_aus(y, ajar(0.0), None) is y  # ... a closed one keeps the estimator's
    memory = MouthMemory(0.0, None, 70.0, None, np.zeros(3, np.float32), None, gap=0.06)
    read = engine.own_aus(y, lm, memory)
    closed = gap(lm, mesh_displacement(lm, read, np.zeros_like(read), names, engine.config))
    assert closed == pytest.approx(0.12 - 0.06, abs=0.01)  # undoing it leaves the other half
    # under a hand the track holds the gap it had (the landmarks there lie on the fingers)
    shut = ajar(0.0)
    lips = shut[list(INNER_LIPS), :2]
    centre, width = lips.mean(axis=0), np.ptp(lips[:, 0])
    points = np.array([centre + (width * (0.4 * (k % 5) - 0.8), width * (0.6 - 0.3 * (k // 5)))
                       for k in range(21)], np.float64)
    photo = lip_photo(closed_mesh())
    for covered, expected in (((Hand(points),), 0.12), ((), 0.0)):
        track = MouthTrack(30.0)
        track.update(photo, ajar(0.12))
        assert track.update(photo, shut, hands=covered).gap == pytest.approx(expected, abs=0.005)
