"""The ffmpeg binary that imageio-ffmpeg ships. It runs as a child process with argument lists
(never a shell); its stderr goes to a temporary file, so a chatty ffmpeg never blocks on a pipe.
"""

from __future__ import annotations

from ganimate.errors import GanimateError

# Imported in the functions that use them, on purpose (start-up): imageio_ffmpeg (where ffmpeg
# runs).


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled with imageio-ffmpeg."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # the GPU machine may lack it; only video commands need it
        raise GanimateError(
            "video needs the imageio-ffmpeg package: pip install imageio-ffmpeg"
        ) from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


def last_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no message from ffmpeg"
