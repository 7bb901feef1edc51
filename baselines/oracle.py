"""`oracle`: the ground-truth video itself, the pose estimator's own error floor."""

from __future__ import annotations

import numpy as np

from baselines.base import METHODS, Method, MethodRequirements
from motionflow.camera.trajectory import Trajectory


@METHODS.register("oracle")
class OracleMethod(Method):
    name = "oracle"
    requirements = MethodRequirements(needs_ground_truth=True)

    def _generate(
        self, reference_image: np.ndarray, trajectory: Trajectory, seed: int, ground_truth: np.ndarray | None
    ) -> np.ndarray:
        return np.array(ground_truth, copy=True)
