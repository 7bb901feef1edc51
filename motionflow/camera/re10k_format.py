"""The RealEstate10K camera file: line 0 a URL, then per frame 19 numbers:
timestamp(us) fx fy cx cy (normalised by W, H) 0 0 and the world-to-camera [R|t] row-major."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motionflow.camera.intrinsics import normalized_to_pixels, pixels_to_normalized
from motionflow.camera.poses import c2w_to_w2c, pose_problems, w2c_to_c2w
from motionflow.camera.text_files import read_text_file
from motionflow.camera.trajectory import Trajectory
from motionflow.errors import CameraFileError
from motionflow.utils.io import atomic_write_text

RE10K_FIELDS = 19


def parse_re10k_text(text: str, image_size: tuple[int, int], path: str | Path | None = None) -> Trajectory:
    """Parses RealEstate10K camera text; errors name the path and 1-based line number."""
    lines = text.splitlines()
    if not text.strip():
        raise CameraFileError(path, "file is empty")
    url = lines[0].strip()
    if len(url.split()) == RE10K_FIELDS:
        raise CameraFileError(path, "line 1 must be the source video URL, found a camera line", 1)
    timestamps, normalized, w2c_rows = [], [], []
    for line_number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != RE10K_FIELDS:
            raise CameraFileError(path, f"expected {RE10K_FIELDS} numbers, found {len(fields)}", line_number)
        timestamp, values = _parse_numbers(fields, path, line_number)
        pose = np.vstack([values[6:].reshape(3, 4), [0.0, 0.0, 0.0, 1.0]])
        problems = pose_problems(pose)
        if problems:
            raise CameraFileError(path, "invalid pose: " + "; ".join(problems), line_number)
        if not np.all(np.isfinite(values[:4])) or values[0] <= 0 or values[1] <= 0:
            raise CameraFileError(path, f"invalid intrinsics {values[:4].tolist()}", line_number)
        timestamps.append(timestamp)
        normalized.append(values[:4])
        w2c_rows.append(pose)
    if not w2c_rows:
        raise CameraFileError(path, "no camera lines after the URL line")
    return Trajectory(
        c2w=w2c_to_c2w(np.stack(w2c_rows)),
        intrinsics=normalized_to_pixels(np.stack(normalized), image_size),
        image_size=image_size,
        timestamps=np.array(timestamps, dtype=np.int64),
        frame_indices=np.arange(len(w2c_rows)),
        source=url,
    )


def _parse_numbers(fields: list[str], path: str | Path | None, line_number: int) -> tuple[int, np.ndarray]:
    """The integer timestamp and the 18 floats of one camera line."""
    try:
        timestamp = int(fields[0])
    except ValueError:
        raise CameraFileError(
            path, f"field 1 (timestamp) is not an integer: {fields[0]!r}", line_number
        ) from None
    values = []
    for position, field_text in enumerate(fields[1:], start=2):
        try:
            values.append(float(field_text))
        except ValueError:
            raise CameraFileError(
                path, f"field {position} is not a number: {field_text!r}", line_number
            ) from None
    return timestamp, np.array(values)


def read_re10k(path: str | Path, image_size: tuple[int, int]) -> Trajectory:
    """Reads a RealEstate10K camera file; intrinsics are returned in pixels of `image_size` (H, W)."""
    return parse_re10k_text(read_text_file(path), image_size, Path(path))


def format_re10k(trajectory: Trajectory) -> str:
    """RealEstate10K camera text with nine decimals, as the dataset prints them."""
    normalized = pixels_to_normalized(trajectory.intrinsics, trajectory.image_size)
    w2c = c2w_to_w2c(trajectory.c2w)
    timestamps = trajectory.timestamps if trajectory.timestamps is not None else np.arange(len(trajectory))
    lines = [trajectory.source or "unknown"]
    for timestamp, intr, pose in zip(timestamps, normalized, w2c, strict=True):
        numbers = [*intr, 0.0, 0.0, *pose[:3].reshape(-1)]
        lines.append(" ".join([str(int(timestamp))] + [f"{value:.9f}" for value in numbers]))
    return "\n".join(lines) + "\n"


def write_re10k(path: str | Path, trajectory: Trajectory) -> Path:
    """Writes a RealEstate10K camera file atomically."""
    return atomic_write_text(path, format_re10k(trajectory))
