"""Measuring: pixel and AU metrics, the checkpoint protocol, videos and photos, the independent
readers (FER classifier, dlib), and reports.
"""

from ganimate.lazy import lazy_exports

# submodule -> the names other stages use (imported when first asked for)
_EXPORTS = {
    "config": ("EvalConfig",),
    "protocol": ("evaluate_checkpoints",),
    "video": ("evaluate_video",),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
