"""One AU scale for reading and for editing: calibrate the AU estimator to the scanned basis.

The warp renders ``y_g - y_r`` with ICT's scanned shapes (an AU at 1.0 = the scan), while a face's
own AUs ``y_r`` come from the estimator, which inverts another model (py-feat's fitted one). This
script measures, on London faces that are *not* in the held-out list, how far the estimator's raw
reading of each AU moves when the warp applies that AU at 1.0 to a neutral face, and its resting
level on neutral faces; it writes ``ganimate/assets/faces/scanned_au_scale.json``, an
``AUCalibration`` ``(raw - low) / (high - low)`` that the warp engine applies to ``y_r``:

    low  = the 90th percentile of the raw readings on the neutral faces (a face reads as at
           rest anywhere within the resting spread, so a neutral face's noise does not eat into
           an edit),
    high = low + median response to the scanned AU at 1.0, where that response is at least
           ``MIN_RESPONSE``; low + 1 (the raw scale, only the resting level removed) for AUs the
           estimator barely sees, which scaling would only turn into amplified noise.

    python examples/face_models/calibrate_scanned_scale.py [--every 2]

Then it checks the round trip on the held-out people: edit a neutral face to each preset, read it
back through the estimator and the calibration, and print the mean |read - y_g| per AU.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ganimate.engines.geometry import warp_face  # noqa: E402
from ganimate.engines.warp_config import WarpConfig  # noqa: E402
from ganimate.faces import AU_NAMES, AUCalibration, FaceMesh, default_estimator, largest_face  # noqa: E402  # noqa: E402
from ganimate.images import read_rgb  # noqa: E402

OUT = ROOT / "ganimate" / "assets" / "faces" / "scanned_au_scale.json"
LONDON = ROOT / "tests" / "data" / "faces" / "london" / "neutral"
MIN_RESPONSE = 0.2
REST_PERCENTILE = 90


def holdout() -> set[str]:
    lines = (ROOT / "examples" / "demo_model" / "holdout.txt").read_text().splitlines()
    return {s.strip() for s in lines if s.strip() and not s.startswith("#")}


def raw_aus(mesh, est, rgb):
    faces = mesh(rgb)
    return None if not faces else est(largest_face(faces))


def measure(every: int) -> tuple[np.ndarray, np.ndarray]:
    """(resting readings (F, K), responses (F, K)) on the non-held-out neutral faces."""
    est, skip = default_estimator("mesh"), holdout()
    photos = [p for p in sorted(LONDON.glob("*.jpg")) if p.stem not in skip][::every]
    rest, response = [], []
    with FaceMesh() as mesh:
        for path in photos:
            rgb = read_rgb(path)
            faces = mesh(rgb)
            if not faces:
                continue
            face = largest_face(faces)
            y0 = est(face)
            row = np.zeros(len(AU_NAMES))
            for k in range(len(AU_NAMES)):
                y_g = np.zeros(len(AU_NAMES), np.float32)
                y_g[k] = 1.0
                out, _ = warp_face(rgb, face.landmarks, np.zeros_like(y_g), y_g, AU_NAMES,
                                   WarpConfig())
                y1 = raw_aus(mesh, est, out)
                row[k] = np.nan if y1 is None else y1[k] - y0[k]
            rest.append(y0)
            response.append(row)
            print(f"{path.stem}: {np.round(row, 2).tolist()}", flush=True)
    return np.array(rest), np.array(response)


def round_trip(cal: AUCalibration) -> dict[str, float]:
    """Mean |calibrated reading - y_g| per AU over presets edited onto held-out neutral faces."""
    from ganimate.targets.presets import PRESETS

    est, errors = default_estimator("mesh"), []
    with FaceMesh() as mesh:
        for stem in sorted(holdout())[::2]:
            rgb = read_rgb(LONDON / f"{stem}.jpg")
            face = largest_face(mesh(rgb))
            y_r = cal.apply(est(face)[None], AU_NAMES)[0]
            for name in ("happy", "sad", "surprise", "fear", "anger", "disgust"):
                y_g = PRESETS[name].vector()
                out, _ = warp_face(rgb, face.landmarks, y_r, y_g, AU_NAMES, WarpConfig())
                read = raw_aus(mesh, est, out)
                if read is not None:
                    errors.append(np.abs(cal.apply(read[None], AU_NAMES)[0] - y_g))
    return dict(zip(AU_NAMES, np.round(np.mean(errors, axis=0), 3).tolist(), strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--every", type=int, default=2, help="use every n-th non-held-out face")
    args = ap.parse_args()
    rest, response = measure(args.every)
    low = np.percentile(rest, REST_PERCENTILE, axis=0)
    gain = np.nanmedian(response, axis=0)
    span = np.where(gain >= MIN_RESPONSE, gain, 1.0)
    cal = AUCalibration(low.astype(np.float32), (low + span).astype(np.float32), AU_NAMES)
    data = cal.to_dict() | {"method": "scanned-basis response", "faces": int(len(rest)),
                            "response": np.round(gain, 4).tolist()}
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT} ({len(rest)} faces)\nresponse to each AU at 1.0: "
          f"{dict(zip(AU_NAMES, np.round(gain, 3).tolist(), strict=True))}")
    print(f"round trip |read - y_g| on held-out people: {round_trip(cal)}")


if __name__ == "__main__":
    main()
