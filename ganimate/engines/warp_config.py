"""The warp engine's settings (:class:`WarpConfig`): every length in inter-ocular distances, every
default with where it was measured.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ganimate.engines.focus import FocusConfig
from ganimate.engines.lids import LidConfig
from ganimate.engines.mouth import MouthConfig
from ganimate.engines.teeth import TeethConfig
from ganimate.engines.touch import TouchConfig

# The sampling kernels and AU -> mesh bases the warp knows.
_SAMPLING = ("lanczos", "cubic", "linear")
BASES = ("scanned", "fitted")


@dataclass(frozen=True)
class WarpConfig:
    """How the warp engine moves a face; lengths are in inter-ocular distances (IOD) unless said.

    The defaults were measured on the 26 held-out London people (docs/engines.md).
    """

    # Multiplies the model's displacement. 1.0 is the AU -> mesh model as fitted; the default
    # makes a preset at strength 1 (e.g. AU06=0.8 AU12=0.9) about as strong as the same people's
    # real smiles by lip-corner geometry (dlib's 68 points, which share nothing with the model).
    gain: float = 1.0
    # Where the AU displacements come from: "scanned" (ICT-FaceKit's FACS scans, an AU at 1.0 is
    # the scanned shape) or "fitted" (py-feat's AU -> mesh regression, the estimator's model; its
    # smile lifts the lip corners half as far and its AU25 closes the lips).
    basis: str = "scanned"
    # Soft limit of each landmark's shift, in IOD: shifts up to 60% of it pass unchanged, larger
    # ones approach it (tanh), each point on its own, so AU27=1 or sums of many AUs do not turn
    # into caricature and a big jaw drop does not shrink the brows. With the scanned basis the
    # largest single shift is the jaw at AU27=1 (0.54 IOD -> 0.47).
    max_shift: float = 0.5
    # Turned faces: MediaPipe's mesh stops short of a turned-away cheek (on
    # WolfgangLanger_Pexels.mp4's three-quarter views its far outline lies ~0.4 IOD inside the
    # cheek's silhouette), so the visible strip of cheek and the hair beside it fell in the
    # field's taper and were sheared: a dented, wavy far contour with blotches of fold shading.
    # Where the outline turns away from the camera (its points' normals, in the face's pose,
    # face it less than ``far_facing`` and less than on a frontal face by ``far_turn``: about
    # 8 degrees more), shifts fade out toward those points: times smoothstep(distance /
    # ``far_band`` IOD), in full once a point faces the camera 0.05 less than ``far_facing``
    # and has turned ``far_turn + 0.1``, smoothly in between (no point switches on or off from
    # one video frame to the next); the lips keep their whole shift. A frontal face has no such
    # points and is unchanged (2 of the 204 London photos have, neither one the evaluation
    # edits). It costs a turned smile some strength: synthetic yaw 25-35 degrees, P(happy)
    # 0.700 -> 0.655 (0.4 IOD: 0.674, but half the dent stayed). ``far_band`` 0 turns it off.
    far_band: float = 0.6
    far_facing: float = 0.08
    far_turn: float = 0.12
    # Where the field falls to zero: it is 1 up to ``inner`` IOD outside the face's outline
    # (moved or not) and 0 from ``inner + outer`` on, with a smooth step in between.
    inner: float = 0.08
    outer: float = 0.55
    # The spline (through all 468 mesh points) is evaluated every ``grid`` IOD and upsampled
    # cubically. Against a 0.02 grid, 0.06 is off by at most 0.7 px (99%: under 0.3 px) and
    # takes ~20 ms a face instead of ~37 at 0.04: what keeps video at 20+ fps on 2 cores.
    grid: float = 0.06
    # The spline's logarithms OpenCV's, its grid's distances one matrix product
    # (:class:`ganimate.engines.spline.ThinPlateSpline`, ``fast``): video
    # (``video_fast_spline``); photos keep numpy's, bit for bit as before.
    fast_spline: bool = False
    video_fast_spline: bool = True
    # Shifts below this many pixels fade smoothly to 0 (m -> m * smoothstep(m / deadzone)), so
    # the large areas that the model moves by a fraction of a pixel are copied, not resampled:
    # resampling at a sub-pixel offset softens skin texture for no visible change of shape.
    deadzone: float = 0.5
    # Pixels that move less than this (px) are copied, not resampled.
    still: float = 1 / 64
    # Any interpolation between pixel centres is a low-pass filter: Lanczos reading half a pixel
    # off keeps ~0.93 of the face's Laplacian variance (bilinear ~0.8). This much of the lost
    # fine detail (the source minus its 0.8 px Gaussian blur) is added back, in proportion to how
    # far from a pixel centre each pixel is read. 0.2 brings the ratio to ~1.0 on the London set
    # (0.15: 0.99, 0.25: 1.03); larger values over-sharpen. 0 turns it off.
    restore: float = 0.2
    # Skin that folds: where the warp compresses skin (the backward map's Jacobian determinant
    # d > 1: more skin in fewer pixels, as in the brow furrow or the cheek above a smile's
    # nasolabial fold) it darkens, where it stretches it lightens: lightness x (1 - folds *
    # (d - 1)), within [fold_min, fold_max]. Only lightness changes (RGB scaled together). 0: off.
    folds: float = 0.5
    # The skin of a smile (:mod:`ganimate.engines.skin`): real faces' median change of shading
    # when they smile (lower lids, crow's feet, nasolabial folds, cheeks), laid on the warped face
    # times this and the edit's smile (1 at the happy preset). 0: off (the paper-like warp).
    smile_skin: float = 1.0
    fold_min: float = 0.9
    fold_max: float = 1.03
    # Width (IOD, a Gaussian's sigma) over which the fold shading is averaged before it is
    # applied. The spline's compression varies from landmark to landmark, which shades skin in
    # patches; on a photo they read as texture, in video they slide over the skin with every
    # jitter of the landmarks and read as moving dirt. 0: as computed (photos, measured in
    # docs/engines.md); video uses ``video_fold_blur``.
    fold_blur: float = 0.0
    # Sampling: "lanczos" (keeps the most detail of OpenCV's kernels), "cubic" or "linear".
    sampling: str = "lanczos"
    # Video frames (`animate video`, :meth:`for_video`) are sampled this way instead: bicubic
    # costs a third of Lanczos' time (3.3 vs 11.2 ms for a 512 px frame's face, then the largest
    # single cost of a frame). With ``video_restore`` 0.2 it is as sharp as Lanczos with 0.2 on
    # half-pixel shifts of a fine synthetic texture (1.11 vs 1.12 of the input's Laplacian
    # variance) and a little softer on faces (12 held-out faces edited to happy and surprise:
    # 1.241 vs 1.314; 0.3 gives 1.273, 0.4 1.306). More restore flickers: frame-to-frame change
    # of single_face.mp4 edited to happy, relative to the input's, 1.031 at 0.2, 1.032 at 0.25,
    # 1.037 at 0.3 (Lanczos 1.034); of face_noface.mov 0.992 at 0.2, 0.996 at 0.25 (Lanczos
    # 0.992). Photos keep Lanczos: there one borderline surprise face of 26 reads neutral to the
    # FER classifier with bicubic (docs/engines.md).
    video_sampling: str = "cubic"
    video_restore: float = 0.2
    # Video's fold shading is smoothed over this width (IOD; see ``fold_blur``): the edit layer's
    # frame-to-frame change inside the face (eval video) and the cheeks' patches by eye.
    video_fold_blur: float = 0.1
    # The lip-parting AUs of a face's own y_r read from its landmarks through the basis
    # (:mod:`ganimate.engines.lips`): the edit's lips then part as far as the condition asks
    # whatever the estimator read. On in video (``video_lips_from_landmarks``: single_face.mp4
    # held at happy closed to 0.056 IOD for a frame as his own smile opened, 0.14 before it);
    # photos keep the estimator's reading (their numbers in docs/engines.md were made so).
    lips_from_landmarks: bool = False
    video_lips_from_landmarks: bool = True
    # Photos whose mouth is open (inner lips ``MouthConfig.open_at`` IOD apart or more) read
    # their lips' parting through the basis all the same: the estimator reads a broad smile's
    # AU25 at 1 at most, where the basis needs more to close it, and `-e neutral` left a line of
    # the person's teeth between lips not quite shut (9 of 26 held-out smiles; with
    # ``MouthConfig.stretch_lips``, docs/evaluation.md). Closed mouths keep the estimator's.
    open_lips_from_landmarks: bool = True
    # A photo's own brow and lid raise (AU01, AU02, AU05) read from its landmarks through the
    # basis where its jaw drops (:mod:`ganimate.engines.raisers`): the estimator hardly reads
    # the basis' raisers, so ``happy`` on a surprised face kept its raised brows and wide eyes.
    # Counted from AU26 (y_r, calibrated) ``raisers_jaw`` up, in full at 1. Off in video
    # (``video_raisers_from_landmarks``): a talking face's jaw moves every frame, and the brows
    # would follow it.
    raisers_from_landmarks: bool = True
    video_raisers_from_landmarks: bool = False
    raisers_jaw: float = 0.6
    # Blinks close the eye as a lid (:mod:`ganimate.engines.lids`): where an edit raises AU45
    # the upper lash line comes down over the lower one, the lid skin above it with it, and the
    # field around the eyes is the lids' own. 26 held-out London people at AU45 = 1: re-read
    # 0.076 of the eye's width open (0.22 without), 32% of the visible iris dark (57%).
    # ``LidConfig(close=False)``: the basis' AU45 alone.
    lids: LidConfig = dataclasses.field(default_factory=LidConfig)
    # Where the warp parts the lips, the opening is painted as a shadowed mouth interior
    # (:mod:`ganimate.engines.mouth`); ``MouthConfig(strength=0)`` leaves the stretched lip seam.
    mouth: MouthConfig = dataclasses.field(default_factory=MouthConfig)
    # Teeth, gums and tongue drawn in that opening (:mod:`ganimate.engines.teeth`); ``TeethConfig(
    # strength=0)`` leaves the dark cavity alone.
    teeth: TeethConfig = dataclasses.field(default_factory=TeethConfig)
    # A hand at the mouth stills the edit around it (:mod:`ganimate.engines.touch`): the lips
    # were parted through the fingers. ``TouchConfig(outer=0)`` edits under hands as elsewhere.
    touch: TouchConfig = dataclasses.field(default_factory=TouchConfig)
    # The painted mouth's rim as soft as a real one in this photo (:mod:`ganimate.engines.focus`):
    # the lips' roll into the mouth and the photo's own blur. ``FocusConfig(strength=0)``: crisp.
    focus: FocusConfig = dataclasses.field(default_factory=FocusConfig)
    # Video draws the scanned upper teeth, not the photographed ones (``TeethConfig.atlas``): the
    # photographed row's texture moving with the head added to the mouth's flicker (held happy:
    # 1.50 -> 1.58 on single_face, 1.29 -> 1.33 on WolfgangLanger) and single_face's surprise
    # read 81% instead of 89% (docs/evaluation.md).
    video_teeth_atlas: bool = False
    # ... and shades its teeth in L* alone (``TeethConfig.shadow_hue``), measured flicker-neutral.
    video_shadow_hue: float = 0.0
    # ... and neither stretches sealed lips nor shades their seam (``MouthConfig.stretch_lips``,
    # ``seam_shade``): lips are sealed only on frames where the person's own mouth is open, so
    # the seam's line came and went, the mouth's level flicker doubled (single_face held sad
    # 0.99 -> 1.94x the input's); stretched alone, WolfgangLanger's held sad and neutral 1.26 ->
    # 1.52 and 1.32 -> 1.68 (single_face 0.99 -> 0.95, 1.13 -> 0.87).
    video_stretch_lips: bool = False
    video_seam_shade: float = 0.0
    # The lower lip of a mouth the edit opens wide is rounded in video as in photos
    # (``MouthConfig.round_lips``), as far as the track holds the mouth closed.
    video_round_lips: float = 1.0
    # ... nor seals a mouth in full because the target wants it shut (``MouthConfig.seal_shut``):
    # its lips are read on the track and part as the target asks already; sealed in full on the
    # frames where the person's own mouth opens, WolfgangLanger held neutral's edit layer moved
    # 3% more (3.31 -> 3.42 levels a step).
    video_seal_shut: bool = False
    # Video shades the gums, palate and tongue smoothly at any jaw opening
    # (``TeethConfig.soft_jaw``; photos from 0.2): smoothed, a held smile's teeth change less
    # between frames (single_face held happy, mouth flicker 1.507 -> 1.490x the input's).
    video_soft_jaw: float = 0.0
    # Video's drawn teeth keep more of their light at the lips' edge (``MouthConfig.lip_shadow``;
    # photos 0.55, which the classifier reads as a smile's dark line under the teeth): the dark
    # rim round a row of teeth moving with the head is its most contrasted edge, and the mouth's
    # change from frame to frame grew with it (lip_shadow 0.55 -> 0.3 -> 0: single_face held
    # happy 1.49 -> 1.63 -> 1.84x the input's). With the person's own teeth colour from the
    # first frame (:mod:`ganimate.animation.scan`), 0.8 took held happy from 1.32 to 1.22x on
    # single_face.mp4 and 1.35 to 1.23x on face_noface.mov, happy read on the same frames.
    video_lip_shadow: float = 0.8

    def __post_init__(self):
        if self.sampling not in _SAMPLING or self.video_sampling not in _SAMPLING:
            raise ValueError(f"WarpConfig.sampling and video_sampling must be one of "
                             f"{', '.join(_SAMPLING)}")
        if self.basis not in BASES:
            raise ValueError(f"WarpConfig.basis must be one of {', '.join(BASES)}")
        if (self.gain < 0 or self.max_shift <= 0 or self.far_band < 0 or self.inner < 0
                or self.outer <= 0):
            raise ValueError("WarpConfig: gain >= 0, max_shift > 0, far_band >= 0, inner >= 0, "
                             "outer > 0")

    def for_video(self) -> WarpConfig:
        """This config with the video frames' settings (``video_sampling``, ``video_restore``,
        ``video_fold_blur``, ``video_lips_from_landmarks``, ``video_raisers_from_landmarks``,
        ``video_fast_spline``, ``video_teeth_atlas``, ``video_shadow_hue``,
        ``video_stretch_lips``, ``video_seam_shade``, ``video_seal_shut``, ``video_round_lips``,
        ``video_soft_jaw``, ``video_lip_shadow``; a video reads its
        lips on its track, not with ``open_lips_from_landmarks``)."""
        return dataclasses.replace(self, sampling=self.video_sampling,
                                   restore=self.video_restore, fold_blur=self.video_fold_blur,
                                   lips_from_landmarks=self.video_lips_from_landmarks,
                                   raisers_from_landmarks=self.video_raisers_from_landmarks,
                                   fast_spline=self.video_fast_spline,
                                   open_lips_from_landmarks=False,  # the track's gap instead
                                   mouth=dataclasses.replace(
                                       self.mouth, stretch_lips=self.video_stretch_lips,
                                       seam_shade=self.video_seam_shade,
                                       seal_shut=self.video_seal_shut,
                                       round_lips=self.video_round_lips,
                                       lip_shadow=self.video_lip_shadow),
                                   teeth=dataclasses.replace(
                                       self.teeth, atlas=self.video_teeth_atlas,
                                       shadow_hue=self.video_shadow_hue,
                                       soft_jaw=self.video_soft_jaw))
