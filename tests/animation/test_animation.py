"""ganimate.animation: the condition handed to G frame by frame, smoothing, the streamed pipeline.

The model is a tiny, randomly initialised generator (it only needs to run); the faces, AUs and
videos are real.
"""

from __future__ import annotations

import threading
from fractions import Fraction

import numpy as np
import pytest
import torch

from ganimate import animation, video
from ganimate.animation import AnimateConfig, ImageAnimation, conditions, pipeline, planner
from ganimate.animation.conditions import frame_condition
from ganimate.animation.planner import savgol_at
from ganimate.engines import GanEngine
from ganimate.errors import GanimateError
from ganimate.targets import AUTrack, build_target, ramp_schedule, target_spec
from ganimate.video import VideoWriter, probe, read_frames

FAST = dict(preset="ultrafast")


class Spy(torch.nn.Module):
    """Wraps the generator and records the AU condition of every face it is called on."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.conditions: list[np.ndarray] = []

    def forward(self, images, aus):
        self.conditions.append(aus.detach().cpu().numpy().copy())
        return self.inner(images, aus)


@pytest.fixture
def spied(tiny):
    from ganimate.model import load_generator

    loaded = load_generator(tiny, device="cpu")
    loaded.model = Spy(loaded.model)
    return GanEngine(loaded)


# --- pure parts ---------------------------------------------------------------------------------


def test_savgol_at_is_the_savitzky_golay_filter_and_degrades_at_the_ends():
    from scipy.signal import savgol_filter

    rng = np.random.default_rng(0)
    x = np.arange(40, dtype=float)
    y = np.sin(x / 5)[:, None] + rng.normal(0, 0.05, (40, 1))
    ref = savgol_filter(y[:, 0], 9, 2)
    for t in range(4, 36):
        near = np.abs(x - t) <= 4
        assert savgol_at(x[near], y[near], t, 2)[0] == pytest.approx(ref[t], abs=1e-9)
    # At the end of a track (no look-ahead) or across a gap, a quadratic is still reproduced.
    q = (0.5 * x**2 - 3 * x + 1)[:, None]
    assert savgol_at(x[30:35], q[30:35], 34, 2)[0] == pytest.approx(q[34, 0])
    gap = np.array([10, 11, 14, 15, 16])
    assert savgol_at(gap, q[gap], 12, 2)[0] == pytest.approx(q[12, 0])
    # One sample: itself; two: the line through them.
    assert savgol_at(x[:1], y[:1], 0, 2)[0] == y[0, 0]


def test_similarity_parameters_round_trip():
    m = np.array([[1.2 * np.cos(0.3), -1.2 * np.sin(0.3), 40.5],
                  [1.2 * np.sin(0.3), 1.2 * np.cos(0.3), -7.25]])
    assert np.allclose(planner.similarity_matrix(planner.similarity_params(m)), m)


def test_frame_condition_is_alpha_y_g_plus_one_minus_alpha_y_r():
    names = ("AU01", "AU06", "AU12", "AU25")
    y_r = np.array([[0.1, 0.2, 0.3, 0.0], [0.5, 0.0, 0.1, 0.9]], np.float32)
    spec = target_spec(expression="happy", au=["AU25+0.2"], au_names=names)
    fc = frame_condition(0.25, y_r, spec, names)
    y_g = build_target(y_r, spec, names)
    assert np.array_equal(fc.y_g, y_g)
    assert np.allclose(fc.condition, 0.25 * y_g + 0.75 * y_r)
    assert np.array_equal(frame_condition(0.0, y_r, spec, names).condition, y_r)
    assert np.allclose(frame_condition(1.0, y_r, spec, names).condition, y_g)
    # With a driver track: y_g comes from the driver, --au on top of it; y_r is still the face's.
    driver = np.array([0.9, 0.8, 0.7, 0.1], np.float32)
    fc = frame_condition(0.5, y_r, target_spec(au=["AU01=0"], au_names=names), names, driver)
    assert np.allclose(fc.y_g, [[0.0, 0.8, 0.7, 0.1]] * 2)
    assert np.allclose(fc.condition, 0.5 * fc.y_g + 0.5 * y_r)


def test_alpha_schedule_choices():
    s = conditions.alpha_schedule(11, 10.0)
    assert s(0) == 0 and s(10) == 1 and s(5) == pytest.approx(0.5)
    assert np.all(conditions.alpha_schedule(11, 10.0, hold=True).as_array() == 1)
    assert np.all(conditions.alpha_schedule(11, 10.0, default="hold").as_array() == 1)
    b = conditions.alpha_schedule(11, 10.0, bounce=True)
    assert b(0) == 0 and b(5) == 1 and b(10) == 0
    r = conditions.alpha_schedule(30, 10.0, ramp="0s:0,1s:1:ease-in,2s:0")
    assert r(10) == 1 and r(5) == pytest.approx(0.25) and r(29) == 0
    with pytest.raises(GanimateError, match="--ramp and --hold: give one of them"):
        conditions.alpha_schedule(10, 10.0, ramp="0:0,5:1", hold=True)
    with pytest.raises(GanimateError, match="--easing"):
        conditions.alpha_schedule(10, 10.0, easing="wobble")
    with pytest.raises(GanimateError, match="--ramp"):
        conditions.alpha_schedule(10, 10.0, ramp="0s:0,1s:2")


# --- the video pipeline on a real clip ------------------------------------------------------------


@pytest.fixture(scope="module")
def single_face_run(media, tiny, tmp_path_factory):
    """animate_video on the real single-face clip (72 frames), the generator spied on."""
    from ganimate.model import load_generator

    loaded = load_generator(tiny, device="cpu")
    loaded.model = Spy(loaded.model)
    out = tmp_path_factory.mktemp("single") / "out.mkv"
    spec = target_spec(expression="happy", au=["AU04+0.1"], au_names=loaded.au_names)
    records: list = []
    src = media / "video" / "single_face.mp4"
    result = animation.animate_video(src, out, GanEngine(loaded), spec,
                                     AnimateConfig(lossless=True, batch_size=5, **FAST),
                                     preview=out.with_name("preview.mp4"),
                                     on_frame=records.append)
    return result, records, loaded, spec


def test_condition_handed_to_g_at_frame_t(single_face_run):
    result, records, loaded, spec = single_face_run
    assert result.frames == len(records) == 72
    assert [r.index for r in records] == list(range(72))
    schedule = ramp_schedule(72)
    given = np.concatenate(loaded.model.conditions)
    expected = np.stack([f.condition for r in records for f in r.faces])
    assert given.shape == expected.shape and len(given) >= 70
    assert np.array_equal(given, expected)  # G got exactly the recorded condition, in order
    y_r_over_time = []
    for r in records:
        assert r.alpha == pytest.approx(schedule.alpha(r.index))
        for f in r.faces:
            y_g = build_target(f.y_r[None], spec, loaded.au_names)[0]
            assert np.allclose(f.y_g, y_g)
            assert np.allclose(f.condition, r.alpha * y_g + (1 - r.alpha) * f.y_r, atol=1e-6)
            y_r_over_time.append(f.y_r)
    # y_r is the face's own per-frame estimate: it moves (the man smiles), so y_r(t) matters.
    assert np.ptp(np.stack(y_r_over_time), axis=0).max() > 0.1
    # the same track id throughout
    assert result.face_ids == (0,)


def test_crops_are_smoothed_over_time(media, single_face_run):
    """The smoothed crop path jitters less than per-frame alignment, and follows the face."""
    from ganimate.faces import FaceTracker, crop_transform

    _, records, _, _ = single_face_run
    smoothed = {r.index: r.faces[0] for r in records if r.faces}
    raw = {}
    with FaceTracker() as tracker:
        for i, frame in enumerate(read_frames(media / "video" / "single_face.mp4")):
            faces = tracker(frame)
            if faces and i in smoothed:
                raw[i] = crop_transform(faces[0], smoothed[i].crop_size)
    frames = sorted(raw)
    assert len(frames) >= 70
    size = smoothed[frames[0]].crop_size
    centre = np.array([(size - 1) / 2, (size - 1) / 2])

    def path(ms):  # where the crop's centre lands in the frame
        return np.array([m[:, :2] @ centre + m[:, 2] for m in ms])

    def jitter(c):  # mean absolute second difference (acceleration) in pixels
        return np.abs(np.diff(c, n=2, axis=0)).mean()

    s = path([smoothed[i].to_frame for i in frames])
    r = path([raw[i] for i in frames])
    assert jitter(s) < 0.7 * jitter(r), (jitter(s), jitter(r))
    assert np.abs(s - r).mean() < 2.0  # pixels: no lag or drift


def test_output_and_preview_match_the_input(media, single_face_run):
    result, records, _, _ = single_face_run
    src = probe(media / "video" / "single_face.mp4")
    out = probe(result.out)
    assert (out.frame_count, out.fps, out.size) == (src.frame_count, src.fps, src.size)
    assert out.has_audio
    prev = probe(result.preview)
    assert prev.frame_count == src.frame_count and prev.size == (3 * src.width, src.height)
    # lossless output: pixels outside the face's paste-back footprint are the input's
    first_in = next(read_frames(media / "video" / "single_face.mp4"))
    first_out = next(read_frames(result.out))
    assert np.array_equal(first_in[:, :100], first_out[:, :100])
    assert not np.array_equal(first_in, first_out)


def test_track_drives_the_target_frame_by_frame(media, spied, tmp_path):
    """--track: at alpha 1 (the default with a track) G gets the driver's AUs at t / fps."""
    clip = tmp_path / "cut.mkv"
    src = media / "video" / "single_face.mp4"
    info = probe(src)
    with VideoWriter(clip, fps=info.fps, lossless=True, preset="ultrafast") as w:
        for i, frame in enumerate(read_frames(src)):
            if i >= 12:
                break
            w.write(frame)
    names = spied.au_names
    times = np.array([0.0, 0.2, 0.5])
    values = np.zeros((3, len(names)), np.float32)
    values[:, names.index("AU12")] = [0.0, 1.0, 0.4]
    csv = tmp_path / "driver.csv"
    lines = ["source,frame,time,face,box," + ",".join(names)]
    for t, v in zip(times, values, strict=True):
        lines.append(f"d.mp4,0,{t},0,0 0 1 1," + ",".join(f"{x:g}" for x in v))
    csv.write_text("\n".join(lines) + "\n")
    records: list = []
    animation.animate_video(clip, tmp_path / "out.mp4", spied, target_spec(au_names=names),
                            AnimateConfig(**FAST), animation.Timeline(track=csv),
                            on_frame=records.append)
    driver = AUTrack(times, values, names)
    assert len(records) == 12
    for r in records:
        assert r.alpha == 1.0
        for f in r.faces:
            assert np.allclose(f.condition, driver.at(r.index / 30.0), atol=1e-6)
    assert np.array_equal(np.concatenate(spied.loaded.model.conditions),
                          np.stack([f.condition for r in records for f in r.faces]))


def test_a_failure_midway_removes_the_partial_output_and_stops_every_thread(
        media, spied, tmp_path, monkeypatch):
    import ganimate.engines.gan as inference

    calls = {"n": 0}
    real = inference.edit_crops

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise GanimateError("simulated failure (e.g. out of GPU memory)")
        return real(*args, **kwargs)

    monkeypatch.setattr(inference, "edit_crops", failing)
    before = threading.active_count()
    out = tmp_path / "out.mp4"
    with pytest.raises(GanimateError, match="simulated failure"):
        animation.animate_video(media / "video" / "single_face.mp4", out, spied,
                                target_spec(expression="sad", au_names=spied.au_names),
                                AnimateConfig(batch_size=2, **FAST),
                                preview=tmp_path / "preview.mp4")
    assert calls["n"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert threading.active_count() == before


def test_output_equal_to_input_is_refused_before_anything_runs(media, spied, tmp_path):
    clip = tmp_path / "in.mp4"
    clip.write_bytes((media / "video" / "no_face.mp4").read_bytes())
    with pytest.raises(GanimateError, match="overwrite the input"):
        animation.animate_video(clip, tmp_path / "." / "in.mp4", spied,
                                target_spec(expression="sad", au_names=spied.au_names))
    with pytest.raises(GanimateError, match="--preview"):
        pipeline.check_output(clip, tmp_path / "out.mp4", tmp_path / "out.mp4")
    assert clip.read_bytes() == (media / "video" / "no_face.mp4").read_bytes()


# --- animate image ------------------------------------------------------------------------------


def test_animate_image_conditions_frame_t_on_the_schedule(media, spied, tmp_path):
    photo = media / "faces" / "london" / "neutral" / "003.jpg"
    spec = target_spec(expression="surprise", au_names=spied.au_names)
    records: list = []
    settings = ImageAnimation(seconds=0.6, fps=10, bounce=True, preset="ultrafast",
                              batch_size=4)
    result = animation.animate_image(photo, tmp_path / "clip.mp4", spied, spec, settings,
                                     on_frame=records.append)
    assert result.frames == len(records) == 6
    info = probe(result.out)
    assert info.frame_count == 6 and info.fps == Fraction(10) and info.size == (512, 512)
    alphas = [r.alpha for r in records]
    assert alphas[0] == 0 and max(alphas) > 0.9 and alphas[-1] == 0
    y_r = records[0].faces[0].y_r
    for r in records:
        f = r.faces[0]
        assert np.array_equal(f.y_r, y_r)  # one photo: y_r is constant
        assert np.allclose(f.condition, r.alpha * f.y_g + (1 - r.alpha) * y_r, atol=1e-6)
    assert np.array_equal(np.concatenate(spied.loaded.model.conditions),
                          np.stack([r.faces[0].condition for r in records]))


def test_warp_frames_edited_in_parallel_come_out_in_order_and_unchanged(media, tmp_path):
    """Two editing threads (the warp's default on 2+ cores) write the very frames one thread
    writes, in the same order (PNG frames: exact), and both threads really edit."""
    from ganimate.engines import WarpEngine

    engine = WarpEngine()
    spec = target_spec(expression="surprise", au_names=engine.au_names)
    src = media / "video" / "single_face.mp4"
    clip = tmp_path / "short.mp4"
    with VideoWriter(clip, fps=30, crf=12, preset="ultrafast") as w:
        for i, frame in enumerate(read_frames(src, probe(src))):
            if i < 20:
                w.write(frame)
    editors: set[str] = set()

    def spy(record):
        editors.update(t.name for t in threading.enumerate() if t.name.startswith("ganimate-edit"))

    one = animation.animate_video(clip, tmp_path / "one", engine, spec, AnimateConfig(workers=1))
    two = animation.animate_video(clip, tmp_path / "two", engine, spec, AnimateConfig(workers=2),
                                  on_frame=spy)
    assert len(editors) == 2
    assert engine.for_video().config.sampling == "cubic"  # video frames: bicubic
    assert one.frames == two.frames == 20 and two.first_frame_at > 0
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "two").iterdir())
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_a_clip_frame_edited_alone_is_the_renders_frame(media, tmp_path):
    """ClipPlans (the studio's preview path) runs the render's planner, so a frame edited alone
    (smoothing window, neutral baseline, the mouth's track) is the lossless render's frame, bit
    for bit, wherever the playhead lands and in any order."""
    from ganimate.animation import AnimateConfig, ClipPlans, Timeline, animate_video
    from ganimate.animation.conditions import conditions_for
    from ganimate.engines import load_engine
    from ganimate.targets import TargetSpec

    src = media / "video" / "single_face.mp4"
    keys = tmp_path / "keys.csv"
    keys.write_text("time,alpha,easing,AU06,AU12,AU25\n0s,0,linear,0.6,0.9,0.8\n"
                    "1s,1,linear,0.6,0.9,0.8\n2s,1,linear,0.2,0.3,0.1\n")
    engine = load_engine("warp", None, "cpu")  # (gan and hybrid: the same path, checked by hand)
    out = tmp_path / "render.mkv"
    config = AnimateConfig(lossless=True)
    animate_video(src, out, engine, TargetSpec(), config, Timeline(ramp=str(keys)))
    rendered = list(video.read_frames(out, video.probe(out)))
    info = video.probe(src)
    conditions = conditions_for(Timeline(ramp=str(keys)), TargetSpec(), tuple(engine.au_names),
                                info.frame_count, float(info.fps))
    plans = ClipPlans(src, engine, config, info)
    try:
        for index in (40, 3, 71, 20):
            edited = plans.edit(index, conditions)
            assert np.array_equal(edited.rgb, rendered[index]), index
            assert edited.job.crops and edited.job.mouths[0] is not None
    finally:
        plans.close()
