"""`ganimate animate video` and `animate image` (:mod:`ganimate.animation`).
"""

from __future__ import annotations

import typer

from ganimate.animation import AnimateConfig, ImageAnimation, Timeline
from ganimate.cli.base import animate_app, examples, guarded
from ganimate.cli.options import (
    ANIMATE_TARGET_HELP,
    EASINGS,
    AuOption,
    AusFileOption,
    CheckpointOption,
    CrfOption,
    DeviceOption,
    EngineOption,
    EstimatorOption,
    ExpressionOption,
    FeatherOption,
    HandsOption,
    LikeOption,
    PresetOption,
    RowOption,
    load_engine,
    read_targets,
)
from ganimate.engines import BlendConfig
from ganimate.faces import DEFAULT_ESTIMATOR


@animate_app.command("video", no_args_is_help=True,
    epilog=examples(
        "ganimate animate video clip.mp4 -e happy --hold -o happy.mp4   # happy throughout",
        "ganimate animate video clip.mp4 -e happy -o grow.mp4   # 0 -> happy over the clip",
        "ganimate animate video clip.mp4 -e surprise --ramp 0s:0,1.5s:1,4s:1,5s:0 -o out.mp4",
        "ganimate aus driver.mp4 -f csv > driver.csv",
        "ganimate animate video clip.mp4 --track driver.csv -o transfer.mp4",
        note=ANIMATE_TARGET_HELP))
@guarded
def animate_video_command(
    video: str = typer.Argument(..., help="The input video (any format ffmpeg reads)."),
    checkpoint: CheckpointOption = None,
    engine_name: EngineOption = None,
    output: str = typer.Option(
        ..., "--out", "-o",
        help="Output video (.mp4 .mov .mkv .m4v: H.264 with the input's audio), .gif, or a "
             "folder name without suffix for lossless PNG frames."),
    expression: ExpressionOption = None,
    like: LikeOption = None,
    aus_file: AusFileOption = None,
    row: RowOption = None,
    au: AuOption = [],  # noqa: B006 (typer copies it)
    ramp: str = typer.Option(
        None, "--ramp",
        help="alpha keyframes TIME:ALPHA[:EASING],... with TIME in s, ms, frames or % "
             "(e.g. 0s:0,1.5s:1,4s:1,5s:0); or ramp, hold, bounce; or a keyframe file "
             "(.csv/.json: time, alpha, easing and AU columns, as `ganimate studio` exports). "
             "Default: 0 -> 1 over the clip (with --track: 1 throughout)."),
    hold: bool = typer.Option(False, "--hold", help="alpha 1 throughout: the target from the "
                                                    "first frame on."),
    easing: str | None = typer.Option(
        None, "--easing",
        help=f"Easing of the ramp's segments: {EASINGS} [linear; cosine with --ramp bounce]."),
    track_csv: str = typer.Option(
        None, "--track",
        help="Drive the target frame by frame from an AU track: the CSV of `ganimate aus "
             "DRIVER.mp4` (or OpenFace's), resampled to this video's frame rate."),
    track_face: int = typer.Option(None, "--track-face", min=0,
                                   help="The face (track id) of the driver CSV to follow."),
    track_offset: float = typer.Option(Timeline.track_offset, "--track-offset",
                                       help="Driver time (s) that the first frame follows."),
    face: int = typer.Option(
        None, "--face", min=0,
        help="Edit only this face: its track id, the `face` column of `ganimate aus VIDEO`. "
             "Default: every face."),
    crf: CrfOption = AnimateConfig.crf,
    preset: PresetOption = AnimateConfig.preset,
    lossless: bool = typer.Option(AnimateConfig.lossless, "--lossless",
                                  help="Bit-exact RGB video (libx264rgb crf 0; large, for "
                                       "checks; not every player shows it)."),
    preview: str = typer.Option(None, "--preview",
                                help="Also write input | output | change map side by side "
                                     "(white = generator output blended in) to this video."),
    smooth: float = typer.Option(AnimateConfig.smooth, "--smooth", min=0.0, max=2.0,
                                 help="Half-window (s) of the Savitzky-Golay smoothing of the "
                                      "face crops over time; 0 = off."),
    baseline: bool = typer.Option(AnimateConfig.baseline, "--baseline/--no-baseline",
                                  help="Measure the faces' AUs relative to each person's "
                                       "neutral face."),
    hands: HandsOption = AnimateConfig.hands,
    teeth_scan: float = typer.Option(
        AnimateConfig.teeth_scan, "--teeth-scan", min=0.0,
        help="Seconds at the clip's start looked at first for each person's own teeth, whose "
             "colour the teeth an edit draws take from the first frame on; 0 = off."),
    batch_size: int = typer.Option(AnimateConfig.batch_size, "--batch-size", min=1,
                                   help="Face crops per generator call."),
    workers: int = typer.Option(AnimateConfig.workers, "--workers", min=0,
                                help="Frames edited at once, in threads; 0 = one per core "
                                     "for the warp, 1 for a generator."),
    feather: FeatherOption = BlendConfig.feather,
    estimator: EstimatorOption = DEFAULT_ESTIMATOR,
    device: DeviceOption = "auto",
) -> None:
    """Change the expression of the people in a video: by default it grows from none at the
    first frame to full at the last (alpha 0 -> 1 over the clip); --hold shows it from the
    first frame.

    Output keeps the input's size, frame rate, frame count, rotation and audio; frames without
    a face pass through unchanged.
    """
    from ganimate import animation

    targets = read_targets(expression, like, aus_file, row, au)
    timeline = Timeline(ramp, hold, easing, track_csv, track_face, track_offset)
    animation.check_video_request(video, output, targets, timeline, preview)
    engine = load_engine(engine_name, checkpoint, device)
    config = AnimateConfig(
        face=face, smooth=smooth, baseline=baseline, hands=hands, teeth_scan=teeth_scan,
        batch_size=batch_size,
        workers=workers, blend=BlendConfig(feather=feather), estimator=estimator, crf=crf,
        preset=preset, lossless=lossless)
    spec = targets.spec(engine.au_space, estimator)
    result = animation.animate_video(video, output, engine, spec, config, timeline, preview)
    if face is not None and not result.face_ids:
        typer.echo(f"warning: face {face} never appeared; the video is unchanged "
                   "(see the face column of `ganimate aus VIDEO`)", err=True)
    typer.echo(result.summary, err=True)
    typer.echo(str(result.out))
    if result.preview is not None:
        typer.echo(str(result.preview))


@animate_app.command("image", no_args_is_help=True,
    epilog=examples(
        "ganimate animate image face.jpg --to happy --seconds 2 --fps 25 -o smile.mp4",
        "ganimate animate image face.jpg --to surprise --bounce -o wow.gif",
        note=ANIMATE_TARGET_HELP))
@guarded
def animate_image_command(
    photo: str = typer.Argument(..., help="A photo with a face."),
    checkpoint: CheckpointOption = None,
    engine_name: EngineOption = None,
    output: str = typer.Option(
        ..., "--out", "-o",
        help="The clip: .mp4 .mov .mkv .m4v (H.264, yuv420p), .gif, or a folder for PNG frames."),
    to: str = typer.Option(
        None, "--to", "--expression", "-e",
        help="Target preset: neutral, happy, sad, surprise, fear, anger, disgust; with a "
             "strength happy:0.6 or an amount happy+0.5 (added to the face's own AUs)."),
    like: LikeOption = None,
    aus_file: AusFileOption = None,
    row: RowOption = None,
    au: AuOption = [],  # noqa: B006 (typer copies it)
    seconds: float = typer.Option(ImageAnimation.seconds, "--seconds",
                                  help="Clip length in seconds."),
    fps: float = typer.Option(ImageAnimation.fps, "--fps",
                              help="Frame rate; the clip has round(seconds * fps) frames."),
    bounce: bool = typer.Option(ImageAnimation.bounce, "--bounce",
                                help="There and back: 0 -> 1 -> 0."),
    easing: str | None = typer.Option(
        None, "--easing", help=f"Easing of the motion: {EASINGS} [linear; cosine with --bounce]."),
    face: int = typer.Option(None, "--face", min=0,
                             help="Only face N (0-based, left to right). Default: every face."),
    crf: CrfOption = ImageAnimation.crf,
    preset: PresetOption = ImageAnimation.preset,
    estimator: EstimatorOption = DEFAULT_ESTIMATOR,
    device: DeviceOption = "auto",
) -> None:
    """Animate a photo from its own expression to a target (paper Fig. 1) as a video or GIF."""
    from ganimate import animation

    targets = read_targets(to, like, aus_file, row, au)
    settings = ImageAnimation(seconds=seconds, fps=fps, bounce=bounce, easing=easing, face=face,
                              crf=crf, preset=preset, estimator=estimator)
    animation.check_image_request(photo, output, targets, settings)
    engine = load_engine(engine_name, checkpoint, device)
    spec = targets.spec(engine.au_space, estimator)
    result = animation.animate_image(photo, output, engine, spec, settings)
    typer.echo(str(result.out))
