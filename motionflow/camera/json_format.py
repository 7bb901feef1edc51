"""The plain JSON trajectory file: everything a Trajectory holds, floats written exactly.

{"format": "mfbench.trajectory", "version": 1, "convention": ..., "c2w": [F][4][4], "K": [F][3][3],
 "image_size": [H, W], "frame_indices": [F] | null, "timestamps": [F] | null, "source": str,
 "metadata": {...}}

Python writes floats with the shortest repr that reads back to the same double, so a write/read
round trip is exact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from motionflow.camera.poses import pose_problems
from motionflow.camera.text_files import numeric_array, read_json_file
from motionflow.camera.trajectory import Trajectory
from motionflow.errors import CameraFileError, FrameCountError, PoseError
from motionflow.utils.io import atomic_write_json

FORMAT_NAME = "mfbench.trajectory"
FORMAT_VERSION = 1
CONVENTION = "c2w: camera-to-world, OpenCV axes (x right, y down, z forward); K: pixels of image_size (H, W)"


def trajectory_to_dict(trajectory: Trajectory) -> dict[str, Any]:
    """The JSON object of a trajectory (plain lists and numbers)."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "convention": CONVENTION,
        "c2w": trajectory.c2w.tolist(),
        "K": trajectory.intrinsics.tolist(),
        "image_size": list(trajectory.image_size),
        "frame_indices": None if trajectory.frame_indices is None else trajectory.frame_indices.tolist(),
        "timestamps": None if trajectory.timestamps is None else trajectory.timestamps.tolist(),
        "source": trajectory.source,
        "metadata": trajectory.metadata,
    }


def trajectory_from_dict(payload: dict[str, Any], path: str | Path | None = None) -> Trajectory:
    """Builds a Trajectory from the JSON object; CameraFileError names the key and the problem."""
    if payload.get("format", FORMAT_NAME) != FORMAT_NAME:
        raise CameraFileError(path, f"format is {payload['format']!r}, expected {FORMAT_NAME!r}")
    if payload.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        raise CameraFileError(
            path, f"version {payload['version']!r} is not supported (expected {FORMAT_VERSION})"
        )
    missing = [key for key in ("c2w", "K", "image_size") if key not in payload]
    if missing:
        raise CameraFileError(path, "missing key(s): " + ", ".join(missing))
    c2w = numeric_array(payload["c2w"], (None, 4, 4), "c2w", path)
    for index, pose in enumerate(c2w):
        problems = pose_problems(pose)
        if problems:
            raise CameraFileError(path, f"c2w[{index}]: " + "; ".join(problems))
    intrinsics = numeric_array(payload["K"], (None, 3, 3), "K", path)
    image_size = numeric_array(payload["image_size"], (2,), "image_size", path)
    if np.any(image_size != np.round(image_size)):
        raise CameraFileError(path, f"image_size must be whole pixels, got {image_size.tolist()}")
    optional = {
        key: None if payload.get(key) is None else _integer_array(payload[key], key, path)
        for key in ("frame_indices", "timestamps")
    }
    metadata = payload.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise CameraFileError(path, f"metadata must be an object, found {type(metadata).__name__}")
    try:
        return Trajectory(
            c2w=c2w,
            intrinsics=intrinsics,
            image_size=(int(image_size[0]), int(image_size[1])),
            source=str(payload.get("source", "")),
            metadata=metadata,
            **optional,
        )
    except (PoseError, FrameCountError, ValueError) as error:
        raise CameraFileError(path, str(error)) from None


def _integer_array(value: object, key: str, path: str | Path | None) -> np.ndarray:
    """A list of JSON integers, kept as integers (microsecond timestamps exceed float precision)."""
    if not isinstance(value, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    ):
        raise CameraFileError(path, f"{key} must be a list of integers")
    return np.array(value, dtype=np.int64)


def write_trajectory_json(path: str | Path, trajectory: Trajectory) -> Path:
    """Writes the plain JSON trajectory file atomically."""
    return atomic_write_json(path, trajectory_to_dict(trajectory))


def read_trajectory_json(path: str | Path) -> Trajectory:
    """Reads a plain JSON trajectory file written by :func:`write_trajectory_json`."""
    return trajectory_from_dict(read_json_file(path), Path(path))
