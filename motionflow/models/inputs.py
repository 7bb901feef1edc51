"""Model inputs from user data: reference images to [-1, 1] tensors, trajectories to camera inputs
(Plücker rays; MotionCtrl's flattened relative poses).

Training and inference both go through these, so the camera conventions cannot drift apart."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from motionflow.camera.intrinsics import scale_intrinsics
from motionflow.camera.plucker import plucker_embedding
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


def relative_cameras(trajectory: Trajectory, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """c2w [F, 4, 4] relative to the first frame and K [F, 3, 3] rescaled from `trajectory.image_size`
    to the generation size `size` (h, w), float64: what every camera input is computed from."""
    relative = trajectory.relative()
    intrinsics = scale_intrinsics(relative.intrinsics, relative.image_size, size)
    return torch.from_numpy(relative.c2w), torch.from_numpy(intrinsics)


def plucker_input(c2w: torch.Tensor, intrinsics: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Plücker rays [..., F, 6, h, w] of relative cameras c2w [..., F, 4, 4] with K [..., F, 3, 3] in
    pixels of `size`; batched, on the cameras' device (the trainer computes it on the GPU)."""
    rays = plucker_embedding(c2w.reshape(-1, 4, 4), intrinsics.reshape(-1, 3, 3), image_size=tuple(size))
    return rays.reshape(*c2w.shape[:-2], *rays.shape[1:])


POSE_VECTOR_CHANNELS = 12


def pose_vectors_input(c2w: torch.Tensor, intrinsics: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """[..., F, 12]: each frame's world-to-camera [R|t] of relative cameras c2w [..., F, 4, 4], rows
    flattened (MotionCtrl's input; K and the generation size do not enter)."""
    rotation_t = c2w[..., :3, :3].transpose(-1, -2)
    translation = -rotation_t @ c2w[..., :3, 3:]
    return torch.cat([rotation_t, translation], dim=-1).flatten(-2)


CAMERA_INPUT_KINDS = {"plucker": plucker_input, "pose_vectors": pose_vectors_input}
"""Camera input kind -> (relative c2w [..., F, 4, 4], K [..., F, 3, 3], generation size) -> tensor
[..., F, ...]: what a model's `camera_input_kind` names. Training items carry the cameras; the trainer
and `camera_input` (inference) both build the input through these, so the conventions cannot drift."""


def camera_input(kind: str, trajectory: Trajectory, size: tuple[int, int]) -> torch.Tensor:
    """The float32 camera input [F, ...] of kind `kind` for a trajectory at generation size `size`."""
    return CAMERA_INPUT_KINDS[kind](*relative_cameras(trajectory, size), size).float()


def trajectory_plucker(trajectory: Trajectory, size: tuple[int, int]) -> torch.Tensor:
    """Plücker rays [F, 6, h, w] of a trajectory made relative to its first frame (computed in float64)."""
    return camera_input("plucker", trajectory, size)


def pose_vector_input(trajectory: Trajectory, size: tuple[int, int]) -> torch.Tensor:
    """MotionCtrl's relative pose vectors [F, 12] of a trajectory."""
    return camera_input("pose_vectors", trajectory, size)


def video_to_uint8(frames: torch.Tensor) -> np.ndarray:
    """float [..., 3, H, W] in [-1, 1] -> uint8 [..., H, W, 3]."""
    frames = ((frames.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return frames.movedim(-3, -1).cpu().numpy()
