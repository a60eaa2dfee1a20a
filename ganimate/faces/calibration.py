"""AU scales: :class:`AUCalibration` maps a dataset's robust percentiles to [0, 1] (training labels,
the scanned basis' scale); :class:`NeutralBaseline` removes a person's resting face in video.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces.au_names import AU_NAMES
from ganimate.faces.au_vectors import reorder


@dataclass
class AUCalibration:
    """Per-dataset linear map of raw estimates to [0, 1]: ``(raw - low) / (high - low)``, clipped.

    ``low`` is a low percentile (the dataset's resting level of each AU) and ``high`` a high one
    (its strongest expressions); ``high - low`` is at least ``min_span``, so an AU that barely moves
    in a dataset is not stretched into noise.
    """

    low: np.ndarray  # float32 (K,)
    high: np.ndarray  # float32 (K,)
    au_names: tuple[str, ...] = AU_NAMES
    low_percentile: float = 5.0
    high_percentile: float = 99.0

    @classmethod
    def fit(cls, aus: np.ndarray, low_percentile: float = 5.0, high_percentile: float = 99.0,
            min_span: float = 0.5, au_names: Sequence[str] = AU_NAMES) -> AUCalibration:
        aus = np.asarray(aus, dtype=np.float64)
        if aus.ndim != 2 or len(aus) == 0:
            raise GanimateError("AU calibration needs at least one AU vector")
        low = np.percentile(aus, low_percentile, axis=0)
        high = np.maximum(np.percentile(aus, high_percentile, axis=0), low + min_span)
        return cls(low.astype(np.float32), high.astype(np.float32), tuple(au_names),
                   low_percentile, high_percentile)

    def apply(self, aus: np.ndarray, au_names: Sequence[str] | None = None) -> np.ndarray:
        """Raw estimates (..., K) in ``au_names`` order (default: the calibration's own) mapped
        to [0, 1]; AUs the calibration does not name pass through, clipped to [0, 1]."""
        aus = np.asarray(aus, dtype=np.float32)
        names = self.au_names if au_names is None else tuple(au_names)
        low = reorder(self.low, self.au_names, names, fill=0.0)
        high = reorder(self.high, self.au_names, names, fill=1.0)
        return np.clip((aus - low) / (high - low), 0.0, 1.0).astype(np.float32)

    def invert(self, values: np.ndarray, au_names: Sequence[str]) -> np.ndarray:
        """Values on the calibrated scale (``au_names`` order) back on the raw estimator's scale;
        AUs the calibration does not name pass unchanged (the inverse of :meth:`apply` inside
        [0, 1])."""
        names = tuple(au_names)
        low = reorder(self.low, self.au_names, names, fill=0.0)
        high = reorder(self.high, self.au_names, names, fill=1.0)
        return (np.asarray(values, np.float32) * (high - low) + low).astype(np.float32)

    def to_dict(self) -> dict:
        return {
            "method": "percentile",
            "au_names": list(self.au_names),
            "low_percentile": self.low_percentile,
            "high_percentile": self.high_percentile,
            "low": [round(float(v), 5) for v in self.low],
            "high": [round(float(v), 5) for v in self.high],
        }

    @classmethod
    def from_dict(cls, data: dict) -> AUCalibration:
        try:
            return cls(np.asarray(data["low"], np.float32), np.asarray(data["high"], np.float32),
                       tuple(data["au_names"]), float(data.get("low_percentile", 5.0)),
                       float(data.get("high_percentile", 99.0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise GanimateError(f"malformed AU calibration ({exc})") from exc

    @classmethod
    def from_meta(cls, meta: dict) -> AUCalibration | None:
        """The calibration stored in a dataset's meta.json (``au_calibration``), if any."""
        data = meta.get("au_calibration")
        return None if data is None else cls.from_dict(data)


@dataclass
class NeutralBaseline:
    """A person's resting face in video: subtract it so that only expression changes remain.

    The baseline of each AU is a low percentile of the frames seen so far (a person is at rest
    most of the time, and a percentile ignores the moments they are not). Until ``warmup`` frames
    have been seen the baseline is what is known so far, so the first frames may read low.
    ``apply(y) = clip((y - b) / (1 - b), 0, 1)`` keeps 1 reachable.

    A baseline fitted on a face's first few frames is those frames themselves, and would read a
    face that starts out smiling as neutral; ``apply(y, fade_in=True)`` (video editing) subtracts
    only ``seen / warmup`` of it until the warm-up is over.
    """

    percentile: float = 10.0
    warmup: int = 15
    window: int = 900  # frames remembered (30 s at 30 fps); older ones are forgotten
    seen: int = 0  # frames given to update() so far
    _history: deque = field(default_factory=deque, repr=False)

    def update(self, aus: np.ndarray) -> None:
        self.seen += 1
        self._history.append(np.asarray(aus, dtype=np.float32))
        while len(self._history) > self.window:
            self._history.popleft()

    @property
    def ready(self) -> bool:
        return len(self._history) >= self.warmup

    @property
    def baseline(self) -> np.ndarray:
        if not self._history:
            return np.zeros(len(AU_NAMES), np.float32)
        return np.percentile(np.stack(self._history), self.percentile, axis=0).astype(np.float32)

    def apply(self, aus: np.ndarray, fade_in: bool = False) -> np.ndarray:
        b = np.minimum(self.baseline, 0.95)
        if fade_in:
            b = b * np.float32(min(1.0, self.seen / max(self.warmup, 1)))
        return np.clip((np.asarray(aus, np.float32) - b) / (1.0 - b), 0.0, 1.0).astype(np.float32)

    def __call__(self, aus: np.ndarray) -> np.ndarray:
        """Update with this frame, then return it baselined (the streaming use)."""
        self.update(aus)
        return self.apply(aus)

    @classmethod
    def fit(cls, frames: np.ndarray, **kwargs) -> NeutralBaseline:
        """A baseline from all frames of a person at once (offline use)."""
        base = cls(**kwargs)
        for row in np.asarray(frames, np.float32)[-base.window:]:
            base.update(row)
        return base
