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
"""

import importlib as _importlib
import os as _os

__version__ = "0.1.0"

# numpy's OpenBLAS runs one thread unless the user says otherwise (set before numpy loads it).
# ganimate's numpy work is small solves and products inside pipelines whose stages already run in
# parallel threads; on a busy 2-core machine a 2-thread BLAS spins at its barriers and a 500 x 500
# LU took 40-280 ms instead of 7 ms (measured). torch keeps its own thread settings.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def lazy_exports(package: str, exports: dict[str, tuple[str, ...]]):
    """A stage package's ``__getattr__`` and ``__dir__`` (PEP 562) for ``exports`` (submodule ->
    the names other stages use): ``from ganimate.engines import WarpEngine`` imports
    ``engines.warp`` when first asked, not the generator's torch, so each command loads what it
    runs. ``tests/test_imports.py`` reads these tables as import arrows."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(_importlib.import_module(f"{package}.{where[name]}"), name)

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__
