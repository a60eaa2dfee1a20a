"""ganimate: anatomically-aware facial expression editing and animation (GANimation, ECCV 2018).

Conventions, stated once for the whole package:

- images are ``uint8`` HWC RGB numpy arrays;
- tensors are ``float`` BCHW in [-1, 1];
- AU vectors are ``float32`` intensities in [0, 1] (FACS 0-5 divided by 5),
  in ``faces.AU_NAMES`` order;
- a crop transform maps crop pixels to frame pixels.

``images.to_tensor`` and ``images.to_image`` are the only crossings between arrays and tensors.

Each sub-package is a stage of the pipeline (faces -> targets -> engines -> editing / animation;
model and training apart; evaluation on top), importing only lower stages: docs/architecture.md.
Python programs come in through :mod:`ganimate.api` (docs/api.md), whose functions are
re-exported here.
"""

from typing import TYPE_CHECKING

from ganimate.lazy import lazy_exports as _lazy_exports
from ganimate.version import __version__ as __version__

if TYPE_CHECKING:  # editors and type checkers go to the definitions, not to the table below
    from ganimate.api import (
        AUTargets,
        FaceAUs,
        ImageLike,
        animate_video,
        demo_clip,
        demo_photo,
        edit_image,
        load_engine,
        read_aus,
    )

# The Python front door (docs/api.md): ``ganimate.edit_image`` is ``ganimate.api.edit_image``,
# imported when first asked for (``import ganimate`` alone loads no numpy).
__all__ = [
    "AUTargets",
    "FaceAUs",
    "ImageLike",
    "__version__",
    "animate_video",
    "demo_clip",
    "demo_photo",
    "edit_image",
    "load_engine",
    "read_aus",
]
_EXPORTS = {"api": tuple(name for name in __all__ if name != "__version__")}
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
