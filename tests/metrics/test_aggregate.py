"""Means over videos with seeded bootstrap intervals, counts of failures and undefined values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from bench.metrics.aggregate import aggregate_results, bootstrap_mean_ci
from bench.metrics.result import MetricResult, not_computed


def ok(value: float) -> MetricResult:
    return MetricResult("RotErr", value)


def test_bootstrap_interval_agrees_with_scipy_percentile_bootstrap():
    values = np.random.default_rng(0).gamma(2.0, 1.5, size=40)
    low, high = bootstrap_mean_ci(values, n_resamples=20000, seed=1)
    reference = stats.bootstrap(
        (values,), np.mean, n_resamples=20000, method="percentile", random_state=np.random.default_rng(2)
    ).confidence_interval
    assert low == pytest.approx(reference.low, rel=0.02)
    assert high == pytest.approx(reference.high, rel=0.02)
    assert low < values.mean() < high


def test_bootstrap_is_reproducible_by_seed():
    values = np.arange(10.0) ** 2
    assert bootstrap_mean_ci(values, seed=5) == bootstrap_mean_ci(values, seed=5)
    assert bootstrap_mean_ci(values, seed=5) != bootstrap_mean_ci(values, seed=6)


def test_counts_failures_and_undefined_separately():
    results = [
        ok(1.0),
        ok(3.0),
        MetricResult("RotErr", None, "failed", "frame 0 not registered"),
        MetricResult("RotErr", None, "undefined", "reference does not move"),
        ok(2.0),
    ]
    aggregate = aggregate_results(results, seed=0)
    assert aggregate.mean == pytest.approx(2.0)
    assert (aggregate.n, aggregate.n_failed, aggregate.n_undefined, aggregate.n_total) == (3, 1, 1, 5)
    assert aggregate.failure_rate == pytest.approx(0.2)
    assert aggregate.ci_low <= 2.0 <= aggregate.ci_high
    assert aggregate.to_record()["failure_rate"] == pytest.approx(0.2)


def test_all_failed_has_no_mean_but_a_failure_rate_of_one():
    aggregate = aggregate_results([MetricResult("TransErr", None, "failed", "no model")] * 3)
    assert aggregate.mean is None and aggregate.n == 0 and aggregate.failure_rate == 1.0


def test_single_value_has_no_interval():
    aggregate = aggregate_results([ok(4.0)])
    assert aggregate.mean == 4.0 and aggregate.ci_low is None and aggregate.ci_high is None


def test_not_computed_metric_aggregates_to_not_computed():
    reason = "not computed: metrics/x.pth missing, see `mfbench weights where`"
    aggregate = aggregate_results([not_computed("lpips", reason)] * 2)
    assert aggregate.mean is None and aggregate.n_total == 0 and aggregate.not_computed_reason == reason


def test_result_status_must_match_value():
    with pytest.raises(ValueError):
        MetricResult("x", None)
    with pytest.raises(ValueError):
        MetricResult("x", 1.0, "failed", "why")
    with pytest.raises(ValueError):
        MetricResult("x", None, "failed")


def test_printed_results_name_the_status_once():
    assert str(MetricResult("RotErr", None, "failed", "no model")) == "RotErr: failed: no model"
    assert str(not_computed("fid", "not computed: x.pth missing")) == "fid: not computed: x.pth missing"
    assert str(MetricResult("psnr", 31.5)) == "psnr = 31.5"
