"""Fréchet distance against pytorch-fid and closed forms; KID against a direct evaluation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pytorch_fid.fid_score import calculate_frechet_distance

from bench.metrics.distribution import score_features
from bench.metrics.frechet import (
    frechet_distance,
    frechet_distance_of_features,
    kernel_distance,
    polynomial_mmd2,
)
from motionflow.camera.poses import rotation_about_axis


def gaussian_stats(seed: int, dim: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(dim, dim)) / np.sqrt(dim)
    samples = rng.normal(size=(count, dim)) @ mixing + rng.normal(size=dim)
    return samples.mean(axis=0), np.cov(samples, rowvar=False)


@pytest.mark.parametrize(("dim", "count"), [(4, 50), (16, 200), (32, 20)])
def test_matches_pytorch_fid(dim, count):
    mu1, sigma1 = gaussian_stats(0, dim, count)
    mu2, sigma2 = gaussian_stats(1, dim, count)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pytorch-fid calls sqrtm with the deprecated `disp`
        expected = calculate_frechet_distance(mu1, sigma1, mu2, sigma2)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-6, abs=1e-8)


def test_commuting_covariances_closed_form():
    """S1 = Q diag(a) Q^T, S2 = Q diag(b) Q^T: d^2 = |mu1 - mu2|^2 + sum (sqrt(a) - sqrt(b))^2."""
    rotation = rotation_about_axis([1.0, 2.0, 3.0], 0.7)
    a, b = np.array([1.0, 4.0, 9.0]), np.array([0.25, 1.0, 16.0])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 5.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    result = frechet_distance(
        mu1, rotation @ np.diag(a) @ rotation.T, mu2, rotation @ np.diag(b) @ rotation.T
    )
    assert result == pytest.approx(expected, rel=1e-12)


def test_non_commuting_2x2_closed_form():
    """For 2x2 PSD products, tr sqrt(S1 S2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2))."""
    sigma1 = np.array([[2.0, 0.3], [0.3, 0.5]])
    sigma2 = np.array([[1.0, -0.4], [-0.4, 3.0]])
    trace_sqrt = np.sqrt(
        np.trace(sigma1 @ sigma2) + 2 * np.sqrt(np.linalg.det(sigma1) * np.linalg.det(sigma2))
    )
    expected = np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt
    assert frechet_distance(np.zeros(2), sigma1, np.zeros(2), sigma2) == pytest.approx(expected, rel=1e-12)


def test_identical_and_symmetric():
    mu1, sigma1 = gaussian_stats(2, 8, 100)
    mu2, sigma2 = gaussian_stats(3, 8, 100)
    assert frechet_distance(mu1, sigma1, mu1, sigma1) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(
        frechet_distance(mu2, sigma2, mu1, sigma1)
    )


def test_rank_deficient_covariances_stay_finite_and_non_negative():
    rng = np.random.default_rng(4)
    value = frechet_distance_of_features(rng.normal(size=(5, 64)), rng.normal(size=(5, 64)) + 0.1)
    assert np.isfinite(value) and value >= 0.0


def test_polynomial_mmd_matches_a_direct_double_sum():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(6, 3)), rng.normal(0.5, 1.0, size=(7, 3))

    def kernel(a, b):
        return (a @ b / 3 + 1) ** 3

    within_x = sum(kernel(x[i], x[j]) for i in range(6) for j in range(6) if i != j) / 30
    within_y = sum(kernel(y[i], y[j]) for i in range(7) for j in range(7) if i != j) / 42
    between = sum(kernel(x[i], y[j]) for i in range(6) for j in range(7)) / 42
    assert polynomial_mmd2(x, y) == pytest.approx(within_x + within_y - 2 * between)


def test_kid_is_seeded_and_near_zero_for_one_distribution():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(200, 8)), rng.normal(size=(200, 8))
    subsets = kernel_distance(x, y, n_subsets=20, subset_size=100, seed=1)
    np.testing.assert_array_equal(subsets, kernel_distance(x, y, n_subsets=20, subset_size=100, seed=1))
    assert abs(subsets.mean()) < 0.05
    assert kernel_distance(x, y + 1.0, n_subsets=5, subset_size=100).mean() > 0.5


def test_results_carry_n_and_flag_n_below_the_feature_dimension():
    rng = np.random.default_rng(7)
    kid = score_features("kid", rng.normal(size=(30, 2048)), rng.normal(size=(40, 2048)), kid_subsets=3)
    assert kid.ok and kid.details["n_generated"] == 30 and kid.details["n_reference"] == 40
    assert kid.details["below_feature_dim"] and "below the feature dimension 2048" in kid.details["note"]
    assert len(kid.per_item) == 3 and kid.details["subset_size"] == 30
    few_clips = score_features("fvd", rng.normal(size=(50, 400)), rng.normal(size=(60, 400)))
    assert few_clips.ok and few_clips.details["below_feature_dim"]
    fvd = score_features("fvd", rng.normal(size=(500, 400)), rng.normal(size=(450, 400)))
    assert (
        not fvd.details["below_feature_dim"]
        and "N = 500 generated / 450 reference clips" in fvd.details["note"]
    )


def test_too_few_samples_is_undefined_and_wrong_dimension_raises():
    result = score_features("fvd", np.zeros((1, 400)), np.zeros((3, 400)))
    assert result.status == "undefined" and "at least 2 clips" in result.reason
    with pytest.raises(ValueError, match=r"expected \[N, 2048\]"):
        score_features("fid", np.zeros((3, 400)), np.zeros((3, 400)))
