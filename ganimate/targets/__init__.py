"""What to ask of a face: target AU vectors (presets, --au changes, AU files, --like) and
when over time (alpha schedules, easing, keyframes, driver tracks).
"""

from ganimate.lazy import lazy_exports

# submodule -> the names other stages use (imported when first asked for)
_EXPORTS = {
    "keyframes": (
        "AUCurves",
        "KeyframeRow",
        "Keyframes",
        "is_keyframe_file",
        "keyframe_text",
        "keyframes_of",
        "read_keyframe_rows",
        "read_keyframes",
        "write_keyframes",
    ),
    "options": ("NOTHING_TO_CHANGE", "TargetOptions", "parse_source_aus"),
    "presets": ("PRESETS", "parse_expression"),
    "spec": ("AUChange", "TargetSpec", "apply_changes", "build_target", "condition", "target_spec"),
    "timeline": (
        "AUTrack",
        "AlphaSchedule",
        "EASINGS",
        "bounce_schedule",
        "hold_schedule",
        "parse_ramp",
        "ramp_schedule",
        "read_au_track",
    ),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
