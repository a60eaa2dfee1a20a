"""ganimate: anatomically-aware facial expression editing and animation (GANimation, ECCV 2018).

Conventions, stated once for the whole package:

- images are ``uint8`` HWC RGB numpy arrays;
- tensors are ``float`` BCHW in [-1, 1];
- AU vectors are ``float32`` intensities in [0, 1] (FACS 0-5 divided by 5),
  in ``aus.AU_NAMES`` order;
- a crop transform maps crop pixels to frame pixels.

``images.to_tensor`` and ``images.to_image`` are the only crossings between arrays and tensors.
"""

import os as _os

__version__ = "0.1.0"

# numpy's OpenBLAS runs one thread unless the user says otherwise (set before numpy loads it).
# ganimate's numpy work is small solves and products inside pipelines whose stages already run in
# parallel threads; on a busy 2-core machine a 2-thread BLAS spins at its barriers and a 500 x 500
# LU took 40-280 ms instead of 7 ms (measured). torch keeps its own thread settings.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
