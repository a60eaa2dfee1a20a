"""How much the warp engine's expression edits depend on head pose, on synthetically posed photos.

For each held-out London person (examples/demo_model/holdout.txt) and each pose (posed.py: the
frontal neutral photo's face turned in 3-D), the posed neutral face is re-detected with mediapipe
and edited to ``happy`` and ``surprise`` by ``warp_face`` (as ``ganimate edit image`` does) under
several conditions, each in the same run:

- ``base``:   the code as it is (y_r read on the posed face; scale = 2-D IOD);
- ``yrF``:    y_r replaced by the same person's reading at pose 0 (what a pose-unbiased
              estimator would give: an oracle);
- ``zero``:   y_r = 0 (what video's NeutralBaseline makes of a clip that is neutral at rest);
- ``iod3``:   base y_r, ``eye_centre_distance`` (clamp, field extent, mouth thresholds) patched
              to the pose-invariant 3-D IOD (the eye centres' distance with mediapipe's z);
- ``yrF+iod3``: both.

plus ``ref``: the frontal photo edited by ``base`` and *then* posed (what a pose-invariant edit
looks like at that pose, to the same classifier).

Read out per row: the measured pose, y_r, the FER classifier's P(target) and top-1 on the input
and the edit (the input's Haar box for both), the 3-D size of the edit (the edited photo
re-detected and frontalised: lip-corner rise, lip gap, brow raise, in IOD of the canonical frame)
and the planned one (2-D shifts / 2-D IOD; the basis' 3-D displacement / canonical IOD), and the
mouth's decisions (gap_of / IOD in 2-D and the same gap in 3-D; whether find_opening paints).

    .venv/bin/python examples/pose/measure.py --people 12 --out /tmp/pose/rows.jsonl
    .venv/bin/python examples/pose/summarise.py /tmp/pose/rows.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from posed import measured_pose, pose_photo  # noqa: E402

import ganimate.engines.geometry as geo  # noqa: E402
from ganimate.engines import WarpEngine  # noqa: E402
from ganimate.engines.mouth import INNER_LIPS, find_opening, gap_of  # noqa: E402
from ganimate.evaluation.emotion import find_face, read_emotions  # noqa: E402
from ganimate.faces import (  # noqa: E402
    RIGID_3D,
    FaceMesh,
    canonical_face,
    largest_face,
    source_aus,
    to_model_frame,
    umeyama,
)
from ganimate.images import read_rgb  # noqa: E402
from ganimate.targets.spec import build_target, target_spec  # noqa: E402

ROOT = Path(__file__).parents[2]
POSES = [(-35, 0), (-25, 0), (-15, 0), (0, 0), (15, 0), (25, 0), (35, 0),
         (0, -35), (0, -25), (0, 25), (0, 35)]
EXPRESSIONS = ("happy", "surprise")
AUS_SHOWN = ("AU01", "AU02", "AU04", "AU05", "AU06", "AU12", "AU15", "AU25", "AU26", "AU45")
CANON = canonical_face()
_ORIG_EYE_DISTANCE = geo.eye_centre_distance


def canon_iod() -> float:
    c = CANON
    return float(np.linalg.norm(c[[33, 133]].mean(0) - c[[362, 263]].mean(0)))


C_IOD = canon_iod()


def iod_3d(landmarks: np.ndarray) -> float:
    """Pose-invariant IOD in pixels: the distance between the eye centres in 3-D (mediapipe's z
    is on the x/y scale: the canonical face's z spread matches it within 3%), the same as the
    frontalised mesh's 2-D IOD; equals ``eye_centre_distance`` on a frontal face."""
    lm = np.asarray(landmarks, np.float64)
    return float(np.linalg.norm(lm[[33, 133]].mean(0) - lm[[362, 263]].mean(0)))


def frontal(landmarks: np.ndarray) -> np.ndarray:
    """(468, 3) in the canonical frame (cm, y up), divided by the canonical IOD."""
    obs = to_model_frame(landmarks)
    s, r, t = umeyama(obs[RIGID_3D], CANON[RIGID_3D])
    return (obs @ (s * r).T + t) / C_IOD


def features3d(landmarks: np.ndarray) -> dict:
    p = frontal(landmarks)
    return {"corner_y": float(p[[61, 291], 1].mean()),
            "gap3": float(p[13, 1] - p[14, 1]),
            "brow_y": float(p[[107, 336, 70, 300], 1].mean()),
            "width": float(np.linalg.norm(p[61] - p[291]))}


def edit(rgb, landmarks, y_r, y_g, names, config, patch_iod: bool):
    geo.eye_centre_distance = iod_3d if patch_iod else _ORIG_EYE_DISTANCE
    try:
        out, plan = geo.warp_face(rgb, landmarks, y_r, y_g, names, config)
        scale = geo.eye_centre_distance(landmarks)
        opening = find_opening(landmarks, plan.shifts, plan.field, scale, config.mouth)
    finally:
        geo.eye_centre_distance = _ORIG_EYE_DISTANCE
    lips = np.asarray(landmarks, np.float64)[list(INNER_LIPS), :2]
    dest = lips + plan.shifts[list(INNER_LIPS)]
    return out, {
        "scale": scale,
        "part2": (gap_of(dest) - gap_of(lips)) / scale,
        "rise2": float(-plan.shifts[[61, 291], 1].mean() / scale),
        "painted": opening is not None,
    }


def planned3d(y_r, y_g, names, config) -> dict:
    basis = geo.au_basis(config.basis)
    d = geo.model_displacement(geo.model_delta(y_r, y_g, names, basis), basis) / C_IOD
    return {"rise3_plan": float(d[[61, 291], 1].mean()), "part3_plan": float(d[13, 1] - d[14, 1])}


def main() -> None:  # noqa: C901 (a measurement script: one loop over people and poses)
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=12)
    ap.add_argument("--out", default="/tmp/pose/rows.jsonl")
    ap.add_argument("--save", default="/tmp/pose/img", help="folder for a few posed edits")
    a = ap.parse_args()
    ids = [ln.strip() for ln in (ROOT / "examples/demo_model/holdout.txt").read_text().splitlines()
           if ln.strip() and not ln.startswith("#")]
    folder = ROOT / "tests/data/faces/london/neutral"
    ids = [i for i in ids if (folder / f"{i}.jpg").exists()][:a.people]
    engine = WarpEngine()
    names, space, config = engine.au_names, engine.au_space, engine.config
    specs = {e: target_spec(e, au_names=names) for e in EXPRESSIONS}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.save).mkdir(parents=True, exist_ok=True)
    out = open(a.out, "w")
    t0 = time.time()
    with FaceMesh() as mesh:
        for pid in ids:
            rgb0 = read_rgb(folder / f"{pid}.jpg")
            f0 = largest_face(mesh(rgb0))
            base_pose = measured_pose(f0.landmarks)
            yr_front = source_aus([f0], space)[0]
            # the pose-matched references: the frontal edit, then posed
            refs = {}
            for e in EXPRESSIONS:
                yg = build_target(yr_front, specs[e], names)
                e0, _ = geo.warp_face(rgb0, f0.landmarks, yr_front, yg, names, config)
                fe = mesh(e0)
                refs[e] = (e0, largest_face(fe).landmarks if fe else None)
            for pitch, yaw in POSES:
                img, _ = pose_photo(rgb0, f0.landmarks, pitch, yaw)
                faces = mesh(img)
                if not faces:
                    out.write(json.dumps({"id": pid, "pitch": pitch, "yaw": yaw,
                                          "detected": False}) + "\n")
                    continue
                face = largest_face(faces)
                lm = face.landmarks
                mp_, my_, mr_ = measured_pose(lm)
                y_r = source_aus([face], space)[0]
                box = find_face(img)
                f_in = features3d(lm)
                row0 = {"id": pid, "pitch": pitch, "yaw": yaw, "detected": True,
                        "m_pitch": mp_ - base_pose[0], "m_yaw": my_ - base_pose[1],
                        "m_roll": mr_ - base_pose[2],
                        "iod2": _ORIG_EYE_DISTANCE(lm), "iod3": iod_3d(lm),
                        "gap2_in": gap_of(np.asarray(lm, np.float64)[list(INNER_LIPS), :2])
                        / _ORIG_EYE_DISTANCE(lm),
                        "gap3_in": f_in["gap3"],
                        "y_r": {n: float(y_r[names.index(n)]) for n in AUS_SHOWN},
                        "y_r0": {n: float(yr_front[names.index(n)]) for n in AUS_SHOWN},
                        "haar": box is not None}
                for e in EXPRESSIONS:
                    images, metas = [img], []
                    conds = {"base": (y_r, False), "yrF": (yr_front, False),
                             "zero": (np.zeros_like(y_r), False), "iod3": (y_r, True),
                             "yrF+iod3": (yr_front, True)}
                    for cname, (yr, patch) in conds.items():
                        yg = build_target(yr, specs[e], names)
                        res, meta = edit(img, lm, yr, yg, names, config, patch)
                        meta.update(planned3d(yr, yg, names, config))
                        fe = mesh(res)
                        if fe:
                            f_out = features3d(largest_face(fe).landmarks)
                            meta.update({f"d_{k}": f_out[k] - f_in[k] for k in f_in})
                        images.append(res)
                        metas.append((cname, meta))
                        if cname == "base" and pid in ids[:2]:
                            import cv2
                            cv2.imwrite(f"{a.save}/{pid}_{e}_p{pitch}_y{yaw}.png",
                                        cv2.cvtColor(np.concatenate([img, res], 1),
                                                     cv2.COLOR_RGB2BGR))
                    e0, lme0 = refs[e]
                    if lme0 is not None:
                        ref, _ = pose_photo(e0, lme0, pitch, yaw)
                        fr = mesh(ref)
                        meta = {}
                        if fr:
                            f_out = features3d(largest_face(fr).landmarks)
                            meta.update({f"d_{k}": f_out[k] - f_in[k] for k in f_in})
                        images.append(ref)
                        metas.append(("ref", meta))
                    if box is not None:
                        reads = read_emotions(images, [box] * len(images))
                    else:
                        reads = [None] * len(images)
                    for (cname, meta), r in zip(metas, reads[1:], strict=True):
                        row = dict(row0, expr=e, cond=cname, **meta)
                        if r is not None:
                            row.update(p_in=reads[0].p(e), top_in=reads[0].top, p=r.p(e),
                                       top=r.top)
                        out.write(json.dumps(row) + "\n")
                out.flush()
            print(f"{pid} done {time.time() - t0:.0f}s", flush=True)
    out.close()


if __name__ == "__main__":
    main()
