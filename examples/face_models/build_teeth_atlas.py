"""Build ``ganimate/assets/faces/teeth_atlas.npz``: a real person's upper teeth, photographed in a
smile, in the head's own frame, for the warp to draw instead of the scanned (rendered) ones.

The London set (``tests/data/faces/london``, CC BY 4.0) has each person neutral and smiling. For the
chosen person (``--person``, outside the evaluation's holdout) the smiling photo's mouth is read
in the canonical face's frame: MediaPipe's points give the head's pose (the canonical face's
similarity onto its rigid points, as ``engines.teeth`` places the scanned teeth), and the lip
seam *at rest* comes from the same person's neutral photo, so the teeth are stored where they sit
on the skull relative to the closed lips' seam: a frontal plane at the seam's depth, ``TEXEL`` cm
a texel, x right, y down from ``TOP`` cm above the seam. Only the upper teeth are kept: the texels
inside the smiling photo's inner lips down to the teeth's own lower edge (per column, the lowest
texel as light as the teeth), feathered; the lower teeth and the mouth's depth stay the scanned
render's, which follows the edit's jaw.

    python examples/face_models/build_teeth_atlas.py --show atlas.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from calibrate_scanned_scale import holdout as holdout_ids  # this folder: one reading of it

from ganimate.engines.mouth import INNER_LIPS
from ganimate.engines.teeth import ATLAS_TEXEL, ATLAS_TOP, ATLAS_WIDTH, seam_anchor, skull_pose
from ganimate.faces import FaceMesh
from ganimate.images import read_photo

ROOT = Path(__file__).resolve().parents[2]
LONDON = ROOT / "tests" / "data" / "faces" / "london"
OUT = ROOT / "ganimate" / "assets" / "faces" / "teeth_atlas.npz"
HEIGHT = 2.2  # cm of the window below TOP


def unwrap(rgb: np.ndarray, landmarks: np.ndarray, anchor: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """The smile's mouth in the atlas' window: RGB (float32 0-255) and inside-the-lips (0-1)."""
    _, s, rot, t = skull_pose(landmarks)
    xs = np.arange(-ATLAS_WIDTH / 2, ATLAS_WIDTH / 2, ATLAS_TEXEL)
    ys = ATLAS_TOP - np.arange(0, HEIGHT, ATLAS_TEXEL)
    gx, gy = np.meshgrid(xs, ys)
    canonical = np.stack([anchor[0] + gx, anchor[1] + gy, np.full_like(gx, anchor[2])], axis=-1)
    v = canonical @ (s * rot).T + t  # x, -y, -z (pixels)
    mx, my = v[..., 0].astype(np.float32), (-v[..., 1]).astype(np.float32)
    lips = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(landmarks[list(INNER_LIPS), :2]).astype(np.int32)], 255)
    colour = cv2.remap(rgb.astype(np.float32), mx, my, cv2.INTER_LINEAR)
    inside = cv2.remap(lips, mx, my, cv2.INTER_LINEAR).astype(np.float32) / 255
    return colour, inside


def upper_teeth(colour: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, float]:
    """Alpha of the upper teeth and how far below the seam their middle edge is (cm): inside the
    lips, each column down to the end of the first run of teeth-light texels (L* at least 0.8 of
    the teeth's median) from its top, the edge then median-filtered over 0.3 cm of columns (a
    lower tooth glimpsed under a gap is not an upper one), eroded a texel and feathered."""
    lab = cv2.cvtColor(np.clip(colour / 255, 0, 1).astype(np.float32), cv2.COLOR_RGB2LAB)
    light = lab[..., 0]
    inner = inside > 0.99
    teeth_l = np.median(light[inner & (light > np.percentile(light[inner], 50))])
    bright = inner & (light >= 0.8 * teeth_l)
    h, w = inside.shape
    bottom = np.full(w, -1)
    for x in range(w):
        rows = np.flatnonzero(bright[:, x])
        if len(rows):
            run = rows[: int(np.argmax(np.append(np.diff(rows) > 2, True))) + 1]
            bottom[x] = run[-1]
    width = int(round(0.3 / ATLAS_TEXEL)) | 1
    padded = np.pad(bottom, width // 2, mode="edge")
    bottom = np.array([np.median(padded[x:x + width]) for x in range(w)]).astype(int)
    alpha = np.zeros_like(inside)
    for x in range(w):
        if bottom[x] >= 0:
            alpha[:bottom[x] + 1, x] = inner[:bottom[x] + 1, x]
    alpha = cv2.GaussianBlur(cv2.erode(alpha, np.ones((3, 3), np.uint8)), (0, 0), 1.0)
    middle = np.abs(np.arange(w) * ATLAS_TEXEL - ATLAS_WIDTH / 2) < 0.6
    edge = float(np.median(bottom[middle & (bottom >= 0)])) * ATLAS_TEXEL - ATLAS_TOP
    return alpha, edge


def build(person: str, show: str | None = None) -> Path:
    holdout = holdout_ids()
    if person in holdout:
        raise SystemExit(f"{person} is in the holdout: the evaluation reads them")
    neutral, smiling = (read_photo(LONDON / kind / f"{person}.jpg").rgb
                        for kind in ("neutral", "smiling"))
    with FaceMesh() as mesh:
        rest, smile = mesh(neutral)[0].landmarks, mesh(smiling)[0].landmarks
    colour, inside = unwrap(smiling, smile, seam_anchor(rest))
    alpha, edge = upper_teeth(colour, inside)
    lab = cv2.cvtColor(np.clip(colour / 255, 0, 1).astype(np.float32), cv2.COLOR_RGB2LAB)
    np.savez_compressed(OUT, lab=lab.astype(np.float16), alpha=(alpha * 255).astype(np.uint8),
                        edge=np.float32(edge), person=np.array(person))
    if show:
        cv2.imwrite(show, cv2.cvtColor((colour * alpha[..., None]).astype(np.uint8),
                                       cv2.COLOR_RGB2BGR))
    return OUT


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--person", default="100", help="London set id (not in the holdout)")
    parser.add_argument("--show", help="also write a picture of the atlas")
    args = parser.parse_args()
    print(build(args.person, args.show))
