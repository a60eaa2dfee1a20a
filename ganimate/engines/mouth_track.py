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
  most ``1 / (fade * fps)`` a frame: a change of state is a wipe over ``fade`` seconds (the drawn
  row of teeth grows from the middle of the mouth to its corners, or shrinks back), never a switch
  on one frame's geometry; a cross-fade showed grey half-teeth, which read as no teeth: the teeth
  still popped, on the frame the fade crossed half;
- **the teeth on the skull**: the lip seam at rest, in the head's own (canonical) frame, taken
  while the mouth is closed; the drawn upper teeth hang from it, so they move with the head and
  not with the lips of a talking mouth (the lower teeth follow the edit's jaw);
- **light and colour per track**: the cheeks' lightness (the teeth's light), the lip seam's colour
  (the cavity's), the lips' own colour (the tongue's and gums'), how soft the face's edges read
  (the painted rim's, :mod:`ganimate.engines.focus`), the picture's colour cast
  (:func:`ganimate.engines.cast.colour_cast`: the drawn teeth's colour before theirs is known),
  where the person's own upper teeth end
  (:func:`teeth_split`) and, once their mouth has been seen open, the colour of their own teeth
  (the drawn teeth's, so that drawn and own teeth side by side match), each an exponential
  average over ``smooth`` seconds; the teeth's colour is learnt from a scan of the clip's first
  seconds before the track's first frame (:meth:`MouthTrack.seed`) and as frames arrive
  (:meth:`MouthTrack.observe`, the planner's look-ahead before their plans), starting from the
  drawn teeth's own colour counted as ``prior`` sights, so that a first, motion-blurred sight
  does not turn the drawn teeth grey;
- **the lips' parting**: how far apart the inner lips are in the (smoothed) landmarks the warp
  moves, which the warp reads as the face's own AU25 and AU26 (:mod:`ganimate.engines.lips`);
- **hands**: while a hand covers the inner lips (:mod:`ganimate.faces.hands`), none of this is
  updated: the landmarks and pixels there are the hand's. A hand *at* the mouth
  (:class:`ganimate.engines.touch.TouchConfig`) also stills the edit around the mouth
  (:attr:`MouthMemory.touch`, :func:`ganimate.engines.touch.still_near_mouth`): mediapipe draws
  the lips on the fingers and its hand mask misses parts of them, so the edit parted lips through
  the fingers and drew a dark hole on them (``WolfgangLanger_Pexels.mp4``, `-e surprise`, frames
  59-68). The touch rises over the planner's look-ahead *before* a hand arrives (the hand
  tracker, looking on every third frame while it follows none, finds one up to two frames late)
  and falls over :attr:`TouchConfig.release` after it leaves.

Each frame gets a frozen :class:`MouthMemory`, so frames may then be edited in any order (the
video path edits several at once, in threads); :meth:`MouthTrack.update` itself must see a track's
frames in order (the planner emits them so).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from ganimate.engines.cast import colour_cast
from ganimate.engines.focus import camera_blur
from ganimate.engines.mouth import (
    INNER_LIPS,
    MouthConfig,
    MouthMemory,
    gap_of,
    own_teeth_lab,
    teeth_split,
)
from ganimate.engines.palette import lips_lab, seam_colour
from ganimate.engines.teeth import drawn_teeth_lab, seam_anchor, skin_lightness
from ganimate.engines.touch import TouchConfig, hand_touch
from ganimate.faces import eye_centre_distance
from ganimate.faces.hands import Hand, covered_share


@dataclass(frozen=True)
class MouthTrackConfig:
    """How a track's mouth decisions move over time; gaps in IOD, times in seconds."""

    # Hysteresis of closed/open: open once the inner lips are this far apart, closed again only
    # below ``close_below`` (a photo's single threshold region is 0.02-0.04).
    open_above: float = 0.045
    close_below: float = 0.025
    # A change between closed and open wipes the drawn teeth in or out over this long
    # (:func:`ganimate.engines.mouth.reveal`), whatever the lips do: 0.1 s with the change taken
    # at once where the lips were far from both thresholds left 2 teeth pops per 72 frames of
    # single_face.mp4 (a smile that snaps open onto motion-blurred teeth, and shut); 0.15 s
    # without, none (docs/evaluation.md).
    fade: float = 0.15
    # Time constant of the averages of light, colour and the teeth split.
    smooth: float = 0.3
    # The lips' colour and how soft the face's edges read are looked at on every this many
    # frames (and the first), their averages moved as far as those frames' would have: they
    # change over seconds, and read on every frame they took 3 of the track's 7 ms a frame on
    # the 512 px benchmark clip.
    look_every: int = 5
    # The own teeth's colour is taken only where what shows between the lips is at least this
    # light relative to the cheeks (CIELAB L*): teeth, not the dark inside of a parting mouth.
    teeth_light: float = 0.8
    # The drawn teeth's colour counts as this many sights of the person's own teeth in the mean
    # that learns theirs (a third of the way after one sight, half after three).
    prior: int = 2
    # Sights of a scan of the clip's first seconds (:meth:`MouthTrack.seed`): this many or more
    # are taken whole (their median, robust to a blurred one), fewer are learnt as above.
    seed_whole: int = 3
    # While a hand covers more than this share of the inner lips, the track holds its state.
    covered: float = 0.25
    # The picture's colour cast (CIELAB a*, b*, averaged like the light) tints the drawn teeth
    # only once either part reaches this: a frame's small reading in ordinary light decays in
    # the average but never back to 0, and would tint a frontal clip's teeth for good.
    cast_from: float = 0.5


def _ema(old, new, rate: float):
    return new if old is None else old + rate * (np.asarray(new) - old)


class MouthTrack:
    """The mouth of one face track; :meth:`update` with each frame, in order."""

    def __init__(self, fps: float, mouth: MouthConfig = MouthConfig(),
                 config: MouthTrackConfig = MouthTrackConfig(), cast: bool = True,
                 touch: TouchConfig = TouchConfig()):
        """``cast``: the drawn teeth take the picture's colour cast (:attr:`TeethConfig.cast`);
        ``touch``: when a hand touches the mouth (:class:`TouchConfig`)."""
        self.config = config
        self.touch = touch
        self.cast = cast
        self.mouth = mouth
        fps = max(float(fps), 1.0)
        self._step = 1.0 / max(config.fade * fps, 1.0)
        self._rate = 1.0 - float(np.exp(-1.0 / max(config.smooth * fps, 1e-6)))
        self._open: bool | None = None
        self._closedness = 1.0
        self._split = self._skin = self._seam = self._anchor = self._teeth = None
        self._lips = self._blur = None  # the lips' colour, the face's edges' softness
        self._frames = 0  # updates so far
        # the averages' rate over ``look_every`` frames
        self._look_rate = 1.0 - (1.0 - self._rate) ** max(config.look_every, 1)
        self._cast = np.zeros(2)  # the picture's colour cast (cast.colour_cast), averaged
        self._sights = 0  # frames in which the person's own teeth were seen
        self._gap: float | None = None  # the smoothed landmarks' lip gap, IOD
        self._centre: np.ndarray | None = None  # the inner lips' centre at the last update, px
        self._move: np.ndarray | None = None  # and its move from the update before
        # how much a hand touches the mouth on the frames observed but not yet updated (oldest
        # first), and the touch at the last update
        self._ahead: deque[float] = deque()
        self._touch = 0.0
        self._release = 1.0 / max(touch.release * fps, 1.0)

    def update(self, frame: np.ndarray, landmarks: np.ndarray,
               seen: np.ndarray | None = None, hands: tuple[Hand, ...] = ()) -> MouthMemory:
        """The memory at this frame (``landmarks``: the face's 478 points in frame pixels, as
        the warp will move them; ``seen``: the same frame's unsmoothed landmarks, whose lip gap
        decides the mouth's state: smoothing over a window lags a mouth that snaps shut or
        open by a frame or two; ``hands``: the frame's hands: while they cover the lips, the
        track holds what it had, since the landmarks and pixels there are the hand's)."""
        cfg = self.config
        scale = eye_centre_distance(landmarks)
        lips = np.asarray(landmarks, np.float64)[list(INNER_LIPS), :2]
        centre = lips.mean(axis=0)
        self._move = None if self._centre is None else centre - self._centre
        self._centre = centre
        self._touched(self._ahead.popleft() if self._ahead else self._touch_of(landmarks, hands))
        state = lips if seen is None else np.asarray(seen, np.float64)[list(INNER_LIPS), :2]
        if self._open is not None and covered_share(hands, state) > cfg.covered:
            return self._memory(self._closedness, held=True)
        gap = gap_of(state) / max(scale, 1e-6)
        self._gap = gap_of(lips) / max(scale, 1e-6)
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
        if gap >= self.mouth.closed:  # the teeth split is read on an open mouth only
            self._split = _ema(self._split, teeth_split(frame, lips), self._rate)
        if gap < cfg.close_below:  # the seam at rest: lips together
            self._anchor = _ema(self._anchor, seam_anchor(landmarks), self._rate)
        self._skin = _ema(self._skin, skin, self._rate)
        self._seam = _ema(self._seam, seam_colour(frame, landmarks, scale), self._rate)
        if self._frames % max(cfg.look_every, 1) == 0:
            lips = lips_lab(frame, landmarks)
            if lips is not None:
                self._lips = _ema(self._lips, lips, self._look_rate)
            self._blur = _ema(self._blur, camera_blur(frame, landmarks), self._look_rate)
        self._frames += 1
        if self.cast and self._teeth is None:  # the cast tints drawn teeth until theirs are seen
            self._cast = _ema(self._cast, colour_cast(frame, landmarks), self._rate)
        return self._memory(self._closedness)

    def observe(self, frame: np.ndarray, landmarks: np.ndarray,
                hands: tuple[Hand, ...] = ()) -> None:
        """Learn the colour of the person's own teeth from a frame as it arrives: the planner
        calls this ``lookahead`` frames before that frame's :meth:`update`, so the drawn teeth
        have the person's colour by the time a smile of their own opens onto them (learnt at
        :meth:`update`, the drawn middle of the wipe was whiter than their teeth for three
        frames). ``landmarks``: the frame's own (unsmoothed) points."""
        self._ahead.append(self._touch_of(landmarks, hands))
        seen = self._sight(frame, landmarks, hands)
        if seen is not None:
            self._learn(*seen)

    def seed(self, frame: np.ndarray, landmarks: np.ndarray,
             sights: list[np.ndarray]) -> None:
        """Learn the person's own teeth from ``sights`` (:meth:`sight` on frames further on, in
        their order: a scan of the clip's first seconds, :mod:`ganimate.animation.scan`) before
        this first frame of the track: drawn teeth then have their colour from the first frame,
        not the studio-lit prior until their mouth first opens (single_face.mp4: drawn L* 82 for
        the 19 frames before his own teeth, which read 64)."""
        if len(sights) >= self.config.seed_whole:  # enough to be robust: their median, whole
            self._teeth = np.median(np.asarray(sights, np.float64), axis=0)
            self._sights = len(sights)
            return
        skin = skin_lightness(frame, landmarks, eye_centre_distance(landmarks))
        for own in sights:
            self._learn(own, skin)

    def sight(self, frame: np.ndarray, landmarks: np.ndarray,
              hands: tuple[Hand, ...] = ()) -> np.ndarray | None:
        """The colour (CIELAB) of the person's own teeth on this frame, or None where their
        mouth is not clearly open, a hand covers it, or what shows is a cavity or a blur."""
        seen = self._sight(frame, landmarks, hands)
        return None if seen is None else seen[0]

    def _sight(self, frame: np.ndarray, landmarks: np.ndarray, hands: tuple[Hand, ...]
               ) -> tuple[np.ndarray, float] | None:
        """:meth:`sight`, with the cheeks' lightness it was judged against."""
        cfg = self.config
        scale = eye_centre_distance(landmarks)
        lips = np.asarray(landmarks, np.float64)[list(INNER_LIPS), :2]
        if gap_of(lips) / max(scale, 1e-6) < self.mouth.open_at:  # a clearly open mouth only
            return None
        if covered_share(hands, lips) > cfg.covered:
            return None
        skin = skin_lightness(frame, landmarks, scale)
        split = teeth_split(frame, lips) if self._split is None else float(self._split)
        own = own_teeth_lab(frame, lips, split)
        if own is None or own[0] < cfg.teeth_light * skin:  # a cavity or a blur, not teeth
            return None
        return own, skin

    def _learn(self, own: np.ndarray, skin: float) -> None:
        """One sight of the person's own teeth: the mean of the sights so far, the drawn
        teeth's own colour counted as ``prior`` of them, then an average over ``smooth``
        seconds: a first sight in motion blur taken whole turned the drawn teeth grey, and a
        colour that moves too fast on a row of drawn teeth makes it read as fewer teeth from
        one frame to the next (a pop)."""
        self._sights += 1
        start = self._drawn(skin) if self._teeth is None else self._teeth
        self._teeth = _ema(start, own, max(self._rate, 1.0 / (self._sights + self.config.prior)))

    def _touch_of(self, landmarks: np.ndarray, hands: tuple[Hand, ...]) -> float:
        """How much a hand touches the mouth on one frame (:func:`hand_touch`)."""
        return hand_touch(hands, landmarks, self.touch)

    def _touched(self, now: float) -> None:
        """The touch at this update: this frame's, or a ramp up to a touch on the frames
        observed ahead (full on the frame the hand arrives), or the last one fading out."""
        n = len(self._ahead)
        ahead = max((t * (1.0 - (k + 1) / (n + 1)) for k, t in enumerate(self._ahead)),
                    default=0.0)
        self._touch = max(now, ahead, self._touch - self._release)

    def _drawn(self, skin: float) -> np.ndarray:
        """The drawn teeth's colour in the picture's colour cast (CIELAB), where it has one."""
        return drawn_teeth_lab(skin, cast=self._cast if self._has_cast() else None)

    def _has_cast(self) -> bool:
        return self.cast and bool(np.abs(self._cast).max() >= self.config.cast_from)

    def _memory(self, closedness: float, held: bool = False) -> MouthMemory:
        teeth = self._teeth
        if teeth is None and self._skin is not None and self._has_cast():
            teeth = self._drawn(float(self._skin))  # not seen yet: drawn, in the cast
        return MouthMemory(closedness, None if self._split is None else float(self._split),
                           float(self._skin),
                           None if teeth is None else np.array(teeth, np.float32),
                           np.asarray(self._seam, np.float32),
                           None if self._anchor is None else np.array(self._anchor), self._gap,
                           held, self._move, self._touch,
                           None if self._lips is None else np.array(self._lips, np.float32),
                           0.0 if self._blur is None else float(self._blur))

