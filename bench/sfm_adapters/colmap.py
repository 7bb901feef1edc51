"""COLMAP through pycolmap (CPU): the default pose estimator, needs no weights.

Pipeline: frames -> PNG files in a temporary folder -> SIFT features (one shared camera for the
whole clip) -> sequential matching -> global mapping (GLOMAP, built into COLMAP 4) -> the largest
model. If the global model fails the quality checks, incremental mapping runs as a fallback with a
lower initial triangulation angle (COLMAP's default of 16 degrees rejects every initial pair of a
short clip whose camera moves little), and the better of the two is kept.

With known intrinsics, the camera is a PINHOLE with the given fx, fy, cx, cy, held fixed in bundle
adjustment. Without them it is a SIMPLE_PINHOLE (one focal length) that COLMAP self-calibrates.

COLMAP returns world-to-camera poses; they become camera-to-world in colmap_model. The result is
stochastic (RANSAC, random initial positions) and reproducible for a fixed seed.

How failures show (all recorded in `failure_reason`, see bench.sfm_adapters.base):
- textureless frames: too few features/matches -> frames not registered or no model;
- a camera that only rotates: rotations may be found, but there is no parallax, so almost no 3D
  points are triangulated -> "only N 3D points";
- pure sideways translation without known intrinsics: the focal length is unobservable and may
  drift to an implausible value -> "implausible focal length" (rotations are usually still right:
  run with known intrinsics to use them)."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pycolmap

from bench.sfm_adapters.base import (
    ESTIMATORS,
    EstimatorSettings,
    PoseEstimate,
    PoseEstimator,
    default_intrinsics,
    empty_estimate,
    quality_problems,
)
from bench.sfm_adapters.colmap_model import largest_reconstruction, reconstruction_to_estimate
from motionflow.data.video_io import frame_name, write_frames

COLMAP_DEFAULT_INIT_ANGLE = 16.0


@dataclass(frozen=True)
class ColmapSettings(EstimatorSettings):
    mapper: Literal["global", "incremental"] = "global"
    fallback: bool = True
    """Run incremental mapping when the global model fails the quality checks (mapper="global" only)."""
    init_min_tri_angle: float = 4.0
    """Degrees; the incremental mapper's minimum triangulation angle of its initial pair."""
    camera_model: str = "SIMPLE_PINHOLE"
    """Camera model to self-calibrate (known intrinsics always use PINHOLE)."""
    max_num_features: int = 8192
    sequential_overlap: int = 10
    """Each frame is matched with this many following frames."""
    num_threads: int = 1
    """Threads of one reconstruction; the batch runner parallelises over videos instead."""


@contextlib.contextmanager
def quiet_colmap() -> Iterator[None]:
    """Hides COLMAP's log lines (they would break a progress bar); its errors surface as exceptions or
    as failure reasons instead."""
    previous = pycolmap.logging.minloglevel
    pycolmap.logging.minloglevel = pycolmap.logging.FATAL
    try:
        yield
    finally:
        pycolmap.logging.minloglevel = previous


@ESTIMATORS.register("colmap")
class ColmapEstimator(PoseEstimator):
    name: ClassVar[str] = "colmap"
    is_stochastic: ClassVar[bool] = True
    parallel_processes: ClassVar[bool] = True
    settings_type: ClassVar[type[EstimatorSettings]] = ColmapSettings
    settings: ColmapSettings

    def check_available(self) -> None:
        """pycolmap is a dependency of the project, so COLMAP is always available."""

    def _estimate(self, frames: np.ndarray, intrinsics: np.ndarray | None, seed: int) -> PoseEstimate:
        image_size = (frames.shape[1], frames.shape[2])
        names = [frame_name(index) for index in range(len(frames))]
        fallback_intrinsics = (
            intrinsics if intrinsics is not None else default_intrinsics(image_size, len(frames))
        )
        with tempfile.TemporaryDirectory(prefix="mfbench-colmap-") as workspace, quiet_colmap():
            workspace = Path(workspace)
            image_dir, database = workspace / "images", workspace / "database.db"
            write_frames(image_dir, frames)
            pycolmap.set_random_seed(seed)
            timings: dict[str, float] = {}
            try:
                started = time.perf_counter()
                self._extract(database, image_dir, names, intrinsics)
                timings["features_s"] = time.perf_counter() - started
                started = time.perf_counter()
                self._match(database, seed)
                timings["matching_s"] = time.perf_counter() - started
            except (RuntimeError, ValueError) as error:
                return empty_estimate(
                    self.name,
                    len(frames),
                    image_size,
                    f"COLMAP feature stage failed: {error}",
                    fallback_intrinsics,
                )
            known = intrinsics is not None
            attempts = self._map(
                workspace, database, image_dir, names, image_size, fallback_intrinsics, known, seed, timings
            )
        chosen = min(attempts, key=_badness)
        chosen.extra["mapping_attempts"] = [
            {
                "mapper": attempt.extra["mapper"],
                "registered": attempt.num_registered,
                "failure": attempt.failure_reason,
            }
            for attempt in attempts
        ]
        chosen.extra["timings_s"] = {key: round(value, 4) for key, value in timings.items()}
        return chosen

    def _map(
        self,
        workspace: Path,
        database: Path,
        image_dir: Path,
        names: list[str],
        image_size: tuple[int, int],
        fallback_intrinsics: np.ndarray,
        known: bool,
        seed: int,
        timings: dict[str, float],
    ) -> list[PoseEstimate]:
        """Runs the mapper(s) until one passes the quality checks; each attempt carries its problems in
        failure_reason."""
        plan: list[tuple[str, float | None]] = []
        if self.settings.mapper == "global":
            plan.append(("global", None))
            if self.settings.fallback:
                plan.append(("incremental", self.settings.init_min_tri_angle))
        elif self.settings.mapper == "incremental":
            plan.append(("incremental", self.settings.init_min_tri_angle))
        else:
            raise ValueError(
                f"unknown COLMAP mapper {self.settings.mapper!r}; expected global or incremental"
            )
        attempts: list[PoseEstimate] = []
        for mapper, angle in plan:
            output = workspace / f"sparse-{mapper}"
            output.mkdir()
            started = time.perf_counter()
            try:
                if mapper == "global":
                    models = pycolmap.global_mapping(
                        database, image_dir, output, self._global_options(seed, known)
                    )
                else:
                    models = pycolmap.incremental_mapping(
                        database, image_dir, output, self._incremental_options(seed, known, angle)
                    )
            except (RuntimeError, ValueError) as error:
                models = {}
                mapper_error = str(error)
            else:
                mapper_error = None
            timings[f"{mapper}_mapping_s"] = time.perf_counter() - started
            label = mapper if angle is None else f"{mapper} (init_min_tri_angle={angle:g})"
            attempt = reconstruction_to_estimate(
                largest_reconstruction(models),
                names,
                image_size,
                self.name,
                fallback_intrinsics=fallback_intrinsics,
                extra={"mapper": label, "num_models": len(models)},
            )
            problems = [f"COLMAP {mapper} mapping error: {mapper_error}"] if mapper_error else []
            problems += quality_problems(attempt, self.settings)
            attempt.failure_reason = "; ".join(problems) or None
            attempts.append(attempt)
            if attempt.ok:
                break
        return attempts

    def _extract(
        self, database: Path, image_dir: Path, names: list[str], intrinsics: np.ndarray | None
    ) -> None:
        reader = pycolmap.ImageReaderOptions()
        if intrinsics is None:
            reader.camera_model = self.settings.camera_model
        else:
            mean = intrinsics.mean(axis=0)
            reader.camera_model = "PINHOLE"
            reader.camera_params = ",".join(
                f"{value:.10g}" for value in (mean[0, 0], mean[1, 1], mean[0, 2], mean[1, 2])
            )
        extraction = pycolmap.FeatureExtractionOptions()
        extraction.num_threads = self.settings.num_threads
        extraction.sift.max_num_features = self.settings.max_num_features
        pycolmap.extract_features(
            database,
            image_dir,
            image_names=names,
            camera_mode=pycolmap.CameraMode.SINGLE,
            reader_options=reader,
            extraction_options=extraction,
            device=pycolmap.Device.cpu,
        )

    def _match(self, database: Path, seed: int) -> None:
        verification = pycolmap.TwoViewGeometryOptions()
        verification.ransac.random_seed = seed
        matching = pycolmap.FeatureMatchingOptions()
        matching.num_threads = self.settings.num_threads
        pairing = pycolmap.SequentialPairingOptions()
        pairing.overlap = self.settings.sequential_overlap
        pairing.num_threads = self.settings.num_threads
        pycolmap.match_sequential(
            database,
            matching_options=matching,
            pairing_options=pairing,
            verification_options=verification,
            device=pycolmap.Device.cpu,
        )

    def _global_options(self, seed: int, known_intrinsics: bool) -> pycolmap.GlobalPipelineOptions:
        options = pycolmap.GlobalPipelineOptions()
        options.num_threads = self.settings.num_threads
        mapper = options.mapper
        for seeded in (
            options,
            mapper,
            mapper.rotation_averaging,
            mapper.global_positioning,
            mapper.retriangulation,
        ):
            seeded.random_seed = seed
        if known_intrinsics:
            options.mapper.bundle_adjustment.refine_focal_length = False
            options.mapper.bundle_adjustment.refine_principal_point = False
            options.mapper.bundle_adjustment.refine_extra_params = False
        return options

    def _incremental_options(
        self, seed: int, known_intrinsics: bool, init_min_tri_angle: float
    ) -> pycolmap.IncrementalPipelineOptions:
        options = pycolmap.IncrementalPipelineOptions()
        options.num_threads = self.settings.num_threads
        for seeded in (options, options.mapper, options.triangulation):
            seeded.random_seed = seed
        options.min_model_size = 3
        options.mapper.init_min_tri_angle = init_min_tri_angle
        if known_intrinsics:
            options.ba_refine_focal_length = False
            options.ba_refine_principal_point = False
            options.ba_refine_extra_params = False
            options.mapper.abs_pose_refine_focal_length = False
            options.mapper.abs_pose_refine_extra_params = False
        return options


def _badness(attempt: PoseEstimate) -> tuple[Any, ...]:
    """Orders mapping attempts: a passing one first, then the most registered frames, then 3D points."""
    return (not attempt.ok, -attempt.num_registered, -(attempt.num_points or 0))
