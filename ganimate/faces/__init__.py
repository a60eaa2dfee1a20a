"""Faces in frames: the face mesh (478 landmarks, stable ids in video), aligned crops,
and the Action Units read from them (estimators, calibration, OpenFace files).
"""

from ganimate.lazy import lazy_exports

# submodule -> the names other stages use (imported when first asked for)
_EXPORTS = {
    "align": (
        "FaceCrop",
        "align_face",
        "apply_transform",
        "canonical_face",
        "crop_faces",
        "crop_size_for",
        "crop_transform",
        "crop_with_transform",
        "face_ellipse",
        "invert_transform",
    ),
    "au_model": (
        "AUMeshModel",
        "FACE_OVAL",
        "RIGID_3D",
        "apply_similarity",
        "head_pose",
        "mesh_model",
        "to_model_frame",
        "umeyama",
    ),
    "au_names": (
        "AU_DESCRIPTIONS",
        "AU_NAMES",
        "RELIABLE_AUS",
        "SCANNED_EXTRA_AUS",
        "canonical_au_name",
    ),
    "au_vectors": ("reorder",),
    "aus": (
        "AUEstimator",
        "AUSpace",
        "CropAUReader",
        "default_estimator",
        "model_au_index",
        "source_aus",
    ),
    "calibration": ("AUCalibration", "NeutralBaseline"),
    "config": ("DEFAULT_ESTIMATOR", "ESTIMATORS", "MAX_CROP"),
    "facs_groups": ("FACS_GROUPS", "facs_group"),
    "measures": ("INNER_LIPS", "LEFT_EYE_OUTER", "OUTER_LIPS", "RIGHT_EYE_OUTER",
                 "eye_centre_distance", "eye_corner_distance"),
    "mesh": (
        "Face",
        "FaceMesh",
        "FaceTracker",
        "largest_face",
        "open_mesh",
        "pick_faces",
    ),
    "hands": ("Hand", "HandConfig", "HandTracker", "occluder_mask"),
    "openface": ("OpenFaceTable", "read_csv_rows", "read_openface_csv"),
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
