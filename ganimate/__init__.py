"""ganimate: anatomically-aware facial expression editing and animation (GANimation, ECCV 2018).

Conventions, stated once for the whole package:

- images are ``uint8`` HWC RGB numpy arrays;
- tensors are ``float`` BCHW in [-1, 1];
- AU vectors are ``float32`` intensities in [0, 1] (FACS 0-5 divided by 5),
  in ``aus.AU_NAMES`` order;
- a crop transform maps crop pixels to frame pixels.

``images.to_tensor`` and ``images.to_image`` are the only crossings between arrays and tensors.
"""

__version__ = "0.1.0"
