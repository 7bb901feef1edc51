"""ParticleSfM (Zhao et al., ECCV 2022) as a subprocess: it is GPL-3.0 and needs its own conda
environment with compiled extensions, so it never runs in this process.

The adapter writes the frames to `<workspace>/images/00000.png ...` and runs, in the checkout,

    <particlesfm.python> run_particlesfm.py --image_dir <workspace>/images --output_dir <workspace>

ParticleSfM's `sfm/convert.py` then writes, per registered image `<stem>`:
- `colmap_outputs_converted/poses/<stem>.txt`: `np.savetxt` of the 3x4 world-to-camera matrix [R | t]
  (OpenCV axes, COLMAP's convention); a 4x4 matrix with last row [0 0 0 1] is accepted too;
- `colmap_outputs_converted/intrinsics/<stem>.txt`: `np.savetxt` of the 3x3 K in pixels (its
  converter supports only SIMPLE_PINHOLE and SIMPLE_RADIAL cameras and drops the distortion).
Images its mapper did not register have no files. The COLMAP model under `<workspace>/sfm`, when
present, gives the number of 3D points. ParticleSfM takes no seed and no known intrinsics; repeated
trials are independent runs."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from bench.sfm_adapters.base import (
    ESTIMATORS,
    EstimatorSettings,
    PoseEstimate,
    PoseEstimator,
    assemble_estimate,
    empty_estimate,
)
from bench.sfm_adapters.colmap_model import find_model_folder, read_model
from bench.sfm_adapters.external import require_checkout, require_python, run_tool
from bench.sfm_adapters.settings import external_setting
from motionflow.camera.poses import as_pose_stack, w2c_to_c2w
from motionflow.data.video_io import write_frames

SOURCE = "https://github.com/bytedance/particle-sfm (GPL-3.0; its own conda environment and models, see its README)"
CONVERTED = "colmap_outputs_converted"


class ParticleSfmOutputError(ValueError):
    """A pose or intrinsics file of ParticleSfM's output is malformed."""


@dataclass(frozen=True)
class ParticleSfmSettings(EstimatorSettings):
    python: str | None = None
    checkout: str | None = None
    assume_static: bool = False
    """Skip ParticleSfM's motion segmentation (faster; dynamic objects then count as static)."""
    incremental_sfm: bool = False
    timeout_s: float = 7200.0


@ESTIMATORS.register("particlesfm")
class ParticleSfmEstimator(PoseEstimator):
    name: ClassVar[str] = "particlesfm"
    is_stochastic: ClassVar[bool] = True
    settings_type: ClassVar[type[EstimatorSettings]] = ParticleSfmSettings
    settings: ParticleSfmSettings

    @classmethod
    def default_settings(cls) -> ParticleSfmSettings:
        return ParticleSfmSettings(
            python=external_setting("particlesfm", "python"), checkout=external_setting("particlesfm", "dir")
        )

    def check_available(self) -> None:
        require_python(self.name, self.settings.python, SOURCE)
        require_checkout(self.name, self.settings.checkout, "run_particlesfm.py", SOURCE)

    def command(self, workspace: Path) -> list[str]:
        command = [
            str(Path(self.settings.python).expanduser()),
            "run_particlesfm.py",
            "--image_dir",
            str(workspace / "images"),
            "--output_dir",
            str(workspace),
        ]
        if self.settings.assume_static:
            command.append("--assume_static")
        if self.settings.incremental_sfm:
            command.append("--incremental_sfm")
        return command

    def _estimate(self, frames: np.ndarray, intrinsics: np.ndarray | None, seed: int) -> PoseEstimate:
        self.check_available()
        image_size = (frames.shape[1], frames.shape[2])
        with tempfile.TemporaryDirectory(prefix="mfbench-particlesfm-") as workspace:
            workspace = Path(workspace)
            write_frames(workspace / "images", frames)
            failure = run_tool(
                self.command(workspace),
                Path(self.settings.checkout).expanduser(),
                workspace / "log.txt",
                self.settings.timeout_s,
            )
            if failure is not None:
                return empty_estimate(self.name, len(frames), image_size, failure)
            estimate = parse_particlesfm_output(workspace, len(frames), image_size)
        if intrinsics is not None:
            estimate.extra["known_intrinsics_ignored"] = True
        return estimate


def _read_matrix(path: Path, shapes: tuple[tuple[int, int], ...]) -> np.ndarray:
    try:
        matrix = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise ParticleSfmOutputError(f"{path}: not a numeric matrix ({error})") from None
    if matrix.shape not in shapes:
        raise ParticleSfmOutputError(f"{path}: shape {matrix.shape}, expected one of {list(shapes)}")
    return matrix


def parse_particlesfm_output(workspace: Path, num_frames: int, image_size: tuple[int, int]) -> PoseEstimate:
    """ParticleSfM's converted output under `workspace` -> PoseEstimate (frames named 00000.png, ...).

    A malformed file is a recorded failure naming the file."""
    pose_dir, intrinsics_dir = workspace / CONVERTED / "poses", workspace / CONVERTED / "intrinsics"
    if not pose_dir.is_dir():
        return empty_estimate("particlesfm", num_frames, image_size, f"ParticleSfM wrote no {pose_dir}")
    poses, intrinsics = {}, {}
    try:
        for index in range(num_frames):
            pose_file = pose_dir / f"{index:05d}.txt"
            if not pose_file.is_file():
                continue
            poses[index] = w2c_to_c2w(as_pose_stack(_read_matrix(pose_file, ((3, 4), (4, 4)))))[0]
            intrinsics_file = intrinsics_dir / f"{index:05d}.txt"
            if intrinsics_file.is_file():
                intrinsics[index] = _read_matrix(intrinsics_file, ((3, 3),))
    except ParticleSfmOutputError as error:
        return empty_estimate("particlesfm", num_frames, image_size, f"malformed ParticleSfM output: {error}")
    model_folder = find_model_folder(workspace / "sfm", (".", "0"))
    num_points = None if model_folder is None else int(read_model(model_folder).num_points3D())
    return assemble_estimate("particlesfm", image_size, poses, intrinsics, num_frames, num_points=num_points)
