"""Mouth patches of real open mouths for the painter (route (b) of the mouth interior).

    python examples/mouth_painter/prepare_mouths.py OUT.npz [--utkface DIR] [--london DIR]

Runs MediaPipe on every photo, keeps faces whose inner lips are at least ``--min-gap`` eye-corner
distances apart (open mouths), and stores the aligned mouth patch, the inner-lip mask and the
estimated lower-face AUs. London's held-out people (examples/demo_model/holdout.txt) are skipped.
UTKFace is non-commercial research data: the npz stays outside the project.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from ganimate.engines.painter import (
    PAINTER_AUS,
    PainterConfig,
    inner_lip_mask,
    mouth_patch_transform,
)
from ganimate.faces import AU_NAMES, FaceMesh, default_estimator, largest_face
from ganimate.images import read_rgb

HERE = Path(__file__).resolve().parents[2]


def photos(args) -> list[Path]:
    held = {x.strip() for x in (HERE / "examples/demo_model/holdout.txt").read_text().split()
            if x.strip() and not x.startswith("#")}
    out = sorted(Path(args.utkface).glob("*.jpg")) if args.utkface else []
    if args.london:
        for kind in ("smiling", "neutral"):
            folder = Path(args.london) / kind
            out += [p for p in sorted(folder.glob("*.jpg")) if p.stem not in held]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--utkface", default=None)
    ap.add_argument("--london", default=None)
    ap.add_argument("--min-gap", type=float, default=0.04)
    args = ap.parse_args()
    size = PainterConfig().size
    est = default_estimator()
    cols = [AU_NAMES.index(a) for a in PAINTER_AUS]
    images, masks, aus, names = [], [], [], []
    with FaceMesh(max_faces=1) as mesh:
        for n, path in enumerate(photos(args)):
            rgb = read_rgb(path)
            faces = mesh(rgb)
            if not faces:
                continue
            face = largest_face(faces)
            lm = face.landmarks
            gap = float(np.hypot(*(lm[14, :2] - lm[13, :2]))) / face.eye_corner_distance
            if gap < args.min_gap:
                continue
            t = mouth_patch_transform(lm, size)
            images.append(cv2.warpAffine(rgb, t, (size, size), flags=cv2.INTER_AREA,
                                         borderMode=cv2.BORDER_REFLECT))
            masks.append(inner_lip_mask(lm, t, size))
            aus.append(est(face)[cols])
            names.append(str(path.name))
            if n % 500 == 0:
                print(n, len(images), flush=True)
    np.savez_compressed(args.out, images=np.stack(images), masks=np.stack(masks),
                        aus=np.stack(aus).astype(np.float32), names=np.array(names),
                        au_names=np.array(PAINTER_AUS))
    print("kept", len(images))


if __name__ == "__main__":
    main()
