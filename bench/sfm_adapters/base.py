"""One result type and one interface for every pose estimator (COLMAP, DUSt3R, VGGSfM, ParticleSfM, VGGT).

Every estimator returns a :class:`PoseEstimate`: camera-to-world poses in OpenCV axes, pixel
intrinsics of the frames it was given, and a per-frame `registered` flag. A normal reconstruction
failure (nothing registered, frames missing, too few 3D points, an implausible focal length,
non-finite output) is recorded in `failure_reason`; it is never raised and never dropped.

Conventions of the arrays, whatever the estimator:
- `c2w[i]` is a valid rigid 4x4 matrix for every frame. A frame that was not registered holds the
  identity; only `registered[i]` says whether the pose is real. There are never NaNs, so the
  JSON file stays standard JSON.
- `intrinsics[i]` is the estimated K of frame i in pixels of the input frames. Where nothing was
  estimated it holds the K the estimator started from: the given intrinsics in known-intrinsics
  mode, else COLMAP's default prior (focal 1.2 * max(H, W), principal point at the image centre).
"""

from __future__ import annotations

import abc
import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from motionflow.camera.intrinsics import as_intrinsics_stack, intrinsics_matrix
from motionflow.camera.poses import pose_problems
from motionflow.data.video_io import check_video_array
from motionflow.errors import MotionFlowError
from motionflow.utils.registry import Registry

POSE_FORMAT = "mfbench-pose/1"
DEFAULT_FOCAL_FACTOR = 1.2
"""COLMAP's prior focal length in units of max(H, W) when nothing is known."""


class EstimatorUnavailableError(MotionFlowError, RuntimeError):
    """A pose estimator cannot run here: its package, checkpoint or environment is missing."""


def unavailable(estimator: str, missing: str, source: str, setting: str) -> EstimatorUnavailableError:
    """The one message format for a missing dependency: what is missing, where it comes from, which
    setting points at it."""
    return EstimatorUnavailableError(
        f"pose estimator {estimator!r} is unavailable: {missing}. Source: {source}. Set {setting}."
    )


@dataclass
class PoseEstimate:
    """Cameras of one video as estimated by one estimator. See the module docstring for conventions."""

    estimator: str
    c2w: np.ndarray
    intrinsics: np.ndarray
    registered: np.ndarray
    image_size: tuple[int, int]
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    failure_reason: str | None = None
    num_points: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.c2w = np.asarray(self.c2w, dtype=np.float64)
        self.registered = np.asarray(self.registered, dtype=bool)
        num_frames = len(self.registered)
        self.intrinsics = as_intrinsics_stack(self.intrinsics, num_frames)
        if self.c2w.shape != (num_frames, 4, 4) or self.intrinsics.shape != (num_frames, 3, 3):
            raise ValueError(
                f"PoseEstimate needs c2w [F, 4, 4] and intrinsics [F, 3, 3] for F={num_frames} frames, got "
                f"{self.c2w.shape} and {self.intrinsics.shape}"
            )
        if not np.all(np.isfinite(self.c2w)):
            raise ValueError("PoseEstimate c2w contains NaN/inf; unregistered frames must hold the identity")
        self.image_size = (int(self.image_size[0]), int(self.image_size[1]))

    @property
    def ok(self) -> bool:
        return self.failure_reason is None

    @property
    def num_frames(self) -> int:
        return len(self.registered)

    @property
    def num_registered(self) -> int:
        return int(self.registered.sum())

    def to_json(self) -> dict[str, Any]:
        """A dictionary for `json.dump`: one entry per frame with its registered flag, c2w and K."""
        return {
            "format": POSE_FORMAT,
            "estimator": self.estimator,
            "ok": self.ok,
            "failure_reason": self.failure_reason,
            "num_frames": self.num_frames,
            "num_registered": self.num_registered,
            "num_points": self.num_points,
            "image_size": list(self.image_size),
            "seconds": round(float(self.seconds), 4),
            "convention": "c2w: camera-to-world 4x4, OpenCV axes (x right, y down, z forward); "
            "K: pixels of the input frames; unregistered frames hold the identity pose",
            "settings": self.settings,
            "extra": self.extra,
            "frames": [
                {
                    "index": index,
                    "registered": bool(self.registered[index]),
                    "c2w": self.c2w[index].tolist(),
                    "K": self.intrinsics[index].tolist(),
                }
                for index in range(self.num_frames)
            ],
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> PoseEstimate:
        if payload.get("format") != POSE_FORMAT:
            raise ValueError(
                f"not a pose estimate: format is {payload.get('format')!r}, expected {POSE_FORMAT!r}"
            )
        frames = payload["frames"]
        return cls(
            estimator=payload["estimator"],
            c2w=np.array([frame["c2w"] for frame in frames], dtype=np.float64).reshape(-1, 4, 4),
            intrinsics=np.array([frame["K"] for frame in frames], dtype=np.float64).reshape(-1, 3, 3),
            registered=np.array([frame["registered"] for frame in frames], dtype=bool),
            image_size=tuple(payload["image_size"]),
            settings=dict(payload.get("settings", {})),
            seconds=float(payload.get("seconds", 0.0)),
            failure_reason=payload.get("failure_reason"),
            num_points=payload.get("num_points"),
            extra=dict(payload.get("extra", {})),
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"

    @classmethod
    def loads(cls, text: str) -> PoseEstimate:
        return cls.from_json(json.loads(text))


def default_intrinsics(image_size: tuple[int, int], num_frames: int) -> np.ndarray:
    """COLMAP's starting guess: focal 1.2 * max(H, W), principal point at the centre."""
    height, width = image_size
    focal = DEFAULT_FOCAL_FACTOR * max(height, width)
    return as_intrinsics_stack(intrinsics_matrix(focal, focal, width / 2, height / 2), num_frames)


def empty_estimate(
    estimator: str,
    num_frames: int,
    image_size: tuple[int, int],
    failure_reason: str,
    intrinsics: np.ndarray | None = None,
    **details: Any,
) -> PoseEstimate:
    """A failure with nothing registered: identity poses and the starting intrinsics."""
    return PoseEstimate(
        estimator=estimator,
        c2w=np.repeat(np.eye(4)[None], num_frames, axis=0),
        intrinsics=default_intrinsics(image_size, num_frames) if intrinsics is None else intrinsics,
        registered=np.zeros(num_frames, dtype=bool),
        image_size=image_size,
        failure_reason=failure_reason,
        **details,
    )


def assemble_estimate(
    estimator: str,
    image_size: tuple[int, int],
    poses_c2w: Mapping[int, np.ndarray],
    intrinsics: Mapping[int, np.ndarray],
    num_frames: int,
    fallback_intrinsics: np.ndarray | None = None,
    **details: Any,
) -> PoseEstimate:
    """Builds a PoseEstimate from the frames an estimator returned (frame index -> c2w, -> K).

    Frames absent from `poses_c2w` are unregistered (identity pose); a frame without its own K takes
    the K of the nearest registered frame (one shared camera), else `fallback_intrinsics`."""
    c2w = np.repeat(np.eye(4)[None], num_frames, axis=0)
    registered = np.zeros(num_frames, dtype=bool)
    for index, pose in poses_c2w.items():
        if not 0 <= index < num_frames:
            raise ValueError(f"{estimator}: frame index {index} outside 0..{num_frames - 1}")
        pose = np.asarray(pose, dtype=np.float64)
        if not np.all(np.isfinite(pose)):
            continue
        c2w[index], registered[index] = pose, True
    base = default_intrinsics(image_size, num_frames) if fallback_intrinsics is None else fallback_intrinsics
    stack = np.array(as_intrinsics_stack(base, num_frames), copy=True)
    known = sorted(index for index, matrix in intrinsics.items() if np.all(np.isfinite(matrix)))
    for index in range(num_frames):
        if known:
            nearest = min(known, key=lambda candidate: abs(candidate - index))
            stack[index] = intrinsics[nearest]
    return PoseEstimate(
        estimator=estimator,
        c2w=c2w,
        intrinsics=stack,
        registered=registered,
        image_size=image_size,
        **details,
    )


def quality_problems(estimate: PoseEstimate, thresholds: EstimatorSettings) -> list[str]:
    """Why an estimate cannot be trusted (empty when it can)."""
    if estimate.num_registered == 0:
        return ["no frame registered"]
    problems = []
    missing = np.flatnonzero(~estimate.registered)
    if len(missing):
        problems.append(
            f"{len(missing)} of {estimate.num_frames} frames not registered (frames {_index_list(missing)})"
        )
    invalid = [int(i) for i in np.flatnonzero(estimate.registered) if pose_problems(estimate.c2w[i], 1e-3)]
    if invalid:
        problems.append(f"invalid rotation in frames {_index_list(invalid)}")
    if estimate.num_points is not None and estimate.num_points < thresholds.min_points:
        problems.append(
            f"only {estimate.num_points} 3D points (< {thresholds.min_points}): no parallax "
            "(a camera that only rotates?) or too little texture"
        )
    width = estimate.image_size[1]
    focal_ratios = estimate.intrinsics[estimate.registered][:, [0, 1], [0, 1]] / width
    low, high = thresholds.focal_ratio_range
    if np.any(focal_ratios < low) or np.any(focal_ratios > high):
        worst = float(focal_ratios.min() if focal_ratios.min() < low else focal_ratios.max())
        problems.append(
            f"implausible focal length {worst * width:.1f} px = {worst:.2f} x image width "
            f"(plausible {low}-{high}); self-calibration is degenerate for this motion"
        )
    return problems


def _index_list(indices: np.ndarray | list[int], limit: int = 12) -> str:
    values = [int(i) for i in indices]
    text = ", ".join(str(i) for i in values[:limit])
    return text + (", ..." if len(values) > limit else "")


@dataclass(frozen=True)
class EstimatorSettings:
    """Base of every estimator's settings: frozen, JSON-serialisable, part of the cache key.

    The two quality thresholds decide what counts as a failed reconstruction, beyond frames that were
    not registered."""

    min_points: int = 30
    """Fewer triangulated 3D points than this: the geometry is not supported by the images (typical of
    a camera that only rotates, or of textureless frames). Ignored by estimators that report none."""
    focal_ratio_range: tuple[float, float] = (0.2, 5.0)
    """Plausible focal length in units of the image width: 0.2 is a 136 degree horizontal field of
    view, 5 is 11 degrees. Outside it the self-calibration is degenerate (e.g. pure sideways motion)."""

    def to_dict(self) -> dict[str, Any]:
        return {key: _plain(value) for key, value in asdict(self).items()}

    def replace(self, **changes: Any) -> EstimatorSettings:
        unknown = set(changes) - {item.name for item in fields(self)}
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)} for {type(self).__name__}")
        return replace(self, **changes)


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


class PoseEstimator(abc.ABC):
    """Estimates the cameras of a video. Subclasses implement `_estimate` and `check_available`.

    `is_stochastic`: the result depends on a random seed (RANSAC, random sampling), so a benchmark
    repeats it over trials with different seeds. `parallel_processes`: several instances may run at
    once in separate processes (CPU-bound estimators); GPU models run one at a time."""

    name: ClassVar[str]
    is_stochastic: ClassVar[bool]
    parallel_processes: ClassVar[bool] = False
    settings_type: ClassVar[type[EstimatorSettings]]

    def __init__(self, settings: EstimatorSettings | None = None):
        self.settings = settings if settings is not None else self.default_settings()
        if not isinstance(self.settings, self.settings_type):
            raise TypeError(
                f"{self.name} needs {self.settings_type.__name__}, got {type(self.settings).__name__}"
            )

    @classmethod
    def default_settings(cls) -> EstimatorSettings:
        """Settings from the environment / settings file (see bench.sfm_adapters.settings)."""
        return cls.settings_type()

    @abc.abstractmethod
    def check_available(self) -> None:
        """Raises EstimatorUnavailableError naming what is missing, its source and the setting."""

    @abc.abstractmethod
    def _estimate(self, frames: np.ndarray, intrinsics: np.ndarray | None, seed: int) -> PoseEstimate:
        """The estimator's own work on validated frames; intrinsics [F, 3, 3] or None."""

    def estimate(
        self, frames: np.ndarray, intrinsics: np.ndarray | None = None, seed: int = 0
    ) -> PoseEstimate:
        """Cameras of uint8 frames [F, H, W, 3]; `intrinsics` ([3, 3] or [F, 3, 3], pixels) switches to
        known-intrinsics mode. Records quality problems as the failure reason and the wall time."""
        frames = check_video_array(frames)
        if intrinsics is not None:
            intrinsics = as_intrinsics_stack(intrinsics, len(frames))
            if len(intrinsics) != len(frames):
                raise ValueError(f"{len(frames)} frames but {len(intrinsics)} intrinsics")
        started = time.perf_counter()
        result = self._estimate(frames, intrinsics, seed)
        result.seconds = time.perf_counter() - started
        result.settings = {
            **self.settings.to_dict(),
            "known_intrinsics": intrinsics is not None,
            "seed": seed,
        }
        if result.failure_reason is None:
            problems = quality_problems(result, self.settings)
            if problems:
                result.failure_reason = "; ".join(problems)
        return result


ESTIMATORS: Registry[type[PoseEstimator]] = Registry("pose estimator")


def create_estimator(name: str, **setting_overrides: Any) -> PoseEstimator:
    """The registered estimator `name` with its default settings, changed by `setting_overrides`."""
    estimator_type = ESTIMATORS.get(name)
    settings = estimator_type.default_settings()
    if setting_overrides:
        settings = settings.replace(**setting_overrides)
    return estimator_type(settings)
