"""``--preview``: the input and output side by side, the edited region outlined.
"""

from __future__ import annotations

import numpy as np

from ganimate.engines import FrameEdit, paste_back

# Imported in the functions that use them, on purpose (start-up): cv2 (where pixels are warped or
# drawn).


# Width of each panel of a --preview video (wider inputs are scaled down).
PREVIEW_PANEL_WIDTH = 640


def preview_frame(source: np.ndarray, edit: FrameEdit) -> np.ndarray:
    """input | output | change map (white where the edit's weights blended it in)."""
    import cv2

    h, w = source.shape[:2]
    change = np.zeros_like(source)
    white = None
    for crop, weight in zip(edit.crops, edit.weights, strict=False):
        if white is None or white.shape[0] != crop.size:
            white = np.full((crop.size, crop.size, 3), 255, np.uint8)
        paste_back(change, white, crop.to_frame, weight, out=change)
    panels = [source, edit.frame, change]
    if w > PREVIEW_PANEL_WIDTH:
        size = (PREVIEW_PANEL_WIDTH, max(2, int(round(h * PREVIEW_PANEL_WIDTH / w))))
        panels = [cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in panels]
    return np.hstack(panels)
