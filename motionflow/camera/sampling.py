"""The paper's trajectory sets: frames sampled from a longer source clip at a fixed stride.

For `num_frames` frames at stride s from frame `start`, the source frames are
`start, start + s, ..., start + s * (num_frames - 1)`, so the clip needs
`start + s * (num_frames - 1) + 1` frames.

- basic: s = 8 (the paper samples every 8th frame).
- difficult: the largest stride that still fits, s = (len - 1 - start) // (num_frames - 1), i.e. the
  most camera motion per generated frame the clip allows.

The chosen source indices are recorded in `Trajectory.frame_indices` (composed with any earlier
selection) and the rule in `metadata["sampling"]`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from motionflow.camera.trajectory import Trajectory
from motionflow.errors import FrameCountError
from motionflow.utils.registry import Registry

BASIC_STRIDE = 8

SAMPLERS: Registry[Callable[..., Trajectory]] = Registry("trajectory sampling")


def frames_needed(num_frames: int, stride: int, start: int = 0) -> int:
    """Length a source clip must have for `num_frames` frames at `stride` from `start`."""
    return start + stride * (num_frames - 1) + 1


def sample_with_stride(
    trajectory: Trajectory, num_frames: int, stride: int, start: int, kind: str
) -> Trajectory:
    """Frames start, start + stride, ...; FrameCountError states the needed and available counts."""
    if num_frames < 1 or stride < 1 or start < 0:
        raise ValueError(
            f"need num_frames >= 1, stride >= 1, start >= 0; got {num_frames}, {stride}, {start}"
        )
    needed = frames_needed(num_frames, stride, start)
    if needed > len(trajectory):
        raise FrameCountError(
            f"{kind} sampling of {num_frames} frames at stride {stride} from frame {start} needs a clip of "
            f"{needed} frames; this one has {len(trajectory)}"
        )
    sampled = trajectory.select(start + stride * np.arange(num_frames))
    rule = {"kind": kind, "num_frames": num_frames, "stride": stride, "start": start}
    return replace(sampled, metadata={**trajectory.metadata, "sampling": rule})


@SAMPLERS.register("basic")
def sample_basic(
    trajectory: Trajectory, num_frames: int, stride: int = BASIC_STRIDE, start: int = 0
) -> Trajectory:
    """Every `stride`-th frame (8 in the paper) from `start`."""
    return sample_with_stride(trajectory, num_frames, stride, start, "basic")


@SAMPLERS.register("difficult")
def sample_difficult(trajectory: Trajectory, num_frames: int, start: int = 0) -> Trajectory:
    """The largest stride that fits: (len - 1 - start) // (num_frames - 1)."""
    if num_frames < 2:
        raise ValueError(f"difficult sampling needs num_frames >= 2 to define a stride, got {num_frames}")
    if start < 0:
        raise ValueError(f"start must be >= 0, got {start}")
    stride = (len(trajectory) - 1 - start) // (num_frames - 1)
    if stride < 1:
        raise FrameCountError(
            f"difficult sampling of {num_frames} frames from frame {start} needs a clip of at least "
            f"{frames_needed(num_frames, 1, start)} frames; this one has {len(trajectory)}"
        )
    return sample_with_stride(trajectory, num_frames, stride, start, "difficult")


def sample_trajectory(trajectory: Trajectory, kind: str, num_frames: int) -> Trajectory:
    """Samples by the named rule ("basic" or "difficult") from frame 0."""
    return SAMPLERS.get(kind)(trajectory, num_frames)
