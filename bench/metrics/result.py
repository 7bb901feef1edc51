"""The value of one metric for one video (or one set of videos), with why it may have no value.

A metric result is never a bare float: a metric that could not be computed (weights missing, the
pose estimate failed, the scale of a trajectory undefined) carries a status and a reason instead of a
number, so a table can show "not computed" or count a failure rather than print a made-up value."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from motionflow.weights import WeightSpec

MetricStatus = Literal["ok", "failed", "undefined", "not_computed"]
"""ok: `value` is a number. failed: the input is a recorded failure (e.g. the estimator registered too
few frames); counted in failure rates. undefined: the inputs are valid but the metric has no value for
them (e.g. a reference trajectory that does not move has no scale). not_computed: the metric could not
run here (e.g. its weights are missing); not a property of the video."""


@dataclass(frozen=True)
class MetricResult:
    name: str
    value: float | None
    status: MetricStatus = "ok"
    reason: str = ""
    per_item: tuple[float, ...] = ()
    """Per-frame (paired metrics, camera metrics) or per-subset (KID) values; NaN for items not compared."""
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.status == "ok") != (self.value is not None):
            raise ValueError(f"{self.name}: status {self.status!r} with value {self.value!r}")
        if self.status != "ok" and not self.reason:
            raise ValueError(f"{self.name}: status {self.status!r} needs a reason")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_record(self) -> dict[str, Any]:
        """JSON-serialisable form (NaN per-item values become None)."""
        return {
            "name": self.name,
            "value": self.value,
            "status": self.status,
            "reason": self.reason,
            "per_item": [None if math.isnan(item) else item for item in self.per_item],
            "details": self.details,
        }

    def __str__(self) -> str:
        if self.ok:
            note = f" ({self.details['note']})" if "note" in self.details else ""
            return f"{self.name} = {self.value:.6g}{note}"
        label = self.status.replace("_", " ")
        reason = self.reason if self.reason.startswith(label) else f"{label}: {self.reason}"
        return f"{self.name}: {reason}"


def missing_weights_reason(spec: WeightSpec) -> str:
    return f"not computed: {spec.relative_path} missing, see `mfbench weights where`"


def not_computed(name: str, reason: str, error: Exception | None = None) -> MetricResult:
    """The result of a metric that cannot run here (the error, if any, kept in the details)."""
    return MetricResult(name, None, "not_computed", reason, details={"error": str(error)} if error else {})
