"""The faces stage's settings that the commands expose, importable without numpy (the CLI reads its
defaults here): the AU estimators and the largest crop.
"""

from __future__ import annotations

# The AU estimators (see ganimate.faces.aus): ``mesh`` (the default) inverts the AU -> mesh model
# for the AUs it measures and reads the lip gap and the eyelids geometrically; ``inversion`` and
# ``geometric`` are its two halves alone.
ESTIMATORS: tuple[str, ...] = ("mesh", "inversion", "geometric")
DEFAULT_ESTIMATOR = "mesh"

# Largest side of a face crop. Faces bigger than this in the photo are cut at this size (the
# generator sees model-size crops anyway; 512 keeps the full-resolution composite sharp for faces
# up to ~600 px tall without spending memory on huge crops).
MAX_CROP = 512
