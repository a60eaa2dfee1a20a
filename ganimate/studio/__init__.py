"""The studio: a local web page over the editing and animation stages, with FACS sliders, a live
preview, keyframes over a clip, and the `ganimate` command that reproduces each result.
"""

from ganimate.lazy import lazy_exports

# submodule -> the names other stages use (imported when first asked for)
_EXPORTS = {
    "config": ("StudioConfig",),
    "controller": ("Studio",),
    "server": ("serve",),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
