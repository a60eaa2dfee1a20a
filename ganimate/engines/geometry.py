"""The warp engine's geometry: AU change -> mesh displacement -> dense smooth field -> warped frame.

Pure functions on arrays; no model to train, no GPU, full resolution:

1. :func:`mesh_displacement`: the AU change ``y_g - y_r`` through a linear AU -> mesh basis, in
   the basis' own frame: by default the *scanned* one (:class:`ScannedBasis`: ICT-FaceKit's
   light-stage FACS shapes carried onto the 468 mesh points, an AU at 1.0 = the scanned shape;
   ``examples/face_models/build_ict_basis.py``), or the *fitted* one that the AU estimator inverts
   (:class:`ganimate.faces.AUMeshModel`, py-feat's ``au_to_mesh_pls_v4``); re-aligned on the rigid
   points so that the head does not move; rotated and scaled into the face's pose in the frame;
   each point's shift softly limited on its own (:attr:`WarpConfig.max_shift`), so a large jaw
   drop neither becomes a caricature nor shrinks the brows. The basis is linear, so
   ``y_g == y_r`` gives exactly zero.
2. :func:`displacement_field`: a thin-plate spline through the landmark shifts, written as a
   *backward* map (destination pixel -> where to read it in the input) so no inversion is needed,
   evaluated on a coarse grid over the face's region and upsampled, and multiplied by a taper that
   is 1 over the face and falls smoothly to exactly 0 a margin outside it.
3. :func:`warp_region`: samples the frame through the field (Lanczos, which keeps the detail that
   bilinear sampling loses) inside the field's box only, and copies every pixel that does not move
   by at least 1/64 px, so the frame stays bit-identical outside the face and where nothing moves.

4. :mod:`ganimate.engines.mouth_paint`: where the warp parts the
   lips, the opening is painted as a cavity in the lips' own hue (a warp alone would stretch the
   lip seam across it) with ICT-FaceKit's scanned teeth, gums and tongue drawn in it, lit and
   coloured from the face; teeth the photo already shows move rigidly (upper with the lip, lower
   with the jaw).
5. Folds (:attr:`WarpConfig.folds`): skin the field compresses darkens, skin it stretches
   lightens a little, as shading.
6. Blinks (:mod:`ganimate.engines.lids`, :attr:`WarpConfig.lids`): where AU45 rises the upper
   lid comes down over the eye as a lid, its skin with it, through each eye's own field.

What it cannot do (docs/engines.md, "What it cannot do"): draw sharp creases (a nasolabial
crease, crow's feet: folds are shading only) or texture a face does not have, and it shows
stretched pixels when pushed far past a real expression; a learned model (``--engine gan`` /
``hybrid``) can paint texture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ganimate.engines.closing import close_cavity, forced_seal, lay_lips, lips_of
from ganimate.engines.far_side import far_side_weight
from ganimate.engines.lids import BLINK, LidField, blink_fraction, close_lids
from ganimate.engines.masks import smoothstep
from ganimate.engines.mouth import MouthMemory
from ganimate.engines.mouth_paint import MouthEdit, paint_mouth, plan_mouth
from ganimate.engines.skin import smile_shade, smile_weight
from ganimate.engines.spline import ThinPlateSpline
from ganimate.engines.touch import still_near_mouth
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import (
    RIGID_3D,
    AUMeshModel,
    apply_similarity,
    canonical_face,
    eye_centre_distance,
    mesh_model,
    to_model_frame,
    umeyama,
)
from ganimate.timing import stage

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn), scipy (for the rare solves that need it).

# Our AU names whose nearest input of the AU -> mesh model has another name.
_MODEL_NAME = {"AU45": "AU43"}  # blink: the model has "eyes closed"
# AUs whose fitted column moves the face the wrong way, driven through another AU's column at a
# weight instead. The model's AU25 (lips part) *closes* the lips: -0.025 IOD of gap between the
# inner lips at AU25 = 1 on a held-out London face (its AU26, jaw drop: +0.125), so the lips part
# with half a jaw drop (+0.06 IOD of gap) instead.
_MODEL_AS = {"AU25": ("AU26", 0.5)}
_MESH_POINTS = 468  # the model has no iris points


class ScannedBasis:
    """ICT-FaceKit's scanned FACS shapes on MediaPipe's 468 points (``ict_au_basis.npz``), in
    the canonical face's frame (cm, x right, y up, z toward the camera), as an AUMeshModel:
    ``ref``, ``basis`` (rows x0.., y0.., z0..), ``inputs``, ``index``."""

    def __init__(self):

        path = resources.files("ganimate") / "assets" / "faces" / "ict_au_basis.npz"
        with resources.as_file(path) as p, np.load(p, allow_pickle=False) as data:
            table = data["basis"].astype(np.float64)  # (468, n, 3)
            self.inputs = [str(n) for n in data["au_names"]]
            self.jaw_open = data["jaw_open"].astype(np.float64)  # ICT jawOpen per AU
        self.ref = canonical_face().astype(np.float64)
        self.basis = table.transpose(2, 0, 1).reshape(3 * _MESH_POINTS, len(self.inputs))
        self.index = {c: i for i, c in enumerate(self.inputs)}


@lru_cache(maxsize=1)
def scanned_basis() -> ScannedBasis:
    return ScannedBasis()


def au_basis(name: str) -> ScannedBasis | AUMeshModel:
    """The AU -> mesh basis called ``name`` (:data:`ganimate.engines.warp_config.BASES`)."""
    return scanned_basis() if name == "scanned" else mesh_model()


@dataclass
class Field:
    """A backward displacement field over a box of the frame.

    Output pixel (x0 + u, y0 + v) is read from the input at (x0 + u + dx[v, u], y0 + v + dy[v, u]).
    ``weight`` is the taper (1 over the face, 0 outside the region that moves).
    """

    x0: int
    y0: int
    dx: np.ndarray  # float32 (h, w)
    dy: np.ndarray  # float32 (h, w)
    weight: np.ndarray  # float32 (h, w) in [0, 1]
    # Lightness factor of skin that folds (WarpConfig.folds), float32 (h, w); None: no shading.
    shade: np.ndarray | None = None
    # Where closed lids meet (:mod:`ganimate.engines.lids`): a second place to read each pixel
    # from, float32 (h, w, 2), and its share of the pixel (h, w); None: none.
    other: np.ndarray | None = None
    share: np.ndarray | None = None

    @property
    def box(self) -> tuple[int, int, int, int]:
        h, w = self.dx.shape
        return self.x0, self.y0, self.x0 + w, self.y0 + h

    @property
    def magnitude(self) -> np.ndarray:
        import cv2

        return cv2.magnitude(self.dx, self.dy)


# ---------------------------------------------------------------------------------------------
# 1. AU change -> landmark shifts in the frame
# ---------------------------------------------------------------------------------------------


def model_delta(y_r: np.ndarray, y_g: np.ndarray, au_names: Sequence[str],
                model: ScannedBasis | AUMeshModel | None = None) -> np.ndarray:
    """``y_g - y_r`` as the AU -> mesh basis' input vector (pose inputs and AUs it lacks: 0)."""
    model = model or mesh_model()
    fitted = isinstance(model, AUMeshModel)
    delta = np.zeros(len(model.inputs))
    diff = np.asarray(y_g, np.float64) - np.asarray(y_r, np.float64)
    for name, d in zip(au_names, diff, strict=True):
        name, weight = _MODEL_AS.get(name, (name, 1.0)) if fitted else (name, 1.0)
        j = model.index.get(_MODEL_NAME.get(name, name) if fitted else name)
        if j is not None:
            delta[j] += weight * d
    return delta


def model_displacement(delta: np.ndarray, model: ScannedBasis | AUMeshModel | None = None
                       ) -> np.ndarray:
    """(468, 3) displacement in the model's frame (x right, y up, z to the camera; its units),
    with the rigid points re-aligned so that the head itself does not move."""
    model = model or mesh_model()
    d = (model.basis @ delta).reshape(3, _MESH_POINTS).T
    if not np.any(d):
        return d
    moved = model.ref + d
    realigned = apply_similarity(umeyama(moved[RIGID_3D], model.ref[RIGID_3D]), moved)
    return realigned - model.ref


def soft_clamp(shifts: np.ndarray, limit: float, knee: float = 0.6) -> np.ndarray:
    """Limit each of ``shifts`` (N, 2) on its own: lengths up to ``knee * limit`` pass unchanged,
    longer ones approach ``limit`` smoothly (tanh, continuous in value and slope), same way."""
    length = np.linalg.norm(shifts, axis=1)
    k, room = knee * limit, (1.0 - knee) * limit
    over = length > k
    if not np.any(over):
        return shifts
    out = np.array(shifts, dtype=np.float64)
    new = k + room * np.tanh((length[over] - k) / room)
    out[over] *= (new / length[over])[:, None]
    return out


def mesh_displacement(landmarks: np.ndarray, y_r: np.ndarray, y_g: np.ndarray,
                      au_names: Sequence[str], config: WarpConfig = WarpConfig(),
                      model: ScannedBasis | AUMeshModel | None = None) -> np.ndarray:
    """Pixel shifts (468, 2) of a face's landmarks (frame pixels, (478, 3)) from y_r to y_g."""
    model = model or au_basis(config.basis)
    d_model = model_displacement(model_delta(y_r, y_g, au_names, model), model)
    if not np.any(d_model):
        return np.zeros((_MESH_POINTS, 2))
    shifts = _in_frame(landmarks, d_model, config, model)
    if config.far_band > 0:
        _, rot, _ = umeyama(model.ref[RIGID_3D], to_model_frame(landmarks)[RIGID_3D])
        shifts *= far_side_weight(landmarks, rot, config)[:, None]
    return soft_clamp(shifts, config.max_shift * eye_centre_distance(landmarks))


def _in_frame(landmarks: np.ndarray, d_model: np.ndarray, config: WarpConfig,
              model: ScannedBasis | AUMeshModel) -> np.ndarray:
    """A displacement in the model's frame (468, 3) as pixel shifts (468, 2) of the face."""
    obs = to_model_frame(landmarks)  # (x, -y, -z) pixels
    scale, rot, _ = umeyama(model.ref[RIGID_3D], obs[RIGID_3D])
    d_obs = config.gain * scale * d_model @ rot.T
    return np.stack([d_obs[:, 0], -d_obs[:, 1]], axis=1)  # back to x right, y down


def blink_shifts(landmarks: np.ndarray, y_r: np.ndarray, y_g: np.ndarray,
                 au_names: Sequence[str], config: WarpConfig = WarpConfig()) -> np.ndarray:
    """The pixel shifts (468, 2) of the edit's AU45 change alone (no soft limit: ~0.1 IOD)."""
    model = au_basis(config.basis)
    keep = np.array([n == BLINK for n in au_names])
    delta = model_delta(np.where(keep, y_r, 0.0), np.where(keep, y_g, 0.0), au_names, model)
    return _in_frame(landmarks, model_displacement(delta, model), config, model)


# ---------------------------------------------------------------------------------------------
# 2. Landmark shifts -> dense field over the face region
# ---------------------------------------------------------------------------------------------


def _hull(points: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.convexHull(points.astype(np.float32)).reshape(-1, 2).astype(np.float64)


def _ring(hull: np.ndarray, distance: float, count: int = 48) -> np.ndarray:
    """``count`` points about ``distance`` px outside a convex hull (its outline pushed out)."""
    centre = hull.mean(axis=0)
    angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
    rel = hull - centre
    hull_angles = np.arctan2(rel[:, 1], rel[:, 0])
    radii = np.hypot(rel[:, 0], rel[:, 1])
    order = np.argsort(hull_angles)
    r = np.interp(angles, hull_angles[order], radii[order], period=2 * np.pi)
    return centre + (r + distance)[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _taper(hull: np.ndarray, box: tuple[int, int, int, int], inner: float,
           outer: float) -> tuple[np.ndarray, np.ndarray]:
    """(taper, distance): 1 within ``inner`` px of the hull, 0 beyond ``inner + outer``,
    smoothstep between; and each pixel's distance to the hull (0 inside), float32 (h, w)."""
    import cv2

    x0, y0, x1, y1 = box
    inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = np.round((hull - [x0, y0]) * 16).astype(np.int32)
    cv2.fillConvexPoly(inside, pts, 1, lineType=cv2.LINE_8, shift=4)
    dist = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    return smoothstep((inner + outer - dist) / outer).astype(np.float32), dist


def displacement_field(points: np.ndarray, shifts: np.ndarray, frame_size: tuple[int, int],
                       scale: float, config: WarpConfig = WarpConfig(),
                       lids: Sequence[LidField] = ()) -> Field | None:
    """The backward field that moves ``points`` (N, 2) by ``shifts`` (N, 2), smooth in between
    and exactly zero from ``(inner + outer) * scale`` px outside their outline.

    ``frame_size`` is (width, height); ``scale`` is the face's IOD in pixels. ``lids``: closing
    eyes' own fields (:class:`ganimate.engines.lids.LidField`): around them the spline is
    evaluated at every pixel and gives way to theirs. None when nothing moves or the
    region is outside the frame.
    """
    import cv2

    points = np.asarray(points, np.float64)
    shifts = np.asarray(shifts, np.float64)
    if not np.any(shifts):
        return None
    dest = points + shifts
    hull = _hull(np.concatenate([points, dest]))
    inner, outer = config.inner * scale, config.outer * scale
    reach = inner + outer
    w, h = frame_size
    lo = np.floor(hull.min(axis=0) - reach).astype(int)
    hi = np.ceil(hull.max(axis=0) + reach).astype(int) + 1
    box = (max(lo[0], 0), max(lo[1], 0), min(hi[0], w), min(hi[1], h))
    if box[0] >= box[2] or box[1] >= box[3]:
        return None
    ring = _ring(hull, reach)
    origin = np.array(box[:2], np.float64)
    centres = (np.concatenate([dest, ring]) - origin) / scale  # IOD units: well conditioned
    values = np.concatenate([-shifts, np.zeros_like(ring)])
    spline = ThinPlateSpline.fit(centres, values, smoothing=1e-3, fast=config.fast_spline)
    weight, dist = _taper(hull, box, inner, outer)
    step = max(2.0, config.grid * scale)
    bw, bh = box[2] - box[0], box[3] - box[1]
    gx = np.linspace(0, bw - 1, max(2, int(np.ceil(bw / step)) + 1))
    gy = np.linspace(0, bh - 1, max(2, int(np.ceil(bh / step)) + 1))
    # The spline is only needed where the taper is not 0 and at the grid points that the cubic
    # upsampling and the fold shading's gradient read for those pixels: the box's corners are
    # skipped (~20% of the grid).
    near = dist[np.rint(gy).astype(int)][:, np.rint(gx).astype(int)] < reach + 3.5 * step
    coarse = spline.grid(gx / scale, gy / scale, near)
    dense = cv2.resize(coarse, (bw, bh), interpolation=cv2.INTER_CUBIC)
    other = share = None
    if lids:
        other, share = dense.copy(), np.zeros((bh, bw), np.float32)
        for lid in lids:
            _lid(dense, other, share, spline, box, lid, scale, step)
        other *= weight[..., None]
    dense *= weight[..., None]
    dx, dy = dense[..., 0], dense[..., 1]
    if config.deadzone > 0:
        dense *= smoothstep(cv2.magnitude(dx, dy) * np.float32(1 / config.deadzone))[..., None]
    shade = _fold_shading(coarse, gx, gy, (bw, bh), weight, config)
    return Field(box[0], box[1], np.ascontiguousarray(dx), np.ascontiguousarray(dy), weight,
                 shade, other, share)


def _lid(dense: np.ndarray, other: np.ndarray, share: np.ndarray, spline: ThinPlateSpline,
         box: tuple[int, int, int, int], lid: LidField, scale: float, feather: float) -> None:
    """Replace ``dense`` (the field over ``box``, upsampled from ``spline``'s coarse grid) inside
    ``lid.box`` with the spline at every pixel, its component across the eye with the lid's own
    where that applies, blended in over ``feather`` px from the box's edge (the coarse and the
    exact spline differ by well under a pixel there); ``other`` and ``share``: the same with the
    other lid's read where the lids meet (:class:`ganimate.engines.lids.LidRead`)."""
    x0, y0 = max(lid.box[0], box[0]), max(lid.box[1], box[1])
    x1, y1 = min(lid.box[2], box[2]), min(lid.box[3], box[3])
    if x0 >= x1 or y0 >= y1:
        return
    xs = np.arange(x0 - box[0], x1 - box[0], dtype=np.float64)
    ys = np.arange(y0 - box[1], y1 - box[1], dtype=np.float64)
    exact = spline.grid(xs / scale, ys / scale)
    read = lid.backward(xs + box[0], ys + box[1])
    ey = lid.ey.astype(np.float32)
    across = exact @ ey
    alt = exact + (read.weight * (read.other - across))[..., None] * ey
    exact += (read.weight * (read.across - across))[..., None] * ey
    edge = np.minimum.outer(np.minimum(ys - ys[0], ys[-1] - ys),
                            np.minimum(xs - xs[0], xs[-1] - xs))
    alpha = smoothstep(edge / feather).astype(np.float32)[..., None]
    inside = np.s_[y0 - box[1]:y1 - box[1], x0 - box[0]:x1 - box[0]]
    dense[inside] += alpha * (exact - dense[inside])
    other[inside] += alpha * (alt - other[inside])
    share[inside] = np.maximum(share[inside], alpha[..., 0] * read.share)


def _fold_shading(coarse: np.ndarray, gx: np.ndarray, gy: np.ndarray, size: tuple[int, int],
                  fade: np.ndarray, config: WarpConfig) -> np.ndarray | None:
    """Lightness factor of skin that folds: from the backward map's Jacobian determinant on the
    spline's own coarse grid (smooth: no upsampling or dead-zone edges in it), upsampled, and
    faded out with ``fade`` (the taper: where the field fades, skin is not folding). Not with
    the dead zone: where the displacement crosses zero inside a moving face (on the forehead
    between brows that rise and a hairline that does not) unshaded pixels drew a bright line
    through the shaded skin around them."""
    import cv2

    if config.folds <= 0 or len(gx) < 3 or len(gy) < 3:
        return None
    ddx_dy, ddx_dx = np.gradient(coarse[..., 0], gy, gx)
    ddy_dy, ddy_dx = np.gradient(coarse[..., 1], gy, gx)
    squeeze = ((1 + ddx_dx) * (1 + ddy_dy) - ddx_dy * ddy_dx - 1).astype(np.float32)
    if config.fold_blur > 0:  # the grid is ``config.grid`` IOD apart (a step of 2 px at least)
        sigma = config.fold_blur / config.grid
        squeeze = cv2.GaussianBlur(squeeze, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    dense = cv2.resize(squeeze, size, interpolation=cv2.INTER_CUBIC)
    shade = 1 - config.folds * dense * fade**2
    return np.clip(shade, config.fold_min, config.fold_max).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# 3. Sampling
# ---------------------------------------------------------------------------------------------


def warp_region(frame: np.ndarray, field: Field | None, config: WarpConfig = WarpConfig(),
                out: np.ndarray | None = None) -> np.ndarray:
    """``frame`` resampled through ``field`` inside its box; every pixel that moves less than
    ``config.still`` px keeps its exact value. Returns a new frame (or fills ``out``: or frame)."""
    frame = np.asarray(frame)
    if out is None:
        out = frame.copy()
    elif out is not frame:
        out[...] = frame
    if field is None:
        return out
    x0, y0, x1, y1 = field.box
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    map_x = xs + field.dx
    map_y = ys + field.dy
    warped = _sample(frame, map_x, map_y, field, config)
    if warped.ndim == 2:
        warped = warped[..., None]
    moving = field.magnitude >= config.still
    if field.shade is not None:  # shaded skin is written even where it does not move
        moving |= np.abs(field.shade - 1) >= 1 / 512
    roi = out[y0:y1, x0:x1]
    warped = warped.reshape(roi.shape)
    np.copyto(roi, warped, where=moving[..., None] if roi.ndim == 3 else moving)
    return out


# ---------------------------------------------------------------------------------------------
# One face
# ---------------------------------------------------------------------------------------------


@dataclass
class FaceWarp:
    """One face's warp: the landmark shifts and the field (None: nothing moved)."""

    shifts: np.ndarray  # (468, 2) px
    field: Field | None
    # How far an open mouth is sealed shut (:func:`.closing.forced_seal`): the lips meet, and
    # the opening between them is painted that much less (London 108, 124 surprised, then
    # `neutral` or `sad`: a grey line of drawn teeth between sealed lips).
    shut: float = 0.0


def plan_warp(landmarks: np.ndarray, y_r: np.ndarray, y_g: np.ndarray, au_names: Sequence[str],
              frame_size: tuple[int, int], config: WarpConfig = WarpConfig(),
              touch: float = 0.0, memory: MouthMemory | None = None) -> FaceWarp:
    """The field that takes a face (mediapipe landmarks, frame pixels) from y_r to y_g."""
    points = np.asarray(landmarks, np.float64)[:_MESH_POINTS, :2]
    scale = eye_centre_distance(landmarks)
    shifts = still_near_mouth(mesh_displacement(landmarks, y_r, y_g, au_names, config),
                              landmarks, touch, scale, config.touch)
    lips = lips_of(y_r, y_g, au_names, memory)
    shifts, sealing = lay_lips(landmarks, shifts, scale, config.mouth, *lips)
    lids: list[LidField] = []
    blink = blink_fraction(y_r, y_g, au_names) if config.lids.close else 0.0
    if blink > 0:  # the lids close as lids (:mod:`ganimate.engines.lids`)
        closing = close_lids(points, shifts, blink_shifts(landmarks, y_r, y_g, au_names, config),
                             blink, scale, frame_size, config.lids)
        shifts = shifts + closing.shifts
        lids = closing.fields
    field = displacement_field(points, shifts, frame_size, scale, config, lids)
    close_cavity(field, landmarks, shifts, scale, sealing, config.mouth)
    if field is not None and config.smile_skin > 0:
        weight = config.smile_skin * smile_weight(y_r, y_g, au_names)
        skin = smile_shade(points + shifts, field.box, max(2.0, config.grid * scale), weight)
        if skin is not None:
            field.shade = skin if field.shade is None else field.shade * skin
    return FaceWarp(shifts, field, forced_seal(landmarks, scale, config.mouth, *lips[:2]))


def warp_face(frame: np.ndarray, landmarks: np.ndarray, y_r: np.ndarray, y_g: np.ndarray,
              au_names: Sequence[str], config: WarpConfig = WarpConfig(),
              out: np.ndarray | None = None, memory: MouthMemory | None = None,
              touch: float = 0.0) -> tuple[np.ndarray, FaceWarp]:
    """Warp one face of ``frame`` from its expression y_r to y_g; (new frame, the warp); the
    lips' opening painted as a mouth interior (:mod:`ganimate.engines.mouth_paint`). ``memory``:
    what the face's track (video) carries about its mouth (:mod:`ganimate.engines.mouth_track`),
    None: this frame alone; ``touch``: a hand at the mouth (:mod:`ganimate.engines.touch`)."""
    frame = np.asarray(frame)
    h, w = frame.shape[:2]
    with stage("field"):
        plan = plan_warp(landmarks, y_r, y_g, au_names, (w, h), config, touch, memory)
    edit = MouthEdit(frame, landmarks, y_r, y_g, au_names, config, memory,
                     au_basis(config.basis))
    with stage("mouth"):
        mouth = plan_mouth(edit, plan.shifts, plan.field, plan.shut, touch)
    with stage("sampling"):
        result = warp_region(frame, plan.field, config, out)
    if mouth is not None:
        with stage("mouth"):
            paint_mouth(result, edit, plan.shifts, mouth)
    return result, plan


def _sample(frame: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, field: Field,
            config: WarpConfig) -> np.ndarray:
    """``frame`` read at (map_x, map_y) (absolute frame coordinates), uint8, detail restored."""
    import cv2

    x0 = max(int(np.floor(map_x.min())) - 8, 0)
    y0 = max(int(np.floor(map_y.min())) - 8, 0)
    x1 = min(int(np.ceil(map_x.max())) + 9, frame.shape[1])
    y1 = min(int(np.ceil(map_y.max())) + 9, frame.shape[0])
    src = frame[y0:y1, x0:x1].astype(np.float32)
    mx, my = map_x - x0, map_y - y0
    flags = {"lanczos": cv2.INTER_LANCZOS4, "cubic": cv2.INTER_CUBIC,
             "linear": cv2.INTER_LINEAR}[config.sampling]
    out = cv2.remap(src, mx, my, flags, borderMode=cv2.BORDER_REFLECT_101)
    if field.share is not None and np.any(field.share > 0):
        # where closed lids meet, each pixel mixes its own side's read with the other lid's
        alt = cv2.remap(src, mx + (field.other[..., 0] - field.dx),
                        my + (field.other[..., 1] - field.dy), flags,
                        borderMode=cv2.BORDER_REFLECT_101)
        share = field.share[..., None] if out.ndim == 3 else field.share
        out += share * (alt - out)
    if config.restore > 0:
        detail = src - cv2.GaussianBlur(src, (0, 0), 0.8)
        extra = cv2.remap(detail, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        off = np.abs(field.dx - np.rint(field.dx)) + np.abs(field.dy - np.rint(field.dy))
        share = np.clip(off, 0, 1) * np.float32(config.restore)
        out += (share[..., None] if out.ndim == 3 else share) * extra
    if field.shade is not None:
        if out.ndim == 3:
            out[..., :3] *= field.shade[..., None]
        else:
            out *= field.shade
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
