"""`depth-warp`: the reference frame forward-warped into each target camera through the depth the
bundled depth network estimates (`motionflow.camera.depth_warp`); what the reference does not show takes
the nearest warped pixel's colour. Unlike `warp` it shows translation's parallax, as far as the
estimated depth is right; what this row measures is how far a geometric warp alone follows the camera."""

from __future__ import annotations

import numpy as np

from baselines.base import METHODS, Method, MethodRequirements
from baselines.resize import fit_reference
from motionflow.camera.depth_warp import forward_warp
from motionflow.camera.trajectory import Trajectory
from motionflow.checkpoints.depth import depth_checkpoint_path, depth_weights_hash, load_depth_net
from motionflow.models.depth import DepthNet
from motionflow.utils.io import content_hash


@METHODS.register("depth-warp")
class DepthWarpMethod(Method):
    name = "depth-warp"
    requirements = MethodRequirements()

    def __init__(self, depth_model_dir: str | None = None):
        self.depth_model_dir = depth_model_dir
        self._depth_net: DepthNet | None = None

    def check_available(self) -> None:
        depth_checkpoint_path(self.depth_model_dir)

    def fingerprint(self) -> str:
        return content_hash(self.name, depth_weights_hash(self.depth_model_dir))

    def _generate(
        self, reference_image: np.ndarray, trajectory: Trajectory, seed: int, ground_truth: np.ndarray | None
    ) -> np.ndarray:
        if self._depth_net is None:
            self._depth_net = load_depth_net(self.depth_model_dir)
        frame = fit_reference(reference_image, trajectory.image_size)
        frames, _ = forward_warp(frame, self._depth_net.estimate_depth(frame), trajectory)
        return frames
