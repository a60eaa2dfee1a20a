"""Metrics on constructed inputs with known answers, and the protocol with injected fakes."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pytest

from ganimate import evaluation as ev
from ganimate.errors import GanimateError
from ganimate.evaluation import metrics, protocol, readers, video
from ganimate.evaluation.identity import identity_unavailable

needs_dlib = pytest.mark.skipif(identity_unavailable() is not None,
                                reason=f"[eval] extra missing: {identity_unavailable()}")

# --- pure metrics ---------------------------------------------------------------------------


def _image(seed: int, size: int = 32) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def test_image_l1_identical_is_zero_and_known_change_is_exact():
    a = _image(0)
    assert metrics.image_l1(a, a) == 0.0
    b = a.astype(np.int16)
    b[:, :, 0] = np.clip(b[:, :, 0] + 30, 0, 255)
    b = b.astype(np.uint8)
    expected = np.abs(b.astype(float) - a).mean()
    assert metrics.image_l1(a, b) == pytest.approx(expected)
    with pytest.raises(ValueError):
        metrics.image_l1(a, a[:-1])


def test_background_change_counts_only_outside_the_mask():
    a = np.full((20, 20, 3), 100, np.uint8)
    mask = np.zeros((20, 20), np.float32)
    mask[5:15, 5:15] = 1.0
    mask[4, 5:15] = 0.3  # a feathered border counts as inside
    b = a.copy()
    b[5:15, 5:15] = 0  # a big change inside: invisible to the metric
    assert metrics.background_change(a, b, mask) == 0.0
    # a known change outside: 12 levels on one channel of 10 of the 400 - 110 outside pixels
    b[0, :10, 1] = 112
    outside = 400 - 100 - 10
    assert metrics.background_change(a, b, mask) == pytest.approx(12 * 10 / (outside * 3))


def test_attention_stats_known_answers():
    att = np.array([0.0, 0.005, 0.5, 0.995, 1.0, 1.0, 0.3, 0.7])
    s = metrics.attention_stats(att)
    assert s.mean == pytest.approx(att.mean())
    assert s.near_one == pytest.approx(3 / 8)
    assert s.near_zero == pytest.approx(2 / 8)
    assert s.saturated == pytest.approx(5 / 8)
    assert metrics.attention_stats(np.full((2, 8, 8), 0.5)).saturated == 0.0


def test_au_mae_per_au_overall_reliable_subset_and_nan():
    names = ("AU01", "AU12", "AU26")
    t = np.array([[0.0, 0.5, 1.0], [1.0, 1.0, 0.0]])
    m = np.array([[0.1, 0.5, 0.0], [np.nan, 0.8, 0.0]])
    err = metrics.au_mae(t, m, names, reliable=("AU01", "AU12"))
    assert list(err.per_au) == ["AU01", "AU12"]  # AU26 is not reliable: not scored
    assert err.per_au["AU01"] == pytest.approx(0.1)  # the NaN (no face) is left out
    assert err.per_au["AU12"] == pytest.approx(0.1)
    assert err.overall == pytest.approx((0.1 + 0.0 + 0.2) / 3)
    assert err.count == 3
    assert metrics.au_mae(t, t, names).overall == 0.0
    only = metrics.au_mae(t, m, names, weights=np.array([[0, 1, 0], [0, 1, 0]]))
    assert only.overall == pytest.approx(0.1) and math.isnan(only.per_au["AU01"])


def test_direction_accuracy_judges_only_big_asks_and_uses_reader_change():
    names = ("AU01", "AU12")
    src = np.array([[0.1, 0.1], [0.1, 0.9], [0.5, 0.5]])
    tgt = np.array([[0.9, 0.2], [0.1, 0.2], [0.8, 0.5]])  # asks: +0.8, (none), (none), -0.7, +0.3
    m_in = np.array([[0.3, 0.2], [0.2, 0.7], [0.4, 0.4]])  # reader bias does not matter
    m_out = np.array([[0.35, 0.9], [0.2, 0.75], [0.4, 0.4]])
    acc = metrics.direction_accuracy(src, tgt, m_in, m_out, names, threshold=0.3)
    # AU01: +0.8 asked, moved +0.05 (right); +0.3 asked, moved 0 (wrong: no change)
    assert acc.per_au["AU01"] == pytest.approx(0.5)
    # AU12: -0.7 asked, moved +0.05 (wrong)
    assert acc.per_au["AU12"] == 0.0
    assert acc.count == 3 and acc.overall == pytest.approx(1 / 3)


def test_identity_stats_and_embedding_distance():
    s = metrics.identity_stats([0.0, 0.2, 0.7, float("nan")])
    assert s.count == 3
    assert s.mean == pytest.approx(0.3)
    assert s.share_under == pytest.approx(2 / 3)
    assert math.isnan(metrics.identity_stats([]).mean)


def test_flicker_meter_measures_synthetic_flicker():
    base = np.random.default_rng(3).integers(20, 230, (24, 24, 3), dtype=np.uint8)
    region = np.zeros((24, 24), bool)
    region[6:18, 6:18] = True
    meter = metrics.FlickerMeter()
    d = 7
    for t in range(10):
        out = base.astype(np.int16)
        out[region] += d if t % 2 else -d  # the output flickers by +-d inside the face
        meter.update(base, out.astype(np.uint8), region)
    stats = meter.result()
    assert stats.steps == 9
    assert stats.input_change == 0.0
    assert stats.output_change == pytest.approx(2 * d)
    assert stats.flicker == pytest.approx(2 * d)


def test_flicker_meter_subtracts_real_motion_and_breaks_on_missing_face():
    region = np.ones((8, 8), bool)
    meter = metrics.FlickerMeter()
    for t in range(6):
        frame = np.full((8, 8, 3), 10 * t, np.uint8)  # real, steady motion of 10 levels/frame
        meter.update(frame, frame, None if t == 3 else region)
    stats = meter.result()
    assert stats.steps == 3  # 0-1, 1-2, 4-5: frame 3 has no face and breaks the chain
    assert stats.input_change == pytest.approx(10) and stats.flicker == pytest.approx(0)
    with pytest.raises(GanimateError):
        meter.update(np.zeros((8, 8, 3), np.uint8), np.zeros((9, 8, 3), np.uint8), region)


def test_face_region_mask_is_a_centred_face_sized_ellipse():
    m = metrics.face_region_mask(64)
    assert m.shape == (64, 64) and m[35, 32] and not m[0, 0] and not m[63, 63]
    assert 0.35 < m.mean() < 0.6


def test_region_from_box():
    region, background = video.region_from_box((100, 200, 3), (50, 20, 90, 60), margin=0.25)
    assert region.sum() == 40 * 40
    assert not background[15, 45] and background[5, 5] and not (region & background).any()


# --- the protocol with fakes ----------------------------------------------------------------

NAMES = ("AU01", "AU12", "AU26")
SIZE = 32


class BlockReader:
    """Reads AU k as the mean level of an 8x8 block in the top-left corner row (k-th block)."""

    au_names = NAMES
    reliable = ("AU01", "AU12")  # AU26 is not trusted: it must not be scored

    def __init__(self, unreadable_below: int | None = None):
        self.unreadable_below = unreadable_below

    def read(self, crops):
        crops = np.asarray(crops)
        out = np.stack([crops[:, :8, 8 * k:8 * k + 8].mean(axis=(1, 2, 3)) / 255
                        for k in range(len(NAMES))], axis=1)
        if self.unreadable_below is not None:
            # a "face" too dark in its centre is not found
            out[crops[:, 16, 16, 0] < self.unreadable_below] = np.nan
        return out


@dataclass
class Edits:
    images: np.ndarray
    attention: np.ndarray
    colour: np.ndarray | None = None


def perfect_editor(crops, targets):
    """Writes each target into the reader's blocks and touches nothing else."""
    out = np.array(crops, copy=True)
    att = np.ones(out.shape[:3], np.float32)
    for k in range(targets.shape[1]):
        out[:, :8, 8 * k:8 * k + 8] = np.round(targets[:, k] * 255).astype(np.uint8)[:, None, None,
                                                                                   None]
        att[:, :8, 8 * k:8 * k + 8] = 0.0
    return Edits(out, att[:, None])  # (N, 1, H, W) as a network would give it


def lazy_editor(crops, targets):
    return Edits(np.array(crops, copy=True), np.ones((len(crops), SIZE, SIZE), np.float32))


class MeanColourEmbedder:
    def locate(self, rgb):
        return None

    def embed(self, rgb, box=None):
        return rgb.reshape(-1, 3).mean(axis=0) / 255


def _faces(n: int = 5) -> list[protocol.EvalFace]:
    rng = np.random.default_rng(1)
    faces = []
    for i in range(n):
        y = rng.uniform(0, 1, len(NAMES)).astype(np.float32)
        img = rng.integers(60, 200, (SIZE, SIZE, 3), dtype=np.uint8)
        faces.append(protocol.EvalFace(f"f{i}", perfect_editor(img[None], y[None]).images[0], y))
    return faces


def test_targets_are_seeded_and_follow_the_protocol():
    faces = _faces(4)
    cfg = ev.EvalConfig(random_targets=3, seed=5)
    jobs = protocol.make_targets(faces, NAMES, ["AU01", "AU12"], cfg)
    again = protocol.make_targets(faces, NAMES, ["AU01", "AU12"], cfg)
    other = protocol.make_targets(faces, NAMES, ["AU01", "AU12"],
                                     ev.EvalConfig(random_targets=3, seed=6))
    assert len(jobs) == 4 * (2 * 3 + 3 + 1)
    assert all(np.array_equal(a.target, b.target) for a, b in zip(jobs, again, strict=True))
    assert not all(np.array_equal(a.target, b.target) for a, b in zip(jobs, other, strict=True))
    labels = np.stack([f.aus for f in faces])
    for job in jobs:
        y = faces[job.face].aus
        assert job.target.min() >= 0 and job.target.max() <= 1
        if job.kind == "sweep":
            assert job.target[job.au] == cfg.sweep_levels[job.level]
            others = np.arange(len(NAMES)) != job.au
            assert np.array_equal(job.target[others], y[others])
        elif job.kind == "random":  # another face's label plus noise of at most 0.1
            dist = np.abs(labels - job.target).max(axis=1)
            assert dist.min() <= 0.1 + 1e-6
            assert np.argmin(dist) != job.face
        else:
            assert np.array_equal(job.target, y)


def test_protocol_with_a_perfect_editor():
    faces = _faces(5)
    cfg = ev.EvalConfig(random_targets=2, batch_size=7, sweep_faces=2)
    res = protocol.run_protocol(perfect_editor, NAMES, faces, BlockReader(), cfg,
                          embedder=MeanColourEmbedder())
    assert res.reliable == ["AU01", "AU12"]
    assert res.faces == 5 and res.edits == 5 * (2 * 3 + 2)
    assert res.au_error.overall < 1 / 255  # only 8-bit rounding is left
    assert set(res.au_error.per_au) == {"AU01", "AU12"}
    assert res.au_error_swept.overall < 1 / 255
    assert res.au_error_unedited.overall > 0.1  # the do-nothing baseline is far worse
    assert res.reader_vs_labels.overall < 1 / 255
    assert res.direction.overall == 1.0 and res.direction.count > 0
    assert res.reconstruction_l1 == 0.0 and res.cycle_l1 == 0.0
    assert res.background_change > 0  # the blocks lie outside the face ellipse
    assert 0 < res.attention.near_zero < 0.5 and res.attention.saturated == 1.0
    assert res.identity is not None and res.identity.count == res.edits
    assert res.identity_skipped is None and res.unreadable == 0.0
    assert res.sweep.outputs.shape == (2, 2, 3, SIZE, SIZE, 3)
    # the sweep images are the outputs: AU12 (row 1) at level 1.0 (column 2) of face 0
    assert res.sweep.outputs[0, 1, 2, :8, 8:16].mean() == 255
    report = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert report["direction"]["overall"] == 1.0 and "sweep" not in report


def test_protocol_with_an_editor_that_does_nothing():
    faces = _faces(4)
    res = protocol.run_protocol(lazy_editor, NAMES, faces, BlockReader(), ev.EvalConfig(),
                          embedder=MeanColourEmbedder())
    assert res.direction.overall == 0.0
    assert res.au_error.overall == pytest.approx(res.au_error_unedited.overall)
    assert res.reconstruction_l1 == 0.0 and res.background_change == 0.0
    assert res.attention.mean == 1.0 and res.attention.near_one == 1.0
    assert res.identity.mean == 0.0 and res.identity.share_under == 1.0


def test_protocol_skips_identity_with_a_reason_and_counts_unreadable_outputs():
    faces = _faces(3)

    def darkening_editor(crops, targets):
        out = perfect_editor(crops, targets)
        out.images[:, 12:20, 12:20] = 0  # the reader no longer finds a face
        return out

    res = protocol.run_protocol(darkening_editor, NAMES, faces, BlockReader(unreadable_below=30),
                          ev.EvalConfig(random_targets=1), identity_skipped="dlib missing")
    assert res.identity is None and res.identity_skipped == "dlib missing"
    assert res.unreadable == 1.0 and res.au_error.count == 0
    assert math.isnan(res.au_error.overall)
    assert json.loads(json.dumps(res.to_dict()))["au_error"]["overall"] is None


def test_protocol_subsamples_faces_and_rejects_bad_setups():
    faces = _faces(6)
    res = protocol.run_protocol(lazy_editor, NAMES, faces, BlockReader(),
                          ev.EvalConfig(max_faces=4, random_targets=0))
    assert res.faces == 4
    with pytest.raises(GanimateError, match="empty"):
        protocol.run_protocol(lazy_editor, NAMES, [], BlockReader())

    class Unreliable(BlockReader):
        reliable = ("AU45",)

    with pytest.raises(GanimateError, match="reliable"):
        protocol.run_protocol(lazy_editor, NAMES, faces, Unreliable())


def test_measure_video_pair_with_a_fake_locator():
    h, w = 40, 60
    region = np.zeros((h, w), bool)
    region[10:30, 20:40] = True
    background = np.ones((h, w), bool)
    background[5:35, 15:45] = False

    def frames():
        rng = np.random.default_rng(0)
        base = rng.integers(50, 200, (h, w, 3), dtype=np.uint8)
        for t in range(8):
            out = base.copy()
            out[region] = np.clip(base[region].astype(int) + (4 if t % 2 else 0), 0, 255)
            out[0, 0] = base[0, 0] + 1 if t == 0 else base[0, 0]  # one changed background pixel
            yield base, out

    res = video.measure_video_pair(frames(), lambda rgb: video.FoundFace(region, background),
                                   embedder=MeanColourEmbedder(), identity_every=3)
    assert res.frames == 8 and res.frames_with_face == 8
    assert res.flicker.flicker == pytest.approx(4) and res.flicker.input_change == 0
    assert res.face_change == pytest.approx(2)
    assert res.background_change == pytest.approx(3 / (background.sum() * 3) / 8)
    assert res.identity.count == 3  # frames 0, 3, 6
    json.dumps(res.to_dict(), allow_nan=False)


def test_direction_is_judged_against_the_reconstruction_not_the_input():
    """A generator that ignores its condition and outputs an average face gets no credit, even
    though moving every face toward the average 'agrees' with many asked changes."""
    faces = _faces(6)
    average = np.mean([f.image for f in faces], axis=0).round().astype(np.uint8)

    def averaging_editor(crops, targets):
        return Edits(np.repeat(average[None], len(crops), axis=0),
                     np.zeros((len(crops), SIZE, SIZE), np.float32))

    res = protocol.run_protocol(averaging_editor, NAMES, faces, BlockReader(), ev.EvalConfig())
    assert res.direction.count > 0 and res.direction.overall == 0.0
    assert res.attention.near_zero == 1.0 and res.reconstruction_l1 > 0


# --- identity: dlib's embedding on real photos (the [eval] extra) ----------------------------


@needs_dlib
def test_identity_distance_on_london_pairs(media):
    from ganimate.evaluation.identity import FaceEmbedder, embedding_distance
    from ganimate.images import read_rgb

    emb = FaceEmbedder()
    london = media / "faces" / "london"
    vec = {(p, k): emb.embed(read_rgb(london / k / f"{p}.jpg"))
           for p in ("001", "002", "003") for k in ("neutral", "smiling")}
    assert all(v.shape == (128,) for v in vec.values())
    for p in ("001", "002", "003"):  # one person, neutral vs smiling: ~0.14-0.26
        assert embedding_distance(vec[p, "neutral"], vec[p, "smiling"]) < 0.4
    for a, b in (("001", "002"), ("001", "003"), ("002", "003")):  # two people: ~0.67-0.90
        assert embedding_distance(vec[a, "neutral"], vec[b, "smiling"]) > 0.55
    photo = read_rgb(london / "neutral" / "001.jpg")
    assert emb.distance(photo, photo) == 0.0
    box = emb.locate(np.full((64, 64, 3), 128, np.uint8))  # no face: the aligned-crop box
    assert not box.detected and (box.left, box.top, box.right, box.bottom) == (8, 9, 53, 53)


def test_identity_reports_what_is_missing(monkeypatch):
    import ganimate.evaluation.identity as identity

    monkeypatch.setattr(identity, "models_dir", lambda: None)
    reason = identity.identity_unavailable()
    if reason is not None and "dlib is not installed" in reason:
        pass  # dlib itself is missing here: that reason comes first
    else:
        assert "face_recognition_models" in reason and "pip install" in reason
    with pytest.raises(GanimateError, match="identity metric unavailable"):
        identity.FaceEmbedder()
    embedder, why = readers.load_embedder(True)
    assert embedder is None and why == reason
    assert readers.load_embedder(False) == (None, "disabled (--no-identity)")
