"""Camera-metric protocols: the conventions of MotionFlow and of other papers as named presets.

Papers in camera-controlled video generation compute RotErr/TransErr with different references,
scale rules and reductions, so their numbers differ by orders of magnitude. Each preset fixes all
three; `reference` tells the run layer which trajectory to compare against:
- "estimated_gt": the same pose estimator run on the ground-truth video;
- "annotation": the dataset's camera annotation (the trajectory the video was generated along)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bench.metrics.alignment import SCALE_RULES
from motionflow.utils.registry import Registry

ReferenceKind = Literal["estimated_gt", "annotation"]
Reduction = Literal["sum", "mean"]

DEFAULT_PRESET = "motionflow"
MIN_REGISTERED_FRACTION = 0.5
"""A video is a failure when fewer than this fraction of its frames are registered in both trajectories."""


@dataclass(frozen=True)
class CameraProtocol:
    """One camera-metric convention.

    reduction "sum": the sum over frames, as the papers print it; when only K of F frames are compared
    (partial registration), the sum over the compared frames times F / K, so that a partial registration
    does not lower the error by having fewer terms. "mean": the mean over the compared frames."""

    name: str
    reference: ReferenceKind
    scale: str
    reduction: Reduction
    metrics: tuple[str, ...]
    description: str
    min_registered_fraction: float = MIN_REGISTERED_FRACTION

    def __post_init__(self) -> None:
        SCALE_RULES.get(self.scale)
        if self.reference not in ("estimated_gt", "annotation"):
            raise ValueError(f"preset {self.name!r}: unknown reference {self.reference!r}")
        if self.reduction not in ("sum", "mean"):
            raise ValueError(f"preset {self.name!r}: unknown reduction {self.reduction!r}")
        unknown = set(self.metrics) - set(CAMERA_METRIC_NAMES)
        if unknown:
            raise ValueError(f"preset {self.name!r}: unknown metrics {sorted(unknown)}")

    @property
    def translation_metric(self) -> str:
        """The name under which this preset reports the translation error ("ATE" after Sim(3))."""
        return "ATE" if "ATE" in self.metrics else "TransErr"


CAMERA_METRIC_NAMES = ("RotErr", "TransErr", "CamMC", "ATE")
CAMERA_PRESETS: Registry[CameraProtocol] = Registry("camera metric preset")


def _register(protocol: CameraProtocol) -> CameraProtocol:
    return CAMERA_PRESETS.register(protocol.name)(protocol)


MOTIONFLOW = _register(
    CameraProtocol(
        name="motionflow",
        reference="estimated_gt",
        scale="max_distance",
        reduction="sum",
        metrics=("RotErr", "TransErr"),
        description=(
            "MotionFlow, Appendix A: reference = the same estimator on the ground-truth video; each "
            "trajectory divided by its largest camera distance from frame 0; RotErr (radians) and "
            "TransErr summed over frames."
        ),
    )
)
CAMERACTRL = _register(
    CameraProtocol(
        name="cameractrl",
        reference="annotation",
        scale="first_step",
        reduction="sum",
        metrics=("RotErr", "TransErr"),
        description=(
            "CameraCtrl: reference = the camera annotation; estimated translations scaled so the distance "
            "between the first two frames matches the annotation; summed over frames."
        ),
    )
)
CAMI2V = _register(
    CameraProtocol(
        name="cami2v",
        reference="annotation",
        scale="max_distance",
        reduction="sum",
        metrics=("RotErr", "TransErr", "CamMC"),
        description=(
            "CamI2V: reference = the camera annotation; each trajectory divided by its largest camera "
            "distance from frame 0; RotErr, TransErr and CamMC (Frobenius norm of the [R|t] difference) "
            "summed over frames."
        ),
    )
)
SIM3 = _register(
    CameraProtocol(
        name="sim3",
        reference="annotation",
        scale="sim3",
        reduction="mean",
        metrics=("RotErr", "ATE"),
        description=(
            "Sim(3): reference = the camera annotation; estimated camera centres aligned by Umeyama's "
            "similarity fit; ATE = mean camera-centre distance; RotErr averaged over frames (relative to "
            "frame 0, not rotated by the fit, whose rotation is not unique for collinear paths)."
        ),
    )
)


def camera_preset(name: str = DEFAULT_PRESET) -> CameraProtocol:
    return CAMERA_PRESETS.get(name)
