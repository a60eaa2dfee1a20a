"""The mouth a warp paints (step 4 of :mod:`ganimate.engines.geometry`): where the warp parts the
lips, the opening (:mod:`ganimate.engines.mouth`) with the scanned teeth, gums and tongue drawn in
it (:mod:`ganimate.engines.teeth`), and the gap a photo's own teeth leave when they move rigidly;
their colours read from the face (:mod:`ganimate.engines.palette`), their rim as soft as the
photo's (:mod:`ganimate.engines.focus`).

:func:`plan_mouth` decides from the frame before the warp writes (``out`` may be the frame);
:func:`paint_mouth` paints on the warped frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ganimate.engines.closing import narrows_dark_mouth, wants_open
from ganimate.engines.focus import camera_blur, edge_softness, in_focus
from ganimate.engines.mouth import (
    MouthMemory,
    Opening,
    find_opening,
    paint_opening,
    rigid_teeth,
    teeth_in_middle,
)
from ganimate.engines.palette import lips_lab, seam_colour
from ganimate.engines.teeth import (
    Interior,
    draw_interior,
    gap_shows_jaw,
    jaw_opening,
    lower_teeth,
    motion_blurred,
    photo_teeth_lab,
    skin_lightness,
)
from ganimate.engines.touch import fade_opening
from ganimate.engines.warp_config import WarpConfig
from ganimate.faces import eye_centre_distance

_MESH_POINTS = 468


@dataclass(frozen=True)
class MouthEdit:
    """One face's edit, as the mouth's painters need it."""

    frame: np.ndarray  # the frame before the warp
    landmarks: np.ndarray  # its 478 mediapipe points, frame pixels
    y_r: np.ndarray
    y_g: np.ndarray
    au_names: Sequence[str]
    config: WarpConfig
    memory: MouthMemory | None  # a video track's (None: this frame alone)
    basis: object  # the AU -> mesh basis (its ``jaw_open`` weights open the drawn jaw)

    @cached_property
    def scale(self) -> float:  # the face's IOD, px
        return eye_centre_distance(self.landmarks)


@dataclass
class MouthPlan:
    """What :func:`paint_mouth` paints: the opening the warp makes and the gap the photo's own
    teeth leave (None: not there), the cavity's colour, the gums' and tongue's, the rim's
    softness (px) and the interior drawn over the opening before the warp wrote."""

    opening: Opening | None
    gap: Opening | None
    colour: np.ndarray
    tissue: np.ndarray | None
    soft: float
    interior: Interior | None


def plan_mouth(edit: MouthEdit, shifts: np.ndarray, field, shut: float, touch: float
               ) -> MouthPlan | None:
    """The mouth to paint for a warp that moves the landmarks by ``shifts`` through ``field``
    (``shut``: how far it seals an open mouth; ``touch``: a hand at the mouth), or None."""
    frame, landmarks, memory, config = edit.frame, edit.landmarks, edit.memory, edit.config
    scale = edit.scale
    redraw = (memory is None and field is not None and narrows_dark_mouth(
        frame, landmarks, shifts, scale, skin_lightness(frame, landmarks, scale), config.mouth))
    opening = find_opening(landmarks, shifts, field, scale, config.mouth,
                           None if memory is None else memory.closedness,
                           wants_open(edit.y_g, edit.au_names) if memory is not None else 0.0,
                           redraw)
    gap = None
    if opening is None or memory is not None:
        # an open mouth keeps its own teeth, moved rigidly; the gap they leave is dark
        gap = rigid_teeth(frame, landmarks, shifts, field, scale, config.mouth, memory)
    opening, gap = fade_opening(opening, max(touch, shut)), fade_opening(gap, touch)
    if opening is None and gap is None:
        return None
    if memory is None:  # what a track averages, read on this photo (where it is used)
        colour = seam_colour(frame, landmarks, scale)
        tissue = lips_lab(frame, landmarks) if config.teeth.lips_tissue else None
        blur = camera_blur(frame, landmarks, config.focus) if config.focus.strength > 0 else 0.0
    else:
        colour, tissue, blur = memory.seam, memory.lips, memory.blur
    plan = MouthPlan(opening, gap, colour, tissue, edge_softness(blur, scale, config.focus),
                     None)
    if opening is not None and not config.teeth.painter:
        # the scanned teeth take their light from the photo, before the warp writes; a
        # painter paints on the warped frame (:func:`paint_mouth`)
        plan.interior = mouth_interior(edit, _box(opening), plan,
                                       moved=shifts if redraw else None)
    return plan


def paint_mouth(result: np.ndarray, edit: MouthEdit, shifts: np.ndarray, plan: MouthPlan
                ) -> None:
    """Paint ``plan`` on the warped frame ``result`` (in place)."""
    config, memory, scale = edit.config, edit.memory, edit.scale
    size = (result.shape[1], result.shape[0])
    if plan.gap is not None:
        # on a track the gap the person's own rows leave shows the drawn mouth, hung from the
        # same skull: where the person's own upper teeth show they cover the drawn ones; where
        # they do not show yet (a mouth just opening) the drawn ones carry on instead of a flat
        # hole; below them the tongue the jaw carries, as the drawn mouth of a closed one shows
        # (with the upper teeth alone, the gap was a dark hole beside the drawn mouth's tongue in
        # the lips' colour, and the wipe between the two showed a lighter patch in the middle of
        # the mouth for three frames of single_face.mp4's surprise). A photo keeps the cavity
        # alone (measured better), or shows what the jaw carries (lower teeth, tongue) where the
        # target bares the lower teeth.
        behind = None
        if not config.teeth.painter and (memory is not None or gap_shows_jaw(
                edit.y_g, edit.au_names, config.teeth)):
            behind = mouth_interior(edit, _box(plan.gap), plan,
                                    parts="all" if memory is not None else "jaw")
        gap, behind = in_focus(plan.gap, behind, plan.soft, size)
        paint_opening(result, gap, plan.colour, scale, config.mouth, behind)
    opening, interior = plan.opening, plan.interior
    if opening is None:
        return
    if config.teeth.painter and config.teeth.strength > 0:
        from ganimate.engines.painter import paint_interior  # deferred: torch

        moved = np.asarray(edit.landmarks, np.float64)[:_MESH_POINTS, :2] + shifts
        interior = paint_interior(result, moved, _box(opening), edit.y_g, edit.au_names,
                                  config.teeth.painter)
    if memory is not None and not memory.held:
        opening = teeth_in_middle(result, opening, plan.colour, scale, memory.skin_l,
                                  config.mouth, interior)
    opening, interior = in_focus(opening, interior, plan.soft, size)
    paint_opening(result, opening, plan.colour, scale, config.mouth, interior)


def _box(opening: Opening) -> tuple[int, int, int, int]:
    h, w = opening.alpha.shape
    return opening.x0, opening.y0, opening.x0 + w, opening.y0 + h


def mouth_interior(edit: MouthEdit, box: tuple[int, int, int, int], plan: MouthPlan,
                   parts: str = "all", moved: np.ndarray | None = None) -> Interior | None:
    """The scanned teeth, gums and tongue over ``box``: on a photo lit from its cheeks and hung
    from its lip seam, the jaw opened by the edit; with a track's memory lit by the track's
    light, hung from the seam it keeps on the skull, the jaw opened to the target itself.
    ``moved`` (the landmark shifts of a dark open mouth drawn anew,
    :func:`ganimate.engines.closing.narrows_dark_mouth`): hung from the moved lips' seam, the jaw
    opened to the target itself. The gums and tongue take ``plan.tissue``, the lips' colour."""
    config, memory, landmarks, y_r, y_g = (edit.config, edit.memory, edit.landmarks, edit.y_r,
                                           edit.y_g)
    names, scale, teeth_config = edit.au_names, edit.scale, config.teeth
    lower = lower_teeth(y_g, names, teeth_config)
    own_jaw = jaw_opening(np.zeros_like(y_g), y_g, names, edit.basis)  # the target's, whole
    if memory is None:  # a photo: the teeth in its light and colour cast
        skin = skin_lightness(edit.frame, landmarks, scale)
        teeth = photo_teeth_lab(edit.frame, landmarks, skin, teeth_config, own=parts == "jaw")
        if moved is not None:
            lm = np.array(landmarks, np.float64)
            lm[:_MESH_POINTS, :2] += moved
            return draw_interior(lm, own_jaw, box, skin, plan.colour, scale, teeth_config,
                                 teeth_lab=teeth, lower=lower, tissue=plan.tissue)
        return draw_interior(landmarks, jaw_opening(y_r, y_g, names, edit.basis), box, skin,
                             plan.colour, scale, teeth_config, None, teeth, parts, lower,
                             plan.tissue)
    jaw = own_jaw if memory.anchor is not None else jaw_opening(y_r, y_g, names, edit.basis)
    interior = draw_interior(landmarks, jaw, box, memory.skin_l, plan.colour, scale,
                             teeth_config, memory.anchor, memory.teeth, parts, lower,
                             plan.tissue)
    if memory.move is None or teeth_config.motion_blur <= 0:
        return interior
    return motion_blurred(interior, memory.move * teeth_config.motion_blur)
