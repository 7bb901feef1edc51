"""The reference frame seen from each camera of a trajectory, through the rotation-only homography.

For target frame i with pose c2w_rel[i] relative to frame 0, a target pixel centre x_i sees the ray
R_i K_i^-1 x_i in frame 0's camera axes, which lands at x_0 = K_0 R_i K_i^-1 x_i in the reference.
Sampling the reference there is exact for pure rotations and zoom; parallax from translation is
ignored. The `warp` reference row shows these frames; the `"warped"` initial noise of the pipelines
starts sampling from them (`motionflow.pipeline.initial_latents`)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from motionflow.camera.trajectory import Trajectory

Padding = Literal["zeros", "border"]


def rotation_homographies(trajectory: Trajectory, size: tuple[int, int] | None = None) -> np.ndarray:
    """[F, 3, 3] maps from target pixel coordinates to reference (frame 0) pixel coordinates, for frames
    of `size` (H, W; by default the trajectory's `image_size`, squashed otherwise)."""
    relative = trajectory.relative() if size is None else trajectory.relative().resized(size)
    reference_k = relative.intrinsics[0]
    return reference_k[None] @ relative.c2w[:, :3, :3] @ np.linalg.inv(relative.intrinsics)


def warp_by_homographies(
    image: torch.Tensor, homographies: np.ndarray | torch.Tensor, padding: Padding = "zeros"
) -> torch.Tensor:
    """Inverse-warps float [C, H, W] by each homography (target pixel -> source pixel): [F, C, H, W],
    bilinear. Target rays that leave the image (or point behind the reference camera) are zero
    (`padding="zeros"`) or take the nearest edge value (`"border"`)."""
    height, width = image.shape[-2:]
    homographies = torch.as_tensor(homographies, dtype=torch.float64)
    v, u = torch.meshgrid(
        torch.arange(height, dtype=torch.float64) + 0.5,
        torch.arange(width, dtype=torch.float64) + 0.5,
        indexing="ij",
    )
    target = torch.stack([u, v, torch.ones_like(u)], dim=-1).reshape(-1, 3)  # pixel centres
    source = torch.einsum("fij,nj->fni", homographies, target)
    behind = source[..., 2] <= 0
    source_xy = source[..., :2] / source[..., 2:3].where(~behind[..., None], torch.ones(()))
    # grid_sample with align_corners=False: -1 and +1 are the outer pixel edges
    grid = torch.stack([source_xy[..., 0] / width, source_xy[..., 1] / height], dim=-1) * 2.0 - 1.0
    grid[behind] = 2.0  # outside the image: padded
    grid = grid.reshape(len(homographies), height, width, 2).to(image)
    frames = image[None].expand(len(homographies), -1, -1, -1)
    return F.grid_sample(frames, grid, mode="bilinear", padding_mode=padding, align_corners=False)


def warp_by_ray_directions(image: torch.Tensor, plucker: torch.Tensor) -> torch.Tensor:
    """Each camera's view of the reference `image` [B, C, h, w] through the rotation-only homography,
    read off the Plücker rays [B, F, 6, H, W] (moments, directions; relative to frame 0, H and W
    multiples of h and w): [B, C, F, h, w].

    A cell of frame i looks along its ray direction, which the rays give in frame 0's axes; the
    reference shows that direction where frame 0's own rays point along it, and frame 0's normalised
    image coordinates (x / z, y / z) are affine in its cell indices. The same map as
    `rotation_homographies`, without the trajectory. Rays that leave the reference take its nearest
    edge; a sample without rays (all zero: the dropped camera condition) gets the reference unwarped."""
    batch, frames = plucker.shape[:2]
    height, width = image.shape[-2:]
    if height < 2 or width < 2:
        raise ValueError(f"warping by rays needs at least 2x2 cells, got {height}x{width}")
    directions = F.adaptive_avg_pool2d(plucker[:, :, 3:].flatten(0, 1).float(), (height, width))
    directions = directions.unflatten(0, (batch, frames))  # [B, F, 3, h, w]
    depth = directions[:, :, 2]
    in_front = depth > 1e-6
    normalised = directions[:, :, :2] / torch.where(in_front, depth, torch.ones_like(depth))[:, :, None]
    has_rays = plucker[:, 0, 3:].flatten(1).abs().amax(dim=1) > 0
    reference = normalised[:, 0]  # [B, 2, h, w]
    first = torch.stack([reference[:, 0, :, 0].mean(1), reference[:, 1, 0, :].mean(1)], dim=1)  # [B, 2]
    last = torch.stack([reference[:, 0, :, -1].mean(1), reference[:, 1, -1, :].mean(1)], dim=1)
    span = torch.where(has_rays[:, None], last - first, torch.ones_like(last))
    # grid_sample with align_corners=True: -1 and +1 are the centres of the outer cells
    grid = 2.0 * (normalised - first[:, None, :, None, None]) / span[:, None, :, None, None] - 1.0
    grid = grid.permute(0, 1, 3, 4, 2).where(in_front[..., None], torch.full((), 2.0))
    frames_in = image[:, None].expand(-1, frames, -1, -1, -1).flatten(0, 1)
    warped = F.grid_sample(
        frames_in, grid.flatten(0, 1).to(image), mode="bilinear", padding_mode="border", align_corners=True
    )
    warped = warped.unflatten(0, (batch, frames)).transpose(1, 2)  # [B, C, F, h, w]
    unwarped = image[:, :, None].expand_as(warped)
    return torch.where(has_rays[:, None, None, None, None], warped, unwarped)
