"""What each frame is asked: alpha(t) from the schedule and y_g(t) from the target or a driver
track, conditioned as ``alpha * y_g + (1 - alpha) * y_r`` (:func:`frame_condition`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ganimate.animation.config import Timeline
from ganimate.animation.frames import FrameCondition, FramePlan
from ganimate.engines import FrameJob
from ganimate.errors import GanimateError
from ganimate.progress import log
from ganimate.targets import (
    EASINGS,
    AlphaSchedule,
    AUCurves,
    AUTrack,
    TargetSpec,
    bounce_schedule,
    build_target,
    condition,
    hold_schedule,
    is_keyframe_file,
    parse_ramp,
    ramp_schedule,
    read_au_track,
    read_keyframes,
)

# =============================================================================================
# The condition at frame t (pure)
# =============================================================================================


def frame_condition(alpha: float, y_r: np.ndarray, spec: TargetSpec,
                    au_names: Sequence[str], driver: np.ndarray | None = None
                    ) -> FrameCondition:
    """The generator's condition at one frame: ``alpha * y_g + (1 - alpha) * y_r``.

    ``y_r`` is (F, K) (or (K,)), the source AUs of the frame's faces. ``y_g`` is built from y_r by
    ``spec`` (presets, --like, --aus-file, --au; relative changes on the source), or, with a
    ``driver`` AU vector (K,) from a track or keyframes, from the driver's AUs with ``spec`` on
    top; the driver's NaN entries (AUs no keyframe names) are the face's own.
    """
    y_r = np.atleast_2d(np.asarray(y_r, dtype=np.float32))
    base = y_r
    if driver is not None:
        driver = np.asarray(driver, dtype=np.float32)
        keyed = ~np.isnan(driver)
        base = (np.broadcast_to(driver, y_r.shape) if keyed.all()
                else np.where(keyed, driver, y_r).astype(np.float32))
    y_g = build_target(base, spec, au_names)
    alpha = float(alpha)
    return FrameCondition(alpha, y_r, y_g, condition(alpha, y_g, y_r))


def _check_easing(easing: str | None) -> None:
    """``--easing``, when given, names one of EASINGS."""
    if easing is not None and easing not in EASINGS:
        raise GanimateError(f"--easing {easing!r}: use one of {', '.join(EASINGS)}")


def alpha_schedule(n_frames: int, fps: float, ramp: str | None = None, hold: bool = False,
                   easing: str | None = None, bounce: bool = False,
                   default: str = "ramp") -> AlphaSchedule:
    """The alpha schedule of a clip from the command-line choices.

    ``ramp``: keyframes (see :func:`ganimate.targets.parse_ramp`); ``hold``: alpha 1 throughout;
    ``bounce``: 0 -> 1 -> 0; otherwise ``default`` ("ramp": 0 -> 1 over the clip, "hold").
    ``easing`` applies to the ramp's segments (default linear; cosine for a bounce).
    """
    given = [name for name, on in (("--ramp", ramp is not None), ("--hold", hold),
                                   ("--bounce", bounce)) if on]
    if len(given) > 1:  # names only what was given: animate video has no --bounce
        raise GanimateError(f"{' and '.join(given)}: give one of them (--ramp also takes the "
                            "words hold, ramp and bounce)")
    _check_easing(easing)
    n = max(int(n_frames), 1)
    if ramp is not None:
        return parse_ramp(ramp, float(fps), n, easing or "linear")
    if hold or (default == "hold" and not bounce):
        return hold_schedule(n)
    if bounce:
        return bounce_schedule(n, easing or "cosine")
    return ramp_schedule(n, easing or "linear")


# =============================================================================================
# A video's conditions, frame by frame
# =============================================================================================


@dataclass(frozen=True)
class Conditions:
    """What frame i of a video is conditioned on: alpha(i), and y_g from the spec or a driver."""

    schedule: AlphaSchedule
    spec: TargetSpec
    au_names: tuple[str, ...]
    fps: float
    driver: AUTrack | None = None
    offset: float = 0.0  # driver time of frame 0
    keys: AUCurves | None = None  # keyed AU curves of a keyframe file (over frames)

    def alpha(self, index: int) -> float:
        return float(self.schedule(index))

    def job(self, p: FramePlan) -> FrameJob:
        """Planned frame ``p`` as the engine edits it: its faces conditioned at ``p.index``."""
        if not p.faces:
            none = np.zeros((0, len(self.au_names)), np.float32)
            return FrameJob(p.frame, [], none, none, hands=p.hands, index=p.index,
                            alpha=self.alpha(p.index), seen=p.seen)
        y_track = None
        if self.driver is not None:
            y_track = self.driver.at(self.offset + p.index / self.fps)
        elif self.keys is not None:
            y_track = self.keys.at(p.index)
        cond = frame_condition(self.alpha(p.index), np.stack([f.y_r for f in p.faces]),
                               self.spec, self.au_names, y_track)
        return cond.job(p.index, p.frame, [f.crop for f in p.faces],
                        tuple(f.track_id for f in p.faces), p.seen, [f.mouth for f in p.faces],
                        p.hands)


def conditions_for(timeline: Timeline, spec: TargetSpec, au_names: tuple[str, ...], n: int,
                fps: float) -> Conditions:
    """The schedule and the driver of ``timeline``, checked before anything is written."""
    if is_keyframe_file(timeline.ramp):
        return _keyframe_conditions(timeline, spec, au_names, n, fps)
    schedule = alpha_schedule(n, fps, timeline.ramp, timeline.hold, timeline.easing,
                              default="hold" if timeline.track is not None else "ramp")
    driver = None
    if timeline.track is not None:
        try:
            driver = read_au_track(timeline.track, au_names, face=timeline.track_face)
        except GanimateError as exc:  # here the driver's face is chosen with --track-face
            raise GanimateError(str(exc).replace("with --face", "with --track-face")) from None
        if driver.times[-1] < timeline.track_offset + (n - 1) / fps:
            log.info("--track %s: the driver ends at %.2f s, before the clip (%.2f s); its "
                     "last AUs are held", timeline.track, driver.times[-1], (n - 1) / fps)
    return Conditions(schedule, spec, au_names, fps, driver, timeline.track_offset)


def _keyframe_conditions(timeline: Timeline, spec: TargetSpec, au_names: tuple[str, ...], n: int,
                         fps: float) -> Conditions:
    """The conditions of a keyframe file (``--ramp keys.csv``): its alpha and AU curves."""
    if timeline.track is not None or timeline.hold:
        raise GanimateError("a keyframe file (--ramp FILE) sets alpha and the AUs over time: drop "
                            "--track and --hold")
    _check_easing(timeline.easing)
    keys = read_keyframes(timeline.ramp, fps, max(int(n), 1), au_names,
                          timeline.easing or "linear")
    if keys.curves is None and spec.empty:
        raise GanimateError(f"--ramp {timeline.ramp}: its keyframes set no AU (no AU columns); "
                            "add AU columns or give a target (e.g. --expression happy)")
    return Conditions(keys.schedule, spec, au_names, fps, keys=keys.curves)
