"""Streaming video I/O through ffmpeg: probing what a file holds, decoding frames one at a time,
finding the photos and videos under a path, and encoding frames as they come.
"""

from ganimate.lazy import lazy_exports

# submodule -> the names other stages use (imported when first asked for)
_EXPORTS = {
    "ffmpeg": ("ffmpeg_exe",),
    "inputs": ("VIDEO_SUFFIXES", "find_inputs", "is_video"),
    "probing": ("VideoInfo", "count_frames", "probe"),
    "reading": ("iter_video_frames", "read_frame_at", "read_frames"),
    "writing": (
        "DEFAULT_CRF",
        "DEFAULT_PRESET",
        "FRAME_PATTERN",
        "GIF_FRAME_WARNING",
        "GIF_SUFFIX",
        "VideoWriter",
        "WRITABLE_VIDEO_SUFFIXES",
        "X264_PRESETS",
        "x264_args",
    ),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
