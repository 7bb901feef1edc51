"""Reading a COLMAP sparse model (what COLMAP, GLOMAP and VGGSfM write) into a PoseEstimate.

A COLMAP model stores, per registered image, the world-to-camera pose `cam_from_world` (OpenCV
axes) and, per camera, its model and parameters in pixels of the camera's width x height. Images
that were not registered are absent (or present without a pose). Frames are matched to images by
file name (frame i was written as `00000.png`-style `names[i]`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pycolmap

from bench.sfm_adapters.base import PoseEstimate, assemble_estimate, empty_estimate
from motionflow.camera.intrinsics import scale_intrinsics
from motionflow.camera.poses import w2c_to_c2w

MODEL_FILES = ("cameras.bin", "images.bin", "points3D.bin")
MODEL_TEXT_FILES = ("cameras.txt", "images.txt", "points3D.txt")


def is_model_folder(path: Path) -> bool:
    return all((path / name).is_file() for name in MODEL_FILES) or all(
        (path / name).is_file() for name in MODEL_TEXT_FILES
    )


def find_model_folder(root: Path, candidates: Sequence[str]) -> Path | None:
    """The first of root/candidate that holds a COLMAP model."""
    for candidate in candidates:
        folder = root / candidate
        if folder.is_dir() and is_model_folder(folder):
            return folder
    return None


def largest_reconstruction(
    reconstructions: Mapping[int, pycolmap.Reconstruction],
) -> pycolmap.Reconstruction | None:
    """The model with the most registered images (ties: the most 3D points)."""
    if not reconstructions:
        return None
    return max(reconstructions.values(), key=lambda model: (model.num_reg_images(), model.num_points3D()))


def camera_matrix(camera: pycolmap.Camera, image_size: tuple[int, int]) -> np.ndarray:
    """K of a COLMAP camera in pixels of frames of `image_size` (H, W); lens distortion is dropped."""
    matrix = np.asarray(camera.calibration_matrix(), dtype=np.float64)
    camera_size = (int(camera.height), int(camera.width))
    if camera_size != tuple(image_size):
        matrix = scale_intrinsics(matrix, camera_size, image_size)[0]
    return matrix


def reconstruction_to_estimate(
    reconstruction: pycolmap.Reconstruction | None,
    names: Sequence[str],
    image_size: tuple[int, int],
    estimator: str,
    fallback_intrinsics: np.ndarray | None = None,
    extra: dict[str, Any] | None = None,
) -> PoseEstimate:
    """Frames named `names` (in order) -> PoseEstimate; world-to-camera becomes camera-to-world here."""
    extra = dict(extra or {})
    if reconstruction is None:
        return empty_estimate(
            estimator,
            len(names),
            image_size,
            "no reconstruction",
            intrinsics=fallback_intrinsics,
            extra=extra,
        )
    index_of = {name: index for index, name in enumerate(names)}
    poses, intrinsics, unknown = {}, {}, []
    for image in reconstruction.images.values():
        index = index_of.get(Path(image.name).name)
        if index is None:
            unknown.append(image.name)
            continue
        if not image.has_pose:
            continue
        poses[index] = w2c_to_c2w(np.asarray(image.cam_from_world().matrix(), dtype=np.float64))[0]
        intrinsics[index] = camera_matrix(image.camera, image_size)
    if unknown:
        extra["unmatched_image_names"] = sorted(unknown)
    cameras = list(reconstruction.cameras.values())
    extra["camera_models"] = sorted({camera.model.name for camera in cameras})
    if poses:
        extra["mean_reprojection_error_px"] = round(
            float(reconstruction.compute_mean_reprojection_error()), 4
        )
    return assemble_estimate(
        estimator,
        image_size,
        poses,
        intrinsics,
        len(names),
        fallback_intrinsics=fallback_intrinsics,
        num_points=int(reconstruction.num_points3D()),
        extra=extra,
    )


def read_model(folder: Path) -> pycolmap.Reconstruction:
    """A COLMAP model folder (binary or text)."""
    return pycolmap.Reconstruction(str(folder))
