"""One entry point for every trajectory file type, chosen by the file's name and content."""

from __future__ import annotations

from pathlib import Path

from motionflow.camera.json_format import trajectory_from_dict, write_trajectory_json
from motionflow.camera.nerfstudio_format import trajectory_from_transforms
from motionflow.camera.re10k_format import read_re10k, write_re10k
from motionflow.camera.text_files import read_json_file
from motionflow.camera.trajectory import Trajectory
from motionflow.errors import CameraFileError

TRANSFORMS_JSON = "transforms.json"
TRAJECTORY_FORMATS: dict[str, str] = {"re10k": ".txt", "json": ".json"}
"""Formats :func:`write_trajectory` can write, and their file suffixes."""
KNOWN_TYPES = (
    ".txt (RealEstate10K cameras), transforms.json or a directory holding one (nerfstudio / DL3DV), "
    ".json (mfbench trajectory)"
)


def load_trajectory(path: str | Path, image_size: tuple[int, int] | None = None) -> Trajectory:
    """Reads any supported trajectory file.

    RealEstate10K files store normalised intrinsics, so they need `image_size` (H, W). For the JSON
    types, which store pixel intrinsics, a given `image_size` that differs from the file's rescales K
    as for frames resized to it (:meth:`Trajectory.resized`, mode "squash")."""
    path = Path(path)
    if path.is_dir():
        if not (path / TRANSFORMS_JSON).is_file():
            raise CameraFileError(path, f"directory has no {TRANSFORMS_JSON}; expected one of {KNOWN_TYPES}")
        path = path / TRANSFORMS_JSON
    suffix = path.suffix.lower()
    if suffix == ".txt":
        if image_size is None:
            raise CameraFileError(
                path, "RealEstate10K files store normalised intrinsics: pass the frames' image_size (H, W)"
            )
        return read_re10k(path, image_size)
    if suffix != ".json":
        raise CameraFileError(
            path, f"unknown trajectory file type {suffix or '(no suffix)'!r}; expected {KNOWN_TYPES}"
        )
    payload = read_json_file(path)
    if path.name == TRANSFORMS_JSON or "frames" in payload:
        trajectory = trajectory_from_transforms(payload, path)
    elif "c2w" in payload:
        trajectory = trajectory_from_dict(payload, path)
    else:
        raise CameraFileError(
            path, "JSON has neither 'frames' (transforms.json) nor 'c2w' (mfbench trajectory)"
        )
    if image_size is not None and tuple(image_size) != trajectory.image_size:
        return trajectory.resized(image_size)
    return trajectory


def write_trajectory(path: str | Path, trajectory: Trajectory) -> Path:
    """Writes `trajectory` atomically in the format of the suffix: .txt RealEstate10K, .json mfbench JSON.

    transforms.json needs the frames' file paths: use :func:`write_transforms_json` for it."""
    path = Path(path)
    if path.name == TRANSFORMS_JSON:
        raise ValueError(
            f"{path}: write transforms.json with write_transforms_json(path, trajectory, frame_paths)"
        )
    if path.suffix.lower() == TRAJECTORY_FORMATS["re10k"]:
        return write_re10k(path, trajectory)
    if path.suffix.lower() == TRAJECTORY_FORMATS["json"]:
        return write_trajectory_json(path, trajectory)
    raise ValueError(f"{path}: cannot tell the format from the suffix; use .txt (RealEstate10K) or .json")
