from __future__ import annotations

from pathlib import Path

import numpy as np

from motionflow.camera.poses import relative_to_first, rotation_angle

RE10K_DIR = Path(__file__).resolve().parents[2] / "motionflow" / "data" / "assets" / "re10k"
RE10K_CLIPS = sorted(RE10K_DIR.glob("*.mp4"))
RE10K_IMAGE_SIZE = (256, 384)


def mean_rotation_error_degrees(estimated_c2w: np.ndarray, reference_c2w: np.ndarray) -> float:
    """The documented alignment: both trajectories relative to their first frame, then the mean geodesic
    angle between corresponding rotations."""
    estimated, reference = relative_to_first(estimated_c2w), relative_to_first(reference_c2w)
    return float(np.degrees(rotation_angle(estimated[:, :3, :3], reference[:, :3, :3])).mean())
