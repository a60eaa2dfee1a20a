"""Dataset readers: the original GANimation sample, ganimate's format, the synthetic bar faces."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES
from ganimate.training import SYNTHETIC_AUS, make_synthetic_dataset, measure, open_dataset
from ganimate.training.dataset import decode_all, load_original_layout
from ganimate.training.synthetic import draw_face

# The first entry of the sample's aus_openface.pkl, on OpenFace's 0-5 scale.
N356 = [2.86, 2.27, 1.45, 1.1, 0.0, 0.65, 0.05, 0.0, 0.75, 1.65, 0.6, 0.0, 1.86, 0.0, 0.62, 0.25,
        0.0]


def test_original_sample_layout(research):
    root = research("formats/ganimation_sample")
    layout = load_original_layout(root)
    assert layout.ids == sorted(p.stem for p in (root / "imgs").iterdir())
    assert len(layout.ids) == 4 and layout.aus.shape == (4, 17) and layout.aus.dtype == np.float32
    np.testing.assert_allclose(layout.aus[layout.ids.index("N_0000000356_00190")],
                               np.array(N356) / 5, rtol=0, atol=1e-7)
    # every value is the pickle's divided by 5 (read here with the unrestricted pickle module)
    with open(root / "aus_openface.pkl", "rb") as f:
        raw = pickle.load(f, encoding="latin1")
    for i, ident in enumerate(layout.ids):
        np.testing.assert_allclose(layout.aus[i], raw[ident] / 5, atol=1e-7)
    assert layout.train_ids == ["N_0000000437_00540", "N_0000000356_00190"]
    assert layout.test_ids == ["N_0000001507_00202", "N_0000001939_00054"]

    train = open_dataset(root, "train")
    assert train.layout == "ganimation" and train.au_names == AU_NAMES and len(train) == 2
    assert train.read(0).shape == (128, 128, 3) and train.read(0, 64).shape == (64, 64, 3)
    assert len(open_dataset(root, "all")) == 4
    assert decode_all(open_dataset(root, "test"), 32).shape == (2, 32, 32, 3)


def test_restricted_unpickler_refuses_code(tmp_path, media):
    root = tmp_path / "evil"
    (root / "imgs").mkdir(parents=True)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (root / "aus_openface.pkl").write_bytes(pickle.dumps({"a": Evil()}, protocol=2))
    with pytest.raises(GanimateError, match="not a GANimation AU pickle"):
        load_original_layout(root)
    assert not marker.exists()


def test_ganimate_format_and_synthetic(tmp_path):
    root = make_synthetic_dataset(tmp_path / "syn", count=20, size=32, seed=3)
    train, test = open_dataset(root, "train"), open_dataset(root, "test")
    assert (len(train), len(test)) == (15, 5) and train.au_names == SYNTHETIC_AUS
    assert set(train.ids).isdisjoint(test.ids)
    assert train.layout == "ganimate" and train.aus.dtype == np.float32
    crops = decode_all(train, 32)
    # what was drawn is what the CSV says (4 decimals), as measured on the images
    assert np.abs(measure(crops) - train.aus).max() < 0.06
    fp = train.fingerprint()

    # columns are selected by name: reordering them changes nothing
    csv = root / "aus.csv"
    rows = [line.split(",") for line in csv.read_text().splitlines()]
    csv.write_text("\n".join(",".join([r[0], r[2], r[1]]) for r in rows) + "\n")
    again = open_dataset(root, "train")
    assert np.array_equal(again.aus, train.aus) and again.fingerprint() == fp

    rows[3][1] = "1.5"
    csv.write_text("\n".join(",".join(r) for r in rows) + "\n")
    with pytest.raises(GanimateError, match=r"\[0, 1\]"):
        open_dataset(root, "train")
    (root / "test.txt").unlink()
    with pytest.raises(GanimateError, match="test.txt"):
        open_dataset(root, "test")


def test_not_a_dataset(tmp_path):
    with pytest.raises(GanimateError, match="no such dataset"):
        open_dataset(tmp_path / "missing")
    with pytest.raises(GanimateError, match="not a dataset"):
        open_dataset(tmp_path)
    with pytest.raises(GanimateError, match="unknown split"):
        open_dataset(tmp_path, "val")


def test_synthetic_measurement_is_accurate_and_monotonic():
    rng = np.random.default_rng(0)
    values = np.linspace(0, 1, 11)
    brows = measure(np.stack([draw_face(32, (v, 0.5), rng) for v in values]))[:, 0]
    mouths = measure(np.stack([draw_face(32, (0.5, v), rng) for v in values]))[:, 1]
    assert np.all(np.diff(brows) > 0) and np.all(np.diff(mouths) > 0)
    assert np.abs(brows - values).max() < 0.06 and np.abs(mouths - values).max() < 0.06
