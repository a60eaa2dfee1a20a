"""FACS's grouping of the Action Units by the part of the face they move: the upper face (brows,
lids, cheeks) and the lower face (nose, lips, chin, jaw).
"""

from __future__ import annotations

from ganimate.errors import GanimateError

# Group -> its AUs; every AU of au_names.AU_DESCRIPTIONS is in exactly one group.
FACS_GROUPS: dict[str, tuple[str, ...]] = {
    "upper": ("AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU45"),
    "lower": ("AU09", "AU10", "AU12", "AU14", "AU15", "AU16", "AU17", "AU18", "AU20", "AU22",
              "AU23", "AU24", "AU25", "AU26", "AU27"),
}


def facs_group(au: str) -> str:
    """The FACS group ('upper' or 'lower') of an AU named as AU_NAMES names it ('AU12')."""
    for group, aus in FACS_GROUPS.items():
        if au in aus:
            return group
    raise GanimateError(f"{au!r} is in no FACS group; known AUs: "
                        f"{' '.join(a for aus in FACS_GROUPS.values() for a in aus)}")
