"""Decoding, one frame at a time: frames come upright (ffmpeg's autorotate) from a rawvideo pipe,
so memory stays flat however long the clip is.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.images import read_rgb
from ganimate.progress import log
from ganimate.video.ffmpeg import ffmpeg_exe, last_line
from ganimate.video.probing import VideoInfo, probe


def read_frames(path: str | os.PathLike, info: VideoInfo | None = None, every: int = 1,
                stop: int | None = None) -> Iterator[np.ndarray]:
    """Yield every frame as an upright uint8 HxWx3 RGB array, one at a time.

    Every decoded frame comes out exactly once (no frames duplicated or dropped to a constant
    rate), so the count matches ``probe(...).frame_count``. Stopping early (``break``, an
    exception, or closing the generator) ends the ffmpeg process. A folder of PNG frames (as
    :class:`VideoWriter` writes it) is read in name order. ``every``: only frames 0, ``every``,
    2 ``every``, ... (the others are decoded, not converted or piped); ``stop``: none from frame
    ``stop`` on (ffmpeg stops decoding there).
    """
    path = Path(path)
    if path.is_dir():
        yield from itertools.islice(_read_frame_dir(path), 0, stop, every)
        return
    info = info or probe(path, count_frames_exactly=False)
    w, h = info.width, info.height
    frame_bytes = w * h * 3
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
           "-map", f"0:{info.stream_index}", "-fps_mode", "passthrough"]
    if every > 1:
        cmd += ["-vf", f"select=not(mod(n\\,{every}))"]
    if stop is not None:
        cmd += ["-frames:v", str(max(0, -(-stop // every)))]
    cmd += ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    err = tempfile.TemporaryFile()
    # A pipe buffer of a few frames at most lets ffmpeg decode ahead while we work on a frame,
    # without letting it run away with memory.
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                            bufsize=min(frame_bytes, 1 << 22))
    finished = False
    try:
        while True:
            buf = bytearray(frame_bytes)
            got = proc.stdout.readinto(memoryview(buf))
            while 0 < got < frame_bytes:
                more = proc.stdout.readinto(memoryview(buf)[got:])
                if not more:
                    break
                got += more
            if got == 0:
                break
            if got < frame_bytes:
                log.warning("%s: last frame truncated (%d of %d bytes); dropped", path, got,
                            frame_bytes)
                break
            yield np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)
        finished = True
    finally:
        if not finished and proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        rc = proc.wait()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        err.close()
    if rc != 0:
        raise GanimateError(f"{path}: decoding failed ({last_line(stderr)})")


def read_frame_at(path: str | os.PathLike, index: int, info: VideoInfo) -> np.ndarray:
    """Frame ``index`` of a video as an upright uint8 HxWx3 RGB array, decoded from the nearest
    key frame before it (ffmpeg's exact input seek), not from the start of the clip."""
    if info.frame_count is not None and not 0 <= index < info.frame_count:
        raise GanimateError(f"{path}: no frame {index} (the clip has {info.frame_count})")
    # Half a frame early: the seek lands on frame ``index`` whatever the timestamps' rounding.
    start = max(info.time_of(index) - 0.5 / float(info.fps), 0.0)
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-ss", f"{start:.6f}",
           "-i", str(path), "-map", f"0:{info.stream_index}", "-frames:v", "1",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    size = info.width * info.height * 3
    if proc.returncode != 0 or len(proc.stdout) < size:
        raise GanimateError(f"{path}: cannot decode frame {index} "
                            f"({last_line(proc.stderr.decode('utf-8', 'replace')) or 'no data'})")
    return np.frombuffer(proc.stdout[:size], dtype=np.uint8).reshape(info.height, info.width, 3)


def _read_frame_dir(folder: Path) -> Iterator[np.ndarray]:
    files = sorted(folder.glob("*.png"))
    if not files:
        raise GanimateError(f"{folder}: no PNG frames in this folder")
    for f in files:
        yield read_rgb(f)


def iter_video_frames(path: str | os.PathLike, every: int = 1
                      ) -> Iterator[tuple[int, float, np.ndarray]]:
    """(frame index, time in s, RGB frame) of every ``every``-th frame, streamed.

    Decoded by :func:`read_frames`, so frame indices and times match those of
    ``ganimate animate video`` on the same file (every decoded frame counted once, no padding of
    variable-rate clips); raises GanimateError if the file cannot be decoded.
    """
    info = probe(path)  # the packet scan gives a variable-rate clip's real frame times
    for i, frame in enumerate(read_frames(path, info)):
        if i % every == 0:
            yield i, info.time_of(i), frame
