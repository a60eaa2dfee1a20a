"""AU estimation on real faces (London neutral/smiling pairs), calibration, baselines, AU files."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from ganimate.errors import GanimateError
from ganimate.faces import (
    AU_NAMES,
    ESTIMATORS,
    AUCalibration,
    AUEstimator,
    CropAUReader,
    FaceMesh,
    NeutralBaseline,
    read_openface_csv,
    reorder,
)
from ganimate.faces.aus import estimate_aus
from ganimate.images import read_rgb

IDX = {n: i for i, n in enumerate(AU_NAMES)}


@pytest.fixture(scope="session")
def london_faces(media):
    """(neutral, smiling) Face lists of the 102 London people; the mesh runs once per session."""
    folder = media / "faces" / "london"
    ids = sorted(p.stem for p in (folder / "neutral").glob("*.jpg"))
    out = {}
    with FaceMesh() as mesh:
        for cond in ("neutral", "smiling"):
            faces = []
            for i in ids:
                found = mesh(read_rgb(folder / cond / f"{i}.jpg"))
                assert len(found) == 1, (cond, i)
                faces.append(found[0])
            out[cond] = faces
    return out["neutral"], out["smiling"]


@pytest.fixture(scope="session")
def london_aus(london_faces):
    est = AUEstimator()
    return est.many(london_faces[0]), est.many(london_faces[1])


def test_smile_raises_au12_and_au6_for_almost_everyone(london_aus):
    neutral, smiling = london_aus
    assert neutral.shape == (102, 17) and neutral.dtype == np.float32
    for au in ("AU12", "AU06"):
        acc = (smiling[:, IDX[au]] > neutral[:, IDX[au]]).mean()
        assert acc >= 0.95, (au, acc)


def test_smile_leaves_brows_nose_and_chin_alone(london_aus):
    neutral, smiling = london_aus
    for au in ("AU01", "AU02", "AU04", "AU09", "AU17", "AU20"):
        change = float((smiling[:, IDX[au]] - neutral[:, IDX[au]]).mean())
        assert abs(change) <= 0.15, (au, change)


def test_lips_part_and_blink_are_measured_geometrically(london_aus):
    neutral, smiling = london_aus
    au25 = IDX["AU25"]
    assert neutral[:, au25].mean() < 0.1  # closed lips read ~0
    assert (smiling[:, au25] > neutral[:, au25]).mean() >= 0.6  # many smiles show teeth
    assert neutral[:, IDX["AU45"]].max() < 0.3  # open eyes are not a blink


def test_every_estimator_gives_a_bounded_vector(london_faces):
    neutral, smiling = london_faces
    for method in ESTIMATORS:
        est = AUEstimator(method)
        n = est.many(neutral[:30])
        s = est.many(smiling[:30])
        assert n.shape == (30, 17) and np.all((n >= 0) & (n <= 1))
        assert (s[:, IDX["AU12"]] > n[:, IDX["AU12"]]).mean() >= 0.9, method
    with pytest.raises(GanimateError, match="unknown AU estimator"):
        AUEstimator("openface")


def test_eye_closing_reads_as_a_blink(london_faces):
    face = london_faces[0][0]
    lm = face.landmarks.copy()
    for upper, lower in ((159, 145), (158, 153), (160, 144), (386, 374), (385, 380), (387, 373)):
        lm[upper, :2] = lm[lower, :2] + (lm[upper, :2] - lm[lower, :2]) * 0.1
    est = AUEstimator()
    assert est(face)[IDX["AU45"]] < 0.2
    assert est(lm)[IDX["AU45"]] > 0.8


def test_aus_from_any_image_including_small_aligned_crops(media, london_aus):
    from ganimate.faces import align_face

    neutral, smiling = london_aus
    with FaceMesh() as mesh:
        for i, name in enumerate(["001", "002", "003"]):
            rgb = read_rgb(media / "faces/london/smiling" / f"{name}.jpg")
            whole = estimate_aus(rgb, mesh=mesh)
            assert len(whole) == 1
            assert np.allclose(whole[0].aus, smiling[i], atol=1e-5)
            crop = align_face(rgb, whole[0].face, 128).image
            from_crop = estimate_aus(crop, mesh=mesh)
            assert len(from_crop) == 1
            for au in ("AU06", "AU12"):
                assert abs(from_crop[0].aus[IDX[au]] - smiling[i][IDX[au]]) < 0.15


def test_crop_reader_reads_batches_and_marks_missing_faces(media):
    from ganimate.faces import align_face

    rgb = read_rgb(media / "faces/london/smiling/004.jpg")
    with FaceMesh() as mesh:
        crop = align_face(rgb, mesh(rgb)[0], 128).image
    reader = CropAUReader()
    out = reader.read(np.stack([crop, np.full_like(crop, 127)]))
    reader.close()
    assert out.shape == (2, 17)
    assert np.isfinite(out[0]).all() and out[0][IDX["AU12"]] > 0.2
    assert np.isnan(out[1]).all()
    assert set(reader.reliable) <= set(AU_NAMES) and "AU12" in reader.reliable


def test_calibration_maps_robust_percentiles_to_unit_range(london_aus):
    raw = np.concatenate(london_aus)
    cal = AUCalibration.fit(raw)
    y = cal.apply(raw)
    assert y.dtype == np.float32 and y.min() >= 0 and y.max() <= 1
    au12 = IDX["AU12"]
    assert np.percentile(y[:, au12], 99) > 0.95 and np.percentile(y[:, au12], 5) < 0.05
    # an AU that does not move in the data is not stretched into noise
    assert (cal.high - cal.low >= 0.5 - 1e-6).all()
    again = AUCalibration.from_dict(cal.to_dict())
    assert np.allclose(again.apply(raw), y, atol=1e-4)
    assert AUCalibration.from_meta({"au_calibration": cal.to_dict()}) is not None
    assert AUCalibration.from_meta({}) is None


def test_reorder_picks_au_values_by_name():
    y = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], np.float32)
    out = reorder(y, ("AU01", "AU12", "AU26"), ("AU26", "AU01"))
    assert out.dtype == np.float32 and np.array_equal(out, y[:, [2, 0]])
    assert np.array_equal(reorder(y[0], ("AU01", "AU12", "AU26"), ("AU12", "AU45"), fill=0.0),
                          np.array([0.2, 0.0], np.float32))
    with pytest.raises(GanimateError, match="no values for AU45 AU04"):
        reorder(y, ("AU01", "AU12", "AU26"), ("AU45", "AU12", "AU04"))
    with pytest.raises(ValueError):
        reorder(y, ("AU01", "AU12"), ("AU01",))


def test_calibration_follows_the_au_names_of_the_values():
    # a calibration of 3 AUs in its own order, applied to vectors in another order and set
    cal = AUCalibration(np.array([0.2, 0.0, 0.1], np.float32),
                        np.array([0.6, 0.5, 0.9], np.float32), ("AU26", "AU12", "AU01"))
    raw = np.array([[0.3, 0.25, 0.4, 0.7]], np.float32)  # AU01, AU12, AU26, AU45 (uncalibrated)
    y = cal.apply(raw, ("AU01", "AU12", "AU26", "AU45"))
    assert np.allclose(y, [[(0.3 - 0.1) / 0.8, 0.25 / 0.5, (0.4 - 0.2) / 0.4, 0.7]])
    assert np.allclose(cal.apply(raw[:, [2, 1, 0]]), y[:, [2, 1, 0]])  # its own order by default


def test_neutral_baseline_removes_a_resting_offset():
    rng = np.random.default_rng(0)
    rest = np.full(17, 0.2, np.float32)
    base = NeutralBaseline(warmup=10)
    out = []
    for t in range(60):
        y = rest + rng.uniform(0, 0.02, 17).astype(np.float32)
        if t >= 40:
            y[IDX["AU12"]] = 0.8  # the person smiles
        out.append(base(y))
    out = np.array(out)
    assert base.ready
    assert out[20:40].max() < 0.05  # resting face reads ~0 after the warm-up
    assert out[45:, IDX["AU12"]].min() > 0.7  # (0.8 - 0.2) / (1 - 0.2) = 0.75
    fitted = NeutralBaseline.fit(np.stack([rest] * 30))
    assert np.allclose(fitted.baseline, rest)


def test_neutral_baseline_fades_in_over_its_warm_up():
    base = NeutralBaseline(warmup=10)
    smile = np.full(17, 0.6, np.float32)
    assert np.allclose(base.apply(smile, fade_in=True), smile)  # nothing seen: nothing removed
    for _ in range(3):
        base.update(smile)
    # three frames of a smiling face must not yet turn the smile into the person's neutral
    assert np.allclose(base.apply(smile, fade_in=True), (0.6 - 0.18) / (1 - 0.18))
    assert np.allclose(base.apply(smile), 0.0)  # without the fade the smile reads neutral
    for _ in range(20):
        base.update(np.full(17, 0.1, np.float32))
    assert base.seen == 23
    assert np.allclose(base.apply(smile, fade_in=True), base.apply(smile))


def test_openface_csv_is_read_and_divided_by_five(media):
    path = media / "formats" / "openface" / "OpenFace_Test.csv"
    table = read_openface_csv(path)
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip() for h in rows[0]]
    n = len(rows) - 1  # 100 frames
    assert n >= 99 and table.aus.shape == (n, 17) and table.aus.dtype == np.float32
    for k in (0, 50, n - 1):
        for name in ("AU01", "AU12", "AU45"):
            expected = float(rows[k + 1][header.index(f"{name}_r")]) / 5
            assert table.aus[k, IDX[name]] == pytest.approx(expected, abs=1e-6)
    assert table.frames[0] == int(rows[1][header.index("frame")])
    assert table.success.dtype == bool


def test_openface_csv_errors_name_the_file(tmp_path):
    bad = tmp_path / "not_openface.csv"
    bad.write_text("frame, AU01_r\n1, 0.5\n")
    with pytest.raises(GanimateError, match="not_openface.csv.*AU02_r"):
        read_openface_csv(bad)
    with pytest.raises(GanimateError, match="no such"):
        read_openface_csv(tmp_path / "missing.csv")


def test_box_lstsq_is_the_bounded_least_squares_optimum():
    """The AU solve's active-set method against scipy's BVLS on random boxed problems, half of
    the variables pushed against a bound."""
    from scipy.optimize import lsq_linear

    from ganimate.faces.au_model import box_lstsq

    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(2, 24))
        r = np.triu(rng.normal(size=(n, n))) + 3 * np.eye(n)
        rhs = rng.normal(scale=3, size=n)
        lower, upper = np.where(rng.random(n) < 0.2, -0.35, 0.0), np.full(n, 1.0)
        want = lsq_linear(r, rhs, bounds=(lower, upper), method="bvls").x
        np.testing.assert_allclose(box_lstsq(r, rhs, lower, upper), want, atol=1e-9)

