from __future__ import annotations

import numpy as np

from bench.report.plots import Path3D, full_path, trajectory_plot_svg
from motionflow.camera.poses import camera_centers, normalize_scale_by_max_distance

from .run_builder import NUM_FRAMES, camera_path, pose_estimate


def test_estimates_in_another_world_frame_and_scale_match_the_ground_truth() -> None:
    c2w = camera_path()
    scaled = c2w.copy()
    scaled[:, :3, 3] *= 3.7
    estimate = pose_estimate(scaled, np.ones(NUM_FRAMES, dtype=bool), None)
    truth = full_path("ground truth", c2w).normalized_positions()
    np.testing.assert_allclose(
        Path3D("e", estimate.c2w, estimate.registered).normalized_positions(), truth, atol=1e-12
    )
    np.testing.assert_allclose(truth[0], 0.0, atol=1e-15)
    assert np.isclose(np.linalg.norm(truth, axis=1).max(), 1.0)


def test_unregistered_frames_have_no_position_and_the_first_registered_frame_is_the_origin() -> None:
    c2w = camera_path()
    registered = np.ones(NUM_FRAMES, dtype=bool)
    registered[[0, 5]] = False
    estimate = pose_estimate(c2w, registered, "2 of 8 frames not registered")
    positions = Path3D("e", estimate.c2w, estimate.registered).normalized_positions()
    assert np.isnan(positions[[0, 5]]).all()
    expected = camera_centers(normalize_scale_by_max_distance(c2w[registered]))
    np.testing.assert_allclose(positions[registered], expected, atol=1e-12)
    np.testing.assert_allclose(positions[1], 0.0, atol=1e-15)


def test_nothing_registered_gives_an_empty_path() -> None:
    path = Path3D("e", np.repeat(np.eye(4)[None], 4, axis=0), np.zeros(4, dtype=bool))
    assert np.isnan(path.normalized_positions()).all()


def test_svg_has_both_views_the_legend_and_no_document_prolog() -> None:
    c2w = camera_path()
    registered = np.ones(NUM_FRAMES, dtype=bool)
    registered[3] = False
    estimate = pose_estimate(c2w, registered, None)
    svg = trajectory_plot_svg(
        "motionflow: clip <1>",
        full_path("ground truth", c2w),
        [Path3D("colmap #0", estimate.c2w, estimate.registered)],
    )
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg and "<metadata>" not in svg
    for text in (
        "top view",
        "side view",
        "ground truth",
        "colmap #0",
        "frame not registered",
        "clip &lt;1&gt;",
    ):
        assert text in svg


def test_svg_marks_unregistered_frames_only_when_there_are_some() -> None:
    c2w = camera_path()
    estimate = pose_estimate(c2w, np.ones(NUM_FRAMES, dtype=bool), None)
    svg = trajectory_plot_svg(
        "t", full_path("ground truth", c2w), [Path3D("colmap #0", estimate.c2w, estimate.registered)]
    )
    assert "frame not registered" not in svg


def test_svg_is_deterministic() -> None:
    c2w = camera_path()
    first = trajectory_plot_svg("t", full_path("ground truth", c2w), [], full_path("requested", c2w[::-1]))
    assert first == trajectory_plot_svg(
        "t", full_path("ground truth", c2w), [], full_path("requested", c2w[::-1])
    )
    assert "requested" in first
