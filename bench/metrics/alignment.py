"""Bringing an estimated trajectory to the scale of its reference: the scale rules of the presets.

Every pose estimator returns a trajectory in its own arbitrary units (and ours in whatever the
annotation uses), so translations can only be compared after a scale rule. Each rule takes both
trajectories already made relative to their first frame and restricted to the compared frames, and
returns their camera centres in comparable units, or the reason no scale exists for them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from motionflow.camera.poses import camera_centers
from motionflow.utils.registry import Registry

STATIC_DISTANCE = 1e-9
"""A trajectory whose camera centres all lie within this distance of frame 0 does not move: it has no
scale. Absolute, since estimator units are arbitrary and no relative threshold is meaningful."""


@dataclass(frozen=True)
class AlignedCenters:
    """Camera centres [K, 3] of both trajectories in common units, or why there are none."""

    estimated: np.ndarray | None
    reference: np.ndarray | None
    undefined_reason: str = ""
    details: dict[str, float] | None = None

    @property
    def defined(self) -> bool:
        return self.estimated is not None


ScaleRule = Callable[[np.ndarray, np.ndarray], AlignedCenters]
SCALE_RULES: Registry[ScaleRule] = Registry("scale rule")


def _largest_distance(centers: np.ndarray) -> float:
    return float(np.linalg.norm(centers - centers[0], axis=1).max())


def _static_reference(distance: float) -> AlignedCenters:
    return AlignedCenters(
        None,
        None,
        f"the reference trajectory does not move (largest camera distance from frame 0 is {distance:.3g}): "
        "translation scale undefined",
    )


@SCALE_RULES.register("max_distance")
def scale_by_max_distance(estimated_c2w: np.ndarray, reference_c2w: np.ndarray) -> AlignedCenters:
    """Each trajectory divided by its own largest camera distance from frame 0 (CamI2V's rule).

    An estimate that does not move keeps its (zero) translations, so it scores the full reference
    motion as error; a reference that does not move makes the translation error undefined."""
    estimated, reference = camera_centers(estimated_c2w), camera_centers(reference_c2w)
    reference_scale, estimated_scale = _largest_distance(reference), _largest_distance(estimated)
    if reference_scale < STATIC_DISTANCE:
        return _static_reference(reference_scale)
    if estimated_scale >= STATIC_DISTANCE:
        estimated = estimated / estimated_scale
    return AlignedCenters(
        estimated,
        reference / reference_scale,
        details={"estimated_scale": estimated_scale, "reference_scale": reference_scale},
    )


@SCALE_RULES.register("first_step")
def scale_by_first_step(estimated_c2w: np.ndarray, reference_c2w: np.ndarray) -> AlignedCenters:
    """Estimated translations scaled so the distance between the first two compared frames equals the
    reference's (CameraCtrl's rule); the reference keeps its units. Undefined when either trajectory
    does not move over that first step (no ratio exists)."""
    estimated, reference = camera_centers(estimated_c2w), camera_centers(reference_c2w)
    if len(reference) < 2:
        return AlignedCenters(None, None, "fewer than two compared frames: the first step is undefined")
    reference_step = float(np.linalg.norm(reference[1] - reference[0]))
    estimated_step = float(np.linalg.norm(estimated[1] - estimated[0]))
    if reference_step < STATIC_DISTANCE:
        return AlignedCenters(
            None, None, "the reference camera does not move between the first two frames: scale undefined"
        )
    if estimated_step < STATIC_DISTANCE:
        return AlignedCenters(
            None, None, "the estimated camera does not move between the first two frames: scale undefined"
        )
    scale = reference_step / estimated_step
    return AlignedCenters(estimated * scale, reference, details={"scale": scale})


@dataclass(frozen=True)
class Similarity:
    """x -> scale * rotation @ x + translation."""

    scale: float
    rotation: np.ndarray
    translation: np.ndarray

    def apply(self, points: np.ndarray) -> np.ndarray:
        return self.scale * points @ self.rotation.T + self.translation


def umeyama(source: np.ndarray, target: np.ndarray) -> Similarity:
    """Least-squares similarity transform mapping points source [K, 3] onto target [K, 3] (Umeyama 1991).

    Degenerate cases, each still giving the least-squares optimum of the aligned points:
    - collinear source or target points (every 2-frame trajectory, every straight dolly): the rotation
      about the line is not unique; the sign correction keeps det R = +1 and, since the source points
      lie on the line, every valid choice gives the same aligned points;
    - a source that does not move (all centres equal, e.g. a pure rotation): no scale can be fitted;
      the optimum is scale 0, identity rotation, translation = target centroid."""
    source, target = np.asarray(source, dtype=np.float64), np.asarray(target, dtype=np.float64)
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_centered, target_centered = source - source_mean, target - target_mean
    source_variance = float((source_centered**2).sum(axis=1).mean())
    if source_variance < STATIC_DISTANCE**2:
        return Similarity(0.0, np.eye(3), target_mean)
    covariance = target_centered.T @ source_centered / len(source)
    u, singular_values, vt = np.linalg.svd(covariance)
    sign = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[2, 2] = -1.0
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(singular_values) @ sign) / source_variance)
    return Similarity(scale, rotation, target_mean - scale * rotation @ source_mean)


@SCALE_RULES.register("sim3")
def align_sim3(estimated_c2w: np.ndarray, reference_c2w: np.ndarray) -> AlignedCenters:
    """Estimated camera centres mapped onto the reference by the Umeyama Sim(3) fit; the reference keeps
    its units. Undefined for a reference that does not move (any estimate shrunk to a point would
    fit it exactly)."""
    estimated, reference = camera_centers(estimated_c2w), camera_centers(reference_c2w)
    reference_scale = _largest_distance(reference)
    if reference_scale < STATIC_DISTANCE:
        return _static_reference(reference_scale)
    similarity = umeyama(estimated, reference)
    return AlignedCenters(similarity.apply(estimated), reference, details={"scale": similarity.scale})
