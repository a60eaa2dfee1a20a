"""Teeth, gums and tongue behind lips that the warp parts: ICT-FaceKit's scanned mouth, rendered.

Where the warp opens a closed mouth (:mod:`ganimate.engines.mouth` finds the opening), a real mouth
shows the upper incisors under the upper lip, the lower teeth as the jaw drops, gums and tongue, and
the dark depth behind them. This module draws ICT-FaceKit's teeth and gums/tongue meshes
(``assets/faces/ict_mouth.npz``, built by ``examples/face_models/build_ict_basis.py``):

1. placed with the face: the canonical face's similarity onto the photo's rigid points gives
   scale and rotation; the upper incisors' edge is then put at the photo's own lip seam (the
   middle of its closed inner lips), where it sits behind closed lips;
2. the lower teeth and tongue follow the jaw: ICT's ``jawOpen`` displacement times the edit's
   jaw opening (:func:`jaw_opening`);
3. drawn back to front (painter's order, anti-aliased quads), lit from the front and above
   (Lambert), darker with depth into the mouth;
4. coloured from the face: teeth a little lighter than the cheeks (CIELAB L*), nearly grey with a
   slight warm tint; gums and tongue the lips' own seam colour, lightened.

The caller (:func:`ganimate.engines.mouth.paint_opening`) keeps the drawing inside the moved lips
and shades it toward the lips' edge, as the lips' shadow does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from ganimate.engines.cast import cast_of, whites
from ganimate.engines.masks import smoothstep
from ganimate.engines.mouth import INNER_LIPS, own_teeth_lab, teeth_split
from ganimate.engines.palette import colour_lab
from ganimate.faces import RIGID_3D, canonical_face, to_model_frame, umeyama

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn).

# Cheek points whose surroundings give the face's skin lightness.
_CHEEKS = (50, 280, 205, 425)
_SEAM = (13, 14)  # middle of the inner lips
_LIGHT = np.array([0.0, 0.45, 1.0]) / np.linalg.norm([0.0, 0.45, 1.0])  # front, above


@dataclass(frozen=True)
class TeethConfig:
    """How the mouth interior is drawn; lengths in inter-ocular distances (IOD)."""

    # 0 draws no teeth, gums or tongue (the dark cavity only).
    strength: float = 1.0
    # Teeth lightness before shading: the cheeks' median CIELAB L* plus this, within [min_l,
    # max_l]. Drawn teeth (after the lips' shadow and depth) then measure L* 83 at the median
    # (dlib's inner lips, 12 held-out London people) where the London people's own smiles show
    # 80 (p10-p90 69-86); the earlier +22 / 72 drew grey teeth (median 77, a tenth under 53)
    # and the classifier's P(happy) of the smile was 0.06 lower.
    lighter: float = 40.0
    min_l: float = 85.0
    max_l: float = 96.0
    # Teeth colour (CIELAB a*, b*): near grey, slightly warm, as teeth photograph.
    a: float = 1.0
    b: float = 7.0
    # The upper incisors' edge, below (+) the photo's lip seam: at rest it sits behind the lower
    # lip, a few millimetres below where the lips meet.
    edge_drop: float = 0.05
    # Light: ambient share, and how fast it darkens with depth behind the front teeth (cm of the
    # canonical face, about 6.3 cm between the eye centres). Teeth are translucent: their sides
    # are not as dark as Lambert's law makes an opaque surface. 0.8 since the teeth are
    # rasterised with exact coverage (a pixel's colour the mean of its samples): at 0.7 the sides
    # of each tooth showed grey, the teeth share (dlib) of `-e happy` on the 26 held-out London
    # people fell from 0.255 to 0.211 and its happy reads from 17 to 15; at 0.8, 0.244 and 17.
    ambient: float = 0.8
    depth_falloff: float = 3.0
    # Teeth in shadow take the mouth's hue: a quad lit at ``light`` (0-1, after Lambert and
    # depth) moves this share of ``1 - light`` of the way from the teeth's a*, b* to the lip
    # seam's (the cavity's dark red), as light bounced inside a mouth colours what it reaches.
    # Darkened in L* alone, the lower teeth behind the upper row kept the teeth's near-grey,
    # slightly yellow chroma at a third of their lightness: an olive, grey-green band beside red
    # lips (`-e anger`, `-e surprise` on a smile). 0: L* alone. Photos; video keeps 0
    # (``WarpConfig.video_shadow_hue``): chroma that follows the light added 7% of flicker to
    # single_face.mp4's surprise (docs/evaluation.md, twelfth session).
    shadow_hue: float = 0.7
    # Upper teeth from a real photograph (``assets/faces/teeth_atlas.npz``, :func:`teeth_atlas`):
    # a London person's smile stored on the skull's frame, coloured to the face's teeth (its own
    # once a video's track has seen them), over the scanned lower teeth, gums and tongue. False:
    # the scanned upper teeth too (flat-shaded quads).
    atlas: bool = True
    # A photo's own upper teeth moved rigidly with the lip leave a gap where the edit drops the
    # jaw (:func:`ganimate.engines.mouth.rigid_teeth`): True draws what the jaw carries there
    # (the scanned lower teeth and tongue) over the cavity; False (default): the cavity alone,
    # unless the target bares the lower teeth (:attr:`lower_full`, :func:`gap_shows_jaw`):
    # `anger` from a smile showed a black hole under the person's own upper teeth.
    # Measured on the 26 held-out London people's own smiles: `-e surprise` read surprise on 16
    # with the lower teeth, 19 with the dark cavity (mean P 0.512 vs 0.578); `-e anger` 2 and 2
    # (P 0.130 vs 0.117): the classifier reads a dark open mouth as surprise.
    photo_gap: bool = False
    # The drawn teeth take the picture's colour cast, read on the whites of the eyes
    # (:func:`colour_cast`; 0 in ordinary light). With a fixed a*, b* the drawn teeth were 21 b*
    # bluer than the person's own teeth under a warm cast (R x1.12, B x0.78, 11 held-out
    # people), 17 yellower under a cold one: cold blue-white teeth in a warm painting; with the
    # cast, 0.8 and 10.4 (a cold cast of the whites lies partly within ordinary light's range).
    # No London photo reads a cast: their edits are unchanged. Video: a track's average of the
    # reading (:class:`ganimate.engines.mouth_track.MouthTrack`). False: the fixed colour.
    cast: bool = True
    # ... and the light on the face, read on the whites of the eyes: drawn teeth are at most this
    # much lighter (L*, as photographed) than the whites' brightest third (:func:`.cast.whites`).
    # A dim photo's drawn teeth were lit as a studio's: lisa3.jpg (whites at L* 23) showed white
    # teeth at 76, glowing in a dark face. The London people's own smiles lie within 39 of their
    # whites (median +11; the whites' reading at 512 px is rough): 40 draws every London face as
    # before. 0: off.
    over_whites: float = 40.0
    # Video: drawn teeth blurred along the mouth's motion by this share of its move from the
    # last frame (a camera's shutter open for half the frame time blurs what moves by half its
    # move; the lips around them carry the clip's own blur, the drawn teeth were crisp).
    # 0: crisp. Photos have no motion.
    motion_blur: float = 0.5
    # The lower teeth show as far as the target depresses the lower lip (AU16, in full from
    # ``lower_full``): a lower lip that drops with the jaw (surprise, fear, a plain jaw drop)
    # covers them, and the scanned row drawn there read as a flat grey band along the lip
    # (`-e surprise` on 26 held-out London faces: 22 read surprise, mean P 0.712; without it 22,
    # 0.718). Where it is not asked for, the row takes the gums' colour. The snarl of `anger`
    # (AU16 at C) bares them: 13 of 26 read angry with them, 2 without. 0: always drawn.
    lower_full: float = 0.6
    # The lower teeth, where they show (:attr:`lower_full`), photographed too: the atlas' upper row
    # turned upside down, narrowed and shortened by these factors (lower incisors are about 0.7
    # as wide as the upper, their crowns 0.85 as high), its edge on the scanned lower incisors'
    # tips, lit at ``lower_light`` of the upper row (behind it, under the lip). Scanned, the lower
    # row was one flat grey plate ("dentures", a reviewer of `-e anger`). None: scanned.
    lower_atlas: tuple[float, float] | None = (0.7, 0.85)
    lower_light: float = 0.85
    # Gums, palate and tongue are shaded smoothly: their flat-shaded facets' colour blurred among
    # themselves by a Gaussian this wide (cm of the canonical face, about 6.3 cm between the eye
    # centres); the teeth stay crisp. Flat, they showed as blocky patches of darker and lighter
    # red inside an open mouth (`-e surprise`). 0: flat. Only a mouth open wide shows them as
    # areas: from a jaw opening (ICT jawOpen) of ``soft_jaw``, in full from twice it (surprise
    # opens 0.62, fear 0.40, happy 0.15-0.18, anger 0.12). A parted mouth shows them as a thin
    # dark band under the teeth, which the blur lightened with the gums the lips hide: `happy`
    # from 26 surprised faces read 16 -> 13. 0: at every opening (video,
    # ``WarpConfig.video_soft_jaw``).
    soft_tissue: float = 0.15
    soft_jaw: float = 0.2
    # Gums, palate and tongue in the lips' own colour (:func:`ganimate.engines.palette.
    # lips_lab`: mucosa, as the lips are), lit and darkened with depth as the rest. False: the
    # lip seam's colour lightened (L* x 1.1 + 5, at most 55), which on a closed mouth is the dark
    # line between the lips: L* 8 at the median of a surprised London mouth's tongue and
    # palate, one dark red with the cavity. In a blind review of six open mouths the lips'
    # colour with the soft rim (:mod:`ganimate.engines.focus`) ranked first on four, second on
    # two ("shadow under the upper lip fading to a faint lighter tongue hump").
    lips_tissue: bool = True
    # Route (b): a trained mouth painter's checkpoint (:mod:`ganimate.engines.painter`) fills the
    # opening instead of the scanned teeth. Empty: the scanned teeth (route (a), measured better).
    painter: str = ""


@dataclass(frozen=True)
class MouthMesh:
    vertices: np.ndarray  # (V, 3) canonical frame, cm
    jaw_open: np.ndarray  # (V, 3) displacement at jawOpen = 1
    quads: np.ndarray  # (Q, 4) vertex indices, camera-facing
    parts: np.ndarray  # (Q,) 0: gums/tongue, 1: teeth
    with_jaw: np.ndarray  # (Q,) bool: the quad moves with the jaw (lower teeth, tongue)
    incisor_edge: np.ndarray  # (3,) lowest point of the upper front teeth
    lower_edge: np.ndarray  # (3,) highest point of the lower front teeth, the jaw at rest
    lower_edge_jaw: np.ndarray  # (3,) its displacement at jawOpen = 1


@lru_cache(maxsize=1)
def mouth_mesh() -> MouthMesh:
    path = resources.files("ganimate") / "assets" / "faces" / "ict_mouth.npz"
    with resources.as_file(path) as p, np.load(p, allow_pickle=False) as data:
        v, jaw = data["vertices"].astype(np.float64), data["jaw_open"].astype(np.float64)
        quads, parts = data["quads"].astype(np.int64), data["parts"].astype(np.int64)
    teeth = np.unique(quads[parts == 1])
    upper = teeth[(np.abs(jaw[teeth]).sum(axis=1) < 1e-3) & (np.abs(v[teeth, 0]) < 0.5)]
    edge = v[upper[np.argmin(v[upper, 1])]]
    with_jaw = (np.abs(jaw[quads]).sum(axis=2) >= 1e-3).any(axis=1)
    lower = np.unique(quads[(parts == 1) & with_jaw])
    lower = lower[np.abs(v[lower, 0]) < 0.5]
    tips = lower[v[lower, 1] >= v[lower, 1].max() - 1e-3]  # the two central incisors' tips
    return MouthMesh(v, jaw, quads, parts, with_jaw, edge, v[tips].mean(axis=0),
                     jaw[tips].mean(axis=0))


@dataclass
class Interior:
    """The drawn mouth over a box of the frame: RGB (h, w, 3) float32 and coverage in [0, 1]."""

    x0: int
    y0: int
    rgb: np.ndarray
    coverage: np.ndarray


def motion_blurred(interior: Interior | None, move: np.ndarray | None) -> Interior | None:
    """``interior`` smeared along ``move`` (px; the whole length of the blur), centred: the mean
    of copies shifted along it, premultiplied by the coverage so that the edge stays the
    colour of the teeth; unchanged under half a pixel."""
    if interior is None or move is None:
        return interior
    move = np.asarray(move, np.float64)
    length = float(np.hypot(*move))
    if length < 0.5:
        return interior
    import cv2

    h, w = interior.coverage.shape
    stack = np.dstack([interior.rgb * interior.coverage[..., None], interior.coverage])
    total = np.zeros_like(stack)
    steps = int(np.ceil(length)) + 1
    for t in np.linspace(-0.5, 0.5, steps):
        shift = np.float32([[1, 0, t * move[0]], [0, 1, t * move[1]]])
        total += cv2.warpAffine(stack, shift, (w, h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0).reshape(stack.shape)
    total /= steps
    coverage = total[..., 3]
    rgb = total[..., :3] / np.maximum(coverage, 1e-6)[..., None]
    return Interior(interior.x0, interior.y0, rgb.astype(np.float32),
                    coverage.astype(np.float32))


def jaw_opening(y_r: np.ndarray, y_g: np.ndarray, au_names, basis) -> float:
    """How far the edit opens the jaw, in ICT ``jawOpen`` units (0: not at all)."""
    weights = getattr(basis, "jaw_open", None)
    if weights is None:
        return 0.0
    diff = np.asarray(y_g, np.float64) - np.asarray(y_r, np.float64)
    return float(max(sum(weights[basis.index[n]] * d for n, d in zip(au_names, diff, strict=True)
                         if n in basis.index), 0.0))


def lower_teeth(y_g: np.ndarray, au_names, config: TeethConfig = TeethConfig()) -> float:
    """How much of the lower teeth the target ``y_g`` bares (0-1, :attr:`TeethConfig.lower_full`
    of AU16 for all of them; 1 where the AUs have no AU16 or ``lower_full`` is 0)."""
    names = list(au_names)
    if config.lower_full <= 0 or "AU16" not in names:
        return 1.0
    return float(np.clip(float(y_g[names.index("AU16")]) / config.lower_full, 0.0, 1.0))


def gap_shows_jaw(y_g: np.ndarray, au_names, config: TeethConfig = TeethConfig()) -> bool:
    """Whether the gap a photo's own teeth leave where the edit drops the jaw shows what the jaw
    carries (:attr:`TeethConfig.photo_gap`), or at least the lower teeth a target that depresses
    the lower lip bares (:func:`lower_teeth`)."""
    return config.photo_gap or (config.lower_full > 0 and lower_teeth(y_g, au_names, config) > 0)


def photo_teeth_lab(frame: np.ndarray, landmarks: np.ndarray, skin_l: float,
                    config: TeethConfig = TeethConfig(), own: bool = False) -> np.ndarray | None:
    """The colour drawn teeth take on a photo: with ``own``, the photo's own upper teeth where it
    shows them (the lower teeth drawn under them in the gap :func:`ganimate.engines.mouth.
    rigid_teeth` leaves were the drawn teeth's colour: grey-green or whiter beside yellower
    teeth); else in the picture's colour cast if it has one (:attr:`TeethConfig.cast`); None:
    the drawn teeth's own colour."""
    if own:
        lips = np.asarray(landmarks, np.float64)[list(INNER_LIPS), :2]
        lab = own_teeth_lab(frame, lips, teeth_split(frame, lips))
        if lab is not None:
            return lab
    seen = whites(frame, landmarks) if config.cast or config.over_whites > 0 else None
    cast = cast_of(seen) if config.cast else np.zeros(2)
    lab = drawn_teeth_lab(skin_l, config, cast)
    lit = lab[0]
    if seen is not None and config.over_whites > 0:  # no lighter than the eyes' light allows
        lab[0] = min(lit, float(np.median(seen[:, 0])) + config.over_whites)
    return lab if np.any(cast) or lab[0] < lit else None


def skin_lightness(frame: np.ndarray, landmarks: np.ndarray, scale: float) -> float:
    """Median CIELAB L* of small patches on both cheeks."""
    import cv2

    r = max(2, int(round(0.06 * scale)))
    h, w = frame.shape[:2]
    values = []
    for i in _CHEEKS:
        x, y = np.round(np.asarray(landmarks)[i, :2]).astype(int)
        patch = frame[max(y - r, 0):min(y + r, h), max(x - r, 0):min(x + r, w), :3]
        if patch.size:
            lab = cv2.cvtColor(np.ascontiguousarray(patch), cv2.COLOR_RGB2LAB)
            values.append(lab[..., 0].reshape(-1).astype(np.float64) * 100 / 255)
    return float(np.median(np.concatenate(values))) if values else 60.0


SkullPose = tuple[np.ndarray, float, np.ndarray, np.ndarray]


def skull_pose(landmarks: np.ndarray) -> SkullPose:
    """(observed points in the model frame, scale, rotation, translation): the canonical face's
    similarity onto the landmarks' rigid points (where the skull, and the upper teeth, are)."""
    obs = to_model_frame(landmarks)
    s, rot, t = umeyama(canonical_face()[RIGID_3D].astype(np.float64), obs[RIGID_3D])
    return obs, s, rot, t


def _seam_on_skull(pose: SkullPose) -> np.ndarray:
    """The observed lip seam (the middle of the inner lips) in the canonical face's frame."""
    obs, s, rot, t = pose
    return rot.T @ (obs[list(_SEAM)].mean(axis=0) - t) / s


def seam_anchor(landmarks: np.ndarray) -> np.ndarray:
    """The lip seam in the canonical face's frame: where the drawn upper teeth hang from the
    skull (:class:`ganimate.engines.mouth_track.MouthTrack`)."""
    return _seam_on_skull(skull_pose(landmarks))


def _placement(pose: SkullPose, mesh: MouthMesh, config: TeethConfig, scale: float,
               anchor: np.ndarray | None = None, drop_cm: float | None = None):
    """(scale * rotation, translation) from the canonical frame into (x, -y, -z) frame pixels,
    the incisors' edge put at the photo's lip seam (or at ``anchor``, a seam in the canonical
    frame carried by a video's track), ``config.edge_drop`` below it, or ``drop_cm`` (the
    photographed teeth's edge, :class:`TeethAtlas`)."""
    obs, s, rot, t = pose
    seam = obs[list(_SEAM)].mean(axis=0) if anchor is None else s * rot @ anchor + t
    seam[1] -= config.edge_drop * scale if drop_cm is None else drop_cm * s
    edge = s * rot @ mesh.incisor_edge + t
    t = t + np.array([seam[0] - edge[0], seam[1] - edge[1], 0.0])
    return s * rot, t


def draw_interior(landmarks: np.ndarray, jaw: float, box: tuple[int, int, int, int],
                  skin_l: float, lip_colour: np.ndarray, scale: float,
                  config: TeethConfig = TeethConfig(), anchor: np.ndarray | None = None,
                  teeth_lab: np.ndarray | None = None, parts: str = "all", lower: float = 1.0,
                  tissue: np.ndarray | None = None) -> Interior | None:
    """Teeth, gums and tongue of the face with ``landmarks`` (its photo's, before the warp),
    the jaw opened by ``jaw``, drawn over ``box`` (x0, y0, x1, y1) of the frame; the upper
    teeth hang from the photo's lip seam, or from ``anchor`` (see :func:`_placement`).
    ``parts``: "all"; "upper", the upper teeth alone (what the jaw does not move), nothing
    behind them; "jaw", what moves with the jaw alone (lower teeth, tongue). ``lower``: how much
    of the lower teeth shows (:func:`lower_teeth`); the rest of their colour is the gums'.
    ``tissue``: the lips' own colour (CIELAB), the gums', palate's and tongue's
    (:attr:`TeethConfig.lips_tissue`)."""

    if config.strength <= 0:
        return None
    mesh = mouth_mesh()
    pose = skull_pose(landmarks)
    atlas = config.atlas and parts == "all"
    sr, t = _placement(pose, mesh, config, scale, anchor, teeth_atlas().edge if atlas else None)
    v = (mesh.vertices + jaw * mesh.jaw_open) @ sr.T + t  # x, -y, -z (pixels)
    x0, y0, x1, y1 = box
    pts = np.stack([v[:, 0] - x0, -v[:, 1] - y0], axis=1)
    quads = pts[mesh.quads]  # (Q, 4, 2)
    inside = ((quads[..., 0].max(1) >= 0) & (quads[..., 0].min(1) < x1 - x0)
              & (quads[..., 1].max(1) >= 0) & (quads[..., 1].min(1) < y1 - y0))
    if parts == "upper":
        inside &= (mesh.parts == 1) & ~mesh.with_jaw
    elif parts == "jaw":
        inside &= mesh.with_jaw
    if not np.any(inside):
        return None
    depth = v[mesh.quads].mean(axis=1)[:, 2]
    lab = _quad_colours(v, depth, mesh, skin_l, lip_colour, float(np.linalg.norm(sr[0])),
                        config, teeth_lab, lower, tissue)
    order = np.flatnonzero(inside)[np.argsort(depth[inside])]  # far first
    lower_row = (mesh.parts == 1) & mesh.with_jaw
    shows_lower = atlas and lower > 0 and config.lower_atlas is not None
    rgb, cover, lower_share = _raster(quads, lab, order, (y1 - y0, x1 - x0),
                                      hard_quads(mesh, lower),
                                      _soft_px(config, jaw, float(np.linalg.norm(sr[0]))),
                                      lower_row if shows_lower else None)
    if atlas:
        if teeth_lab is None:
            teeth_lab = drawn_teeth_lab(skin_l, config)
        if shows_lower:
            tips_px = sr @ (mesh.lower_edge + jaw * mesh.lower_edge_jaw) + t
            tips = np.linalg.solve(sr, tips_px - pose[3])  # on the skull's frame
            rgb = _with_lower_atlas(rgb, lower_share * lower, pose, tips, box, teeth_lab, config)
        rgb, cover = _with_atlas(rgb, cover, pose, anchor, box, teeth_lab)
    return Interior(x0, y0, rgb * 255, cover * np.float32(config.strength))


def hard_quads(mesh: MouthMesh, lower: float) -> np.ndarray:
    """The quads kept crisp (teeth) when the soft tissue is shaded smoothly: the lower row drawn
    mostly in the gums' colour (``lower`` < 0.5, :func:`lower_teeth`) is shaded as the gums are
    (its facets showed as scallops along a surprised mouth's floor at 1536 px)."""
    return (mesh.parts == 1) & ~(mesh.with_jaw & (lower < 0.5))


def _soft_px(config: TeethConfig, jaw: float, px_per_cm: float) -> float:
    """How widely (px) the soft tissue is blurred at jaw opening ``jaw``: none up to
    :attr:`TeethConfig.soft_jaw`, all of :attr:`TeethConfig.soft_tissue` from twice it."""
    if config.soft_jaw <= 0:
        return config.soft_tissue * px_per_cm
    t = (jaw - config.soft_jaw) / config.soft_jaw
    return config.soft_tissue * float(smoothstep(t)) * px_per_cm


# The atlas' window on the skull's frame (cm of the canonical face): a texel's side, how far
# above the lip seam at rest its top row is, and its width (centred on the seam).
ATLAS_TEXEL, ATLAS_TOP, ATLAS_WIDTH = 0.02, 1.0, 4.8


@dataclass(frozen=True)
class TeethAtlas:
    """Photographed upper teeth on the skull's frame (see ``build_teeth_atlas.py``)."""

    lab: np.ndarray  # float32 (h, w, 3) CIELAB (L 0-100)
    alpha: np.ndarray  # float32 (h, w) in [0, 1]: the upper teeth
    teeth: np.ndarray  # (3,) the teeth's median colour: what the face's teeth colour replaces
    edge: float  # how far below the seam the middle teeth's edge is (cm)


@lru_cache(maxsize=1)
def teeth_atlas() -> TeethAtlas:
    path = resources.files("ganimate") / "assets" / "faces" / "teeth_atlas.npz"
    with resources.as_file(path) as p, np.load(p, allow_pickle=False) as data:
        lab, alpha = data["lab"].astype(np.float32), data["alpha"].astype(np.float32) / 255
        edge = float(data["edge"])
    solid = alpha > 0.9
    lit = solid & (lab[..., 0] >= np.median(lab[..., 0][solid]))
    return TeethAtlas(lab, alpha, np.median(lab[lit], axis=0), edge)


def _plane(pose: SkullPose, point: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """For every pixel of ``box`` (x0, y0, x1, y1), where it lies on the skull's frontal plane
    through ``point`` (canonical x, y, cm; float64 (h, w, 2))."""
    _, s, rot, t = pose
    m = s * rot
    x0, y0, x1, y1 = box
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    q = np.stack([xs, -ys], axis=-1) - t[:2] - m[:2, 2] * point[2]
    return q @ np.linalg.inv(m[:2, :2]).T


def _atlas_colour(u: np.ndarray, v: np.ndarray, teeth_lab: np.ndarray, light: float = 1.0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The atlas read at texels ``u``, ``v`` (float32 maps): (sRGB 0-1, alpha), its lightness
    scaled and its a*, b* shifted so that its teeth are ``teeth_lab``, then lit by ``light``."""
    import cv2

    atlas = teeth_atlas()
    lab = cv2.remap(atlas.lab, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.remap(atlas.alpha, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                      borderValue=0.0)
    lab[..., 0] *= light * float(teeth_lab[0]) / max(float(atlas.teeth[0]), 1.0)
    lab[..., 1:] += (np.asarray(teeth_lab[1:], np.float32) - atlas.teeth[1:])
    return np.clip(cv2.cvtColor(np.ascontiguousarray(lab), cv2.COLOR_LAB2RGB), 0, 1), alpha


def _with_atlas(rgb: np.ndarray, cover: np.ndarray, pose: SkullPose,
                anchor: np.ndarray | None, box: tuple[int, int, int, int], teeth_lab: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """The scanned interior (sRGB 0-1, coverage) with the atlas' upper teeth over it: each pixel
    read on the frontal plane of the lip seam's depth in the skull's frame (the seam at rest:
    ``anchor``, or the photo's own), the atlas' lightness scaled and its a*, b* shifted so that
    its teeth are the face's ``teeth_lab``."""
    seam = _seam_on_skull(pose) if anchor is None else anchor
    plane = _plane(pose, seam, box)
    u = ((plane[..., 0] - seam[0] + ATLAS_WIDTH / 2) / ATLAS_TEXEL).astype(np.float32)
    v = ((ATLAS_TOP - (plane[..., 1] - seam[1])) / ATLAS_TEXEL).astype(np.float32)
    teeth, alpha = _atlas_colour(u, v, teeth_lab)
    a = alpha[..., None]
    return (teeth * a + rgb * (1 - a)).astype(np.float32), cover + alpha * (1 - cover)


def _with_lower_atlas(rgb: np.ndarray, shown: np.ndarray, pose: SkullPose, tips: np.ndarray,
                      box: tuple[int, int, int, int], teeth_lab: np.ndarray,
                      config: TeethConfig) -> np.ndarray:
    """``rgb`` (sRGB 0-1) with the lower teeth photographed where ``shown`` (0-1 a pixel): the
    atlas' upper row turned upside down and narrowed (:attr:`TeethConfig.lower_atlas`), its
    edge on the scanned lower incisors' ``tips`` (canonical, the jaw opened), read on the
    frontal plane through them."""
    atlas = teeth_atlas()
    width, height = config.lower_atlas
    plane = _plane(pose, tips, box)
    u = (((plane[..., 0] - tips[0]) / width + ATLAS_WIDTH / 2) / ATLAS_TEXEL).astype(np.float32)
    below = (tips[1] - plane[..., 1]) / height  # down the lower teeth = up the upper ones
    v = ((ATLAS_TOP + atlas.edge - below) / ATLAS_TEXEL).astype(np.float32)
    teeth, alpha = _atlas_colour(u, v, teeth_lab, config.lower_light)
    a = (alpha * shown)[..., None]
    return (teeth * a + rgb * (1 - a)).astype(np.float32)


# Samples per pixel side of the teeth's raster (16 a pixel).
_SUPERSAMPLE = 4


def _raster(quads: np.ndarray, lab: np.ndarray, order: np.ndarray, shape: tuple[int, int],
            hard: np.ndarray | None = None, soft: float = 0.0, marked: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Quads (window pixels) filled in ``order`` (painter's: later over earlier), each in its CIELAB
    colour: (sRGB colour (h, w, 3) float32 in [0, 1], coverage (h, w) in [0, 1], the share of
    each pixel that the quads ``marked`` (per quad) show on top, or None). Where ``soft``
    (px) > 0, the quads not ``hard`` (per quad) are shaded smoothly: their colour blurred by a
    Gaussian of that sigma among themselves, over the edges between their flat-shaded facets.

    Drawn without anti-aliasing on a grid ``_SUPERSAMPLE`` times finer, then averaged down in
    linear light: the coverage of every pixel is its share of covered samples, and two quads that
    share an edge tile it. Anti-aliased quads drawn one by one each blend their edge with what is
    below, so the shared edges of neighbouring quads were left part-covered: dark seams that
    shimmered as the teeth moved by a fraction of a pixel between frames of a video. (Averaged
    as CIELAB L*, a pixel half tooth and half cavity came out far darker than the light it gets:
    the teeth's edges dimmed, 20% fewer pixels read as teeth on the London faces.)
    """
    import cv2

    k = _SUPERSAMPLE
    h, w = shape
    linear = _to_linear(cv2.cvtColor(np.ascontiguousarray(lab[None]), cv2.COLOR_LAB2RGB)[0])
    labels = np.zeros((h * k, w * k), np.int32)  # 1 + the quad on top at each sample, 0: none
    fixed = list(np.round((quads[order] * k + (k - 1) / 2) * 16).astype(np.int32))
    fill = cv2.fillConvexPoly
    for poly, label in zip(fixed, (order + 1).tolist(), strict=True):
        fill(labels, poly, label, cv2.LINE_8, 4)
    smooth = soft > 0 and hard is not None
    # linear RGB, cover, soft, marked
    table = np.zeros((len(lab) + 1, 4 + smooth + (marked is not None)), np.float32)
    table[1:, :3], table[1:, 3] = linear, 1.0
    if smooth:
        table[1:, 4] = ~np.asarray(hard, bool)
    if marked is not None:
        table[1:, -1] = np.asarray(marked, bool)
    small = cv2.resize(table[labels], (w, h), interpolation=cv2.INTER_AREA)
    if smooth:
        small[..., :3] = _smoothed(small, soft)
    cover = np.clip(small[..., 3], 0, 1)
    colour = small[..., :3] / np.maximum(cover, 1e-6)[..., None]  # the covered samples' mean
    share = None if marked is None else np.clip(small[..., -1], 0, 1)
    return np.ascontiguousarray(_to_srgb(colour)), cover, share


def _smoothed(small: np.ndarray, soft: float) -> np.ndarray:
    """The premultiplied linear colour of a raster (R, G, B, cover, soft cover) with its soft
    part's colour replaced by its Gaussian-weighted mean among soft samples (sigma ``soft`` px)."""
    import cv2

    share = np.clip(small[..., 4:5], 0, None)  # premultiplied by cover already
    cover = np.maximum(small[..., 3:4], 1e-6)
    soft_rgb = small[..., :3] * (share / cover)  # the soft quads' part of each pixel's colour
    blurred = cv2.GaussianBlur(np.concatenate([soft_rgb, share], axis=2), (0, 0), soft)
    mean = blurred[..., :3] / np.maximum(blurred[..., 3:4], 1e-6)
    return small[..., :3] - soft_rgb + mean * share


def _to_linear(srgb: np.ndarray) -> np.ndarray:
    c = np.clip(srgb, 0, 1).astype(np.float32)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4).astype(np.float32)


def _to_srgb(linear: np.ndarray) -> np.ndarray:
    c = np.clip(linear, 0, 1).astype(np.float32)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055).astype(np.float32)


# The light on the front teeth, typically: a photographed tooth's L* over its albedo's.
_FRONT_LIGHT = 0.9


def drawn_teeth_lab(skin_l: float, config: TeethConfig = TeethConfig(),
                    cast: np.ndarray | None = None) -> np.ndarray:
    """The drawn teeth's colour before a person's own is known, as it photographs (CIELAB, the
    form of :func:`ganimate.engines.mouth.own_teeth_lab`), in the picture's colour ``cast``
    (a*, b*: :func:`colour_cast`) if given: where a video's track starts its average of the
    person's own teeth, so that one blurred first sight does not set it."""
    light = float(np.clip(skin_l + config.lighter, config.min_l, config.max_l)) * _FRONT_LIGHT
    lab = np.array([light, config.a, config.b], np.float64)
    if cast is not None:
        lab[1:] += cast
    return lab


def _quad_colours(v: np.ndarray, z: np.ndarray, mesh: MouthMesh, skin_l: float,
                  lip_colour: np.ndarray, px_per_cm: float, config: TeethConfig,
                  teeth_lab: np.ndarray | None = None, lower: float = 1.0,
                  tissue: np.ndarray | None = None) -> np.ndarray:
    """CIELAB colour (float32 L 0-100) of every quad (mean depth ``z``): albedo by part,
    Lambert, depth. ``teeth_lab``: the person's own teeth as photographed (lit: the albedo is
    that over the front teeth's typical light, 0.9), instead of the cheeks' lightness + 40.
    ``lower``: the lower teeth's share of the teeth's albedo, the rest the gums'; ``tissue``:
    the gums' albedo (CIELAB, the lips' own colour), else the lip seam's, lightened."""
    a, b, c = (v[mesh.quads[:, i]] for i in range(3))
    normal = np.cross(b - a, c - a)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
    lit = config.ambient + (1 - config.ambient) * np.clip(normal @ _LIGHT, 0, 1)
    behind = (z.max() - z) / max(px_per_cm, 1e-9)
    light = lit * np.exp(-behind / config.depth_falloff)
    lip = colour_lab(lip_colour)
    teeth = [float(np.clip(skin_l + config.lighter, config.min_l, config.max_l)), config.a,
             config.b]
    if teeth_lab is not None:
        teeth = [float(np.clip(teeth_lab[0] / _FRONT_LIGHT, 50.0, config.max_l)),
                 float(np.clip(teeth_lab[1], -4.0, 12.0)),
                 float(np.clip(teeth_lab[2], -12.0, 30.0))]
    is_teeth = mesh.parts == 1
    gums = (np.asarray(tissue, np.float64) if tissue is not None and config.lips_tissue
            else np.array([min(lip[0] * 1.1 + 5, 55), lip[1], lip[2]]))
    share = np.where(is_teeth & mesh.with_jaw, lower, is_teeth.astype(np.float64))[:, None]
    albedo = share * np.asarray(teeth, np.float64) + (1 - share) * gums
    out = albedo.astype(np.float32)
    out[:, 0] *= light
    if config.shadow_hue > 0:  # teeth in shadow take the cavity's hue
        toward = (config.shadow_hue * np.clip(1 - light, 0, 1) * is_teeth)[:, None]
        out[:, 1:] += (toward * (lip[1:] - out[:, 1:])).astype(np.float32)
    return out
