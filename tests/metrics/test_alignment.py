"""Umeyama Sim(3) fits, including the degenerate configurations, and the scale rules."""

from __future__ import annotations

import numpy as np
import pytest

from bench.metrics.alignment import SCALE_RULES, umeyama
from motionflow.camera.poses import rotation_about_axis


def similarity(points: np.ndarray, scale: float, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    return scale * points @ rotation.T + translation


def test_recovers_an_exact_similarity():
    rng = np.random.default_rng(0)
    source = rng.normal(size=(10, 3))
    rotation = rotation_about_axis([1.0, -2.0, 0.5], 2.0)
    fit = umeyama(source, similarity(source, 0.37, rotation, np.array([1.0, 2.0, -3.0])))
    assert fit.scale == pytest.approx(0.37)
    np.testing.assert_allclose(fit.rotation, rotation, atol=1e-10)
    np.testing.assert_allclose(fit.translation, [1.0, 2.0, -3.0], atol=1e-10)


def test_never_returns_a_reflection():
    """Mirror-image targets: the best proper rotation, not the reflection that would fit exactly."""
    rng = np.random.default_rng(1)
    source = rng.normal(size=(12, 3))
    fit = umeyama(source, source * np.array([1.0, 1.0, -1.0]))
    assert np.linalg.det(fit.rotation) == pytest.approx(1.0)


@pytest.mark.parametrize("count", [2, 6])
def test_collinear_points_align_exactly_although_the_rotation_is_not_unique(count):
    line = np.linspace(0.0, 1.0, count)[:, None] * np.array([[1.0, 2.0, 2.0]])
    target = similarity(line, 3.0, rotation_about_axis([0.0, 1.0, 1.0], 0.8), np.array([0.5, 0.0, 1.0]))
    fit = umeyama(line, target)
    np.testing.assert_allclose(fit.apply(line), target, atol=1e-10)
    assert np.linalg.det(fit.rotation) == pytest.approx(1.0)
    np.testing.assert_allclose(fit.rotation.T @ fit.rotation, np.eye(3), atol=1e-10)


def test_static_source_collapses_to_the_target_centroid():
    target = np.random.default_rng(2).normal(size=(5, 3))
    fit = umeyama(np.ones((5, 3)), target)
    assert fit.scale == 0.0
    np.testing.assert_allclose(fit.apply(np.ones((5, 3))), np.tile(target.mean(axis=0), (5, 1)))


def test_fit_is_least_squares_optimal_under_noise():
    """No perturbation of the fitted parameters lowers the squared error."""
    rng = np.random.default_rng(3)
    source = rng.normal(size=(30, 3))
    target = similarity(source, 1.7, rotation_about_axis([0, 0, 1], 0.4), np.ones(3)) + rng.normal(
        0, 0.1, (30, 3)
    )
    fit = umeyama(source, target)
    best = ((fit.apply(source) - target) ** 2).sum()
    for _ in range(20):
        rotation = fit.rotation @ rotation_about_axis(rng.normal(size=3), 0.01)
        scale = fit.scale * (1 + rng.normal(0, 0.01))
        translation = fit.translation + rng.normal(0, 0.01, 3)
        assert ((similarity(source, scale, rotation, translation) - target) ** 2).sum() > best


def test_scale_rule_registry():
    assert SCALE_RULES.names() == ["first_step", "max_distance", "sim3"]
