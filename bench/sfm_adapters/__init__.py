"""Pose estimators behind one interface (bench.sfm_adapters.base), one module each, one registry.

from bench.sfm_adapters import create_estimator
estimate = create_estimator("colmap").estimate(frames)   # PoseEstimate: c2w, K, registered, ...
"""

from bench.sfm_adapters import colmap, dust3r, particlesfm, vggsfm, vggt  # noqa: F401  (registration)
from bench.sfm_adapters.base import (
    ESTIMATORS,
    EstimatorSettings,
    EstimatorUnavailableError,
    PoseEstimate,
    PoseEstimator,
    create_estimator,
)

__all__ = [
    "ESTIMATORS",
    "EstimatorSettings",
    "EstimatorUnavailableError",
    "PoseEstimate",
    "PoseEstimator",
    "create_estimator",
]
