"""Streaming video I/O through the ffmpeg binary that imageio-ffmpeg ships.

Nothing here holds a clip in memory: :func:`read_frames` yields one decoded frame at a time from a
rawvideo pipe, and :class:`VideoWriter` pipes frames into an encoder as they come, so memory stays
flat however long the clip is. ffmpeg runs as a child process with argument lists (never a shell);
its stderr goes to a temporary file so that a chatty ffmpeg can never block on a full pipe.

There is no ffprobe in imageio-ffmpeg, so :func:`probe` reads ``ffmpeg -i`` (the stream header on
stderr) together with a stream-copy pass that lists every video packet (``-f framecrc``): that
gives the exact frame count and frame rate without decoding, including variable-frame-rate phone
clips and files whose edit lists discard leading frames.

Orientation: phone videos store landscape pixels plus a display rotation. Frames come out of
:func:`read_frames` upright (ffmpeg's autorotate), and :class:`VideoWriter` given the input's
``rotation`` turns them back and writes the same display rotation, so the output plays like the
input and keeps its metadata.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.files import folder_error, same_file, umask, write_error
from ganimate.images import IMAGE_SUFFIXES, read_rgb
from ganimate.progress import log

# Imported in the functions that use them, on purpose (start-up): imageio_ffmpeg (where ffmpeg
# runs).

# Videos that are read (found in folders by :func:`find_inputs`, decoded by ffmpeg).
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv",
                  ".flv", ".gif")
# Containers the H.264 writer produces (anything else is refused with a list of these).
WRITABLE_VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v")
GIF_SUFFIX = ".gif"
# Default x264 settings: crf 18 is visually lossless for most content (x264's default is 23);
# "medium" is x264's default speed/size trade-off.
DEFAULT_CRF = 18
DEFAULT_PRESET = "medium"
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                "slower", "veryslow", "placebo")
# A GIF is encoded in two halves (palette, then frames), so ffmpeg keeps the whole clip until
# the end; above this many frames we warn that a video format would be the better choice.
GIF_FRAME_WARNING = 500
# Frame files of a PNG frame directory (lossless output for checks); frame i is FRAME_PATTERN % i.
FRAME_PATTERN = "%06d.png"

# Frame rates that ffmpeg prints rounded; the exact NTSC rationals behind them.
_NTSC = {"23.98": Fraction(24000, 1001), "29.97": Fraction(30000, 1001),
         "47.95": Fraction(48000, 1001), "59.94": Fraction(60000, 1001),
         "119.88": Fraction(120000, 1001)}


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary bundled with imageio-ffmpeg."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # the GPU machine may lack it; only video commands need it
        raise GanimateError(
            "video needs the imageio-ffmpeg package: pip install imageio-ffmpeg"
        ) from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, as displayed (width/height after the display rotation)."""

    path: Path
    width: int  # displayed width in pixels (after rotation); frames from read_frames have it
    height: int  # displayed height in pixels
    fps: Fraction  # frame rate; for variable frame rate: frame_count / duration (the average)
    frame_count: int | None  # exact when probed with count_frames=True (the default)
    duration: float  # seconds
    rotation: int  # display rotation, counter-clockwise degrees (0, 90, 180, 270), as ffmpeg's
    has_audio: bool
    video_codec: str
    audio_codec: str | None
    pixel_format: str
    stream_index: int  # index of the video stream in the file (cover art streams are skipped)
    variable_frame_rate: bool = False
    # Variable frame rate only: each frame's presentation time in seconds from the first frame,
    # in display order (read from the packets; None for constant-rate clips: i / fps).
    timestamps: tuple[float, ...] | None = None

    def time_of(self, index: int) -> float:
        """The presentation time (s, from the first frame) of frame ``index``."""
        if self.timestamps is not None and index < len(self.timestamps):
            return self.timestamps[index]
        return index / float(self.fps)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) as displayed."""
        return self.width, self.height

    @property
    def stored_size(self) -> tuple[int, int]:
        """(width, height) of the pixels in the file, before the display rotation."""
        return (self.height, self.width) if self.rotation in (90, 270) else (self.width,
                                                                             self.height)


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses: 'yuv420p(tv, bt709), 960x540' -> two parts."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _parse_fps(text: str) -> Fraction | None:
    text = text.strip()
    if text in _NTSC:
        return _NTSC[text]
    try:
        value = float(text[:-1]) * 1000 if text.endswith("k") else float(text)
    except ValueError:
        return None
    return Fraction(value).limit_denominator(1001) if value > 0 else None


_STREAM = re.compile(r"^\s*Stream #\d+:(\d+)\S*: (Video|Audio|Subtitle|Data|Attachment): (.*)$")
_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees", re.IGNORECASE)
_ROTATE_TAG = re.compile(r"^\s*rotate\s*:\s*(-?\d+)")  # older ffmpeg builds


@dataclass
class _Header:
    video: dict | None
    audio_codec: str | None
    duration: float | None


def _video_stream(index: int, codec: str, parts: list[str]) -> dict:
    """The video stream of a header's ``Stream #0:N: Video: ...`` line (its parts)."""
    video = {"index": index, "codec": codec, "pix_fmt": "unknown", "size": None, "fps": None,
             "tbr": None, "rotation": 0.0}
    if len(parts) > 1:
        video["pix_fmt"] = parts[1].split("(")[0].strip()
    for part in parts[1:]:
        size = re.match(r"^(\d+)x(\d+)", part)
        if size and video["size"] is None:
            video["size"] = (int(size.group(1)), int(size.group(2)))
        rate = re.match(r"^([\d.]+k?) (fps|tbr)$", part)
        if rate:
            video["fps" if rate.group(2) == "fps" else "tbr"] = rate.group(1)
    return video


def _parse_header(stderr: str, path: Path) -> _Header:
    if "Input #0" not in stderr:
        tail = [ln for ln in stderr.strip().splitlines() if ln.strip()]
        why = tail[-1].strip() if tail else "unknown error"
        why = why.split(": ", 1)[-1] if str(path) in why else why
        raise GanimateError(f"{path}: cannot read video ({why}); is it a complete video file?")
    duration = None
    m = _DURATION.search(stderr)
    if m:
        duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    video, audio_codec, current = None, None, None
    for line in stderr.splitlines():
        sm = _STREAM.match(line)
        if sm:
            index, kind, rest = int(sm.group(1)), sm.group(2), sm.group(3)
            current = None
            parts = _split_top(rest)
            codec = parts[0].split()[0] if parts and parts[0] else "unknown"
            if kind == "Audio" and audio_codec is None:
                audio_codec = codec
            if kind == "Video" and video is None and "(attached pic)" not in rest:
                video = current = _video_stream(index, codec, parts)
            continue
        if current is not None:
            rm = _ROTATION.search(line) or _ROTATE_TAG.match(line)
            if rm:
                current["rotation"] = float(rm.group(1))
    if video is None or video["size"] is None:
        raise GanimateError(f"{path}: has no video stream (audio-only or not a video file)")
    return _Header(video, audio_codec, duration)


@dataclass
class _Packets:
    count: int
    fps: Fraction | None
    span: float | None  # seconds from the first frame's start to the last frame's end
    variable: bool
    times: tuple[float, ...] | None = None  # variable rate: frame times from the first, sorted


def _scan_packets(lines: Iterator[str]) -> _Packets:
    """Count video packets from ``-f framecrc`` output, skipping ones marked discard (edit lists).

    Lines: ``#tb 0: 1/15360`` then ``stream, dts, pts, duration, size, crc[, F=0x..]``.
    """
    tb = None
    count, first, end, total, dmin, dmax = 0, None, None, 0, None, None
    stamps: list[int] = []
    for line in lines:
        if line.startswith("#tb"):
            num, den = line.split(":", 1)[1].strip().split("/")
            tb = Fraction(int(num), int(den))
            continue
        if line.startswith("#") or not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 6:
            continue
        flags = fields[6] if len(fields) > 6 else ""
        if flags.startswith("F=") and int(flags[2:], 16) & 0x4:  # AV_PKT_FLAG_DISCARD
            continue
        pts, dur = int(fields[2]), int(fields[3])
        stamps.append(pts)
        count += 1
        first = pts if first is None else min(first, pts)
        end = pts + dur if end is None else max(end, pts + dur)
        total += dur
        dmin = dur if dmin is None else min(dmin, dur)
        dmax = dur if dmax is None else max(dmax, dur)
    if count == 0 or tb is None or first is None or end <= first:
        return _Packets(count, None, None, False)
    span = (end - first) * tb
    fps = Fraction(count) / span
    # Constant rate: equal durations (one tick of rounding allowed: Matroska stores 33/34 ms)
    # and no gaps between frames.
    constant = dmax - dmin <= 1 and abs((end - first) - total) <= count
    if constant and dmin == dmax:
        return _Packets(count, 1 / (dmin * tb), float(span), False)
    if constant:  # the mean duration, not the span: the last frame may lack its duration
        fps = Fraction(count) / (total * tb)
    times = None if constant else tuple(float((p - first) * tb) for p in sorted(stamps))
    return _Packets(count, fps.limit_denominator(1001), float(span), not constant, times)


def _run_capture(cmd: list[str], stdout_lines: bool = False):
    """Run ffmpeg, stderr to a temp file; returns (returncode, stderr text, stdout scan)."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=err)
        try:
            scanned = _scan_packets(
                line.decode("ascii", "replace") for line in proc.stdout
            ) if stdout_lines else proc.stdout.read()
        finally:
            proc.stdout.close()
            rc = proc.wait()
        err.seek(0)
        return rc, err.read().decode("utf-8", "replace"), scanned


def count_frames(path: str | os.PathLike, stream_index: int | None = None) -> int:
    """Exact number of frames by decoding the stream (slow; :func:`probe` rarely needs it)."""
    path = Path(path)
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path),
           "-map", f"0:{stream_index}" if stream_index is not None else "0:v:0",
           "-fps_mode", "passthrough", "-f", "null", "-"]
    rc, stderr, _ = _run_capture(cmd)
    frames = re.findall(r"frame=\s*(\d+)", stderr)
    if rc != 0 or not frames:
        raise GanimateError(f"{path}: cannot decode video ({_last_line(stderr)})")
    return int(frames[-1])


# ffmpeg's words for the OS errors that mean "the output cannot be written".
_OS_ERROR_TEXTS = {errno.ENOSPC: "No space left on device", errno.EROFS: "Read-only file system",
                   errno.EACCES: "Permission denied", errno.EDQUOT: "Disk quota exceeded",
                   errno.EFBIG: "File too large"}


def _telling_line(stderr: str) -> str:
    """ffmpeg's line that names an OS error if there is one (its last line rarely does)."""
    for line in stderr.splitlines():
        if any(text in line for text in _OS_ERROR_TEXTS.values()):
            return line.strip()
    return _last_line(stderr)


def _last_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no message from ffmpeg"


def _stream_packets(ff: str, path: Path, header) -> _Packets:
    """The video stream's packets, listed without decoding; by decoding if that fails."""
    cmd = [ff, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
           "-map", f"0:{header.video['index']}", "-c", "copy", "-f", "framecrc", "-"]
    rc, stderr, packets = _run_capture(cmd, stdout_lines=True)
    if rc != 0 or packets.count == 0:
        log.debug("%s: packet scan failed (%s); counting by decoding", path, _last_line(stderr))
        packets = _Packets(count_frames(path, header.video["index"]), None, None, False)
    return packets


def _frame_rate(path: Path, v: dict, packets: _Packets | None) -> Fraction:
    """The packets' rate, or the header's where they agree within 2% on a constant-rate
    stream (or where there are no packet times); 25 when neither is known."""
    fps = packets.fps if packets is not None and packets.fps else None
    stated = _parse_fps(v["fps"] or "") or _parse_fps(v["tbr"] or "")
    # Containers with millisecond clocks (Matroska, WebM) round every duration (30 fps is 33
    # ms = 30.3 fps); the header's rate is then the better value of a constant-rate stream.
    if fps is None or (stated is not None and not packets.variable
                       and abs(stated - fps) <= 0.02 * fps):
        fps = stated
    if fps is None:
        log.warning("%s: frame rate unknown; assuming 25 fps", path)
        fps = Fraction(25)
    return fps


def probe(path: str | os.PathLike, count_frames_exactly: bool = True) -> VideoInfo:
    """Describe a video file; with ``count_frames_exactly`` the frame count and rate are exact.

    The exact count comes from listing packets without decoding (fast: it reads the file once).
    Without it, ``frame_count`` is estimated from the duration (``None`` if that is unknown).
    """
    path = Path(path)
    if not path.exists():
        raise GanimateError(f"{path}: no such file")
    if path.is_dir():
        raise GanimateError(f"{path}: is a folder, not a video file")
    ff = ffmpeg_exe()
    rc, stderr, _ = _run_capture([ff, "-hide_banner", "-nostdin", "-i", str(path)])
    header = _parse_header(stderr, path)
    packets = _stream_packets(ff, path, header) if count_frames_exactly else None
    v = header.video
    fps = _frame_rate(path, v, packets)
    duration = header.duration
    if duration is None and packets is not None and packets.span:
        duration = packets.span
    if packets is not None:
        frame_count = packets.count
    elif duration is not None:
        frame_count = max(1, round(duration * float(fps)))
    else:
        frame_count = None
    if duration is None:
        duration = frame_count / float(fps) if frame_count else 0.0
    rotation = int(round(v["rotation"])) % 360
    if rotation % 90:
        log.warning("%s: display rotation %d degrees is not a multiple of 90; ignored", path,
                    rotation)
        rotation = 0
    w, h = v["size"]
    if rotation in (90, 270):
        w, h = h, w
    return VideoInfo(
        path=path, width=w, height=h, fps=fps, frame_count=frame_count, duration=duration,
        rotation=rotation, has_audio=header.audio_codec is not None,
        video_codec=v["codec"], audio_codec=header.audio_codec, pixel_format=v["pix_fmt"],
        stream_index=v["index"],
        variable_frame_rate=bool(packets is not None and packets.variable),
        timestamps=packets.times if packets is not None and packets.variable else None,
    )


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def read_frames(path: str | os.PathLike, info: VideoInfo | None = None) -> Iterator[np.ndarray]:
    """Yield every frame as an upright uint8 HxWx3 RGB array, one at a time.

    Every decoded frame comes out exactly once (no frames duplicated or dropped to a constant
    rate), so the count matches ``probe(...).frame_count``. Stopping early (``break``, an
    exception, or closing the generator) ends the ffmpeg process. A folder of PNG frames (as
    :class:`VideoWriter` writes it) is read in name order.
    """
    path = Path(path)
    if path.is_dir():
        yield from _read_frame_dir(path)
        return
    info = info or probe(path, count_frames_exactly=False)
    w, h = info.width, info.height
    frame_bytes = w * h * 3
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
           "-map", f"0:{info.stream_index}", "-fps_mode", "passthrough",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
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
        raise GanimateError(f"{path}: decoding failed ({_last_line(stderr)})")


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
                            f"({_last_line(proc.stderr.decode('utf-8', 'replace')) or 'no data'})")
    return np.frombuffer(proc.stdout[:size], dtype=np.uint8).reshape(info.height, info.width, 3)


def _read_frame_dir(folder: Path) -> Iterator[np.ndarray]:
    files = sorted(folder.glob("*.png"))
    if not files:
        raise GanimateError(f"{folder}: no PNG frames in this folder")
    for f in files:
        yield read_rgb(f)


# ---------------------------------------------------------------------------------------------
# Media discovery: the photos and videos under the paths a user gives
# ---------------------------------------------------------------------------------------------


def find_inputs(sources: Sequence[str | os.PathLike]) -> list[tuple[Path, str]]:
    """(file, display path) of every photo and video under the sources, sorted; display paths are
    relative to the folder given (prefixed with its name when several sources are given)."""
    out: list[tuple[Path, str]] = []
    several = len(sources) > 1
    for src in sources:
        src = Path(src)
        if src.is_file():
            out.append((src, src.name))
        elif src.is_dir():
            prefix = f"{src.resolve().name}/" if several else ""
            for dirpath, dirnames, filenames in os.walk(src):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    p = Path(dirpath) / name
                    if p.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES:
                        out.append((p, prefix + p.relative_to(src).as_posix()))
        else:
            raise GanimateError(f"{src}: no such file or folder")
    seen: set[str] = set()
    unique = []
    for p, disp in out:
        if disp not in seen:
            seen.add(disp)
            unique.append((p, disp))
    return unique


def is_video(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


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


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def x264_args(crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET,
              lossless: bool = False) -> list[str]:
    """The encoder arguments the writer uses (shared with benchmarks so they compare like for like).

    ``lossless``: libx264rgb at crf 0 on rgb24, bit-exact RGB (for tests and checks; large files,
    and not every player can show it). Otherwise libx264 yuv420p, which every player supports.
    """
    if preset not in X264_PRESETS:
        raise GanimateError(f"--preset {preset!r}: use one of {', '.join(X264_PRESETS)}")
    if lossless:
        return ["-c:v", "libx264rgb", "-crf", "0", "-preset", preset, "-pix_fmt", "rgb24"]
    if not 0 <= crf <= 51:
        raise GanimateError(f"--crf {crf}: must be in 0..51 (lower is better; 18 looks lossless)")
    return ["-c:v", "libx264", "-crf", str(crf), "-preset", preset, "-pix_fmt", "yuv420p"]


def _fps_arg(fps) -> str:
    f = Fraction(fps).limit_denominator(1_000_000) if not isinstance(fps, Fraction) else fps
    if f <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return f"{f.numerator}/{f.denominator}"


class VideoWriter:
    """Encode frames as they come into an H.264 video, a GIF or a folder of PNG frames.

    Use as a context manager::

        with VideoWriter(out, fps=info.fps, audio_from=src, rotation=info.rotation) as w:
            for frame in frames:
                w.write(frame)

    The kind follows ``path``: ``.mp4/.mov/.mkv/.m4v`` (libx264, ``crf``, ``preset``, yuv420p,
    or bit-exact RGB with ``lossless``), ``.gif`` (a palette made for the clip; short clips), or no
    suffix (a folder of lossless PNG frames ``000000.png``...). Everything is written to temporary
    files beside ``path`` and renamed into place only when :meth:`close` succeeds; an exception
    inside the ``with`` block, or a failure, removes them and leaves any existing ``path`` alone.

    ``audio_from``: a file whose audio streams are copied (re-encoded to AAC only if the container
    cannot hold them). ``rotation``: the input's display rotation; upright frames are turned back to
    the stored orientation and the same display rotation is written, so a phone clip keeps its
    metadata. yuv420p needs even sizes: an odd width or height gets one replicated edge column/row.
    """

    def __init__(self, path: str | os.PathLike, fps, crf: int = DEFAULT_CRF,
                 preset: str = DEFAULT_PRESET, audio_from: str | os.PathLike | None = None,
                 rotation: int = 0, lossless: bool = False,
                 timestamps: tuple[float, ...] | None = None):
        self.path = Path(path)
        # Per-frame presentation times (s) of a variable-rate input, kept in a video output.
        self.timestamps = timestamps
        self.fps = Fraction(fps).limit_denominator(1_000_000)
        self.audio_from = Path(audio_from) if audio_from is not None else None
        self.rotation = int(rotation) % 360
        self.lossless = lossless
        suffix = self.path.suffix.lower()
        if suffix == GIF_SUFFIX:
            self.kind = "gif"
        elif suffix in WRITABLE_VIDEO_SUFFIXES:
            self.kind = "video"
        elif suffix == "":
            self.kind = "frames"
        else:
            raise GanimateError(
                f"{self.path}: cannot write {suffix!r} video; use one of "
                f"{', '.join(WRITABLE_VIDEO_SUFFIXES)}, .gif, or a folder name for PNG frames"
            )
        if self.rotation % 90:
            raise ValueError(f"rotation must be a multiple of 90, got {rotation}")
        self._codec = x264_args(crf, preset, lossless) if self.kind == "video" else []
        if self.audio_from is not None and same_file(self.path, self.audio_from):
            raise GanimateError(f"{self.path}: the output would overwrite the input; choose "
                                "another output path")
        if self.audio_from is not None and not self.audio_from.is_file():
            raise GanimateError(f"{self.audio_from}: no such file (audio source)")
        if self.path.is_dir() and self.kind != "frames":
            raise GanimateError(f"{self.path}: is a folder")
        if self.path.exists() and self.kind == "frames" and not self.path.is_dir():
            raise GanimateError(f"{self.path}: exists and is not a folder")
        self.frame_count = 0
        self._proc: subprocess.Popen | None = None
        self._err = None
        self._shape: tuple[int, int] | None = None  # (h, w) of the frames written
        self._pad = (0, 0)
        self._tmp: list[Path] = []
        self._closed = False

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    @staticmethod
    def _publish(tmp: Path) -> None:
        """mkstemp/mkdtemp make private files; give the result the usual umask permissions."""
        os.chmod(tmp, (0o777 if tmp.is_dir() else 0o666) & ~umask())

    def _temp(self, suffix: str, folder: bool = False) -> Path:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if folder:
                tmp = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=f".{self.path.name}."))
            else:
                fd, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.",
                                            suffix=suffix)
                os.close(fd)
                tmp = Path(name)
        except OSError as exc:
            raise folder_error(self.path, exc) from None
        self._tmp.append(tmp)
        return tmp

    def _start(self, h: int, w: int) -> None:
        k = self.rotation // 90
        sh, sw = (w, h) if k % 2 else (h, w)  # stored orientation
        if self.kind == "video" and not self.lossless:
            self._pad = (sh % 2, sw % 2)
            if any(self._pad):
                log.warning("%s: %dx%d is odd; yuv420p needs even sizes, so one edge "
                            "row/column is repeated", self.path, sw, sh)
        ph, pw = sh + self._pad[0], sw + self._pad[1]
        ff = ffmpeg_exe()
        cmd = [ff, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{pw}x{ph}",
               "-framerate", _fps_arg(self.fps), "-i", "-", "-an"]
        if self.kind == "video":
            self._video_tmp = self._temp(self.path.suffix)
            cmd += [*self._timestamp_args(), *self._codec, str(self._video_tmp)]
        elif self.kind == "gif":
            self._video_tmp = self._temp(GIF_SUFFIX)
            # One palette for the whole clip (stats over all frames), then dithered frames.
            cmd += ["-filter_complex",
                    "split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=sierra2_4a",
                    "-loop", "0", "-f", "gif", str(self._video_tmp)]
        else:
            self._video_tmp = self._temp("", folder=True)
            cmd += ["-f", "image2", "-start_number", "0", "-c:v", "png",
                    str(self._video_tmp / FRAME_PATTERN)]
        self._err = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=self._err)

    def _timestamp_args(self) -> list[str]:
        """Variable frame rate: frames go in at the average rate (frame i at i / fps s, which
        also gives each frame, the last included, an average duration); a sendcmd script then
        sets each frame's own timestamp through setpts, a quarter frame before it arrives."""
        if not self.timestamps:
            return []
        script = self._temp(".cmd")
        fps = float(self.fps)
        script.write_text("".join(f"{max(i - 0.25, 0) / fps:.6f} setpts expr "
                                  f"{round(t * 90000)};\n"
                                  for i, t in enumerate(self.timestamps)))
        path = str(script).replace("\\", "/").replace(":", "\\:").replace("'", "\\'")
        return ["-vf", f"sendcmd=f='{path}',settb=1/90000,setpts=PTS",
                "-fps_mode", "passthrough", "-video_track_timescale", "90000"]

    def write(self, frame: np.ndarray) -> None:
        """Encode one upright uint8 HxWx3 RGB frame (all frames must have the same size)."""
        if self._closed:
            raise ValueError("VideoWriter is closed")
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"expected uint8 HxWx3 RGB, got {frame.dtype} {frame.shape}")
        if self._shape is None:
            self._shape = frame.shape[:2]
            try:
                self._start(*self._shape)
            except BaseException:
                self.abort()
                raise
        elif frame.shape[:2] != self._shape:
            raise ValueError(f"frame size {frame.shape[:2]} differs from the first {self._shape}")
        if self.rotation:
            frame = np.rot90(frame, -(self.rotation // 90))
        if any(self._pad):
            frame = np.pad(frame, ((0, self._pad[0]), (0, self._pad[1]), (0, 0)), mode="edge")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data)
        except (BrokenPipeError, OSError):
            message = self._stderr()
            self.abort()
            raise self._failure(message) from None
        self.frame_count += 1

    def _stderr(self) -> str:
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self._err is None:
            return "no message from ffmpeg"
        self._err.seek(0)
        return _telling_line(self._err.read().decode("utf-8", "replace"))

    def _failure(self, message: str) -> GanimateError:
        """ffmpeg failed: a write error (disk full, read-only...) reads like any other."""
        for code, text in _OS_ERROR_TEXTS.items():
            if text in message:
                return write_error(self.path, OSError(code, text))
        return GanimateError(f"{self.path}: encoding failed ({message})")

    def close(self) -> Path:
        """Finish encoding, add audio and rotation, and move the result into place."""
        if self._closed:
            return self.path
        if self._proc is None:
            self.abort()
            raise GanimateError(f"{self.path}: no frames to write")
        try:
            self._proc.stdin.close()
        except OSError:
            pass
        rc = self._proc.wait()
        if rc != 0:
            message = self._stderr()
            self.abort()
            raise self._failure(message)
        try:
            if self.kind == "frames":
                self._replace_folder(self._video_tmp)
            else:
                if self.kind == "gif" and self.frame_count > GIF_FRAME_WARNING:
                    log.warning("%s: %d frames is long for a GIF; an .mp4 is far smaller",
                                self.path, self.frame_count)
                final = self._video_tmp
                if self.kind == "video" and (self.rotation or self._wants_audio()):
                    final = self._mux(self._video_tmp)
                self._publish(final)
                os.replace(final, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        self._cleanup()
        return self.path

    def _wants_audio(self) -> bool:
        return self.audio_from is not None

    def _mux(self, video: Path) -> Path:
        """Add the audio of ``audio_from`` (copied, or AAC if the container refuses) and the
        display rotation, without re-encoding the video."""
        out = self._temp(self.path.suffix)
        ff = ffmpeg_exe()
        base = [ff, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        if self.rotation:
            base += ["-display_rotation", str(self.rotation)]
        base += ["-i", str(video)]
        audio = self._wants_audio()
        if audio:
            base += ["-i", str(self.audio_from), "-map", "0:v:0", "-map", "1:a?"]
        faststart = ["-movflags", "+faststart"] if self.path.suffix.lower() in (
            ".mp4", ".mov", ".m4v") else []
        attempts = [["-c", "copy"]]
        if audio:
            attempts.append(["-c:v", "copy", "-c:a", "aac", "-b:a", "192k"])
        message = ""
        for codec in attempts:
            with tempfile.TemporaryFile() as err:
                rc = subprocess.run([*base, *codec, *faststart, str(out)],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err).returncode
                err.seek(0)
                message = _telling_line(err.read().decode("utf-8", "replace"))
            if rc == 0:
                if codec is not attempts[0]:
                    log.info("%s: the audio could not be copied into %s; re-encoded as AAC",
                             self.path, self.path.suffix)
                return out
            log.debug("%s: mux with %s failed: %s", self.path, codec, message)
        failure = self._failure(message)
        if str(failure).startswith("cannot write"):
            raise failure
        raise GanimateError(f"{self.path}: adding the audio of {self.audio_from} failed "
                            f"({message})")

    def _replace_folder(self, tmp: Path) -> None:
        self._publish(tmp)
        if self.path.exists():
            trash = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=f".{self.path.name}.old."))
            os.replace(self.path, trash / "old")
            os.replace(tmp, self.path)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, self.path)
        self._tmp.remove(tmp)

    def abort(self) -> None:
        """Stop encoding and remove every partial file; ``path`` is left as it was."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._proc is not None and self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
        self._closed = True
        self._cleanup()

    def _cleanup(self) -> None:
        for tmp in self._tmp:
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)
        self._tmp.clear()
        if self._err is not None:
            self._err.close()
            self._err = None

    def __del__(self):
        if not getattr(self, "_closed", True) and getattr(self, "_proc", None) is not None:
            self.abort()
