"""What moves a frame's faces from y_r to y_g: the Engine protocol and its frame jobs, the warp
(geometry, mouth, teeth, painter), the generator (gan), the hybrid, and paste-back (blend).
"""

from ganimate.lazy import lazy_exports

# submodule -> the names other stages use (imported when first asked for)
_EXPORTS = {
    "base": ("CropEdits", "ENGINES", "Engine", "FrameEdit", "FrameJob", "edit_frame", "photo_aus"),
    "blend": ("keep_in_front", "paste_back"),
    "config": ("BlendConfig",),
    "gan": ("GanEngine", "edit_crops"),
    "hybrid": ("HybridEngine",),
    "load": ("load_engine",),
    "mouth": ("MouthMemory",),
    "mouth_track": ("MouthTrack",),
    "warp": ("WarpEngine",),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
