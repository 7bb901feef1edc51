"""Camera conventions: c2w poses in OpenCV axes, pixel intrinsics, trajectories and their files."""

from motionflow.camera.intrinsics import (
    center_crop_box,
    intrinsics_matrix,
    normalized_to_pixels,
    pixels_to_normalized,
    resize_frames,
    resize_intrinsics,
    scale_intrinsics,
)
from motionflow.camera.json_format import read_trajectory_json, write_trajectory_json
from motionflow.camera.nerfstudio_format import read_transforms_json, write_transforms_json
from motionflow.camera.poses import (
    c2w_to_w2c,
    camera_centers,
    first_step_distance,
    invert_rigid,
    look_at,
    max_distance_from_first,
    normalize_scale_by_first_step,
    normalize_scale_by_max_distance,
    opencv_to_opengl,
    opengl_to_opencv,
    relative_to_first,
    rotation_about_axis,
    rotation_angle,
    validate_poses,
    w2c_to_c2w,
)
from motionflow.camera.presets import PRESETS, make_preset, preset_names, write_presets
from motionflow.camera.re10k_format import read_re10k, write_re10k
from motionflow.camera.sampling import SAMPLERS, sample_basic, sample_difficult, sample_trajectory
from motionflow.camera.trajectory import Trajectory
from motionflow.camera.trajectory_files import load_trajectory, write_trajectory

__all__ = [
    "PRESETS",
    "SAMPLERS",
    "Trajectory",
    "c2w_to_w2c",
    "camera_centers",
    "center_crop_box",
    "first_step_distance",
    "intrinsics_matrix",
    "invert_rigid",
    "load_trajectory",
    "look_at",
    "make_preset",
    "max_distance_from_first",
    "normalize_scale_by_first_step",
    "normalize_scale_by_max_distance",
    "normalized_to_pixels",
    "opencv_to_opengl",
    "opengl_to_opencv",
    "pixels_to_normalized",
    "plucker_embedding",
    "preset_names",
    "read_re10k",
    "read_trajectory_json",
    "read_transforms_json",
    "relative_to_first",
    "resize_frames",
    "resize_intrinsics",
    "rotation_about_axis",
    "rotation_angle",
    "sample_basic",
    "sample_difficult",
    "sample_trajectory",
    "scale_intrinsics",
    "validate_poses",
    "w2c_to_c2w",
    "write_presets",
    "write_re10k",
    "write_trajectory",
    "write_trajectory_json",
    "write_transforms_json",
]


def __getattr__(name: str):
    """`plucker_embedding` imports torch: loaded on first use, so the camera package alone stays light."""
    if name == "plucker_embedding":
        from motionflow.camera.plucker import plucker_embedding

        return plucker_embedding
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
