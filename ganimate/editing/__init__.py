"""Photo editing over any engine: plan outputs, edit photos (one or a batch), masks (Fig. 5)
and AU sweeps (Fig. 4).
"""

from ganimate.lazy import lazy_exports

# submodule -> the names other stages use (imported when first asked for)
_EXPORTS = {
    "config": ("SweepConfig",),
    "outputs": ("list_photos", "plan_edit"),
    "photos": (
        "EditConfig",
        "FoundFaces",
        "PhotoEdit",
        "edit_found",
        "edit_photo",
        "edit_photos",
        "edit_with_attention",
        "find_faces",
        "find_faces_in",
        "write_photo_edit",
    ),
    "sweep": ("draw_grid", "face_cell", "parse_steps", "plan_sweep", "sweep_aus", "sweep_photo"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
