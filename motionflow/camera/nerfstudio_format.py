"""nerfstudio / DL3DV `transforms.json`: OpenGL-axes camera-to-world matrices and pixel intrinsics.

{"camera_model": "OPENCV", "fl_x", "fl_y", "cx", "cy", "w", "h", ("k1", "k2", "p1", "p2"),
 "frames": [{"file_path": "images/frame_00001.png", "transform_matrix": 4x4 c2w, (per-frame fl_x ...)}]}

Intrinsics may be given once at the top level or per frame (a frame's own value wins). Camera axes
are converted OpenGL (x right, y up, z backward) -> OpenCV here; the world frame is kept as it is.
Frames are ordered by file_path, comparing runs of digits as numbers (frame_2 before frame_10).
Distortion coefficients are kept in metadata["distortion"]; the pinhole K ignores them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from motionflow.camera.intrinsics import intrinsics_matrix
from motionflow.camera.poses import opencv_to_opengl, opengl_to_opencv, pose_problems
from motionflow.camera.text_files import numeric_array, read_json_file
from motionflow.camera.trajectory import Trajectory
from motionflow.errors import CameraFileError, FrameCountError
from motionflow.utils.io import atomic_write_json

PINHOLE_CAMERA_MODELS = ("OPENCV", "PINHOLE", "SIMPLE_PINHOLE")
"""Models whose K is the pinhole matrix (OPENCV adds distortion, which is kept in metadata only)."""
INTRINSIC_KEYS = ("fl_x", "fl_y", "cx", "cy", "w", "h")
DISTORTION_KEYS = ("k1", "k2", "k3", "k4", "p1", "p2")


class _Frame(NamedTuple):
    file_path: str
    c2w_gl: np.ndarray
    intrinsics: np.ndarray
    size: tuple[int, int]


def file_path_sort_key(file_path: str) -> list[tuple[int, int | str]]:
    """Orders paths with runs of digits compared as numbers: frame_2.png < frame_10.png."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", file_path) if part]


def trajectory_from_transforms(payload: dict[str, Any], path: str | Path | None = None) -> Trajectory:
    """Builds an OpenCV-axes Trajectory from a parsed transforms.json object."""
    camera_model = payload.get("camera_model", "OPENCV")
    if camera_model not in PINHOLE_CAMERA_MODELS:
        raise CameraFileError(
            path, f"camera_model {camera_model!r} is not a pinhole model ({', '.join(PINHOLE_CAMERA_MODELS)})"
        )
    frames = payload.get("frames")
    if not isinstance(frames, list) or not frames:
        raise CameraFileError(path, "'frames' must be a non-empty list")
    parsed = [_parse_frame(frame, index, payload, path) for index, frame in enumerate(frames)]
    parsed.sort(key=lambda frame: file_path_sort_key(frame.file_path))
    file_paths = [frame.file_path for frame in parsed]
    if len(set(file_paths)) != len(file_paths):
        raise CameraFileError(path, "two frames have the same file_path")
    sizes = {frame.size for frame in parsed}
    if len(sizes) != 1:
        raise CameraFileError(path, f"frames have different image sizes (h, w): {sorted(sizes)}")
    return Trajectory(
        c2w=opengl_to_opencv(np.stack([frame.c2w_gl for frame in parsed])),
        intrinsics=np.stack([frame.intrinsics for frame in parsed]),
        image_size=sizes.pop(),
        frame_indices=np.arange(len(parsed)),
        source=str(path) if path is not None else "",
        metadata={
            "file_paths": file_paths,
            "camera_model": camera_model,
            "distortion": {key: float(payload[key]) for key in DISTORTION_KEYS if key in payload},
        },
    )


def _parse_frame(frame: object, index: int, payload: dict[str, Any], path: str | Path | None) -> _Frame:
    """frames[index] with the top-level intrinsics filled in; errors name the frame."""
    if not isinstance(frame, dict):
        raise CameraFileError(path, f"frames[{index}] must be an object")
    file_path = frame.get("file_path")
    if not isinstance(file_path, str) or not file_path:
        raise CameraFileError(path, f"frames[{index}] has no file_path")
    where = f"frames[{index}] ({file_path})"
    if "transform_matrix" not in frame:
        raise CameraFileError(path, f"{where}: missing transform_matrix")
    matrix = numeric_array(frame["transform_matrix"], (None, 4), f"{where}: transform_matrix", path)
    if matrix.shape[0] == 3:
        matrix = np.vstack([matrix, [0.0, 0.0, 0.0, 1.0]])
    elif matrix.shape[0] != 4:
        raise CameraFileError(
            path, f"{where}: transform_matrix has {matrix.shape[0]} rows, expected 4 (or 3)"
        )
    problems = pose_problems(matrix)
    if problems:
        raise CameraFileError(path, f"{where}: transform_matrix " + "; ".join(problems))
    values = {}
    for key in INTRINSIC_KEYS:
        value = frame.get(key, payload.get(key))
        if value is None:
            raise CameraFileError(path, f"{where}: no {key}, neither in the frame nor at the top level")
        values[key] = float(numeric_array(value, (), f"{where}: {key}", path))
    if values["fl_x"] <= 0 or values["fl_y"] <= 0:
        raise CameraFileError(
            path, f"{where}: focal lengths must be positive, got {values['fl_x']}, {values['fl_y']}"
        )
    if (
        values["w"] != round(values["w"])
        or values["h"] != round(values["h"])
        or min(values["w"], values["h"]) <= 0
    ):
        raise CameraFileError(
            path, f"{where}: w, h must be positive whole pixels, got {values['w']}, {values['h']}"
        )
    intrinsics = intrinsics_matrix(values["fl_x"], values["fl_y"], values["cx"], values["cy"])
    return _Frame(file_path, matrix, intrinsics, (int(values["h"]), int(values["w"])))


def read_transforms_json(path: str | Path) -> Trajectory:
    """Reads a nerfstudio / DL3DV transforms.json into a Trajectory (OpenCV axes, K in pixels of (h, w))."""
    return trajectory_from_transforms(read_json_file(path), Path(path))


def write_transforms_json(path: str | Path, trajectory: Trajectory, frame_paths: list[str | Path]) -> Path:
    """Writes transforms.json atomically: OpenGL-axes c2w, one K at the top level when all frames share
    it, else per frame.

    `frame_paths` (one per frame) must already be in the order readers sort them into (zero-pad the
    numbers), so that reading the file back gives the frames in the trajectory's order."""
    frame_paths = [str(frame_path) for frame_path in frame_paths]
    if len(frame_paths) != len(trajectory):
        raise FrameCountError(f"{len(trajectory)} frames but {len(frame_paths)} frame paths")
    if sorted(frame_paths, key=file_path_sort_key) != frame_paths or len(set(frame_paths)) != len(
        frame_paths
    ):
        raise ValueError("frame_paths must be distinct and in sorted order (zero-pad frame numbers)")
    height, width = trajectory.image_size
    per_frame = [
        {"fl_x": float(K[0, 0]), "fl_y": float(K[1, 1]), "cx": float(K[0, 2]), "cy": float(K[1, 2])}
        for K in trajectory.intrinsics
    ]
    shared = all(entry == per_frame[0] for entry in per_frame)
    gl_c2w = opencv_to_opengl(trajectory.c2w)
    payload: dict[str, Any] = {"camera_model": "PINHOLE", "w": width, "h": height}
    if shared:
        payload.update(per_frame[0])
    payload["frames"] = [
        {"file_path": frame_path, "transform_matrix": matrix.tolist(), **({} if shared else intrinsics)}
        for frame_path, matrix, intrinsics in zip(frame_paths, gl_c2w, per_frame, strict=True)
    ]
    return atomic_write_json(path, payload)
