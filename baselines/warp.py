"""`warp`: the reference frame warped by the rotation-only homography of each target camera.

For target frame i with pose c2w_rel[i] relative to frame 0, a target pixel centre x_i sees the ray
R_i K_i^-1 x_i in frame 0's camera axes, which lands at x_0 = K_0 R_i K_i^-1 x_i in the reference. The
warp samples the reference there (bilinear); rays that leave the reference image are black. Exact for
pure rotations and zoom; parallax from translation is ignored, which is what this row measures."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from baselines.base import METHODS, Method, MethodRequirements
from baselines.resize import fit_reference
from motionflow.camera.trajectory import Trajectory


def rotation_homographies(trajectory: Trajectory) -> np.ndarray:
    """[F, 3, 3] maps from target pixel coordinates to reference (frame 0) pixel coordinates."""
    relative = trajectory.relative()
    rotations = relative.c2w[:, :3, :3]
    reference_k = relative.intrinsics[0]
    return reference_k[None] @ rotations @ np.linalg.inv(relative.intrinsics)


def warp_reference(reference_image: np.ndarray, homographies: np.ndarray) -> np.ndarray:
    """Inverse-warps uint8 [H, W, 3] by each homography (target pixel -> source pixel), [F, H, W, 3]."""
    height, width = reference_image.shape[:2]
    v, u = np.meshgrid(np.arange(height) + 0.5, np.arange(width) + 0.5, indexing="ij")
    target = np.stack([u, v, np.ones_like(u)], axis=-1).reshape(-1, 3)  # pixel centres
    source = np.einsum("fij,nj->fni", homographies, target)
    with np.errstate(divide="ignore", invalid="ignore"):
        source_xy = source[..., :2] / source[..., 2:3]
    behind = source[..., 2] <= 0
    # grid_sample with align_corners=False: -1 and +1 are the outer pixel edges
    grid = np.empty_like(source_xy)
    grid[..., 0] = source_xy[..., 0] / width * 2.0 - 1.0
    grid[..., 1] = source_xy[..., 1] / height * 2.0 - 1.0
    grid[behind] = 2.0  # outside the image -> zero padding
    grid = torch.from_numpy(grid.reshape(len(homographies), height, width, 2)).float()
    image = (
        torch.from_numpy(reference_image).permute(2, 0, 1).float()[None].expand(len(homographies), -1, -1, -1)
    )
    warped = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return warped.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


@METHODS.register("warp")
class WarpMethod(Method):
    name = "warp"
    requirements = MethodRequirements()

    def _generate(
        self, reference_image: np.ndarray, trajectory: Trajectory, seed: int, ground_truth: np.ndarray | None
    ) -> np.ndarray:
        frame = fit_reference(reference_image, trajectory.image_size)
        return warp_reference(frame, rotation_homographies(trajectory))
