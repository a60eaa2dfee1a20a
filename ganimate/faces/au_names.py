"""The one AU order of the package and AU name parsing.

An AU vector is float32 intensities in [0, 1] (FACS intensity 0-5 divided by 5) in AU_NAMES order;
``au_vectors.reorder`` is the one reordering of AU vectors by name.
"""

from __future__ import annotations

from ganimate.errors import GanimateError

# The 17 intensity AUs that OpenFace 2.x reports (the set GANimation was trained on), in its order.
AU_NAMES: tuple[str, ...] = (
    "AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
    "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU45",
)

# Human-readable FACS names, for tables and help texts.
AU_DESCRIPTIONS: dict[str, str] = {
    "AU01": "inner brow raiser", "AU02": "outer brow raiser", "AU04": "brow lowerer",
    "AU05": "upper lid raiser", "AU06": "cheek raiser", "AU07": "lid tightener",
    "AU09": "nose wrinkler", "AU10": "upper lip raiser", "AU12": "lip corner puller",
    "AU14": "dimpler", "AU15": "lip corner depressor", "AU17": "chin raiser",
    "AU20": "lip stretcher", "AU23": "lip tightener", "AU25": "lips part",
    "AU26": "jaw drop", "AU45": "blink",
    "AU16": "lower lip depressor", "AU18": "lip pucker", "AU22": "lip funneler",
    "AU24": "lip pressor", "AU27": "mouth stretch",
}

# AUs beyond the 17 that the warp's scanned basis can move (ICT-FaceKit has their shapes). The
# estimator cannot read them, so a face's own value is taken as 0; models keep the 17.
SCANNED_EXTRA_AUS: tuple[str, ...] = ("AU16", "AU18", "AU22", "AU24", "AU27")


def canonical_au_name(name: str, au_names: tuple[str, ...] = AU_NAMES) -> str:
    """'au12', 'AU12', '12' and 'AU12_r' all mean 'AU12'; unknown names raise GanimateError."""
    raw = name.strip().upper().removesuffix("_R")
    digits = raw.removeprefix("AU")
    if digits.isdigit():
        candidate = f"AU{int(digits):02d}"
        if candidate in au_names:
            return candidate
    raise GanimateError(
        f"unknown AU {name!r}; known AUs: {' '.join(au_names)}"
    )


# AUs the default estimator measures well enough to score and to edit: pairwise accuracy on the
# London neutral/smiling pairs >= 0.8 and rising with the smile, or (AU45) a direct measure.
# See docs/aus.md. The others are estimated but weak (brows) or rarely exercised by our test data.
RELIABLE_AUS: tuple[str, ...] = ("AU06", "AU10", "AU12", "AU14", "AU25", "AU45")


