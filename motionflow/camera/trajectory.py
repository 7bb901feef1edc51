"""The Trajectory: what a method is asked to follow and what an estimator returns."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from motionflow.camera.intrinsics import ResizeMode, as_intrinsics_stack, resize_intrinsics
from motionflow.camera.poses import relative_to_first, validate_poses
from motionflow.errors import FrameCountError


@dataclass(frozen=True)
class Trajectory:
    """Camera poses and intrinsics of F frames.

    c2w: [F, 4, 4] camera-to-world, OpenCV axes. intrinsics: [F, 3, 3] in pixels of `image_size`
    (H, W). `frame_indices` are the indices into the source clip the frames were sampled at;
    `timestamps` are the source's timestamps (RealEstate10K: microseconds)."""

    c2w: np.ndarray
    intrinsics: np.ndarray
    image_size: tuple[int, int]
    frame_indices: np.ndarray | None = None
    timestamps: np.ndarray | None = None
    source: str = ""
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        c2w = validate_poses(self.c2w)
        intrinsics = as_intrinsics_stack(self.intrinsics, num_frames=len(c2w))
        if len(intrinsics) != len(c2w):
            raise FrameCountError(f"{len(c2w)} poses but {len(intrinsics)} intrinsics")
        height, width = (int(v) for v in self.image_size)
        if height <= 0 or width <= 0:
            raise ValueError(f"image_size must be positive (H, W), got {self.image_size}")
        object.__setattr__(self, "c2w", c2w)
        object.__setattr__(self, "intrinsics", intrinsics)
        object.__setattr__(self, "image_size", (height, width))
        for name in ("frame_indices", "timestamps"):
            values = getattr(self, name)
            if values is not None:
                values = np.asarray(values, dtype=np.int64)
                if values.shape != (len(c2w),):
                    raise FrameCountError(f"{name} has shape {values.shape}, expected ({len(c2w)},)")
                object.__setattr__(self, name, values)

    def __len__(self) -> int:
        return len(self.c2w)

    @property
    def num_frames(self) -> int:
        return len(self.c2w)

    def relative(self) -> Trajectory:
        """The same trajectory with frame 0 at the identity."""
        return replace(self, c2w=relative_to_first(self.c2w))

    def mirrored_motion(self, flip_x: bool = False, flip_z: bool = False) -> Trajectory:
        """The same first camera, moving as this trajectory mirrored in the first camera's frame:
        left-right (`flip_x`) and / or forward-backward (`flip_z`). Each motion relative to frame 0,
        M_f = C_0^-1 C_f, becomes S M_f S with S = diag(+-1, 1, +-1, 1): still a rigid motion (det S R S
        = det R), with the x / z part of its translation negated and its rotation reflected to match."""
        mirror = np.diag([-1.0 if flip_x else 1.0, 1.0, -1.0 if flip_z else 1.0, 1.0])
        first = self.c2w[0]
        motions = np.linalg.inv(first) @ self.c2w
        return replace(self, c2w=first @ (mirror @ motions @ mirror))

    def resized(self, image_size: tuple[int, int], mode: ResizeMode = "squash") -> Trajectory:
        """The same cameras with K for frames resized (mode "squash") or centre-cropped and resized
        (mode "crop") to `image_size` (H, W); see :func:`resize_intrinsics`."""
        return replace(
            self,
            intrinsics=resize_intrinsics(self.intrinsics, self.image_size, image_size, mode),
            image_size=tuple(image_size),
        )

    def select(self, indices: np.ndarray | list[int]) -> Trajectory:
        """The frames at `indices` (of this trajectory), keeping source indices and timestamps."""
        indices = np.asarray(indices, dtype=np.int64)
        if len(indices) == 0 or indices.min() < 0 or indices.max() >= len(self):
            raise IndexError(f"frame indices {indices.tolist()} out of range for {len(self)} frames")
        source_indices = indices if self.frame_indices is None else self.frame_indices[indices]
        return replace(
            self,
            c2w=self.c2w[indices],
            intrinsics=self.intrinsics[indices],
            frame_indices=source_indices,
            timestamps=None if self.timestamps is None else self.timestamps[indices],
        )
