"""The engines' settings that the commands expose, importable without numpy (the CLI reads its
defaults here).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BlendConfig:
    """How an edited crop is mixed back; lengths are fractions of the crop side."""

    # Gaussian sigma of the face region's soft edge. 0.03 of a 128 crop is ~4 px, a transition of
    # ~15 crop px (~12 % of the face): wide enough to hide a colour step, narrow enough to stay
    # off the hair and background.
    feather: float = 0.03
    # Grow (> 0) or shrink (< 0) the landmark hull before feathering. The default grows it a
    # little so that a dropped jaw or raised brows, drawn just outside the source's outline,
    # are not cut off.
    grow: float = 0.02
    # Gaussian sigma applied to the change weight 1 - A; removes single-pixel speckle in the
    # attention mask that would otherwise show as noise. 0 disables.
    attention_blur: float = 0.008
    # Use the attention mask at all; without it the whole (feathered) face region is replaced.
    use_attention: bool = True
    # Face region from the landmark hull ("hull") or always the canonical ellipse ("ellipse").
    region: str = "hull"
    # Paste the *change* (edited crop - crop) onto the frame instead of the edited crop itself:
    # the frame's own pixels are never resampled (cut into a crop and warped back), only the
    # generator's difference is, so a face keeps its full-resolution detail where the generator
    # changed its colour. Off: the edited crop replaces the frame under the weight (the paper's
    # composite, twice resampled).
    residual: bool = True

    def __post_init__(self):
        if self.region not in ("hull", "ellipse"):
            raise ValueError(f"BlendConfig.region must be 'hull' or 'ellipse', not {self.region!r}")
        if self.feather < 0 or self.attention_blur < 0:
            raise ValueError("BlendConfig: feather and attention_blur must be >= 0")
