"""Aggregation over videos: mean with a seeded bootstrap confidence interval, N, and failures.

Per status of the per-video results: "ok" values enter the mean; "failed" videos are counted in the
failure count and rate (never dropped silently); "undefined" videos (e.g. a reference that does not
move) are counted separately and excluded from both; "not_computed" results mean the metric did not
run at all, and an aggregate of only those is itself not computed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bench.metrics.result import MetricResult

BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Aggregate:
    name: str
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    """Videos with a value."""
    n_failed: int
    n_undefined: int
    n_total: int
    """Videos the metric ran on: n + n_failed + n_undefined."""
    confidence: float = CONFIDENCE
    not_computed_reason: str = ""

    @property
    def failure_rate(self) -> float | None:
        return self.n_failed / self.n_total if self.n_total else None

    def to_record(self) -> dict[str, Any]:
        return asdict(self) | {"failure_rate": self.failure_rate}


def bootstrap_mean_ci(
    values: Sequence[float],
    confidence: float = CONFIDENCE,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of the mean (resampling videos with replacement); None for fewer
    than two values, whose spread cannot be estimated, and for infinite values (PSNR of identical
    frames), whose mean has no interval."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2 or not np.all(np.isfinite(values)):
        return None
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_resamples, len(values)))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def aggregate_results(
    results: Sequence[MetricResult],
    name: str | None = None,
    confidence: float = CONFIDENCE,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> Aggregate:
    """Aggregates one metric's per-video results (see the module docstring for how statuses count)."""
    name = name or (results[0].name if results else "metric")
    ran = [result for result in results if result.status != "not_computed"]
    if results and not ran:
        return Aggregate(name, None, None, None, 0, 0, 0, 0, confidence, results[0].reason)
    values = [result.value for result in ran if result.ok]
    n_failed = sum(result.status == "failed" for result in ran)
    n_undefined = sum(result.status == "undefined" for result in ran)
    interval = bootstrap_mean_ci(values, confidence, n_resamples, seed)
    low, high = interval if interval is not None else (None, None)
    mean = float(np.mean(values)) if values else None
    return Aggregate(name, mean, low, high, len(values), n_failed, n_undefined, len(ran), confidence)
