"""Encoding frames as they come: :class:`VideoWriter` pipes them into ffmpeg (H.264, a GIF or PNG
frames); given the input's display rotation it turns them back and writes the same rotation, so
the output plays like the input and keeps its metadata.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.files import folder_error, same_file, umask, write_error
from ganimate.progress import log
from ganimate.video.ffmpeg import ffmpeg_exe, last_line

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


# ffmpeg's words for the OS errors that mean "the output cannot be written".
_OS_ERROR_TEXTS = {errno.ENOSPC: "No space left on device", errno.EROFS: "Read-only file system",
                   errno.EACCES: "Permission denied", errno.EDQUOT: "Disk quota exceeded",
                   errno.EFBIG: "File too large"}


def _telling_line(stderr: str) -> str:
    """ffmpeg's line that names an OS error if there is one (its last line rarely does)."""
    for line in stderr.splitlines():
        if any(text in line for text in _OS_ERROR_TEXTS.values()):
            return line.strip()
    return last_line(stderr)


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
