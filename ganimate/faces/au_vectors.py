"""AU vectors between AU orders: :func:`reorder`, the one reordering of AU vectors by name.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ganimate.errors import GanimateError


def reorder(values: np.ndarray | Sequence[float], from_names: Sequence[str],
            to_names: Sequence[str], fill: float | None = None) -> np.ndarray:
    """AU values in ``to_names`` order, picked by name from ``values`` in ``from_names`` order.

    ``values`` is (..., len(from_names)); the result is (..., len(to_names)), same dtype. A name of
    ``to_names`` that ``from_names`` lacks gets ``fill``, or, when ``fill`` is None, raises
    GanimateError naming every missing AU. The one place AU vectors change order by name.
    """
    values = np.asarray(values)
    if values.shape[-1:] != (len(from_names),):
        raise ValueError(f"expected values (..., {len(from_names)}), got {values.shape}")
    index = {n: i for i, n in enumerate(from_names)}
    missing = [n for n in to_names if n not in index]
    if missing and fill is None:
        raise GanimateError(f"no values for {' '.join(missing)}; "
                            f"the AUs given are {' '.join(from_names)}")
    padded = np.concatenate([values, np.full(values.shape[:-1] + (1,), fill or 0, values.dtype)],
                            axis=-1)
    return padded[..., [index.get(n, len(from_names)) for n in to_names]]
