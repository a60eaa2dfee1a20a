"""What a video file holds (:func:`probe`), without ffprobe (imageio-ffmpeg has none): the stream
header of ``ffmpeg -i``, and a stream-copy pass listing every packet (``-f framecrc``) that gives
the exact frame count and rate without decoding (variable-rate clips and edit lists included).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ganimate.errors import GanimateError
from ganimate.progress import log
from ganimate.video.ffmpeg import ffmpeg_exe, last_line

# Frame rates that ffmpeg prints rounded; the exact NTSC rationals behind them.
_NTSC = {"23.98": Fraction(24000, 1001), "29.97": Fraction(30000, 1001),
         "47.95": Fraction(48000, 1001), "59.94": Fraction(60000, 1001),
         "119.88": Fraction(120000, 1001)}


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
        raise GanimateError(f"{path}: cannot decode video ({last_line(stderr)})")
    return int(frames[-1])


def _stream_packets(ff: str, path: Path, header) -> _Packets:
    """The video stream's packets, listed without decoding; by decoding if that fails."""
    cmd = [ff, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
           "-map", f"0:{header.video['index']}", "-c", "copy", "-f", "framecrc", "-"]
    rc, stderr, packets = _run_capture(cmd, stdout_lines=True)
    if rc != 0 or packets.count == 0:
        log.debug("%s: packet scan failed (%s); counting by decoding", path, last_line(stderr))
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
