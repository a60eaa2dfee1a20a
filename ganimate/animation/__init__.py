"""Expressions over time, streamed: a video's faces tracked, planned, edited in threads and
encoded (pipeline, planner, stages), and still photos animated.
"""

from ganimate.lazy import lazy_exports

# submodule -> the names other stages use (imported when first asked for)
_EXPORTS = {
    "clip": ("ClipPlans", "EditedFrame"),
    "conditions": ("Conditions", "frame_condition"),
    "config": ("AnimateConfig", "ImageAnimation", "Timeline"),
    "image": ("animate_image", "check_image_request"),
    "pipeline": ("animate_video", "check_video_request"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
