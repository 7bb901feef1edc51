"""Builders shared by the camera tests: random rigid poses, pinhole K, the bundled RealEstate10K clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

import motionflow

RE10K_DIR = Path(motionflow.__file__).parent / "data" / "assets" / "re10k"
RE10K_IMAGE_SIZE = (256, 384)
RE10K_FILES = sorted(RE10K_DIR.glob("*.txt"))


def random_c2w(rng: np.random.Generator, num_frames: int, translation_scale: float = 2.0) -> np.ndarray:
    """num_frames random rigid c2w [F, 4, 4]."""
    c2w = np.tile(np.eye(4), (num_frames, 1, 1))
    c2w[:, :3, :3] = Rotation.random(num_frames, random_state=rng).as_matrix()
    c2w[:, :3, 3] = rng.uniform(-translation_scale, translation_scale, size=(num_frames, 3))
    return c2w


def pinhole(fx: float, fy: float, cx: float, cy: float, skew: float = 0.0) -> np.ndarray:
    return np.array([[fx, skew, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def project(c2w: np.ndarray, intrinsics: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Pixel coordinates [N, 2] (pixel-edge convention) of world points [N, 3] seen by one camera."""
    w2c = np.linalg.inv(c2w)
    camera = points @ w2c[:3, :3].T + w2c[:3, 3]
    assert np.all(camera[:, 2] > 0), "points behind the camera"
    pixels = camera @ intrinsics.T
    return pixels[:, :2] / pixels[:, 2:]
