"""`static`: the reference frame repeated, what no camera motion scores."""

from __future__ import annotations

import numpy as np

from baselines.base import METHODS, Method, MethodRequirements
from baselines.resize import fit_reference
from motionflow.camera.trajectory import Trajectory


@METHODS.register("static")
class StaticMethod(Method):
    name = "static"
    requirements = MethodRequirements(uses_camera=False)

    def _generate(
        self, reference_image: np.ndarray, trajectory: Trajectory, seed: int, ground_truth: np.ndarray | None
    ) -> np.ndarray:
        frame = fit_reference(reference_image, trajectory.image_size)
        return np.repeat(frame[None], len(trajectory), axis=0)
