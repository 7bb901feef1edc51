"""Camera-alignment metrics of a generated video: RotErr, TransErr, CamMC and ATE, per frame and per video.

Inputs are plain arrays, independent of any pose estimator: camera-to-world poses [F, 4, 4] (OpenCV
axes) and a bool mask [F] of the frames the estimator registered, for the estimate and for the
reference. Definitions (paper, Appendix A; CamI2V for CamMC), over the compared frames i:

    RotErr   = sum_i arccos((tr(R_out_i^T R_gt_i) - 1) / 2)       radians
    TransErr = sum_i ||T_out_i - T_gt_i||_2                        after the preset's scale rule
    CamMC    = sum_i ||[R_out_i | T_out_i] - [R_gt_i | T_gt_i]||_F  (3x4 matrices, CamI2V)
    ATE      = mean_i ||c_out_i - c_gt_i||_2                       after a Sim(3) fit of the centres

The paper prints Eq. 5 as tr(R_out^T R_gt^T); the second transpose is a typo: tr(R_out^T R_gt^T) is
not a function of the relative rotation R_out^T R_gt and is not the geodesic distance (it is not zero
for R_out = R_gt). The geodesic form above is what the text describes ("relative rotation distances").

Both trajectories are made relative to their first frame, c2w_rel[i] = inv(c2w[0]) @ c2w[i], before
anything is compared, so T_i is the camera centre in the frame-0 camera's coordinates.

Partial registration (documented rule): the frames registered in both trajectories are compared. The
video is a failure (counted, never dropped) when frame 0 is not registered in both (there is nothing to
make the trajectories relative to) or when fewer than the preset's `min_registered_fraction` of the
frames are registered in both. Sums over K < F compared frames are scaled by F / K (see presets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.metrics.alignment import SCALE_RULES, AlignedCenters
from bench.metrics.presets import CameraProtocol, camera_preset
from bench.metrics.result import MetricResult
from motionflow.camera.poses import as_pose_stack, pose_problems, relative_to_first
from motionflow.errors import FrameCountError, PoseError


def rotation_errors(estimated_rotations: np.ndarray, reference_rotations: np.ndarray) -> np.ndarray:
    """Per-frame geodesic angle arccos((tr(R_est^T R_ref) - 1) / 2) in radians, [K].

    Evaluated as atan2(sin, cos) of the relative rotation R = R_est^T R_ref (sin from its skew part),
    the same angle without arccos's loss of precision near 0 (arccos(1 - 1e-16) is already 1.5e-8)."""
    relative = np.swapaxes(estimated_rotations, -1, -2) @ reference_rotations
    cosine = (np.trace(relative, axis1=-2, axis2=-1) - 1.0) / 2.0
    skew = relative - np.swapaxes(relative, -1, -2)
    sine = (
        np.linalg.norm(np.stack([skew[..., 2, 1], skew[..., 0, 2], skew[..., 1, 0]], axis=-1), axis=-1) / 2.0
    )
    return np.arctan2(sine, cosine)


def translation_errors(estimated: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-frame Euclidean distance between translations (or camera centres) [K, 3]."""
    return np.linalg.norm(np.asarray(estimated) - np.asarray(reference), axis=-1)


def cammc_errors(estimated_rt: np.ndarray, reference_rt: np.ndarray) -> np.ndarray:
    """Per-frame Frobenius norm of the difference of the 3x4 [R | t] matrices (CamI2V's CamMC), [K]."""
    difference = np.asarray(estimated_rt)[..., :3, :4] - np.asarray(reference_rt)[..., :3, :4]
    return np.linalg.norm(difference.reshape(difference.shape[0], 12), axis=1)


def reduce_frames(per_frame: np.ndarray, n_frames: int, reduction: str) -> float:
    """The video value of per-frame errors over K compared frames (see CameraProtocol.reduction)."""
    if reduction == "sum":
        return float(per_frame.sum() * n_frames / len(per_frame))
    return float(per_frame.mean())


@dataclass(frozen=True)
class CameraMetrics:
    """Camera metrics of one video under one preset; `results` maps metric name -> MetricResult whose
    `per_item` holds F per-frame values (NaN for frames not compared)."""

    preset: str
    n_frames: int
    compared: tuple[bool, ...]
    results: dict[str, MetricResult]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(result.status == "failed" for result in self.results.values())

    def value(self, name: str) -> float | None:
        return self.results[name].value

    def to_record(self) -> dict[str, Any]:
        return {
            "preset": self.preset,
            "n_frames": self.n_frames,
            "n_compared": int(sum(self.compared)),
            "compared": list(self.compared),
            "failed": self.failed,
            "metrics": {name: result.to_record() for name, result in self.results.items()},
            "details": self.details,
        }


def _checked_trajectory(c2w: np.ndarray, registered: np.ndarray, label: str) -> tuple[np.ndarray, np.ndarray]:
    c2w = as_pose_stack(c2w)
    registered = np.asarray(registered)
    if registered.dtype != bool:
        raise TypeError(f"{label} registered mask must be bool, got {registered.dtype}")
    if registered.shape != (len(c2w),):
        raise FrameCountError(f"{label}: registered mask of shape {registered.shape} for {len(c2w)} poses")
    for index in np.flatnonzero(registered):
        problems = pose_problems(c2w[index])
        if problems:
            raise PoseError(f"{label} pose of registered frame {index}: " + "; ".join(problems))
    return c2w, registered


def _failure_reason(
    estimated_registered: np.ndarray, reference_registered: np.ndarray, protocol: CameraProtocol
) -> str:
    for label, registered in (("estimate", estimated_registered), ("reference", reference_registered)):
        if not registered.any():
            return f"no frame registered in the {label}"
        if not registered[0]:
            return f"frame 0 not registered in the {label}: the trajectories cannot be made relative to it"
    n_frames, n_common = len(estimated_registered), int((estimated_registered & reference_registered).sum())
    if n_common < protocol.min_registered_fraction * n_frames:
        return (
            f"only {n_common} of {n_frames} frames registered in both trajectories "
            f"(fewer than {protocol.min_registered_fraction:.0%})"
        )
    return ""


def _per_frame(values: np.ndarray, compared: np.ndarray) -> tuple[float, ...]:
    full = np.full(len(compared), np.nan)
    full[compared] = values
    return tuple(full.tolist())


def camera_metrics(
    estimated_c2w: np.ndarray,
    estimated_registered: np.ndarray,
    reference_c2w: np.ndarray,
    reference_registered: np.ndarray,
    preset: str | CameraProtocol = "motionflow",
) -> CameraMetrics:
    """Camera metrics of an estimated trajectory against its reference under a preset.

    Raises FrameCountError when the trajectories (or masks) differ in length and PoseError when a
    registered pose is not a rigid transform; a failed estimate is returned as a recorded failure."""
    protocol = preset if isinstance(preset, CameraProtocol) else camera_preset(preset)
    estimated_c2w, estimated_registered = _checked_trajectory(estimated_c2w, estimated_registered, "estimate")
    reference_c2w, reference_registered = _checked_trajectory(
        reference_c2w, reference_registered, "reference"
    )
    if len(estimated_c2w) != len(reference_c2w):
        raise FrameCountError(
            f"estimated trajectory has {len(estimated_c2w)} frames, reference has {len(reference_c2w)}"
        )
    n_frames = len(estimated_c2w)
    if n_frames == 0:
        raise FrameCountError("empty trajectories: nothing to compare")
    compared = estimated_registered & reference_registered
    reason = _failure_reason(estimated_registered, reference_registered, protocol)
    if reason:
        results = {name: MetricResult(name, None, "failed", reason) for name in protocol.metrics}
        return CameraMetrics(protocol.name, n_frames, tuple(compared.tolist()), results)

    estimated = relative_to_first(estimated_c2w[compared])
    reference = relative_to_first(reference_c2w[compared])
    aligned = SCALE_RULES.get(protocol.scale)(estimated, reference)
    per_frame = {"RotErr": rotation_errors(estimated[:, :3, :3], reference[:, :3, :3])}
    per_frame.update(_translation_metrics(protocol, estimated, reference, aligned))

    results = {}
    for name in protocol.metrics:
        if name in per_frame:
            values = per_frame[name]
            value = reduce_frames(values, n_frames, protocol.reduction)
            results[name] = MetricResult(name, value, per_item=_per_frame(values, compared))
        else:
            results[name] = MetricResult(name, None, "undefined", aligned.undefined_reason)
    return CameraMetrics(
        protocol.name, n_frames, tuple(compared.tolist()), results, dict(aligned.details or {})
    )


def still_camera_metrics(
    reference_c2w: np.ndarray, reference_registered: np.ndarray, preset: str | CameraProtocol = "motionflow"
) -> CameraMetrics:
    """What a camera that does not move scores against the reference: identity poses, every frame
    registered, under the same protocol.

    The `static` reference row shows no motion, so no pose estimator can register its video and its
    camera metrics are failures; its camera is known, though, and this is its score: the errors a
    camera-following method has to stay below to have followed the camera at all."""
    n_frames = len(as_pose_stack(reference_c2w))
    return camera_metrics(
        np.tile(np.eye(4), (n_frames, 1, 1)),
        np.ones(n_frames, dtype=bool),
        reference_c2w,
        reference_registered,
        preset,
    )


def _translation_metrics(
    protocol: CameraProtocol, estimated: np.ndarray, reference: np.ndarray, aligned: AlignedCenters
) -> dict[str, np.ndarray]:
    """Per-frame translation-based errors after the preset's scale rule (empty if the scale is undefined)."""
    if not aligned.defined:
        return {}
    errors = {protocol.translation_metric: translation_errors(aligned.estimated, aligned.reference)}
    if "CamMC" in protocol.metrics:
        estimated_rt = np.concatenate([estimated[:, :3, :3], aligned.estimated[:, :, None]], axis=2)
        reference_rt = np.concatenate([reference[:, :3, :3], aligned.reference[:, :, None]], axis=2)
        errors["CamMC"] = cammc_errors(estimated_rt, reference_rt)
    return errors
