"""Camera conventions: c2w poses in OpenCV axes, pixel intrinsics, trajectories and their files."""

from motionflow.camera.intrinsics import (
    intrinsics_matrix,
    normalized_to_pixels,
    pixels_to_normalized,
    scale_intrinsics,
)
from motionflow.camera.plucker import plucker_embedding
from motionflow.camera.poses import (
    c2w_to_w2c,
    invert_rigid,
    look_at,
    normalize_scale_by_max_distance,
    opencv_to_opengl,
    opengl_to_opencv,
    relative_to_first,
    rotation_angle,
    validate_poses,
    w2c_to_c2w,
)
from motionflow.camera.re10k_format import read_re10k, write_re10k
from motionflow.camera.trajectory import Trajectory

__all__ = [
    "Trajectory",
    "c2w_to_w2c",
    "intrinsics_matrix",
    "invert_rigid",
    "look_at",
    "normalize_scale_by_max_distance",
    "normalized_to_pixels",
    "opencv_to_opengl",
    "opengl_to_opencv",
    "pixels_to_normalized",
    "plucker_embedding",
    "read_re10k",
    "relative_to_first",
    "rotation_angle",
    "scale_intrinsics",
    "validate_poses",
    "w2c_to_c2w",
    "write_re10k",
]
