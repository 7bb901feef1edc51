"""`warp`: the reference frame warped by the rotation-only homography of each target camera
(`motionflow.camera.homography`); rays that leave the reference image are black. Exact for pure
rotations and zoom; parallax from translation is ignored, which is what this row measures."""

from __future__ import annotations

import numpy as np
import torch

from baselines.base import METHODS, Method, MethodRequirements
from baselines.resize import fit_reference
from motionflow.camera.homography import rotation_homographies, warp_by_homographies
from motionflow.camera.trajectory import Trajectory


def warp_reference(reference_image: np.ndarray, homographies: np.ndarray) -> np.ndarray:
    """Inverse-warps uint8 [H, W, 3] by each homography (target pixel -> source pixel), [F, H, W, 3]."""
    image = torch.from_numpy(np.ascontiguousarray(reference_image)).permute(2, 0, 1).float()
    warped = warp_by_homographies(image, homographies, padding="zeros")
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
