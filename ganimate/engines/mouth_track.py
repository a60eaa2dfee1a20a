"""A person's mouth over the frames of a video: what the warp decides about the mouth, carried from
frame to frame (one :class:`MouthTrack` per face track) instead of decided anew on each frame.

On a photo the warp decides from the photo alone (:mod:`ganimate.engines.mouth`): a mouth whose
inner lips are under 0.02-0.04 IOD apart is *closed* (the opening the edit makes is filled with
drawn teeth), a wider one is *open* (its own teeth move rigidly). On a talking clip the lips hover
around those thresholds and the landmarks jitter by a pixel, so the decision flipped between frames:
drawn teeth appeared and vanished (a "teeth pop"), the split between the person's upper and lower
teeth jumped between bands, and the teeth's light and the cavity's colour followed each frame's
pixels. A track instead carries:

- **closed or open, with hysteresis**: the mouth turns *open* only once its inner lips are
  ``open_above`` IOD apart and *closed* only below ``close_below``; between the two it stays as it
  was. The weight of the drawn teeth (``closedness``) then moves toward the state's value by at
  most ``1 / (fade * fps)`` a frame: a change of state is a cross-fade over ``fade`` seconds,
  never a switch on one frame's geometry;
- **the teeth on the skull**: the lip seam at rest, in the head's own (canonical) frame, taken
  while the mouth is closed; the drawn upper teeth hang from it, so they move with the head and
  not with the lips of a talking mouth (the lower teeth follow the edit's jaw);
- **light and colour per track**: the cheeks' lightness (the teeth's light), the lip seam's colour
  (the cavity's), where the person's own upper teeth end (:func:`teeth_split`) and, once their
  mouth has been seen open, the colour of their own teeth (the drawn teeth's, so that drawn and
  own teeth side by side match), each an exponential average over ``smooth`` seconds.

Each frame gets a frozen :class:`MouthMemory`, so frames may then be edited in any order (the
video path edits several at once, in threads); :meth:`MouthTrack.update` itself must see a track's
frames in order (the planner emits them so).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganimate.engines.geometry import eye_distance
from ganimate.engines.mouth import (
    INNER_LIPS,
    MouthConfig,
    MouthMemory,
    gap_of,
    own_teeth_lab,
    seam_colour,
    smoothstep,
    teeth_split,
)
from ganimate.engines.teeth import seam_anchor, skin_lightness


@dataclass(frozen=True)
class MouthTrackConfig:
    """How a track's mouth decisions move over time; gaps in IOD, times in seconds."""

    # Hysteresis of closed/open: open once the inner lips are this far apart, closed again only
    # below ``close_below`` (a photo's single threshold region is 0.02-0.04).
    open_above: float = 0.045
    close_below: float = 0.025
    # A change between closed and open cross-fades over this long (a mouth far from both
    # thresholds, under half of ``close_below`` or over 1.5x ``open_above``, is taken as it is).
    fade: float = 0.1
    # Time constant of the averages of light, colour and the teeth split.
    smooth: float = 0.3
    # The own teeth's colour is taken only where what shows between the lips is at least this
    # light relative to the cheeks (CIELAB L*): teeth, not the dark inside of a parting mouth.
    teeth_light: float = 0.8


def _ema(old, new, rate: float):
    return new if old is None else old + rate * (np.asarray(new) - old)


class MouthTrack:
    """The mouth of one face track; :meth:`update` with each frame, in order."""

    def __init__(self, fps: float, mouth: MouthConfig = MouthConfig(),
                 config: MouthTrackConfig = MouthTrackConfig()):
        self.config = config
        self.mouth = mouth
        fps = max(float(fps), 1.0)
        self._step = 1.0 / max(config.fade * fps, 1.0)
        self._rate = 1.0 - float(np.exp(-1.0 / max(config.smooth * fps, 1e-6)))
        self._open: bool | None = None
        self._closedness = 1.0
        self._split = self._skin = self._seam = self._anchor = self._teeth = None

    def update(self, frame: np.ndarray, landmarks: np.ndarray,
               seen: np.ndarray | None = None) -> MouthMemory:
        """The memory at this frame (``landmarks``: the face's 478 points in frame pixels, as
        the warp will move them; ``seen``: the same frame's unsmoothed landmarks, whose lip gap
        decides the mouth's state: smoothing over a window lags a mouth that snaps shut or
        open by a frame or two)."""
        cfg = self.config
        scale = eye_distance(landmarks)
        lips = np.asarray(landmarks, np.float64)[list(INNER_LIPS), :2]
        state = lips if seen is None else np.asarray(seen, np.float64)[list(INNER_LIPS), :2]
        gap = gap_of(state) / max(scale, 1e-6)
        if self._open is None:  # the first frame decides as a photo would, halfway
            self._open = gap >= 0.5 * (cfg.open_above + cfg.close_below)
            self._closedness = 0.0 if self._open else 1.0
        elif self._open and gap < cfg.close_below:
            self._open = False
        elif not self._open and gap > cfg.open_above:
            self._open = True
        target = 0.0 if self._open else 1.0
        self._closedness += float(np.clip(target - self._closedness, -self._step, self._step))
        skin = skin_lightness(frame, landmarks, scale)
        showing = False  # the person's own teeth show in this frame
        if gap >= self.mouth.closed:  # the teeth split is read on an open mouth only
            self._split = _ema(self._split, teeth_split(frame, lips), self._rate)
            if gap >= self.mouth.open_at:  # and the teeth's colour on a clearly open one
                own = own_teeth_lab(frame, lips, float(self._split))
                showing = own is not None and own[0] >= cfg.teeth_light * skin  # not a cavity
                if showing:
                    self._teeth = _ema(self._teeth, own, self._rate)
        # a mouth far from both thresholds is what it looks like at once (no fade: the input
        # itself just changed; opening at once only onto teeth of its own: a mouth opening onto
        # a blur or a dark inside hands the drawn teeth over at the fade's pace), while one near
        # them keeps the track's decision
        half = 0.5 * cfg.close_below
        clearly_closed = 1.0 - float(smoothstep((gap - half) / half))
        clearly_open = float(smoothstep((gap - cfg.open_above) / (0.5 * cfg.open_above)))
        closedness = min(max(self._closedness, clearly_closed),
                         1.0 - clearly_open if showing else 1.0)
        if gap < cfg.close_below:  # the seam at rest: lips together
            self._anchor = _ema(self._anchor, seam_anchor(landmarks), self._rate)
        self._skin = _ema(self._skin, skin, self._rate)
        self._seam = _ema(self._seam, seam_colour(frame, landmarks, scale), self._rate)
        return MouthMemory(closedness, None if self._split is None else float(self._split),
                           float(self._skin),
                           None if self._teeth is None else np.array(self._teeth, np.float32),
                           np.asarray(self._seam, np.float32),
                           None if self._anchor is None else np.array(self._anchor))
