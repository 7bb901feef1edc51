"""Pinhole intrinsics in pixels of the frame they describe, and their normalised form."""

from __future__ import annotations

import numpy as np

from motionflow.errors import PoseError


def intrinsics_matrix(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """The 3x3 pinhole matrix K."""
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def as_intrinsics_stack(intrinsics: np.ndarray, num_frames: int | None = None) -> np.ndarray:
    """Returns K as float64 [F, 3, 3]; a single [3, 3] is repeated to num_frames."""
    intrinsics = np.asarray(intrinsics, dtype=np.float64)
    if intrinsics.shape == (3, 3):
        intrinsics = np.repeat(intrinsics[None], 1 if num_frames is None else num_frames, axis=0)
    if intrinsics.ndim != 3 or intrinsics.shape[1:] != (3, 3):
        raise PoseError(f"expected intrinsics of shape [F, 3, 3], got {tuple(intrinsics.shape)}")
    if not np.all(np.isfinite(intrinsics)):
        raise PoseError("intrinsics contain NaN or infinite values")
    if np.any(intrinsics[:, 0, 0] <= 0) or np.any(intrinsics[:, 1, 1] <= 0):
        raise PoseError("intrinsics have a non-positive focal length")
    return intrinsics


def normalized_to_pixels(normalized: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """RealEstate10K-style (fx, fy, cx, cy) divided by (W, H, W, H) -> pixel K [F, 3, 3].

    `normalized` is [F, 4] or [4]; image_size is (H, W)."""
    height, width = image_size
    normalized = np.atleast_2d(np.asarray(normalized, dtype=np.float64))
    scale = np.array([width, height, width, height], dtype=np.float64)
    fx, fy, cx, cy = (normalized * scale).T
    stack = np.zeros((normalized.shape[0], 3, 3))
    stack[:, 0, 0], stack[:, 1, 1], stack[:, 0, 2], stack[:, 1, 2], stack[:, 2, 2] = fx, fy, cx, cy, 1.0
    return stack


def pixels_to_normalized(intrinsics: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Pixel K [F, 3, 3] -> [F, 4] (fx/W, fy/H, cx/W, cy/H)."""
    height, width = image_size
    intrinsics = as_intrinsics_stack(intrinsics)
    return np.stack(
        [
            intrinsics[:, 0, 0] / width,
            intrinsics[:, 1, 1] / height,
            intrinsics[:, 0, 2] / width,
            intrinsics[:, 1, 2] / height,
        ],
        axis=1,
    )


def scale_intrinsics(intrinsics: np.ndarray, from_size: tuple[int, int], to_size: tuple[int, int]) -> np.ndarray:
    """K of a frame resized (squashed, no crop) from `from_size` to `to_size`, both (H, W).

    Pixel edges map to pixel edges, so fx and cx scale by W'/W, fy and cy by H'/H."""
    intrinsics = np.array(as_intrinsics_stack(intrinsics), copy=True)
    scale_y = to_size[0] / from_size[0]
    scale_x = to_size[1] / from_size[1]
    intrinsics[:, 0, :] *= scale_x
    intrinsics[:, 1, :] *= scale_y
    return intrinsics
