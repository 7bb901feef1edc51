"""Model inputs from user data: reference images to [-1, 1] tensors, trajectories to camera inputs
(Plücker rays; MotionCtrl's flattened relative poses).

Training and inference both go through these, so the camera conventions cannot drift apart."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from motionflow.camera.intrinsics import scale_intrinsics
from motionflow.camera.plucker import plucker_embedding
from motionflow.camera.poses import invert_rigid
from motionflow.camera.trajectory import Trajectory


def image_to_tensor(image: np.ndarray | torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """uint8 [H, W, 3] (or float [3, H, W] in [-1, 1]) -> float [3, h, w] in [-1, 1] at `size` (h, w).

    The whole image is resized (no crop): a trajectory's intrinsics describe the full frame."""
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"reference image must be uint8 [H, W, 3], got {image.dtype} {image.shape}")
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 127.5 - 1
    else:
        if image.ndim != 3 or image.shape[0] != 3 or not image.is_floating_point():
            raise ValueError(
                f"reference tensor must be float [3, H, W] in [-1, 1], got {image.dtype} {tuple(image.shape)}"
            )
        tensor = image.float()
    if tuple(tensor.shape[-2:]) != tuple(size):
        tensor = F.interpolate(tensor[None], size=size, mode="bicubic", align_corners=False, antialias=True)[
            0
        ]
    return tensor.clamp(-1, 1)


def trajectory_plucker(trajectory: Trajectory, size: tuple[int, int]) -> torch.Tensor:
    """Plücker rays [F, 6, h, w] of a trajectory made relative to its first frame, with its intrinsics
    rescaled from `trajectory.image_size` to the generation size `size` (h, w)."""
    relative = trajectory.relative()
    intrinsics = scale_intrinsics(relative.intrinsics, relative.image_size, size)
    rays = plucker_embedding(
        torch.from_numpy(relative.c2w), torch.from_numpy(intrinsics), image_size=tuple(size)
    )
    return rays.float()


POSE_VECTOR_CHANNELS = 12


def relative_pose_vectors(trajectory: Trajectory) -> np.ndarray:
    """[F, 12]: each frame's world-to-camera [R|t] relative to the first camera, rows flattened."""
    w2c = invert_rigid(trajectory.relative().c2w)
    return w2c[:, :3, :].reshape(len(trajectory), POSE_VECTOR_CHANNELS)


def pose_vector_input(trajectory: Trajectory, size: tuple[int, int]) -> torch.Tensor:
    """`relative_pose_vectors` as a float tensor [F, 12] (the generation size does not enter)."""
    return torch.from_numpy(relative_pose_vectors(trajectory)).float()


CAMERA_INPUT_KINDS = {"plucker": trajectory_plucker, "pose_vectors": pose_vector_input}
"""Camera input kind -> (trajectory, generation size) -> tensor [F, ...]: what a model's
`camera_input_kind` names, and what every training item carries."""


def video_to_uint8(frames: torch.Tensor) -> np.ndarray:
    """float [..., 3, H, W] in [-1, 1] -> uint8 [..., H, W, 3]."""
    frames = ((frames.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return frames.movedim(-3, -1).cpu().numpy()
