"""RotErr / TransErr / CamMC / ATE on constructed trajectories with known answers, for every preset."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.metrics.camera import camera_metrics, cammc_errors, rotation_errors, still_camera_metrics
from bench.metrics.presets import CAMERA_PRESETS, CameraProtocol, camera_preset
from motionflow.camera.poses import look_at, rotation_about_axis
from motionflow.errors import FrameCountError, PoseError
from motionflow.utils.registry import UnknownNameError

PRESETS = ("motionflow", "cameractrl", "cami2v", "sim3")


def poses_at(centers: np.ndarray, rotations: np.ndarray | None = None) -> np.ndarray:
    centers = np.asarray(centers, dtype=np.float64)
    c2w = np.tile(np.eye(4), (len(centers), 1, 1))
    c2w[:, :3, 3] = centers
    if rotations is not None:
        c2w[:, :3, :3] = rotations
    return c2w


def orbit(frames: int = 12) -> np.ndarray:
    """A camera circling a point while looking at it: rotation and translation both change."""
    angles = np.linspace(0.0, 1.2, frames)
    return np.stack([look_at([3 * np.sin(a), 0.3 * a, -3 * np.cos(a)], [0.0, 0.0, 0.0]) for a in angles])


def all_registered(frames: int) -> np.ndarray:
    return np.ones(frames, dtype=bool)


def values(reference: np.ndarray, estimate: np.ndarray, preset: str, registered: np.ndarray | None = None):
    registered = all_registered(len(reference)) if registered is None else registered
    result = camera_metrics(estimate, registered, reference, all_registered(len(reference)), preset)
    return {name: metric.value for name, metric in result.results.items()}


def random_similarity(seed: int) -> tuple[float, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return 2.7, rotation_about_axis(rng.normal(size=3), 1.1), rng.normal(size=3)


@pytest.mark.parametrize("preset", PRESETS)
def test_identical_trajectories_score_zero(preset):
    for value in values(orbit(), orbit(), preset).values():
        assert value == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("preset", PRESETS)
def test_a_change_of_world_frame_and_scale_scores_zero(preset):
    """Estimators return trajectories in arbitrary world frames and units: a similarity of the whole
    trajectory (world-side, c2w' = S @ c2w with scaled translation) must not count as error."""
    scale, rotation, translation = random_similarity(1)
    reference = orbit()
    estimate = reference.copy()
    estimate[:, :3, :3] = rotation @ reference[:, :3, :3]
    estimate[:, :3, 3] = scale * reference[:, :3, 3] @ rotation.T + translation
    for value in values(reference, estimate, preset).values():
        assert value == pytest.approx(0.0, abs=1e-9)


def test_rotation_error_is_the_geodesic_angle_and_the_printed_eq5_is_a_typo():
    rotation = rotation_about_axis([0.2, 1.0, -0.4], 0.5)
    other = rotation @ rotation_about_axis([1.0, 0.0, 0.0], 0.3)
    assert rotation_errors(rotation[None], rotation[None])[0] == pytest.approx(0.0, abs=1e-7)
    assert rotation_errors(rotation[None], other[None])[0] == pytest.approx(0.3)
    printed_eq5 = math.acos(np.clip((np.trace(rotation.T @ rotation.T) - 1) / 2, -1, 1))
    assert printed_eq5 > 0.5  # the extra transpose makes identical rotations look different


def test_rotation_error_equals_the_arccos_formula():
    rng = np.random.default_rng(4)
    angles = np.concatenate([rng.uniform(0.01, 3.1, 50), [math.pi - 1e-6, 1e-3]])
    a = np.stack([rotation_about_axis(rng.normal(size=3), rng.uniform(0, 3)) for _ in angles])
    b = np.stack(
        [r @ rotation_about_axis(rng.normal(size=3), angle) for r, angle in zip(a, angles, strict=True)]
    )
    arccos_form = np.arccos(np.clip((np.trace(np.swapaxes(a, 1, 2) @ b, axis1=1, axis2=2) - 1) / 2, -1, 1))
    np.testing.assert_allclose(rotation_errors(a, b), arccos_form, atol=2e-6)
    np.testing.assert_allclose(rotation_errors(a, b), angles, atol=2e-6)


def test_known_rotation_errors_sum_and_cammc_closed_form():
    """Each estimated camera is turned by theta_i about its own z axis: RotErr = sum theta_i, no
    translation error, and CamMC = sum ||Rz(theta) - I||_F = sum 2 sqrt(1 - cos theta)."""
    reference = orbit(8)
    thetas = np.linspace(0.0, 0.35, 8)
    estimate = reference.copy()
    for index, theta in enumerate(thetas):
        estimate[index, :3, :3] = reference[index, :3, :3] @ rotation_about_axis([0, 0, 1], theta)
    for preset in PRESETS:
        result = values(reference, estimate, preset)
        reduction = camera_preset(preset).reduction
        expected = thetas.sum() if reduction == "sum" else thetas.mean()
        assert result["RotErr"] == pytest.approx(expected, rel=1e-9)
        assert result[camera_preset(preset).translation_metric] == pytest.approx(0.0, abs=1e-9)
    cammc = values(reference, estimate, "cami2v")["CamMC"]
    assert cammc == pytest.approx(np.sum(2 * np.sqrt(1 - np.cos(thetas))), rel=1e-9)


def test_presets_differ_exactly_as_documented_on_a_perpendicular_path():
    """Reference moves 1 per frame along x, estimate 2 per frame along y (identity rotations)."""
    steps = np.arange(4.0)
    reference = poses_at(np.stack([steps, 0 * steps, 0 * steps], axis=1))
    estimate = poses_at(np.stack([0 * steps, 2 * steps, 0 * steps], axis=1))
    # motionflow/cami2v: both divided by their largest distance (3 and 6): |(0, i/3) - (i/3, 0)| = sqrt2 i/3.
    assert values(reference, estimate, "motionflow")["TransErr"] == pytest.approx(2 * math.sqrt(2))
    cami2v = values(reference, estimate, "cami2v")
    assert cami2v["TransErr"] == pytest.approx(2 * math.sqrt(2))
    assert cami2v["CamMC"] == pytest.approx(2 * math.sqrt(2))
    # cameractrl: estimate scaled by first-step ratio 1/2, reference kept: sqrt2 * i summed.
    assert values(reference, estimate, "cameractrl")["TransErr"] == pytest.approx(6 * math.sqrt(2))
    # sim3: a rotation maps one line onto the other exactly.
    assert values(reference, estimate, "sim3")["ATE"] == pytest.approx(0.0, abs=1e-9)


def test_first_step_rule_against_max_distance_rule_and_a_line_fit():
    reference_x = np.array([0.0, 1.0, 2.0, 3.0])
    estimate_x = np.array([0.0, 2.0, 3.0, 4.0])
    zeros = np.zeros(4)
    reference = poses_at(np.stack([reference_x, zeros, zeros], axis=1))
    estimate = poses_at(np.stack([estimate_x, zeros, zeros], axis=1))
    # cameractrl: scale 1/2 -> (0, 1, 1.5, 2); errors (0, 0, .5, 1).
    assert values(reference, estimate, "cameractrl")["TransErr"] == pytest.approx(1.5)
    # motionflow: (0, .5, .75, 1) vs (0, 1/3, 2/3, 1); errors (0, 1/6, 1/12, 0).
    assert values(reference, estimate, "motionflow")["TransErr"] == pytest.approx(0.25)
    # sim3 on collinear points along one axis = a 1-D least-squares line fit with positive slope.
    slope, intercept = np.polyfit(estimate_x, reference_x, 1)
    expected_ate = np.abs(slope * estimate_x + intercept - reference_x).mean()
    assert values(reference, estimate, "sim3")["ATE"] == pytest.approx(expected_ate)


def test_sim3_ate_of_noisy_estimate_is_at_most_the_noise_rms():
    reference = orbit(20)
    scale, rotation, translation = random_similarity(2)
    noise = np.random.default_rng(3).normal(scale=0.05, size=(20, 3))
    noise[0] = 0.0
    estimate = reference.copy()
    estimate[:, :3, 3] = reference[:, :3, 3] + noise
    estimate[:, :3, :3] = rotation @ estimate[:, :3, :3]
    estimate[:, :3, 3] = scale * estimate[:, :3, 3] @ rotation.T + translation
    ate = values(reference, estimate, "sim3")["ATE"]
    assert 0.0 < ate <= np.sqrt((noise**2).sum(axis=1).mean()) + 1e-12


def test_partial_registration_compares_common_frames_and_rescales_sums():
    reference = orbit(10)
    theta = 0.1
    estimate = reference.copy()
    estimate[1:, :3, :3] = reference[1:, :3, :3] @ rotation_about_axis([0, 1, 0], theta)
    registered = all_registered(10)
    registered[[3, 7]] = False
    estimate[3] = np.nan  # an unregistered frame may hold anything
    result = camera_metrics(estimate, registered, reference, all_registered(10), "motionflow")
    rot = result.results["RotErr"]
    # 7 compared frames with an error, 8 compared frames, 10 frames.
    assert rot.value == pytest.approx(7 * theta * 10 / 8)
    assert math.isnan(rot.per_item[3]) and math.isnan(rot.per_item[7])
    assert rot.per_item[1] == pytest.approx(theta)
    assert result.compared == tuple(registered.tolist())
    mean_result = camera_metrics(estimate, registered, reference, all_registered(10), "sim3")
    assert mean_result.results["RotErr"].value == pytest.approx(7 * theta / 8)


@pytest.mark.parametrize(
    ("unregistered", "reason"),
    [([0], "frame 0 not registered in the estimate"), (list(range(5, 12)), "only 5 of 12 frames")],
)
def test_too_little_registration_is_a_recorded_failure(unregistered, reason):
    registered = all_registered(12)
    registered[unregistered] = False
    result = camera_metrics(orbit(), registered, orbit(), all_registered(12), "cami2v")
    assert result.failed
    for metric in result.results.values():
        assert metric.status == "failed" and metric.value is None and reason in metric.reason
    assert result.to_record()["failed"] is True


def test_nothing_registered_in_the_reference_is_a_failure():
    result = camera_metrics(orbit(), all_registered(12), orbit(), np.zeros(12, dtype=bool), "motionflow")
    assert result.failed and "no frame registered in the reference" in result.results["RotErr"].reason


def test_static_reference_makes_translation_undefined_but_keeps_rotation():
    rotations = np.stack([rotation_about_axis([0, 1, 0], a) for a in np.linspace(0, 0.5, 6)])
    reference = poses_at(np.zeros((6, 3)), rotations)
    estimate = poses_at(np.random.default_rng(0).normal(size=(6, 3)), rotations)
    for preset in PRESETS:
        result = camera_metrics(estimate, all_registered(6), reference, all_registered(6), preset).results
        assert result["RotErr"].value == pytest.approx(0.0, abs=1e-9)
        translation = result[camera_preset(preset).translation_metric]
        assert translation.status == "undefined" and translation.value is None
        assert "does not move" in translation.reason


def test_static_estimate_under_each_scale_rule():
    """A pure-rotation estimate (no camera motion) against a moving reference."""
    steps = np.arange(5.0)
    reference = poses_at(np.stack([steps, 0 * steps, 0 * steps], axis=1))
    estimate = poses_at(np.zeros((5, 3)))
    # max_distance: estimate stays at 0, reference normalised to (0, .25, .5, .75, 1).
    assert values(reference, estimate, "motionflow")["TransErr"] == pytest.approx(2.5)
    # sim3: scale 0, every centre at the reference centroid (2, 0, 0): mean |i - 2| = 1.2.
    assert values(reference, estimate, "sim3")["ATE"] == pytest.approx(1.2)
    # first_step: no ratio exists.
    result = camera_metrics(estimate, all_registered(5), reference, all_registered(5), "cameractrl")
    assert result.results["TransErr"].status == "undefined"
    assert "estimated camera does not move" in result.results["TransErr"].reason


def test_still_camera_scores_the_reference_motion_as_error():
    """Identity poses against a reference turning about y while moving along x: RotErr is the sum of the
    reference's angles to frame 0, TransErr (max_distance) the sum of its normalised distances to frame 0;
    the reference's unregistered frames are left out and the sum rescaled to all frames."""
    angles = np.linspace(0.0, 0.6, 7)
    steps = np.arange(7.0)
    reference = poses_at(
        np.stack([steps, 0 * steps, 0 * steps], axis=1),
        np.stack([rotation_about_axis([0, 1, 0], angle) for angle in angles]),
    )
    result = still_camera_metrics(reference, all_registered(7), "motionflow")
    assert result.value("RotErr") == pytest.approx(angles.sum())
    assert result.value("TransErr") == pytest.approx(steps.sum() / 6)
    registered = all_registered(7)
    registered[3] = False
    partial = still_camera_metrics(reference, registered, "motionflow")
    assert partial.value("RotErr") == pytest.approx(np.delete(angles, 3).sum() * 7 / 6)
    assert partial.compared == tuple(registered.tolist())


def test_still_camera_fails_where_the_reference_does():
    result = still_camera_metrics(orbit(), np.zeros(12, dtype=bool), "motionflow")
    assert result.failed and "no frame registered in the reference" in result.results["RotErr"].reason


def test_mismatched_frame_counts_and_masks_raise():
    with pytest.raises(FrameCountError, match="12 frames, reference has 10"):
        camera_metrics(orbit(12), all_registered(12), orbit(10), all_registered(10))
    with pytest.raises(FrameCountError, match="registered mask"):
        camera_metrics(orbit(12), all_registered(11), orbit(12), all_registered(12))
    with pytest.raises(TypeError, match="bool"):
        camera_metrics(orbit(12), np.ones(12), orbit(12), all_registered(12))


def test_invalid_registered_pose_raises_pose_error():
    estimate = orbit()
    estimate[4, :3, :3] *= 1.5
    with pytest.raises(PoseError, match="registered frame 4"):
        camera_metrics(estimate, all_registered(12), orbit(), all_registered(12))


def test_per_frame_values_are_kept_and_records_serialise():
    result = camera_metrics(orbit(), all_registered(12), orbit(), all_registered(12), "cami2v")
    record = result.to_record()
    assert record["preset"] == "cami2v" and record["n_compared"] == 12
    assert set(record["metrics"]) == {"RotErr", "TransErr", "CamMC"}
    assert len(record["metrics"]["CamMC"]["per_item"]) == 12


def test_cammc_is_the_frobenius_norm_of_the_3x4_difference():
    a = np.zeros((1, 3, 4))
    b = np.zeros((1, 3, 4))
    b[0, 1, 3] = 3.0
    b[0, 2, 0] = 4.0
    assert cammc_errors(a, b)[0] == pytest.approx(5.0)


def test_preset_registry_and_reference_kinds():
    assert CAMERA_PRESETS.names() == sorted(PRESETS)
    assert camera_preset().name == "motionflow"
    assert camera_preset("motionflow").reference == "estimated_gt"
    assert {camera_preset(name).reference for name in ("cameractrl", "cami2v", "sim3")} == {"annotation"}
    assert camera_preset("sim3").reduction == "mean" and camera_preset("sim3").translation_metric == "ATE"
    assert "CamMC" in camera_preset("cami2v").metrics
    with pytest.raises(UnknownNameError, match="known: cameractrl, cami2v, motionflow, sim3"):
        camera_preset("colmap")
    with pytest.raises(KeyError, match="scale rule"):
        CameraProtocol("bad", "annotation", "median", "sum", ("RotErr",), "")
