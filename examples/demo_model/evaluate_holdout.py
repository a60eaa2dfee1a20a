"""Acceptance check of a demo model on the held-out London identities (issue 7, criterion 2).

    .venv/bin/python examples/demo_model/evaluate_holdout.py [--checkpoint CKPT] [--out FILE.json]

For every neutral photo of the people in holdout.txt (never trained on), ask for a smile
(``--au AU06=0.8 --au AU12=0.9``, on the model's label scale, as `ganimate edit image` does) and
estimate AU12 with ganimate's default estimator on the photo before and after the edit (raw scale,
largest face). The model passes when AU12 rises on at least 90% of the people.

A control runs the same pipeline with the target equal to the face's own AUs (crop -> G ->
paste-back, nothing asked): how often AU12 "rises" from the round trip alone. A model whose smile
rate is not well above the control's has learned nothing about smiles. For scale, the same
estimator reads the same people's real smiling photos (pairs in tests/data, shipped).

Without ``--checkpoint`` the shipped model is used (``ganimate.model.bundled``). Runs on the CPU
machine (mediapipe); ~1 s a photo.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
THRESHOLD = 0.9  # share of people whose AU12 must rise
SMILE = ("AU06=0.8", "AU12=0.9")


def holdout_ids() -> list[str]:
    lines = (HERE / "holdout.txt").read_text().splitlines()
    return [s.strip() for s in lines if s.strip() and not s.startswith("#")]


def largest_au12(rgb: np.ndarray) -> float:
    from ganimate.faces import AU_NAMES
    from ganimate.faces.aus import estimate_aus

    rows = estimate_aus(rgb)
    if not rows:
        return float("nan")
    row = max(rows, key=lambda r: r.face.box.width * r.face.box.height)
    return float(row.aus[AU_NAMES.index("AU12")])


def evaluate(checkpoint: str | None, shared: Path, device: str = "cpu") -> dict:
    from ganimate.editing import EditConfig, edit_photo
    from ganimate.faces import FaceMesh
    from ganimate.images import read_rgb
    from ganimate.model import bundled, load_generator
    from ganimate.targets import TargetSpec, target_spec

    path = bundled.resolve_checkpoint(checkpoint) if checkpoint else bundled.bundled_model()
    if path is None:
        raise SystemExit("error: no --checkpoint and no shipped model")
    loaded = load_generator(path, device=device)
    smile = EditConfig(spec=target_spec(au=SMILE, au_names=loaded.au_names))
    control = EditConfig(spec=TargetSpec())  # y_g = y_r: the round trip alone
    rows = []
    with FaceMesh() as mesh:
        for pid in holdout_ids():
            neutral = shared / "faces" / "london" / "neutral" / f"{pid}.jpg"
            smiling = shared / "faces" / "london" / "smiling" / f"{pid}.jpg"
            before = largest_au12(read_rgb(neutral))
            edited = edit_photo(neutral, smile, loaded, mesh=mesh)
            same = edit_photo(neutral, control, loaded, mesh=mesh)
            rows.append({
                "id": pid,
                "au12_neutral": before,
                "au12_smile_edit": largest_au12(edited.rgb),
                "au12_control_edit": largest_au12(same.rgb),
                "au12_real_smile": largest_au12(read_rgb(smiling)),
            })

    def share(key: str) -> float:
        return float(np.mean([r[key] > r["au12_neutral"] for r in rows]))

    def mean_change(key: str) -> float:
        return float(np.nanmean([r[key] - r["au12_neutral"] for r in rows]))

    rate = share("au12_smile_edit")
    return {
        "model": str(path),
        "model_name": loaded.metadata.get("name", Path(path).stem),
        "standin": bool(loaded.metadata.get("standin", False)),
        "people": len(rows),
        "target": list(SMILE),
        "au12_raised_share": rate,
        "au12_mean_change": mean_change("au12_smile_edit"),
        "control_raised_share": share("au12_control_edit"),
        "control_mean_change": mean_change("au12_control_edit"),
        "real_smile_raised_share": share("au12_real_smile"),
        "real_smile_mean_change": mean_change("au12_real_smile"),
        "threshold": THRESHOLD,
        "passed": rate >= THRESHOLD,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", "-c", default=None, help="model [the shipped one]")
    ap.add_argument("--out", "-o", default=None, help="write the full result (JSON) here")
    ap.add_argument("--shared", default=str(ROOT / "tests" / "data"),
                    help="folder holding faces/london/{neutral,smiling} [tests/data]")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    result = evaluate(args.checkpoint, Path(args.shared), args.device)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"{result['model_name']} on {result['people']} held-out London people, asking "
          f"{' '.join(SMILE)}:")
    print(f"  AU12 raised on {result['au12_raised_share']:.0%} "
          f"(mean change {result['au12_mean_change']:+.3f} raw)")
    print(f"  control (target = own AUs): {result['control_raised_share']:.0%} "
          f"({result['control_mean_change']:+.3f})")
    print(f"  their real smiling photos: {result['real_smile_raised_share']:.0%} "
          f"({result['real_smile_mean_change']:+.3f})")
    print(f"  acceptance (>= {THRESHOLD:.0%}): {'PASS' if result['passed'] else 'FAIL'}")
    return 0 if result["passed"] else 2


if __name__ == "__main__":
    sys.exit(main())
