"""Rigid poses: validation, camera-to-world <-> world-to-camera, relative trajectories, axis conventions.

A pose is a 4x4 camera-to-world matrix (c2w) in OpenCV axes (x right, y down, z forward). Every
conversion from another convention happens here, once.
"""

from __future__ import annotations

import numpy as np

from motionflow.errors import PoseError

ROTATION_TOLERANCE = 1e-4
"""Largest allowed |R^T R - I| entry and |det R - 1| for a matrix to count as a rotation.

RealEstate10K prints nine decimals, so its rotations are orthonormal to about 1e-8; estimator output
is orthonormal to float32 precision (~1e-6)."""

OPENGL_TO_OPENCV = np.diag([1.0, -1.0, -1.0, 1.0])
"""Flips y and z: maps camera axes OpenGL (x right, y up, z backward) <-> OpenCV (x right, y down, z forward)."""


def as_pose_stack(poses: np.ndarray) -> np.ndarray:
    """Returns poses as float64 [F, 4, 4]; accepts [4, 4], [F, 4, 4] or [F, 3, 4]."""
    poses = np.asarray(poses, dtype=np.float64)
    if poses.ndim == 2:
        poses = poses[None]
    if poses.ndim != 3 or poses.shape[1:] not in ((4, 4), (3, 4)):
        raise PoseError(f"expected poses of shape [F, 4, 4] or [F, 3, 4], got {tuple(poses.shape)}")
    if poses.shape[1] == 3:
        bottom = np.broadcast_to(np.array([0.0, 0.0, 0.0, 1.0]), (poses.shape[0], 1, 4))
        poses = np.concatenate([poses, bottom], axis=1)
    return poses


def pose_problems(pose: np.ndarray, tolerance: float = ROTATION_TOLERANCE) -> list[str]:
    """Lists what makes one 4x4 matrix an invalid rigid transform (empty when it is valid)."""
    problems: list[str] = []
    if not np.all(np.isfinite(pose)):
        return ["contains NaN or infinite values"]
    rotation = pose[:3, :3]
    orthonormality = np.abs(rotation.T @ rotation - np.eye(3)).max()
    if orthonormality > tolerance:
        problems.append(f"rotation is not orthonormal (max |R^T R - I| = {orthonormality:.2e})")
    det = np.linalg.det(rotation)
    if abs(det - 1.0) > tolerance and orthonormality <= tolerance:
        problems.append(f"rotation has det {det:+.6f}, expected +1 (a reflection)")
    if not np.allclose(pose[3], [0.0, 0.0, 0.0, 1.0], atol=tolerance):
        problems.append(f"last row is {pose[3].tolist()}, expected [0, 0, 0, 1]")
    return problems


def validate_poses(poses: np.ndarray, tolerance: float = ROTATION_TOLERANCE) -> np.ndarray:
    """Returns poses as [F, 4, 4] float64, or raises PoseError naming the first invalid frame."""
    poses = as_pose_stack(poses)
    for index, pose in enumerate(poses):
        problems = pose_problems(pose, tolerance)
        if problems:
            raise PoseError(f"pose of frame {index}: " + "; ".join(problems))
    return poses


def invert_rigid(poses: np.ndarray) -> np.ndarray:
    """Inverts poses [.., 4, 4].

    A full matrix inverse, not [R^T | -R^T t]: stored rotations are orthonormal only to their printed
    digits, and the transpose form would not undo itself (w2c -> c2w -> w2c would move t by ~1e-7)."""
    return np.linalg.inv(np.asarray(poses, dtype=np.float64))


def w2c_to_c2w(w2c: np.ndarray) -> np.ndarray:
    """World-to-camera (COLMAP, VGGSfM, RealEstate10K files) -> camera-to-world."""
    return invert_rigid(as_pose_stack(w2c))


def c2w_to_w2c(c2w: np.ndarray) -> np.ndarray:
    """Camera-to-world -> world-to-camera."""
    return invert_rigid(as_pose_stack(c2w))


def relative_to_first(c2w: np.ndarray) -> np.ndarray:
    """c2w_rel[i] = inv(c2w[0]) @ c2w[i]: frame 0 becomes the identity."""
    c2w = as_pose_stack(c2w)
    return invert_rigid(c2w[0]) @ c2w


def opengl_to_opencv(c2w_gl: np.ndarray) -> np.ndarray:
    """Camera-to-world with OpenGL camera axes (nerfstudio, DL3DV) -> OpenCV camera axes.

    Only the camera frame changes, so the flip multiplies from the right; the world frame is kept."""
    return as_pose_stack(c2w_gl) @ OPENGL_TO_OPENCV


def opencv_to_opengl(c2w_cv: np.ndarray) -> np.ndarray:
    """Inverse of :func:`opengl_to_opencv` (the flip is its own inverse)."""
    return as_pose_stack(c2w_cv) @ OPENGL_TO_OPENCV


def camera_centers(c2w: np.ndarray) -> np.ndarray:
    """Camera centres in world coordinates, [F, 3]."""
    return as_pose_stack(c2w)[:, :3, 3]


def max_distance_from_first(c2w: np.ndarray) -> float:
    """Largest distance of any camera centre from the first one (the `motionflow` preset's scale)."""
    centers = camera_centers(c2w)
    return float(np.linalg.norm(centers - centers[0], axis=1).max())


def normalize_scale_by_max_distance(c2w: np.ndarray, eps: float = 1e-9) -> np.ndarray:
    """Scales camera centres (relative to frame 0) so the farthest one is at distance 1.

    A trajectory that does not move (max distance below eps) is returned unchanged: no scale
    can be defined for it, and callers that need one must check :func:`max_distance_from_first`."""
    c2w = relative_to_first(c2w)
    scale = max_distance_from_first(c2w)
    if scale < eps:
        return c2w
    scaled = c2w.copy()
    scaled[:, :3, 3] /= scale
    return scaled


def first_step_distance(c2w: np.ndarray) -> float:
    """Distance between the camera centres of frames 0 and 1 (the `cameractrl` preset's scale)."""
    centers = camera_centers(c2w)
    if len(centers) < 2:
        raise PoseError(f"a first step needs at least 2 frames, got {len(centers)}")
    return float(np.linalg.norm(centers[1] - centers[0]))


def normalize_scale_by_first_step(
    c2w: np.ndarray, reference_c2w: np.ndarray, eps: float = 1e-9
) -> np.ndarray:
    """Makes c2w relative to frame 0 and scales its camera centres so that the distance between frames
    0 and 1 equals that of `reference_c2w` (CameraCtrl's evaluation rule).

    When c2w's first step is shorter than eps (the first two cameras coincide), no scale can be
    defined: the relative trajectory is returned unscaled, as :func:`normalize_scale_by_max_distance`
    does for a camera that does not move. A reference whose first step is zero scales every
    translation to zero."""
    c2w = relative_to_first(c2w)
    step = first_step_distance(c2w)
    if step < eps:
        return c2w
    scaled = c2w.copy()
    scaled[:, :3, 3] *= first_step_distance(reference_c2w) / step
    return scaled


def rotation_angle(rotation_a: np.ndarray, rotation_b: np.ndarray) -> np.ndarray:
    """Geodesic angle in radians between rotations [.., 3, 3]: arccos((tr(A^T B) - 1) / 2), clipped."""
    trace = np.einsum("...ji,...ji->...", rotation_a, rotation_b)
    return np.arccos(np.clip((trace - 1.0) / 2.0, -1.0, 1.0))


def rotation_about_axis(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' formula: the 3x3 rotation by `angle` radians about `axis`."""
    axis = np.asarray(axis, dtype=np.float64)
    axis = axis / np.linalg.norm(axis)
    x, y, z = axis
    skew = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + np.sin(angle) * skew + (1.0 - np.cos(angle)) * skew @ skew


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray = (0.0, -1.0, 0.0)) -> np.ndarray:
    """c2w (OpenCV axes) of a camera at `eye` looking at `target`; `up` is the world's up direction
    (default -y, since OpenCV's y points down)."""
    eye = np.asarray(eye, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - eye
    if np.linalg.norm(forward) < 1e-12:
        raise PoseError(f"look_at: eye and target coincide at {eye.tolist()}")
    forward /= np.linalg.norm(forward)
    right = np.cross(-np.asarray(up, dtype=np.float64), forward)
    if np.linalg.norm(right) < 1e-9:
        raise PoseError(f"look_at: viewing direction {forward.tolist()} is parallel to up {list(up)}")
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, down, forward, eye
    return c2w
