"""The reference frame seen from each camera of a trajectory, through its depth: forward warping.

Every reference pixel centre x_0 with z-depth z is the point X_0 = z K_0^-1 x_0 in frame 0's camera;
frame i (pose c2w_rel[i] relative to frame 0) sees it at X_i = R_i^T (X_0 - t_i), pixel K_i X_i. Unlike
the rotation-only homography (`motionflow.camera.homography`) this shows translation's parallax.
Points without a surface (z = inf, the sky) are directions: X_i = R_i^T X_0, as the homography has it.
Splatting is nearest-pixel with a z-buffer; each source pixel covers `supersample`^2 sub-pixel samples
so that a camera moving closer does not leave cracks, and target pixels no point lands on (what the
reference does not show) take the nearest covered pixel's colour, or zero with `fill="zeros"`."""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import ndimage

from motionflow.camera.trajectory import Trajectory

Fill = Literal["nearest", "zeros"]

NEAR_PLANE = 1e-3
"""Points closer to (or behind) a target camera than this z are not drawn."""


def forward_warp(
    image: np.ndarray,
    depth: np.ndarray,
    trajectory: Trajectory,
    supersample: int = 2,
    fill: Fill = "nearest",
) -> tuple[np.ndarray, np.ndarray]:
    """Warps `image` [H, W, C] (frame 0 of `trajectory`, any dtype) with its z-depth [H, W] (inf: no
    surface) into every frame: ([F, H, W, C] of the image's dtype, bool [F, H, W] where a point landed).
    The trajectory's `image_size` must be the image's."""
    height, width = image.shape[:2]
    if depth.shape != (height, width):
        raise ValueError(f"depth {depth.shape} does not match image {image.shape[:2]}")
    if tuple(trajectory.image_size) != (height, width):
        raise ValueError(f"trajectory is for {trajectory.image_size}, image is {(height, width)}")
    if supersample < 1:
        raise ValueError(f"supersample must be >= 1, got {supersample}")
    depth = np.asarray(depth, dtype=np.float64)
    if np.isnan(depth).any() or (depth <= 0).any():
        raise ValueError("depth must be positive (inf for no surface) and not NaN")
    relative = trajectory.relative()
    offsets = (np.arange(supersample) + 0.5) / supersample
    v, u = np.meshgrid(
        (np.arange(height)[:, None] + offsets[None]).ravel(),
        (np.arange(width)[:, None] + offsets[None]).ravel(),
        indexing="ij",
    )
    source_rows = np.minimum(v.astype(np.int64), height - 1).ravel()
    source_columns = np.minimum(u.astype(np.int64), width - 1).ravel()
    pixels = np.stack([u.ravel(), v.ravel(), np.ones(u.size)])  # [3, N]
    rays = np.linalg.inv(relative.intrinsics[0]) @ pixels
    z = depth[source_rows, source_columns]
    finite = np.isfinite(z)
    points = rays * np.where(finite, z, 1.0)  # sky: a direction, at unit z
    colours = image[source_rows, source_columns]
    frames = np.zeros((len(relative), height, width) + image.shape[2:], dtype=image.dtype)
    covered = np.zeros((len(relative), height, width), dtype=bool)
    for index, (c2w, intrinsics) in enumerate(zip(relative.c2w, relative.intrinsics, strict=True)):
        rotation, translation = c2w[:3, :3], c2w[:3, 3:]
        moved = np.where(finite, points - translation, points)
        camera_points = rotation.T @ moved
        projected = intrinsics @ camera_points
        target_z = camera_points[2]
        visible = target_z > NEAR_PLANE
        safe_z = np.where(visible, projected[2], 1.0)
        columns = np.floor(projected[0] / safe_z).astype(np.int64)
        rows = np.floor(projected[1] / safe_z).astype(np.int64)
        visible &= (columns >= 0) & (columns < width) & (rows >= 0) & (rows < height)
        distance = np.where(finite, target_z, np.inf)[visible]
        order = np.argsort(-distance, kind="stable")  # far first: the nearest point is written last
        target = rows[visible][order] * width + columns[visible][order]
        flat = frames[index].reshape(height * width, *image.shape[2:])
        flat[target] = colours[visible][order]
        covered[index].reshape(-1)[target] = True
        if fill == "nearest" and covered[index].any() and not covered[index].all():
            _, (near_rows, near_columns) = ndimage.distance_transform_edt(
                ~covered[index], return_indices=True
            )
            frames[index] = frames[index][near_rows, near_columns]
    return frames, covered
