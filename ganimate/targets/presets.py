"""Expression presets (happy, sad, ...) as AU targets, with a strength (``happy:0.6``) or an amount
(``happy+0.5``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES, reorder
from ganimate.progress import log

# Which AUs make up each basic emotion follows the EMFACS prototypes (Friesen & Ekman, EMFACS-7,
# 1983; tabulated in Ekman, Friesen & Hager, "Facial Action Coding System: Investigator's Guide",
# 2002, and as the reference set of Lucey et al., "The Extended Cohn-Kanade Dataset (CK+)", CVPR
# Workshops 2010, Table 3). EMFACS lists several AU combinations per emotion; each preset names
# the one it uses (docs/aus.md has the table and why). Presets are at *full strength*: each
# prototype AU at E (1.0, the scanned shape of the warp's basis), except where an AU is an
# accompaniment (the lips parting with a smile), two AUs cancel at E (anger's 5 and 7), or the
# scanned E overshoots real expressions (happy's 6 and 12: each note says why, with numbers).
# Intensities are FACS letters A (trace) ... E (maximum) divided by 5, like every AU vector of
# the package.
# FACS intensity letters on the package's [0, 1] scale.
_A, _B, _C, _D, _E = 0.2, 0.4, 0.6, 0.8, 1.0

_WITH_AU25 = "AU25 (lips part) with AU26: a jaw drop parts the lips"

# AUs that no emotion prototype involves and that a preset therefore leaves as the source has
# them, even at full strength: blinking is not an expression, and zeroing it would pop a closing
# eye open in the middle of a blink.
KEEP_AUS: tuple[str, ...] = ("AU45",)

# The largest --expression strength: above 1 the preset is extrapolated (exaggerated) and clipped
# to [0, 1]; the paper shows the generator extrapolates plausibly a little beyond its training
# range, and 2 is already a caricature.
MAX_STRENGTH = 2.0


@dataclass(frozen=True)
class Preset:
    """One named expression: FACS prototype AUs with intensities in [0, 1]."""

    name: str
    prototype: str  # the FACS/EMFACS formula, as published, e.g. "6+12"
    aus: dict[str, float]  # the prototype's AUs -> intensity (an engine uses those it has)
    unavailable: tuple[str, ...] = ()  # prototype AUs no engine can represent
    note: str = ""
    # The AUs that make the preset what it is, in groups (the lip corners, the brows, ...): a
    # model that has none of a group's AUs cannot show the expression (an error, not an edit
    # that is something else); missing AUs outside every group are minor (a warning).
    defining: tuple[tuple[str, ...], ...] = ()
    # AUs outside the prototype that a face's own expression of it brings with it, kept as far
    # as the face shows the expression (:func:`preset_goal`), not taken to 0: a broad smile
    # raises the upper lip off the teeth (AU10).
    carries: tuple[str, ...] = ()

    def missing(self, au_names: Sequence[str]) -> tuple[str, ...]:
        """The preset's AUs that a model with ``au_names`` lacks."""
        return tuple(n for n in self.aus if n not in au_names)

    def lacking_groups(self, au_names: Sequence[str]) -> tuple[tuple[str, ...], ...]:
        """The defining groups of which a model with ``au_names`` has no AU at all."""
        return tuple(g for g in self.defining if not set(g) & set(au_names))

    def vector(self, au_names: Sequence[str] = AU_NAMES) -> np.ndarray:
        """The preset as a full AU vector: prototype intensities, 0 for every other AU."""
        return reorder(np.array(list(self.aus.values()), np.float32), list(self.aus), au_names,
                       fill=0.0)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("neutral", "0", {}, note="every expressive AU relaxed to 0"),
        Preset("happy", "6+12+25+26", {"AU06": _B, "AU12": 0.7, "AU25": _B, "AU26": _A},
               note="Duchenne smile (6+12) with the lips parted over the upper teeth, as broad "
                    "real smiles are (25 at B, a trace of 26), and the warp lays real smiles' "
                    "skin and photographed teeth on it (engines.skin, engines.teeth). 12 at "
                    "0.7 and 6 at B: the scanned 6E+12E is broader than the London people's "
                    "own broad smiles (identity distance 0.29 against their 0.22, eyes half "
                    "shut); 12 at D with 25 at 0.7 measured 0.24 and a lower lip hanging off "
                    "the teeth; happy:1.25 is 6+12 at C+D. A grin's own upper lip raiser (10) "
                    "is kept as far as the face smiles: taken to 0 it lowered face_noface.mov's "
                    "grin over his teeth",
               defining=(("AU12",),), carries=("AU10",)),
        Preset("sad", "1+4+15+17", {"AU01": _E, "AU04": _E, "AU15": _E, "AU17": _C},
               note="EMFACS 1+4+15 with the chin raiser (17) that usually accompanies it; with "
                    "the scanned basis' per-point clamp, 1 and 4 at E give the oblique brows "
                    "(4 at C: 13/26 read sad instead of 15/26)",
               defining=(("AU01", "AU04"), ("AU15",))),
        Preset("surprise", "1+2+5+25+26", {"AU01": _E, "AU02": _E, "AU05": _C, "AU25": _E,
                                           "AU26": _E},
               note=_WITH_AU25 + "; 5 at C where EMFACS writes 5B: the scanned lid raise at B "
                                 "barely shows on a photo",
               defining=(("AU01", "AU02"),)),
        Preset("fear", "1+2+4+5+7+20+25+26", {"AU01": _E, "AU02": _D, "AU04": _C, "AU05": _E,
                                              "AU07": _C, "AU20": _E, "AU25": _D, "AU26": _C},
               note=_WITH_AU25 + "; 4 and 7 at C: at E they cancel the brow and lid raise",
               defining=(("AU01", "AU02", "AU04"),)),
        Preset("anger", "4+5+7+10+16+23+25", {"AU04": _E, "AU05": _C, "AU07": _E, "AU10": _E,
                                               "AU16": _C, "AU23": _C, "AU25": _E},
               note="EMFACS 4+5+7+10+23+25 (anger with bared teeth) with the lower lip "
                    "depressor (16, C) that bares the lower teeth as a snarl does; the "
                    "closed-mouth 4+5+7+23 barely shows on a photo, and 23 at E or a jaw drop "
                    "(26) rounds the lips into an 'O' that reads as speech. 5 at C: eyeWide and "
                    "the lid tightener (7) cancel at full strength",
               defining=(("AU04",),)),
        Preset("disgust", "9+10+15+16", {"AU09": _E, "AU10": _C, "AU15": _D, "AU16": _C},
               note="EMFACS 9+15+16 with the upper lip raiser (10, as in 10+16+25). AU16 (lower "
                    "lip depressor) is not among the 17 OpenFace AUs: the warp's scanned basis "
                    "moves it, a 17-AU model leaves it out (with a warning)",
               defining=(("AU09", "AU10"),)),
    )
}

# Expressions that are real prototypes but cannot be expressed by a symmetric AU vector.
UNREPRESENTABLE: dict[str, str] = {
    "contempt": (
        "contempt (EMFACS R12A+R14A: lip corner puller and dimpler on ONE side of the face) is "
        "asymmetric, and an AU vector has one intensity per AU for the whole face, so it cannot be "
        "represented; for a symmetric approximation use --au AU12=0.2 --au AU14=0.4"
    ),
}


@dataclass(frozen=True)
class Expression:
    """A parsed ``--expression NAME[:STRENGTH]`` or ``NAME+AMOUNT`` (relative)."""

    preset: Preset
    strength: float = 1.0
    # ``happy+0.5``: add 0.5 of the preset to the face's own AUs (more of it on a face that
    # already shows it) instead of moving toward the preset (which would make a broad smile
    # smaller when the target is a smaller smile).
    relative: bool = False


def parse_expression(text: str) -> Expression:
    """Parse ``happy``, ``happy:0.6`` (toward the preset; strength in [0, MAX_STRENGTH], default 1)
    or ``happy+0.5`` (the preset's AUs added to the face's own, times 0.5; in [0, 1])."""
    name, plus, amount = text.strip().partition("+")
    if plus:
        expression = parse_expression(name)
        try:
            value = float(amount)
        except ValueError:
            value = float("nan")
        if ":" in name or not 0.0 <= value <= 1.0:
            raise GanimateError(
                f"--expression {text!r}: a relative expression is NAME+AMOUNT with AMOUNT in "
                "[0, 1], e.g. happy+0.5 (or NAME:STRENGTH to move toward the preset)")
        return Expression(expression.preset, value, relative=True)
    name, sep, strength_text = text.strip().partition(":")
    key = name.strip().lower()
    if key in UNREPRESENTABLE:
        raise GanimateError(f"--expression {text!r}: {UNREPRESENTABLE[key]}")
    if key not in PRESETS:
        raise GanimateError(
            f"--expression {text!r}: unknown expression; known: {', '.join(PRESETS)} "
            "(optionally with a strength, e.g. happy:0.6)"
        )
    strength = 1.0
    if sep:
        try:
            strength = float(strength_text)
        except ValueError:
            strength = float("nan")
        if not 0.0 <= strength <= MAX_STRENGTH:  # also rejects nan
            raise GanimateError(
                f"--expression {text!r}: strength must be a number in [0, {MAX_STRENGTH:g}], "
                "e.g. happy:0.6"
            )
    return Expression(PRESETS[key], strength)


def check_preset(preset: Preset, au_names: Sequence[str]) -> None:
    """Refuse a preset that a model with ``au_names`` cannot show; warn about minor AUs it lacks.

    A model without any AU of one of the preset's defining groups (a smile without the lip-corner
    puller, surprise without the brow raisers) would write an edit that is not the expression:
    that is an error. Other missing AUs (a smile's cheek raiser, disgust's AU16 on a 17-AU model)
    are left out with a warning.
    """
    missing = preset.missing(au_names)
    if not missing:
        return
    known = " ".join(au_names)
    if len(missing) == len(preset.aus):
        raise GanimateError(
            f"--expression {preset.name}: this model has none of its AUs "
            f"({' '.join(preset.aus)}; the model knows {known}); the photo would come back "
            "unedited. Use --au with the model's AUs, or a model trained on them")
    lacking = preset.lacking_groups(au_names)
    if lacking:
        groups = " and ".join(f"no {g[0]}" if len(g) == 1 else f"none of {'/'.join(g)}"
                              for g in lacking)
        raise GanimateError(
            f"--expression {preset.name}: this model has {groups}, which {preset.name} "
            f"needs (the model knows {known}); the edit would not read as {preset.name}. "
            "Use --au with the model's AUs, or a model trained on them")
    log.warning("expression %s: the model has no %s; those AUs are left out", preset.name,
                ", ".join(missing))


def apply_expression(y: np.ndarray, expression: Expression,
                     au_names: Sequence[str] = AU_NAMES) -> np.ndarray:
    """Move ``y`` (shape (..., K)) toward the preset by the expression's strength.

    ``y + s * (goal - y)`` for every AU except KEEP_AUS. AUs outside the prototype have the goal
    0 (a smiling source becomes sad rather than sad-and-smiling). The preset's own AUs have the
    goal *at least* the preset's intensity (:func:`preset_goal`): a preset never takes away what
    the face already shows *of that expression*: ``happy`` on a laughing face keeps the laugh
    (moving every AU to the preset made a broad laugh a smaller smile: on
    WolfgangLanger_Pexels.mp4 `-e happy --hold` closed her laugh to a thin smile that read less
    happy than she was). For a face showing none of the preset, strength 1 gives exactly the
    preset and 0.6 gives 60 % of it. Above 1 it extrapolates; the result is clipped to [0, 1]. A
    relative expression (``happy+0.5``) adds ``0.5 * preset`` to ``y``.
    """
    y = np.asarray(y, dtype=np.float32)
    preset = expression.preset.vector(au_names)
    if expression.relative:  # add the preset's AUs; the others stay as the face has them
        out = y + np.float32(expression.strength) * preset
    else:
        goal = preset_goal(y, expression.preset, au_names)
        out = y + np.float32(expression.strength) * (goal - y)
    keep = [i for i, n in enumerate(au_names) if n in KEEP_AUS]
    out[..., keep] = y[..., keep]
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def preset_goal(y: np.ndarray, preset: Preset, au_names: Sequence[str] = AU_NAMES) -> np.ndarray:
    """What a face with AUs ``y`` (..., K) moves toward under ``preset`` at strength 1.

    Outside the prototype: 0. Its defining AUs (a smile's AU12, surprise's brows): the face's own
    where it shows more than the preset. Its other AUs (a smile's parted lips and jaw, its cheek
    raise) keep the face's excess only as far as the face shows the expression itself (the
    weakest defining group's own share of the preset's, 0-1): a laugh's open mouth is part of
    the laugh and stays, a surprised face's gaping jaw is not a smile's and closes toward the
    preset's (kept whole, `happy` on 26 surprised London faces read happy less: mean P 0.127 ->
    0.085). The AUs the preset carries (:attr:`Preset.carries`, a grin's raised upper lip): the
    face's own, in that same share; other AUs: 0."""
    preset_vec = preset.vector(au_names)
    names = list(au_names)
    excess = np.maximum(np.asarray(y, np.float32) - preset_vec, 0.0)
    shares = []
    for group in preset.defining:
        idx = [names.index(n) for n in group if n in names]
        if idx:
            full = float(max(preset_vec[i] for i in idx))
            shares.append(np.max(np.take(y, idx, axis=-1), axis=-1) / max(full, 1e-6))
    share = (np.clip(np.min(shares, axis=0), 0.0, 1.0) if shares
             else np.ones(np.shape(y)[:-1], np.float32))
    defining = np.array([any(n in g for g in preset.defining) for n in names])
    weight = np.where(defining, 1.0, np.asarray(share, np.float32)[..., None])
    carried = np.array([n in preset.carries for n in names]) & (preset_vec <= 0)
    own = weight * np.asarray(y, np.float32)
    return np.where(preset_vec > 0, preset_vec + weight * excess,
                    np.where(carried, own, 0.0)).astype(np.float32)
