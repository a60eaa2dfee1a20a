"""Build ``ganimate/assets/faces/ict_au_basis.npz``: ICT-FaceKit's scanned FACS expression shapes
carried onto MediaPipe's 468 face-mesh points, one displacement (468, 3) per AU; and
``ict_mouth.npz``: its teeth, gums and tongue in the same frame, for the mouth interior.

    python examples/face_models/build_ict_basis.py \
        ../shared/data/face_models/ict_facekit/ict_face_light.npz

The mapping (docs/engines.md, "Scanned FACS geometry"):

1. Correspondence: the ICT mesh's 68 landmark vertices (Multi-PIE order) and the 68 MediaPipe
   points that lie closest to dlib's 68 landmarks on 34 London faces (``MP68``: measured once,
   the inner-lip points set by hand because closed lips make that measure ambiguous).
2. A similarity (scale, rotation, translation) on the 51 inner landmarks takes the ICT head into
   MediaPipe's canonical frame (cm, x right, y up, z toward the camera), then a 3-D thin-plate
   spline through all 68 pairs bends the ICT face onto the canonical face.
3. Each canonical point takes the inverse-distance mean of the deltas of its 4 nearest ICT face
   vertices (rotated and scaled by the similarity). Points of the lips only look on their own side
   of the lip seam (upper-lip points at ICT vertices that a jaw drop leaves in place, lower-lip
   points at those it carries down), so a jaw drop opens the mouth instead of smearing the seam.
4. AUs are sums of ICT shapes (``AU_SHAPES``): an AU at 1.0 is the scanned shape (FACS "E").

5. The mouth interior (``ict_mouth.npz``): the teeth and the gums/tongue meshes taken into the
   canonical frame by the same similarity and spline, with their ``jawOpen`` displacement (the
   lower teeth and tongue follow the jaw), the quads facing the camera and each part's name.

The tables are small and ship with ICT's MIT licence and credits.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from ganimate.faces import (  # noqa: E402
    apply_similarity,
    canonical_face,  # noqa: E402
    umeyama,
)

OUT = ROOT / "ganimate" / "assets" / "faces" / "ict_au_basis.npz"
MOUTH_OUT = ROOT / "ganimate" / "assets" / "faces" / "ict_mouth.npz"
MOUTH_PARTS = ("gums_tongue", "teeth")  # drawn in this order (teeth in front)

# MediaPipe point nearest to each of dlib's 68 landmarks (mean over 34 London neutral faces;
# residuals 0.014-0.11 IOD, largest on the jaw line); inner lips (60-67) set by hand.
MP68 = np.array([
    127, 234, 93, 215, 172, 136, 149, 176, 152, 400, 378, 365, 397, 435, 323, 454, 356,  # jaw
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,  # brows
    168, 197, 195, 4, 75, 97, 2, 326, 305,  # nose
    33, 160, 158, 155, 153, 144, 382, 385, 387, 249, 373, 380,  # eyes
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,  # outer lips
    78, 82, 13, 312, 308, 317, 14, 87,  # inner lips
])

# MediaPipe's lip points, by side of the seam.
UPPER_LIP = np.array([185, 40, 39, 37, 0, 267, 269, 270, 409, 191, 80, 81, 82, 13, 312, 311, 310,
                      415, 184, 74, 73, 72, 11, 302, 303, 304, 408, 183, 42, 41, 38, 12, 268, 271,
                      272, 407])
LOWER_LIP = np.array([146, 91, 181, 84, 17, 314, 405, 321, 375, 95, 88, 178, 87, 14, 317, 402, 318,
                      324, 77, 90, 180, 85, 16, 315, 404, 320, 307, 96, 89, 179, 86, 15, 316, 403,
                      319, 325])

# AU -> ICT shapes and weights. AU25 has no scan: lips part by the lower lip's depressor and a
# little jaw. AU26 (jaw drop) is half of ``jawOpen``, AU27 (mouth stretch) all of it. AU10 is
# ``mouthUpperUp`` (the ICT README's ``mouthShrugUpper`` pushes the upper lip forward instead).
AU_SHAPES: dict[str, dict[str, float]] = {
    "AU01": {"browInnerUp_L": 1, "browInnerUp_R": 1},
    "AU02": {"browOuterUp_L": 1, "browOuterUp_R": 1},
    "AU04": {"browDown_L": 1, "browDown_R": 1},
    "AU05": {"eyeWide_L": 1, "eyeWide_R": 1},
    "AU06": {"cheekSquint_L": 1, "cheekSquint_R": 1},
    "AU07": {"eyeSquint_L": 1, "eyeSquint_R": 1},
    "AU09": {"noseSneer_L": 1, "noseSneer_R": 1},
    "AU10": {"mouthUpperUp_L": 1, "mouthUpperUp_R": 1},
    "AU12": {"mouthSmile_L": 1, "mouthSmile_R": 1},
    "AU14": {"mouthDimple_L": 1, "mouthDimple_R": 1},
    "AU15": {"mouthFrown_L": 1, "mouthFrown_R": 1},
    "AU16": {"mouthLowerDown_L": 1, "mouthLowerDown_R": 1},
    "AU17": {"mouthShrugLower": 1},
    "AU18": {"mouthPucker": 1},
    "AU20": {"mouthStretch_L": 1, "mouthStretch_R": 1},
    "AU22": {"mouthFunnel": 1},
    "AU23": {"mouthPress_L": 0.5, "mouthPress_R": 0.5, "mouthPucker": 0.3},
    "AU24": {"mouthPress_L": 1, "mouthPress_R": 1},
    "AU25": {"mouthLowerDown_L": 0.6, "mouthLowerDown_R": 0.6, "jawOpen": 0.12},
    "AU26": {"jawOpen": 0.5},
    "AU27": {"jawOpen": 1},
    "AU45": {"eyeBlink_L": 1, "eyeBlink_R": 1},
}


class _Spline3D:
    """Thin-plate spline (kernel r) from 3-D points to 3-D displacements."""

    def __init__(self, centres: np.ndarray, values: np.ndarray):
        n = len(centres)
        k = np.linalg.norm(centres[:, None] - centres[None], axis=2)
        p = np.hstack([np.ones((n, 1)), centres])
        a = np.block([[k, p], [p.T, np.zeros((4, 4))]])
        rhs = np.vstack([values, np.zeros((4, 3))])
        self.centres, self.coef = centres, np.linalg.solve(a, rhs)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        k = np.linalg.norm(points[:, None] - self.centres[None], axis=2)
        p = np.hstack([np.ones((len(points), 1)), points])
        return np.hstack([k, p]) @ self.coef


def _ict_on_canonical(ict: dict, canon: np.ndarray):
    """(ICT vertices (all groups) bent onto the canonical face, the similarity used)."""
    marks = ict["neutral"][ict["landmarks68"]].astype(np.float64)
    srt = umeyama(marks[17:], canon[MP68[17:]])
    moved = apply_similarity(srt, marks)
    spline = _Spline3D(moved, canon[MP68] - moved)
    placed = apply_similarity(srt, ict["neutral"].astype(np.float64))
    return placed + spline(placed), srt


def _group(ict: dict, name: str) -> tuple[int, int]:
    lo, hi = ict["group_ranges"][list(ict["group_names"]).index(name)]
    return int(lo), int(hi)


def _lower_side(ict: dict, face_range: tuple[int, int]) -> np.ndarray:
    """ICT face vertices that a jaw drop carries down (more than half the chin's drop)."""
    lo, hi = face_range
    jaw = ict["expression_deltas"][list(ict["expression_names"]).index("jawOpen")]
    dy = jaw[lo:hi + 1, 1].astype(np.float64)
    chin = dy[ict["landmarks68"][8] - lo]
    return dy < 0.5 * chin


def build(npz: str) -> dict[str, np.ndarray]:
    ict = dict(np.load(npz))
    canon = canonical_face().astype(np.float64)
    placed, srt = _ict_on_canonical(ict, canon)
    face_range = _group(ict, "face")
    verts = placed[face_range[0]:face_range[1] + 1]
    lower = _lower_side(ict, face_range)
    side = np.zeros(len(canon), np.int8)  # 0: anywhere, 1: upper lip, 2: lower lip
    side[UPPER_LIP], side[LOWER_LIP] = 1, 2
    neighbours = np.zeros((len(canon), 4), np.int64)
    weights = np.zeros((len(canon), 4))
    for i, p in enumerate(canon):
        allowed = np.ones(len(verts), bool) if side[i] == 0 else (lower == (side[i] == 2))
        cand = np.flatnonzero(allowed)
        d = np.linalg.norm(verts[cand] - p, axis=1)
        near = np.argsort(d)[:4]
        w = 1.0 / np.maximum(d[near], 1e-3) ** 2
        neighbours[i], weights[i] = cand[near], w / w.sum()
    names = list(ict["expression_names"])
    lo = face_range[0]
    scale, rot = srt[0], srt[1]
    basis = np.zeros((len(canon), len(AU_SHAPES), 3))
    for j, shapes in enumerate(AU_SHAPES.values()):
        delta = sum(w * ict["expression_deltas"][names.index(s)].astype(np.float64)
                    for s, w in shapes.items())
        moved = delta[lo + neighbours]  # (468, 4, 3)
        basis[:, j] = np.einsum("nk,nkc->nc", weights, moved) @ (scale * rot).T
    jaw = np.array([v.get("jawOpen", 0.0) for v in AU_SHAPES.values()], np.float32)
    return {"au_names": np.array(list(AU_SHAPES)), "basis": basis.astype(np.float32),
            "jaw_open": jaw,
            "shapes": np.array([" + ".join(f"{w:g} {s}" for s, w in v.items())
                                for v in AU_SHAPES.values()])}


def build_mouth(npz: str) -> dict[str, np.ndarray]:
    """Teeth and gums/tongue: vertices (canonical frame, cm), jawOpen deltas, camera-facing quads
    (vertex indices into the returned arrays) and the part of each quad (index in MOUTH_PARTS)."""
    ict = dict(np.load(npz))
    placed, srt = _ict_on_canonical(ict, canonical_face().astype(np.float64))
    jaw = ict["expression_deltas"][list(ict["expression_names"]).index("jawOpen")]
    verts, deltas, quads, parts, offset = [], [], [], [], 0
    for k, name in enumerate(MOUTH_PARTS):
        lo, hi = _group(ict, name)
        polys = ict["polygons"]
        mine = polys[(polys[:, 0] >= lo) & (polys[:, 0] <= hi)]
        mine = np.where(mine < 0, mine[:, :1], mine)  # a triangle repeats its first vertex
        v = placed[lo:hi + 1]
        a, b, c = (v[mine[:, i] - lo] for i in range(3))
        facing = np.cross(b - a, c - a)[:, 2] > 0  # toward the camera (+z)
        verts.append(v)
        deltas.append(jaw[lo:hi + 1].astype(np.float64) @ (srt[0] * srt[1]).T)
        quads.append(mine[facing] - lo + offset)
        parts.append(np.full(int(facing.sum()), k, np.int8))
        offset += hi - lo + 1
    return {"vertices": np.concatenate(verts).astype(np.float32),
            "jaw_open": np.concatenate(deltas).astype(np.float32),
            "quads": np.concatenate(quads).astype(np.int32), "parts": np.concatenate(parts),
            "part_names": np.array(MOUTH_PARTS)}


def main() -> None:
    table = build(sys.argv[1])
    np.savez_compressed(OUT, **table)
    print(f"wrote {OUT}: {table['basis'].shape}")
    mouth = build_mouth(sys.argv[1])
    np.savez_compressed(MOUTH_OUT, **mouth)
    print(f"wrote {MOUTH_OUT}: {len(mouth['vertices'])} vertices, {len(mouth['quads'])} quads")


if __name__ == "__main__":
    main()
