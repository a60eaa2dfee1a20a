"""The warp's mouth interior: where the warp parts the lips the opening is painted dark, in the
lips' own hue, with teeth (upper incisors under the upper lip) drawn in it; nothing is painted
when the lips do not part; a mouth that was already open keeps what the warp reads from inside
it."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest
from test_geometry import synthetic_mesh

from ganimate.engines import closing, focus, geometry, mouth, palette
from ganimate.engines.geometry import Field
from ganimate.engines.mouth import INNER_LIPS, MouthConfig, find_opening
from ganimate.engines.teeth import TeethConfig
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import AU_NAMES, eye_centre_distance

OFF = dataclasses.replace(WarpConfig(), mouth=MouthConfig(strength=0.0))
NO_TEETH = dataclasses.replace(WarpConfig(), teeth=TeethConfig(strength=0.0))


def closed_mesh(scale: float = 20.0) -> np.ndarray:
    """The canonical face (whose mouth is a little open) with its inner lips closed."""
    lm = synthetic_mesh(scale=scale)
    upper, lower = list(INNER_LIPS[:11]), list(INNER_LIPS[11:])
    order = np.argsort(lm[upper, 0])
    lm[lower, 1] = np.interp(lm[lower, 0], lm[upper, 0][order], lm[upper, 1][order]) + 0.3
    return lm


def lip_photo(lm: np.ndarray, size=(640, 600)) -> np.ndarray:
    """Skin with red lips drawn over the mesh's lip region and a darker seam between them."""
    img = np.zeros(size + (3,), np.uint8)
    img[:] = (196, 160, 140)
    outer = np.round(lm[[61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91], :2]).astype(np.int32)
    cv2.fillPoly(img, [outer], (190, 95, 100))
    seam = np.round(lm[list(INNER_LIPS), :2]).astype(np.int32)
    cv2.polylines(img, [seam], True, (120, 50, 60), 1)
    rng = np.random.default_rng(0)
    return np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)


def target(**aus) -> tuple[np.ndarray, np.ndarray]:
    y_r = np.zeros(len(AU_NAMES), np.float32)
    y_g = y_r.copy()
    for k, v in aus.items():
        y_g[AU_NAMES.index(k)] = v
    return y_r, y_g


def lab(img):
    return cv2.cvtColor(img.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def rim_kernel(photo, lm, size: int) -> np.ndarray:
    """A dilation ``size`` px wide grown by the reach of the painted rim's blur
    (:mod:`ganimate.engines.focus`) on each side."""
    rim = focus.edge_softness(focus.camera_blur(photo, lm), eye_centre_distance(lm))
    reach = size + 2 * int(np.ceil(2.5 * rim))
    return np.ones((reach, reach), np.uint8)


def test_parting_lips_paints_a_dark_opening_in_the_lips_hue():
    lm = closed_mesh()
    photo = lip_photo(lm)
    y_r, y_g = target(AU25=1.0, AU26=0.8)
    painted, plan = geometry.warp_face(photo, lm, y_r, y_g, AU_NAMES, NO_TEETH)
    stretched, _ = geometry.warp_face(photo, lm, y_r, y_g, AU_NAMES, OFF)
    dest = lm[list(INNER_LIPS), :2] + plan.shifts[list(INNER_LIPS)]
    inside = np.zeros(photo.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(dest).astype(np.int32)], 1)
    polygon = inside.copy()
    inside = cv2.erode(inside, np.ones((3, 3), np.uint8)).astype(bool)
    assert inside.sum() > 100  # the lips part by several pixels
    l_paint, l_stretch = lab(painted)[inside], lab(stretched)[inside]
    assert l_paint[:, 0].mean() < 0.6 * l_stretch[:, 0].mean()  # dark, not a stretched seam
    # a dark red, not grey: the seam's hue, its chroma falling with the light as a shadow's does
    hue_paint, hue_seam = (np.degrees(np.arctan2(x[:, 2].mean(), x[:, 1].mean()))
                           for x in (l_paint, l_stretch))
    assert abs(hue_paint - hue_seam) < 15
    assert np.hypot(*l_paint[:, 1:].mean(axis=0)) > 8
    # only the opening and its soft rim (the lips' roll, the photo's blur) differ from the warp
    # without the interior
    grown = cv2.dilate(polygon, rim_kernel(photo, lm, 5)).astype(bool)
    assert not np.any(np.any(painted != stretched, axis=-1) & ~grown)


def opening_of(lm, plan) -> np.ndarray:
    dest = lm[list(INNER_LIPS), :2] + plan.shifts[list(INNER_LIPS)]
    inside = np.zeros((640, 600), np.uint8)  # lip_photo's size
    cv2.fillPoly(inside, [np.round(dest).astype(np.int32)], 1)
    return cv2.erode(inside, np.ones((3, 3), np.uint8)).astype(bool)


def teeth_share(img: np.ndarray, inside: np.ndarray, skin_l: float) -> float:
    """The issue's measure: bright (L* above the skin's + 10), low-chroma (< 22) pixels."""
    c = lab(img)[inside]
    return float(np.mean((c[:, 0] > skin_l + 10) & (np.hypot(c[:, 1], c[:, 2]) < 22)))


def test_a_smile_that_parts_the_lips_shows_the_upper_teeth():
    lm = closed_mesh()
    photo = lip_photo(lm)
    skin_l = float(lab(photo[:1, :1])[0, 0, 0])
    y_r, y_g = target(AU06=0.8, AU12=1.0, AU25=0.7, AU26=0.2)
    teeth, plan = geometry.warp_face(photo, lm, y_r, y_g, AU_NAMES)
    dark, _ = geometry.warp_face(photo, lm, y_r, y_g, AU_NAMES, NO_TEETH)
    inside = opening_of(lm, plan)
    assert inside.sum() > 100
    assert teeth_share(teeth, inside, skin_l) >= 0.1  # 0.14 here; 0 without teeth
    assert teeth_share(dark, inside, skin_l) == 0.0
    # the rest of the face is the same with or without the teeth (the opening's anti-aliased
    # edge reaches 1.3 px past the lips' line, the eroded inside's 9x9 dilation 2-3 px, and the
    # rim's blur 2.5 sigma further)
    grown = cv2.dilate(inside.astype(np.uint8), rim_kernel(photo, lm, 9)).astype(bool)
    assert not np.any(np.any(teeth != dark, axis=-1) & ~grown)


def test_no_parting_no_paint():
    lm = closed_mesh()
    photo = lip_photo(lm)
    for aus in (dict(AU04=1.0), dict(AU01=1.0, AU02=1.0), {}):
        y_r, y_g = target(**aus)
        painted, _ = geometry.warp_face(photo, lm, y_r, y_g, AU_NAMES)
        plain, _ = geometry.warp_face(photo, lm, y_r, y_g, AU_NAMES, OFF)
        assert np.array_equal(painted, plain), aus


def lens(half_gap: float, scale: float = 100.0) -> np.ndarray:
    """Inner lips as a lens around (300, 300), ``half_gap`` px from the middle line."""
    lm = np.zeros((478, 3))
    xs = np.linspace(-40, 40, 11)
    upper = np.stack([300 + xs, 300 - half_gap * np.cos(xs / 40 * np.pi / 2)], 1)
    low_x = xs[::-1][1:-1]
    lower = np.stack([300 + low_x, 300 + half_gap * np.cos(low_x / 40 * np.pi / 2)], 1)
    lm[list(INNER_LIPS), :2] = np.concatenate([upper, lower])
    return lm


def test_an_open_mouth_keeps_its_own_interior():
    """The lower lip moved 10 px: a mouth open 0.16 IOD is not painted (it shows its own teeth),
    one open 0.03 IOD is painted at half strength and not where the field reads its own opening,
    a closed one in full."""
    scale = 100.0  # IOD in px
    shifts = np.zeros((468, 2))
    shifts[list(INNER_LIPS)[11:], 1] = 10.0  # the lower lip (not the corners) moves down
    field = Field(200, 200, np.zeros((200, 200), np.float32), np.zeros((200, 200), np.float32),
                  np.ones((200, 200), np.float32))  # reads straight through (a test field)
    assert find_opening(lens(8.0), shifts, field, scale) is None
    ajar = find_opening(lens(1.5), shifts, field, scale)
    own_centre = ajar.alpha[300 - ajar.y0, 300 - ajar.x0]  # inside the photo's own opening
    new_part = ajar.alpha[307 - ajar.y0, 300 - ajar.x0]  # below it: only the moved lips cover it
    assert own_centre < 0.05 and 0.3 < new_part < 0.7
    closed = find_opening(lens(0.2), shifts, field, scale)
    assert closed.alpha[303 - closed.y0, 300 - closed.x0] > 0.9


def test_the_openings_edge_is_anti_aliased_not_a_staircase():
    """A lens-shaped opening's soft edge, summed down each column, follows the polygon's exact
    area there (a 32x finer raster) to within a tenth of a pixel: cut from the pixels' own mask,
    a pixel counted whole or not at all, the sums jumped by a pixel between neighbouring columns
    along the slanted lips (spread 0.41 px): a staircase round a dark mouth."""
    from ganimate.engines.masks import polygon_mask

    shifts = np.zeros((468, 2))
    shifts[list(INNER_LIPS)[11:], 1] = 9.3
    field = Field(200, 200, np.zeros((200, 200), np.float32), np.zeros((200, 200), np.float32),
                  np.ones((200, 200), np.float32))
    lm = lens(0.2)
    opening = find_opening(lm, shifts, field, 100.0)
    dest = lm[list(INNER_LIPS), :2] + shifts[list(INNER_LIPS)]
    k, (h, w) = 32, opening.alpha.shape
    fine = polygon_mask(dest * k + (k - 1) / 2, np.array([opening.x0, opening.y0]) * k,
                        (h * k, w * k)) > 127
    exact = cv2.resize(fine.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    middle = slice(int(0.2 * w), int(0.8 * w))
    spread = float(np.std(opening.alpha.sum(axis=0)[middle] - exact.sum(axis=0)[middle]))
    assert spread < 0.2, spread  # 0.08


def test_gums_and_tongue_are_shaded_smoothly_and_the_teeth_stay_crisp():
    """Two neighbouring facets of the scanned gums in different shades meet on a gradient, not a
    step (flat-shaded, an open mouth showed blocky patches of darker and lighter red); two teeth
    facets keep their step."""
    from ganimate.engines.teeth import _raster

    quads = np.array([[[1.5, 2.0], [10.5, 2.0], [10.5, 12.0], [1.5, 12.0]],
                      [[10.5, 2.0], [19.5, 2.0], [19.5, 12.0], [10.5, 12.0]]], np.float64)
    lab_ = np.array([[20.0, 20.0, 10.0], [40.0, 20.0, 10.0]], np.float32)
    for hard, steps in ((np.array([False, False]), (3, 11)), (np.array([True, True]), (1, 1))):
        colour, _, _ = _raster(quads, lab_, np.array([0, 1]), (14, 22), hard, 2.0)
        lightness = lab(colour * 255)[7, 5:17, 0]
        rises = np.diff(lightness)
        # the step from L* 20 to 40 spread over several pixels (soft), or one (hard)
        assert steps[0] <= np.sum(rises > 0.5) <= steps[1], (hard, np.round(lightness, 1))
        assert abs(lightness[0] - 20) < 3 and abs(lightness[-1] - 40) < 3
    # only a mouth open wide (surprise's jaw 0.62, fear's 0.40) shows them as areas; a parted one
    # (happy 0.15-0.18, anger 0.12) as a thin band under the teeth, left as it is
    from ganimate.engines.teeth import _soft_px

    config = TeethConfig()
    assert _soft_px(config, 0.18, 20.0) == 0.0 and _soft_px(config, 0.12, 20.0) == 0.0
    assert _soft_px(config, 0.62, 20.0) == pytest.approx(config.soft_tissue * 20.0)
    assert 0 < _soft_px(config, 0.3, 20.0) < config.soft_tissue * 20.0
    # the lower row in the gums' colour (a jaw drop, no AU16) is shaded as the gums are
    from ganimate.engines.teeth import hard_quads, mouth_mesh

    mesh = mouth_mesh()
    upper, lower_row = (mesh.parts == 1) & ~mesh.with_jaw, (mesh.parts == 1) & mesh.with_jaw
    assert hard_quads(mesh, 0.0)[upper].all() and not hard_quads(mesh, 0.0)[lower_row].any()
    bared = hard_quads(mesh, 1.0)
    assert bared[lower_row].all() and not bared[mesh.parts == 0].any()
    # video smooths them at every opening (a held smile's teeth change less between frames)
    video = WarpConfig().for_video().teeth
    assert _soft_px(video, 0.15, 20.0) == pytest.approx(config.soft_tissue * 20.0)


def test_seam_colour_is_the_darkest_tenth():
    lm = closed_mesh()
    photo = lip_photo(lm)
    colour = palette.seam_colour(photo, lm, eye_centre_distance(lm))
    assert colour[0] < 160 and colour[0] > colour[1]  # the dark red seam, not skin or lip


def test_teeth_a_photo_shows_move_rigidly_and_the_jaw_opens_a_dark_gap(media):
    """Surprise (1+2+25+26) on London faces that smile with their teeth showing: the upper teeth
    are the photo's own, translated with the skull (read on the nose; the stretching spline
    differs from that by 10-14 levels), and halfway between them and the dropped lower lip the
    mouth is dark (the spline stretched the teeth there: L* 178-217)."""
    from ganimate.faces import FaceMesh, largest_face
    from ganimate.images import read_rgb

    y_r, y_g = target(AU01=1.0, AU02=1.0, AU25=1.0, AU26=1.0)
    with FaceMesh() as mesh:
        for person in ("013", "022"):
            photo = read_rgb(media / "faces" / "london" / "smiling" / f"{person}.jpg")
            lm = largest_face(mesh(photo)).landmarks
            iod = eye_centre_distance(lm)
            out, plan = geometry.warp_face(photo, lm, y_r, y_g, AU_NAMES)
            t_up = plan.shifts[[1, 4, 5, 195]].mean(axis=0)  # the nose: the skull
            moved = cv2.warpAffine(photo, np.float32([[1, 0, t_up[0]], [0, 1, t_up[1]]]),
                                   photo.shape[1::-1], flags=cv2.INTER_LANCZOS4)
            top = lm[13, :2] + plan.shifts[13]  # below the moved upper lip
            x0, x1 = int(top[0] - 0.1 * iod), int(top[0] + 0.1 * iod)
            y0, y1 = int(top[1] + 0.015 * iod), int(top[1] + 0.045 * iod)
            teeth = np.abs(out[y0:y1, x0:x1].astype(float) - moved[y0:y1, x0:x1]).mean()
            # 6.3 and 6.4 here; 75-114 for a row moved with the upper lip (4-5 px down)
            assert teeth < 12, (person, teeth)
            mid = (lm[14, :2] + plan.shifts[14] + top) / 2
            assert lab(out)[int(mid[1]), int(mid[0]), 0] < 40, person


def test_reveal_grows_the_drawn_row_from_the_middle_out_in_even_steps_of_area():
    """The wipe shows ``amount`` of a lens-shaped mouth's area, from the middle out: equal steps
    of the track's fade show equal shares of teeth (the middle of the width holds most of them)."""
    lips = np.zeros((20, 2))
    lips[0], lips[10] = (20.0, 30.0), (120.0, 30.0)
    ys, xs = np.mgrid[0:60, 0:140]
    lens = np.abs(ys - 30) <= 20 * (1 - ((xs - 70) / 50.0) ** 2)  # height 1 - r^2 to the corners
    shares = [float(mouth.reveal(lips, np.zeros(2), (60, 140), a, 0.3)[lens].mean())
              for a in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert shares[0] == 0 and shares[-1] == 1
    assert np.allclose(shares, [0.0, 0.25, 0.5, 0.75, 1.0], atol=0.06), shares
    half = mouth.reveal(lips, np.zeros(2), (60, 140), 0.5, 0.3)[30]
    assert half[70] == 1 and half[22] == 0 and half[118] == 0  # the middle first


def test_neighbouring_quads_of_the_teeth_tile_without_a_seam():
    """Two quads that share an edge cover it fully: drawn anti-aliased one by one, each left
    its edge part-covered, a dark seam between every two quads that shimmered as teeth moved."""
    from ganimate.engines.teeth import _raster

    quads = np.array([[[1.75, 2.0], [10.37, 2.0], [10.37, 12.0], [1.75, 12.0]],
                      [[10.37, 2.0], [18.75, 2.0], [18.75, 12.0], [10.37, 12.0]]], np.float64)
    lab = np.array([[90.0, 1.0, 7.0], [90.0, 1.0, 7.0]], np.float32)
    colour, cover, _ = _raster(quads, lab, np.array([0, 1]), (16, 22))
    assert cover[4:10, 4:17].min() > 0.999, cover[6]
    srgb = cv2.cvtColor(lab[:1][None], cv2.COLOR_LAB2RGB)[0, 0]
    assert np.allclose(colour[4:10, 4:17], srgb, atol=1e-3)
    # the outer edges keep their share of the pixel (pixel 2 spans 1.5-2.5, pixel 19 18.5-19.5)
    assert 0.5 <= cover[6, 2] <= 0.75 and 0.25 <= cover[6, 19] <= 0.5


def _mouth_of_013(media, below: float):
    """London 013's neutral landmarks, IOD and a box round its lip seam: 0.5 IOD either side,
    0.3 above, ``below`` under it."""
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo

    rgb = read_photo(media / "faces" / "london" / "neutral" / "013.jpg").rgb
    with FaceMesh() as found:
        lm = found(rgb)[0].landmarks
    seam, iod = lm[[13, 14], :2].mean(axis=0), eye_centre_distance(lm)
    return lm, iod, tuple(int(v) for v in (seam[0] - 0.5 * iod, seam[1] - 0.3 * iod,
                                           seam[0] + 0.5 * iod, seam[1] + below * iod))


def test_the_upper_teeth_are_photographed_coloured_as_the_faces_and_hung_on_the_seam(media):
    """The atlas (a London person outside the holdout, on the skull's frame): its middle edge a
    few millimetres below the seam; drawn on a London face its teeth take the face's teeth colour
    where the scanned render has its incisors, and differ from that render; a video's upper
    teeth behind its own rows stay scanned."""
    from ganimate.engines.teeth import draw_interior, teeth_atlas

    atlas = teeth_atlas()
    assert 0.1 < atlas.edge < 0.6 and atlas.teeth[0] > 60
    assert 0.1 < (atlas.alpha > 0.5).mean() < 0.6
    lm, iod, box = _mouth_of_013(media, 0.3)
    want = np.array([80.0, 2.0, 10.0])
    drawn = {on: draw_interior(lm, 0.0, box, 60.0, np.array([120.0, 60.0, 60.0]), iod,
                               TeethConfig(atlas=on), teeth_lab=want) for on in (True, False)}
    band = (slice(int(0.25 * iod), int(0.33 * iod)), slice(int(0.35 * iod), int(0.65 * iod)))
    photo = drawn[True].rgb[band].astype(np.float32) / 255
    teeth_lab = cv2.cvtColor(photo, cv2.COLOR_RGB2LAB).reshape(-1, 3)
    assert np.abs(np.median(teeth_lab, axis=0) - want).max() < 8  # the face's teeth colour
    scanned = drawn[False].rgb[band].astype(np.float32)
    assert np.abs(drawn[True].rgb[band] - scanned).mean() > 5  # the photographed row, not quads
    upper_only = draw_interior(lm, 0.0, box, 60.0, np.array([120.0, 60.0, 60.0]), iod,
                               TeethConfig(atlas=True), teeth_lab=want, parts="upper")
    plain = draw_interior(lm, 0.0, box, 60.0, np.array([120.0, 60.0, 60.0]), iod,
                          TeethConfig(atlas=False), teeth_lab=want, parts="upper")
    np.testing.assert_array_equal(upper_only.rgb, plain.rgb)  # a video's fill behind own teeth
    # what the jaw carries (a photo's gap with TeethConfig.photo_gap): below the upper row, and
    # lower still with the jaw open
    rows = np.arange(box[3] - box[1])[:, None]

    def centre(d):
        return float((rows * d.coverage).sum() / d.coverage.sum())

    jaw = {o: draw_interior(lm, o, box, 60.0, np.array([120.0, 60.0, 60.0]), iod,
                            TeethConfig(atlas=False), teeth_lab=want, parts="jaw")
           for o in (0.0, 0.5)}
    assert centre(jaw[0.0]) > centre(upper_only) and centre(jaw[0.5]) > centre(jaw[0.0]) + 2
    # photos draw them; video keeps the scanned row (the photographed texture added flicker)
    assert WarpConfig().teeth.atlas and not WarpConfig().for_video().teeth.atlas


def test_the_lower_teeth_a_snarl_bares_are_photographed_too(media):
    """Where the target bares the lower teeth, they are the atlas' row turned upside down and
    narrowed, on the scanned lower incisors' tips: lit teeth, not the scanned row's flat grey
    plate (a reviewer's "dentures" under `-e anger`); where it does not, nothing changes."""
    from ganimate.engines.teeth import draw_interior

    lm, iod, box = _mouth_of_013(media, 0.5)

    def drawn(config, lower):
        d = draw_interior(lm, 0.4, box, 60.0, np.array([120.0, 60.0, 60.0]), iod, config,
                          teeth_lab=np.array([80.0, 2.0, 10.0]), lower=lower)
        return lab(d.rgb)[..., 0]

    scanned, photographed = (drawn(TeethConfig(lower_atlas=a), 1.0) for a in (None, (0.7, 0.85)))
    changed = np.abs(photographed - scanned) > 2
    rows = np.flatnonzero(changed.any(axis=1))
    assert changed.sum() > 0.02 * scanned.size, changed.sum()
    assert rows.min() > 0.4 * iod  # below the upper row (the seam is 0.3 IOD down the box)
    lift = float(np.mean(photographed[changed] - scanned[changed]))
    assert lift > 8, lift  # 13: teeth lit as teeth, not a grey plate
    hidden = [drawn(TeethConfig(lower_atlas=a), 0.0) for a in (None, (0.7, 0.85))]
    np.testing.assert_array_equal(*hidden)


def test_drawn_teeth_are_no_lighter_than_the_light_on_the_eyes_allows(media):
    """A dim photo (a London face at 0.4 of its light): its drawn teeth were lit as the studio's
    (L* 76.5 whatever the light), white teeth glowing in a dark face. They are now at most
    ``over_whites`` lighter than the whites of the eyes; in the studio's own light, unchanged."""
    from ganimate.engines.cast import whites
    from ganimate.engines.teeth import photo_teeth_lab, skin_lightness
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo

    rgb = read_photo(media / "faces" / "london" / "neutral" / "013.jpg").rgb
    dim = (rgb * 0.4).astype(np.uint8)
    with FaceMesh() as mesh:
        for photo, capped in ((rgb, False), (dim, True)):
            lm = mesh(photo)[0].landmarks
            skin = skin_lightness(photo, lm, eye_centre_distance(lm))
            lab_ = photo_teeth_lab(photo, lm, skin)
            assert (lab_ is not None) == capped
            if capped:
                eyes = float(np.median(whites(photo, lm)[:, 0]))
                assert lab_[0] <= eyes + TeethConfig().over_whites + 1e-6 and lab_[0] < 70
            assert photo_teeth_lab(photo, lm, skin, TeethConfig(over_whites=0)) is None


def _surprised(media, face: str):
    """London ``face`` edited `-e surprise` as it was when the tests that start from it were
    measured: its scanned lower teeth drawn (``TeethConfig.lower_full`` 0: a grey row along the
    lower lip, now the gums' colour; not photographed, ``lower_atlas`` None), its lower lip a V
    (``MouthConfig.round_lips`` 0); the mouth they close is the same open mouth."""
    from ganimate import api
    from ganimate.engines import WarpEngine
    from ganimate.images import read_photo

    photo = read_photo(media / "faces" / "london" / "neutral" / f"{face}.jpg").rgb
    engine = WarpEngine(dataclasses.replace(
        WarpConfig(), teeth=TeethConfig(lower_full=0, lower_atlas=None),
        mouth=MouthConfig(round_lips=0.0)))
    return api.edit_image(photo, expression="surprise", hands=False, engine=engine)


def _inner_mouth(rgb: np.ndarray):
    from ganimate.evaluation.mouth import read_mouth
    from ganimate.faces import FaceMesh

    with FaceMesh() as mesh:
        return read_mouth(rgb, mesh(rgb)[0].landmarks)


def test_a_smile_from_a_surprised_face_shows_teeth_not_a_squeezed_cavity(media):
    """A surprised face's mouth is a dark cavity (no teeth of its own); `-e happy` narrows it.
    Squeezed, the cavity became a dark slit with no smile's teeth (happy read on 3 of 26
    surprised London faces); drawn anew between the moved lips it shows teeth (12 of 26)."""
    from ganimate import api
    from ganimate.engines import WarpEngine

    for face in ("005", "013"):
        surprised = _surprised(media, face)
        assert _inner_mouth(surprised).teeth < 0.05  # a dark cavity
        off = dataclasses.replace(WarpConfig(), mouth=MouthConfig(redraw_dark=0.0))
        squeezed = api.edit_image(surprised, expression="happy", hands=False,
                                  engine=WarpEngine(off))
        smile = api.edit_image(surprised, expression="happy", hands=False)
        assert _inner_mouth(squeezed).teeth < 0.1
        assert _inner_mouth(smile).teeth > 0.3, face


def test_lips_that_the_edit_closes_meet_on_one_smooth_seam(media):
    """`-e sad` on a surprised face narrows its gaping mouth to nearly shut. Point by point the
    inner lips crossed (a jagged, black-edged zig-zag); sealed, the moved upper lip never lies
    below the lower one and the seam bends smoothly."""
    from ganimate.faces import FaceMesh, eye_centre_distance

    surprised = _surprised(media, "009")
    with FaceMesh() as mesh:
        lm = mesh(surprised)[0].landmarks.astype(np.float64)
    scale = eye_centre_distance(lm)
    y_r = np.zeros(len(AU_NAMES), np.float32)
    y_r[[AU_NAMES.index("AU25"), AU_NAMES.index("AU26")]] = (0.8, 0.9)
    y_g = np.zeros(len(AU_NAMES), np.float32)
    y_g[[AU_NAMES.index("AU15"), AU_NAMES.index("AU17")]] = (0.8, 0.6)

    def lips(config: MouthConfig):
        shifts = geometry.mesh_displacement(lm, y_r, y_g, AU_NAMES)
        moved = lm[list(INNER_LIPS), :2] + closing.seal_lips(lm, shifts, scale, config)[
            list(INNER_LIPS)]
        upper, lower = moved[:11], moved[[10, *range(11, 20), 0]]
        xs = np.linspace(moved[0, 0] + 2, moved[10, 0] - 2, 40)
        uy = np.interp(xs, *np.array(sorted(upper.tolist())).T)
        ly = np.interp(xs, *np.array(sorted(lower.tolist())).T)
        wiggle = np.abs(np.diff(upper[:, 1], 2)).max() / scale
        return (ly - uy).min() / scale, wiggle

    crossing, wiggle = lips(MouthConfig(seal_below=0.0))
    # unsealed: lips crossed by 0.025 IOD, the upper one bent by 0.05 IOD from point to point
    assert crossing < -0.01 and wiggle > 0.03, (crossing, wiggle)
    gap, smooth = lips(MouthConfig())  # sealed: 0.0004 and 0.003
    assert gap >= -1e-6 and smooth < 0.2 * wiggle, (gap, smooth, wiggle)


def test_closed_mouths_are_not_sealed_or_redrawn():
    """A closed mouth (every London neutral photo) is left exactly as the basis moves it."""
    lm = closed_mesh()
    y_r = np.zeros(len(AU_NAMES), np.float32)
    y_g = y_r.copy()
    y_g[AU_NAMES.index("AU15")] = 1.0
    shifts = geometry.mesh_displacement(lm, y_r, y_g, AU_NAMES)
    assert closing.seal_lips(lm, shifts, eye_centre_distance(lm)) is shifts


_OUTER_LIPS = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181,
               91, 146]


def _lips_dark_share(rgb, mesh) -> float:
    """The share of the re-detected lips' pixels (between the outer and inner lip lines) darker
    than 0.55 of their median grey: the cavity read into the lips."""
    lm = mesh(rgb)[0].landmarks[:, :2]
    lips = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(lm[_OUTER_LIPS]).astype(np.int32)], 1)
    cv2.fillPoly(lips, [np.round(lm[list(INNER_LIPS)]).astype(np.int32)], 0)
    grey = rgb.mean(axis=2)[lips == 1]
    return float((grey < 0.55 * np.median(grey)).mean())


def test_lips_sealed_shut_show_lip_not_the_cavity_they_closed_over(media):
    """`-e sad` on a surprised face squeezes its gaping mouth shut. A smooth field cannot fold:
    it read the dark cavity into the lips beside the seam (27-32% of the re-detected lips' pixels
    cavity-dark on faces 115 and 172); sealed and folded, the lips read their own edge (6-7%,
    the input's own lips: 0.4-4%)."""
    from ganimate import api
    from ganimate.engines import WarpEngine
    from ganimate.faces import FaceMesh

    # unsealed, and the lips' parting as the estimator reads it (read through the basis, the
    # squeezed lips cross less: 11% cavity-dark)
    unsealed = WarpEngine(dataclasses.replace(
        WarpConfig(), mouth=MouthConfig(seal_below=0.0, seal_shut=False),
        open_lips_from_landmarks=False))
    with FaceMesh() as mesh:
        for face in ("115", "172"):
            surprised = _surprised(media, face)
            before = _lips_dark_share(api.edit_image(surprised, expression="sad", hands=False,
                                                     engine=unsealed), mesh)
            after = _lips_dark_share(api.edit_image(surprised, expression="sad", hands=False),
                                     mesh)
            assert before > 0.2 and after < 0.1 and after < 0.4 * before, (face, before, after)


def test_a_broad_smile_sealed_shows_no_dark_corners(media):
    """`-e sad` on a broad smile (London 027 and 120 smiling) seals the lips; the dark of the
    mouth near its corners lies a pixel or three past the tracker's inner-lip line, and read into
    the lips it left dark pockets at both ends of the seam (6.0% and 6.5% of the lips' pixels
    cavity-dark; 3.9% and 5.1% with the lips stretched). With the fold and the stretch reaching
    past the line at the corners (MouthConfig.fold_margin): 0-0.8%."""
    from ganimate import api
    from ganimate.engines import WarpEngine
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo

    at_line = WarpEngine(dataclasses.replace(WarpConfig(), mouth=MouthConfig(fold_margin=0.0)))
    with FaceMesh() as mesh:
        for face in ("027", "120"):
            smile = read_photo(media / f"faces/london/smiling/{face}.jpg").rgb
            before = _lips_dark_share(api.edit_image(smile, expression="sad", hands=False,
                                                     engine=at_line), mesh)
            after = _lips_dark_share(api.edit_image(smile, expression="sad", hands=False), mesh)
            assert before > 0.03 and after < 0.015, (face, before, after)


def test_drawn_teeth_take_the_photos_colour_cast(media):
    """A warm cast (a painting, old film: R x1.12, B x0.78) makes the person's own teeth yellow;
    drawn in a fixed colour they stayed 21 b* bluer (cold blue-white teeth in a warm picture).
    Read on the whites of the eyes, the cast is 0 in ordinary light (the photo edited as before)
    and the drawn teeth take it."""
    from ganimate import api
    from ganimate.engines import WarpEngine
    from ganimate.engines.cast import colour_cast
    from ganimate.engines.mouth import own_teeth_lab, teeth_split
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo

    def warm(rgb):
        return np.clip(rgb.astype(np.float64) * (1.12, 1.0, 0.78), 0, 255).astype(np.uint8)

    def teeth_b(rgb, mesh):
        lips = mesh(rgb)[0].landmarks[list(INNER_LIPS), :2].astype(np.float64)
        return float(own_teeth_lab(rgb, lips, teeth_split(rgb, lips))[2])

    fixed = WarpEngine(dataclasses.replace(WarpConfig(), teeth=TeethConfig(cast=False)))
    with FaceMesh() as mesh:
        for face in ("013", "120"):
            neutral = read_photo(media / "faces/london/neutral" / f"{face}.jpg").rgb
            smile = read_photo(media / "faces/london/smiling" / f"{face}.jpg").rgb
            assert np.array_equal(colour_cast(neutral, mesh(neutral)[0].landmarks), [0, 0])
            cast = colour_cast(warm(neutral), mesh(warm(neutral))[0].landmarks)
            assert cast[1] > 10, cast  # yellow whites
            own = teeth_b(warm(smile), mesh)
            drawn = teeth_b(api.edit_image(warm(neutral), expression="happy", hands=False), mesh)
            before = teeth_b(api.edit_image(warm(neutral), expression="happy", hands=False,
                                            engine=fixed), mesh)
            assert abs(drawn - own) < 6 and abs(before - own) > 12, (face, own, drawn, before)


def test_a_closed_mouth_pressed_by_sad_is_laid_on_one_seam(media):
    """`-e sad` (AU15 and the chin raiser AU17) moves a closed mouth's upper inner lip below
    its lower one (0.064 IOD median over the 26 held-out people, up to 0.15): the field folds
    there and the lips showed a wavy, zig-zag seam. Laid on one seam (closing.press_weight):
    no overlap; an edit that parts the lips (happy) is untouched."""
    from ganimate.engines import WarpEngine, photo_aus
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo
    from ganimate.targets import build_target
    from ganimate.targets.options import build_spec

    engine = WarpEngine()
    crossed = dataclasses.replace(engine.config, mouth=MouthConfig(press_cross=0.0))
    with FaceMesh() as mesh:
        for face in ("027", "042"):
            photo = read_photo(media / f"faces/london/neutral/{face}.jpg").rgb
            found = mesh(photo)[0]
            lm, scale = found.landmarks, eye_centre_distance(found.landmarks)
            y_r = photo_aus(engine, [found])
            overlap = {}
            for expression in ("sad", "happy"):
                y_g = build_target(y_r, build_spec(engine.au_space, expression=expression),
                                   engine.au_names)
                for name, config in (("default", engine.config), ("crossed", crossed)):
                    plan = geometry.plan_warp(lm, y_r[0], y_g[0], engine.au_names,
                                              photo.shape[1::-1], config)
                    moved = lm[list(INNER_LIPS), :2] + plan.shifts[list(INNER_LIPS)]
                    overlap[expression, name] = closing.lip_overlap(moved) / scale
            assert overlap["sad", "crossed"] > 0.03, (face, overlap)  # measured 0.05-0.15
            assert overlap["sad", "default"] < 0.005, (face, overlap)
            assert overlap["happy", "default"] == overlap["happy", "crossed"] < 0, (face, overlap)


def _london_target(mesh, path, expression: str, engine):
    """A London photo, its face, and y_r and the preset's y_g (each (1, K)) as edit image reads
    them."""
    from ganimate.engines import photo_aus
    from ganimate.images import read_photo
    from ganimate.targets import build_target
    from ganimate.targets.options import build_spec

    photo = read_photo(path).rgb
    found = mesh(photo)[0]
    y_r = photo_aus(engine, [found])
    return photo, found, y_r, build_target(
        y_r, build_spec(engine.au_space, expression=expression), engine.au_names)


def _smile_to_neutral(media, mesh, face: str, config: WarpConfig):
    """London ``face`` smiling, its warp plan to `-e neutral`: (photo, landmarks, plan)."""
    from ganimate.engines import WarpEngine

    engine = WarpEngine(config)
    photo, found, y_r, y_g = _london_target(mesh, media / f"faces/london/smiling/{face}.jpg",
                                            "neutral", engine)
    return photo, found.landmarks, geometry.plan_warp(found.landmarks, y_r[0], y_g[0],
                                                       engine.au_names, photo.shape[1::-1],
                                                       config)


def test_a_broad_smile_closed_by_neutral_shows_no_line_of_teeth(media):
    """`-e neutral` on broad smiles (London 009, 120 smiling): the estimator reads their AU25 at
    1 at most, where the basis needs more to close them, and a line of their teeth stayed between
    lips not quite shut (3.5% and 14% of the re-detected lips' pixels teeth-light). An open photo
    mouth's parting is now read through the basis (open_lips_from_landmarks), and a target that
    wants the lips shut seals them (MouthConfig.seal_shut): each alone closes them, under 1%."""
    from ganimate import api
    from ganimate.engines import WarpEngine
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo

    # the estimator's reading, and the lips sealed only as far as the edit's move brings them
    estimator = WarpEngine(dataclasses.replace(WarpConfig(), open_lips_from_landmarks=False,
                                               mouth=MouthConfig(seal_shut=False)))
    with FaceMesh() as mesh:
        for face in ("009", "120"):
            smile = read_photo(media / f"faces/london/smiling/{face}.jpg").rgb
            before = _lips_teeth_share(api.edit_image(smile, expression="neutral", hands=False,
                                                      engine=estimator), mesh)
            after = _lips_teeth_share(api.edit_image(smile, expression="neutral", hands=False),
                                      mesh)
            assert before > 0.02 and after < 0.01, (face, before, after)


def _lips_lab(rgb, mesh) -> tuple[np.ndarray, np.ndarray]:
    """The CIELAB pixels inside the re-detected outer lips, and the landmarks."""
    lm = mesh(rgb)[0].landmarks
    lips = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(lips, [np.round(lm[_OUTER_LIPS, :2]).astype(np.int32)], 1)
    return lab(rgb)[lips == 1], lm


def _lips_teeth_share(rgb, mesh, brighter: float | None = None) -> float:
    """The share of the re-detected outer lips' pixels that are teeth-light (L* >= the cheeks'
    - 5, a* <= the cheeks' - 2), or with ``brighter``, whiter than the cheeks (L* >= theirs +
    ``brighter``)."""
    from ganimate.evaluation.mouth import skin_reference

    px, lm = _lips_lab(rgb, mesh)
    skin_l, skin_a = skin_reference(rgb, lm, 0.15 * eye_centre_distance(lm))
    if brighter is not None:
        return float((px[:, 0] >= skin_l + brighter).mean())
    return float(((px[:, 0] >= skin_l - 5) & (px[:, 1] <= skin_a - 2)).mean())


def test_neutral_shuts_a_gaping_mouth_without_a_band_of_teeth(media):
    """`-e neutral` on a surprised face (London 120, 128, first edited `-e surprise`): the
    edit's own move leaves the gaping lips apart (the soft limit of each point's move), the
    opening was drawn anew as a closed mouth that the edit parts, and a white band of drawn teeth
    showed between them. A target that asks for lips that meet (AU25, AU26, AU27 at 0) now seals
    them in full, with no lens (MouthConfig.seal_shut)."""
    from ganimate import api
    from ganimate.engines import WarpEngine
    from ganimate.faces import FaceMesh

    apart = WarpEngine(dataclasses.replace(WarpConfig(), mouth=MouthConfig(seal_shut=False)))
    with FaceMesh() as mesh:
        for face in ("120", "128"):
            surprised = _surprised(media, face)
            before = _lips_teeth_share(api.edit_image(surprised, expression="neutral",
                                                      hands=False, engine=apart), mesh, 10)
            after = _lips_teeth_share(api.edit_image(surprised, expression="neutral",
                                                     hands=False), mesh, 10)
            # 0.105 and 0.096 before, 0 after on this project's 2-core EPYC. 086, tested here
            # until a CPU of the same model read 0.015 on one machine and 0.008 on another, is
            # left out: its band is too thin to bear the spread between machines. So is 128's
            # band *before* (0.0027 on another EPYC, 2026-12-07, at the same commit): it shows
            # the seal's result (0 on every machine), 120 both.
            assert after < 0.003, (face, before, after)
            assert face == "128" or before > 0.03, (face, before, after)


def test_lips_sealed_shut_have_no_line_of_teeth_between_them(media, monkeypatch):
    """`neutral` or `sad` on a surprised face (London 108, 124): the lips meet, sealed in full,
    but the opening between them was still painted (the dark mouth the edit narrows is drawn
    anew) with drawn teeth: a grey line along the seam, black tails at the corners. A seal the
    target forces paints nothing between the lips."""
    from ganimate import api
    from ganimate.faces import FaceMesh

    def grey_share(rgb, mesh) -> float:  # grey (chroma < 12), not dark, inside the outer lips
        px, _ = _lips_lab(rgb, mesh)
        return float(((np.hypot(px[:, 1], px[:, 2]) < 12) & (px[:, 0] > 30)).mean())

    with FaceMesh() as mesh:
        for face in ("108", "124"):
            surprised = _surprised(media, face)
            for target in ("neutral", "sad"):
                after = grey_share(api.edit_image(surprised, expression=target, hands=False),
                                   mesh)
                with monkeypatch.context() as m:
                    m.setattr(geometry, "forced_seal", lambda *a, **k: 0.0)
                    before = grey_share(api.edit_image(surprised, expression=target,
                                                       hands=False), mesh)
                # 0.06-0.07 painted, 0-0.005 not
                assert before > 0.03 and after < 0.015, (face, target, before, after)


def test_sealed_lips_are_their_own_lips_stretched_meeting_on_a_dark_line(media):
    """A broad smile sealed by `-e neutral` (London 013, 120): folded alone, every pixel of the
    upper lip's band over the closed mouth read one row of the lip (a pale smeared band, no upper
    lip); stretched (MouthConfig.stretch_lips), each row of the band reads the next row of the
    photo's upper lip, from its outer edge inward. The seam between them is shaded dark
    (MouthConfig.seam_shade), as lips that meet are."""
    from ganimate.faces import FaceMesh

    folded = dataclasses.replace(WarpConfig(), mouth=MouthConfig(stretch_lips=False))
    unshaded = dataclasses.replace(WarpConfig(), mouth=MouthConfig(seam_shade=0.0))
    with FaceMesh() as mesh:
        for face in ("013", "120"):
            reads = {}
            for name, config in (("stretched", WarpConfig()), ("folded", folded)):
                _, lm, plan = _smile_to_neutral(media, mesh, face, config)
                moved = lm[:468, :2] + plan.shifts
                x = int(round(moved[0, 0]))  # the middle of the upper lip (outer point 0)
                rows = np.arange(int(np.ceil(moved[0, 1])), int(0.5 * (moved[13, 1]
                                                                       + moved[14, 1])))
                reads[name] = rows + plan.field.dy[rows - plan.field.y0, x - plan.field.x0]
            outer, inner = lm[0, 1], lm[13, 1]  # the photo's upper lip at its middle
            assert len(reads["stretched"]) >= 3, (face, reads)
            assert np.all(np.diff(reads["stretched"]) > 0.2), (face, reads)
            assert outer - 0.5 < reads["stretched"].min() and reads["stretched"].max() < inner
            assert np.sum(np.abs(np.diff(reads["folded"])) < 0.05) >= 2, (face, reads)
            _, lm, plan = _smile_to_neutral(media, mesh, face, WarpConfig())
            _, _, flat = _smile_to_neutral(media, mesh, face, unshaded)
            seam = (lm[13, :2] + plan.shifts[13] + lm[14, :2] + plan.shifts[14]) / 2
            at = (int(round(seam[1])) - plan.field.y0, int(round(seam[0])) - plan.field.x0)
            unshaded_at = 1.0 if flat.field.shade is None else flat.field.shade[at]
            assert plan.field.shade[at] < 0.8 * unshaded_at, (face, unshaded_at)


def test_a_closed_smile_made_sad_keeps_each_lip_on_its_side_of_the_seam(media):
    """`-e sad` on closed smiles moves the upper lip down by up to 0.2 IOD (London 070): laid on
    one seam, the inner lips met, but the points inside the lips kept their own moves and the
    upper lip's crossed below the seam, the lower one's above it (a wavy, scalloped edge). They
    now come along with the inner edge (``closing._body_moves``). London 042's lips, 0.021 IOD
    apart, were neither pressed (a closed mouth: under 0.02) nor sealed (fading in from 0.02):
    crossed by 0.11 IOD, a sawtooth seam; the press now fades out as the seal fades in."""
    from ganimate.engines import WarpEngine
    from ganimate.engines.closing import _LIP_BODY, _LOWER, _UPPER, _MouthFrame
    from ganimate.faces import FaceMesh

    engine = WarpEngine()
    with FaceMesh() as mesh:
        for face in ("042", "070"):
            _, found, y_r, y_g = _london_target(mesh, media / f"faces/london/smiling/{face}.jpg",
                                                "sad", engine)
            lm, scale = found.landmarks, eye_centre_distance(found.landmarks)
            raw = geometry.mesh_displacement(lm, y_r[0], y_g[0], engine.au_names)
            assert closing.press_weight(lm, raw, scale) > 0.9, face
            laid, _ = closing.lay_lips(lm, raw, scale)
            moved = lm[:468, :2] + laid
            home = _MouthFrame.of(lm[list(INNER_LIPS), :2])
            seam = _MouthFrame.of(moved[list(INNER_LIPS)])
            body = np.array(_LIP_BODY)
            rel = lm[body, :2] - home.origin
            upper = rel @ home.down < 0.5 * (home.lip_y(_UPPER, rel @ home.along)
                                              + home.lip_y(_LOWER, rel @ home.along))
            at = moved[body] - seam.origin
            x, y = at @ seam.along, at @ seam.down
            inside = (x > 0.1 * seam.width) & (x < 0.9 * seam.width)
            line = 0.5 * (seam.lip_y(_UPPER, x) + seam.lip_y(_LOWER, x))
            crossed = np.where(upper, y - line, line - y)[inside]  # > 0: on the wrong side
            assert crossed.max() < 0.01 * scale, (face, crossed.max() / scale)


def test_neutral_on_a_closed_mouth_keeps_it_closed(media):
    """`-e neutral` on closed mouths (London 092 and 172, neutral photos): relaxing what the
    estimator reads (a faint smile) parted their lips by 0.01-0.03 IOD through the basis, and a
    thread of drawn teeth showed between them. A target that wants the lips shut now lays them on
    one seam instead (MouthConfig.seal_shut)."""
    from ganimate import api
    from ganimate.engines import WarpEngine
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo

    apart = WarpEngine(dataclasses.replace(WarpConfig(), mouth=MouthConfig(seal_shut=False)))
    with FaceMesh() as mesh:
        for face in ("092", "172"):
            photo = read_photo(media / f"faces/london/neutral/{face}.jpg").rgb
            before = _lips_teeth_share(api.edit_image(photo, expression="neutral", hands=False,
                                                      engine=apart), mesh, 0)
            after = _lips_teeth_share(api.edit_image(photo, expression="neutral", hands=False),
                                      mesh, 0)
            # measured 0.024 -> 0.003 and 0.079 -> 0.019 (lips' pixels as light as the cheeks)
            assert before > 0.01 and after < 0.4 * before, (face, before, after)


def test_only_a_target_that_closes_the_lips_seals_them():
    """closing.shut_of: `neutral` (no parting AU) asks for lips that meet, and closes a face
    whose own parting is larger; an edit that leaves the parting as the face has it (the null
    edit, `--au AU01=0.8`) closes nothing, so a slightly open mouth is left open."""
    names = list(AU_NAMES)
    y_r = np.zeros(len(names), np.float32)
    y_r[names.index("AU25")] = 0.2
    neutral = np.zeros_like(y_r)
    brows = y_r.copy()
    brows[names.index("AU01")] = 0.8
    assert closing.shut_of(y_r, neutral, names) == (1.0, 1.0)
    shut, closes = closing.shut_of(y_r, brows, names)
    assert 0 < shut < 1 and closes == 0.0
    assert closing.shut_of(y_r, neutral, ["AU01", "AU12"]) == (0.0, 0.0)  # nothing parts


def _grey_share(rgb, mesh) -> float:
    """The share of the re-detected inner mouth's pixels that are grey and not dark (L* > 30,
    chroma < 12): drawn teeth in the lips' shadow, not the dark red cavity."""
    inside = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(mesh(rgb)[0].landmarks[list(INNER_LIPS), :2]).astype(np.int32)],
                 1)
    px = lab(rgb)[inside == 1]
    return float(((px[:, 0] > 30) & (np.hypot(px[:, 1], px[:, 2]) < 12)).mean())


def test_a_jaw_drop_hides_the_lower_teeth_and_a_snarl_bares_them(media):
    """`-e surprise` on neutral faces (London 070, 172): the scanned lower teeth drawn along the
    lower lip showed as a flat grey band (a jaw that drops takes the lower lip with it, which
    covers them); only a target that depresses the lower lip (AU16, `anger`) bares them."""
    from ganimate import api
    from ganimate.engines import WarpEngine
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo

    always = WarpEngine(dataclasses.replace(WarpConfig(), teeth=TeethConfig(lower_full=0)))
    with FaceMesh() as mesh:
        for face in ("070", "172"):
            photo = read_photo(media / "faces" / "london" / "neutral" / f"{face}.jpg").rgb
            edits = [api.edit_image(photo, expression="surprise", hands=False, engine=always),
                     api.edit_image(photo, expression="surprise", hands=False),
                     api.edit_image(photo, expression="anger", hands=False)]
            shares = [_grey_share(edit, mesh) for edit in edits]
            # 0.123 and 0.126 with the row, 0.000 and 0.005 without, 0.6-0.7 under anger
            assert shares[0] > 0.06 and shares[1] < 0.03 and shares[2] > 0.4, (face, shares)


def _dark_share(rgb, mesh) -> float:
    """The share of the re-detected inner mouth's pixels darker than L* 20 (the cavity)."""
    inside = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.round(mesh(rgb)[0].landmarks[list(INNER_LIPS), :2]).astype(np.int32)],
                 1)
    return float((lab(rgb)[inside == 1][:, 0] < 20).mean())


def _without_and_with(media, start: str, face: str, expression: str, without: WarpConfig,
                      config: WarpConfig | None = None):
    """London ``face``'s ``start`` photo edited to ``expression`` by a warp with ``without`` (a
    feature turned off) and by the default one (or ``config``)."""
    from ganimate import api
    from ganimate.engines import WarpEngine
    from ganimate.images import read_photo

    photo = read_photo(media / "faces" / "london" / start / f"{face}.jpg").rgb
    return [api.edit_image(photo, expression=expression, hands=False, engine=WarpEngine(without)),
            api.edit_image(photo, expression=expression, hands=False,
                           engine=WarpEngine(config) if config else "warp")]


def test_a_snarl_from_a_smile_bares_the_lower_teeth_not_a_hole(media):
    """`-e anger` on a smile (London 013, 032): the person's own upper teeth move with the lip and
    the jaw drops; the gap below them was a black hole (half of the mouth darker than L* 20). A
    target that depresses the lower lip (AU16) shows the lower teeth there."""
    from ganimate.faces import FaceMesh

    hole = dataclasses.replace(WarpConfig(), teeth=TeethConfig(lower_full=0))
    with FaceMesh() as mesh:
        for face in ("013", "032"):
            before, after = (_dark_share(edit, mesh) for edit in _without_and_with(
                media, "smiling", face, "anger", hole))
            assert before > 0.3 and after < 0.15, (face, before, after)  # 0.52, 0.53: 0.08, 0.04


def _cavity_fullness(rgb, mesh) -> float:
    """How far the dark cavity (L* < 25, its first run down) reaches below the line between the
    re-detected inner mouth corners a quarter of the way in from each, over how far at the
    middle: 0.5 for a V, 0.75 for a parabola."""
    inner = mesh(rgb)[0].landmarks[list(INNER_LIPS), :2]
    grey = lab(rgb)[..., 0]

    def depth(q: float) -> float:  # the first run of dark pixels down from the line
        x, y = inner[0] + q * (inner[10] - inner[0])
        dark = grey[int(y):int(y) + 200, int(round(x))] < 25
        if not dark.any():
            return 0.0
        start = int(np.argmax(dark))
        ends = np.flatnonzero(~dark[start:])
        return float(start + (ends[0] if len(ends) else len(dark) - start) - 1)

    return (depth(0.25) + depth(0.75)) / 2 / max(depth(0.5), 1.0)


def test_a_mouth_opened_wide_is_round_not_a_kite(media):
    """`-e surprise` on closed mouths (London 013, 086): the scanned jaw drop bends the lower
    lip's inner line at its middle point, and the cavity was a kite, its lower edge two straight
    lines meeting in a V. Laid on a parabola through the corners, it is round."""
    from ganimate.faces import FaceMesh

    # the cavity alone (no tongue drawn in the lips' lighter colour), whose dark shape is read
    cavity = dataclasses.replace(WarpConfig(), teeth=TeethConfig(strength=0.0))
    kite = dataclasses.replace(cavity, mouth=MouthConfig(round_lips=0.0))
    with FaceMesh() as mesh:
        for face in ("013", "086"):
            before, after = (_cavity_fullness(edit, mesh) for edit in _without_and_with(
                media, "neutral", face, "surprise", kite, cavity))
            # the cavity alone, its rim softened (:mod:`ganimate.engines.focus`): 0.59, 0.59 ->
            # 0.69, 0.69 (022, 061: 0.59 -> 0.68, 0.69 -> 0.81); drawn, at 25 it read the
            # dark gums: 0.56, 0.63 -> 0.72, 0.75
            assert before < 0.66 and after > before + 0.06, (face, before, after)


def test_a_video_rounds_the_opening_as_far_as_its_track_holds_the_mouth_closed(media):
    """In video the rounding follows the track's closedness (carried over frames), not each
    frame's own lips: open (0), the edit's lower lip is left as the jaw drop bends it."""
    from ganimate.engines import load_engine
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo
    from ganimate.targets.presets import apply_expression, parse_expression

    photo = read_photo(media / "faces" / "london" / "neutral" / "013.jpg").rgb
    with FaceMesh() as mesh:
        lm = mesh(photo)[0].landmarks.astype(np.float64)
    names = load_engine("warp", None, "cpu").au_names
    y_r = np.zeros(len(names), np.float32)
    y_g = apply_expression(y_r, parse_expression("surprise"), names)
    scale = eye_centre_distance(lm)
    shifts = geometry.mesh_displacement(lm, y_r, y_g, names)
    lower = list(np.array(INNER_LIPS)[[12, 13, 17, 18]])  # a quarter of the way from each corner
    kept = closing.round_lips(lm, shifts, scale, MouthConfig(), closed=0.0)
    rounded = closing.round_lips(lm, shifts, scale, MouthConfig(), closed=1.0)
    assert np.array_equal(kept, shifts)
    assert np.abs(rounded[lower] - shifts[lower]).max() > 0.02 * scale  # 0.035 IOD down


def test_teeth_drawn_under_a_photos_own_take_their_colour(media):
    """The lower teeth drawn in the gap a photo's own upper teeth leave (`anger` on a smile) take
    those teeth's colour; elsewhere a photo in ordinary light keeps the drawn teeth's own."""
    from ganimate.engines.mouth import own_teeth_lab, teeth_split
    from ganimate.engines.teeth import photo_teeth_lab
    from ganimate.faces import FaceMesh
    from ganimate.images import read_photo

    photo = read_photo(media / "faces" / "london" / "smiling" / "032.jpg").rgb
    with FaceMesh() as mesh:
        lm = mesh(photo)[0].landmarks
    lips = lm[list(INNER_LIPS), :2]
    own = own_teeth_lab(photo, lips, teeth_split(photo, lips))
    assert own is not None
    assert np.array_equal(photo_teeth_lab(photo, lm, 60.0, own=True), own)
    assert photo_teeth_lab(photo, lm, 60.0) is None
