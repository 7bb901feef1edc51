from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from motionflow.camera.poses import (
    as_pose_stack,
    c2w_to_w2c,
    camera_centers,
    first_step_distance,
    invert_rigid,
    look_at,
    max_distance_from_first,
    normalize_scale_by_first_step,
    normalize_scale_by_max_distance,
    opencv_to_opengl,
    opengl_to_opencv,
    pose_problems,
    relative_to_first,
    rotation_about_axis,
    rotation_angle,
    validate_poses,
    w2c_to_c2w,
)
from motionflow.errors import PoseError

from .helpers import random_c2w


def test_c2w_w2c_round_trip(rng):
    c2w = random_c2w(rng, 8)
    w2c = c2w_to_w2c(c2w)
    np.testing.assert_allclose(w2c @ c2w, np.tile(np.eye(4), (8, 1, 1)), atol=1e-12)
    np.testing.assert_allclose(w2c_to_c2w(w2c), c2w, atol=1e-12)
    # the world-to-camera transform sends each camera centre to the origin
    centres = np.concatenate([camera_centers(c2w), np.ones((8, 1))], axis=1)
    np.testing.assert_allclose(np.einsum("fij,fj->fi", w2c, centres)[:, :3], 0.0, atol=1e-12)


def test_as_pose_stack_accepts_3x4_and_single_pose(rng):
    c2w = random_c2w(rng, 3)
    np.testing.assert_array_equal(as_pose_stack(c2w[:, :3]), c2w)
    assert as_pose_stack(c2w[0]).shape == (1, 4, 4)


def test_relative_to_first_makes_frame_zero_identity(rng):
    c2w = random_c2w(rng, 6)
    relative = relative_to_first(c2w)
    np.testing.assert_allclose(relative[0], np.eye(4), atol=1e-12)
    np.testing.assert_allclose(c2w[0] @ relative, c2w, atol=1e-12)


def test_relative_poses_ignore_the_world_frame(rng):
    """Moving the whole world rigidly (left-multiplying every c2w) does not change relative poses."""
    c2w = random_c2w(rng, 5)
    world_change = random_c2w(rng, 1)[0]
    np.testing.assert_allclose(relative_to_first(world_change @ c2w), relative_to_first(c2w), atol=1e-12)


def test_opengl_to_opencv_flips_camera_axes_only(rng):
    c2w_gl = random_c2w(rng, 4)
    c2w_cv = opengl_to_opencv(c2w_gl)
    np.testing.assert_array_equal(camera_centers(c2w_cv), camera_centers(c2w_gl))
    # OpenGL looks down -z and has y up; OpenCV looks down +z and has y down
    np.testing.assert_array_equal(c2w_cv[:, :3, 2], -c2w_gl[:, :3, 2])
    np.testing.assert_array_equal(c2w_cv[:, :3, 1], -c2w_gl[:, :3, 1])
    np.testing.assert_array_equal(c2w_cv[:, :3, 0], c2w_gl[:, :3, 0])
    np.testing.assert_array_equal(opencv_to_opengl(c2w_cv), c2w_gl)
    validate_poses(c2w_cv)


def test_opengl_point_in_front_stays_in_front():
    """A point in front of and above an OpenGL camera (z < 0, y > 0 in its frame) is in front (z > 0)
    and above (y < 0) in the converted OpenCV camera's frame."""
    c2w_gl = np.eye(4)
    c2w_gl[:3, 3] = [1.0, 2.0, 3.0]
    point_world = c2w_gl @ np.array([0.0, 0.5, -4.0, 1.0])
    point_cv = c2w_to_w2c(opengl_to_opencv(c2w_gl))[0] @ point_world
    np.testing.assert_allclose(point_cv[:3], [0.0, -0.5, 4.0])


@pytest.mark.parametrize(
    "mutate, problem",
    [
        (lambda pose: pose.__setitem__((1, 2), np.nan), "NaN"),
        (lambda pose: pose.__setitem__((0, 3), np.inf), "infinite"),
        (lambda pose: pose.__setitem__(slice(0, 3), pose[:3] * [[1], [1], [-1]]), "reflection"),
        (lambda pose: pose.__setitem__((slice(0, 3), slice(0, 3)), pose[:3, :3] * 1.01), "not orthonormal"),
        (lambda pose: pose.__setitem__((0, 1), pose[0, 1] + 0.05), "not orthonormal"),
        (lambda pose: pose.__setitem__((3, 0), 0.5), "last row"),
    ],
    ids=["nan", "inf", "reflection", "scaled", "sheared", "last-row"],
)
def test_validation_names_the_frame_and_problem(rng, mutate, problem):
    c2w = random_c2w(rng, 4)
    mutate(c2w[2])
    assert pose_problems(c2w[1]) == []
    with pytest.raises(PoseError, match=f"frame 2: .*{problem}"):
        validate_poses(c2w)


def test_validation_tolerates_printed_digits(rng):
    """Rotations printed with nine decimals (RealEstate10K) are valid poses."""
    c2w = np.round(random_c2w(rng, 4), 9)
    np.testing.assert_array_equal(validate_poses(c2w), c2w)


@pytest.mark.parametrize("shape", [(3, 3), (4,), (2, 4, 3), (2, 5, 4), (2, 2, 4, 4)])
def test_validation_rejects_wrong_shapes(shape):
    with pytest.raises(PoseError, match="expected poses of shape"):
        validate_poses(np.zeros(shape))


def test_invert_rigid_is_exact_inverse(rng):
    c2w = np.round(random_c2w(rng, 3), 9)
    np.testing.assert_allclose(invert_rigid(invert_rigid(c2w)), c2w, atol=1e-14)


def test_rotation_about_axis_and_angle_match_scipy(rng):
    for _ in range(5):
        rotvec = rng.normal(size=3)
        angle = np.linalg.norm(rotvec)
        np.testing.assert_allclose(
            rotation_about_axis(rotvec, angle), Rotation.from_rotvec(rotvec).as_matrix(), atol=1e-12
        )
    rotations_a = Rotation.random(10, random_state=rng)
    rotations_b = Rotation.random(10, random_state=rng)
    expected = (rotations_a.inv() * rotations_b).magnitude()
    np.testing.assert_allclose(
        rotation_angle(rotations_a.as_matrix(), rotations_b.as_matrix()), expected, atol=1e-7
    )
    assert rotation_angle(np.eye(3), np.eye(3)) == 0.0


def test_look_at_axes():
    eye, target, up = np.array([1.0, -2.0, 0.5]), np.array([4.0, 0.0, 3.0]), np.array([0.0, 0.0, 1.0])
    c2w = look_at(eye, target, up=up)
    validate_poses(c2w)
    right, down, forward = c2w[:3, 0], c2w[:3, 1], c2w[:3, 2]
    np.testing.assert_allclose(forward, (target - eye) / np.linalg.norm(target - eye))
    np.testing.assert_allclose(c2w[:3, 3], eye)
    assert abs(right @ up) < 1e-12, "the image's x axis is level"
    assert down @ up < 0, "the image's y axis points down the world"
    # the target projects to the image centre; a point above it appears higher (smaller y)
    w2c = c2w_to_w2c(c2w)[0]
    at_target = w2c @ np.append(target, 1.0)
    above = w2c @ np.append(target + up, 1.0)
    np.testing.assert_allclose(at_target[:2], 0.0, atol=1e-12)
    assert above[1] / above[2] < 0


def test_look_at_default_up_is_opencv_minus_y():
    np.testing.assert_allclose(look_at(np.zeros(3), np.array([0.0, 0.0, 5.0])), np.eye(4), atol=1e-15)


@pytest.mark.parametrize(
    "eye, target, problem",
    [((1.0, 1.0, 1.0), (1.0, 1.0, 1.0), "coincide"), ((0.0, 0.0, 0.0), (0.0, -3.0, 0.0), "parallel")],
)
def test_look_at_degenerate(eye, target, problem):
    with pytest.raises(PoseError, match=problem):
        look_at(np.array(eye), np.array(target))


def _line_trajectory(steps: list[float], rng: np.random.Generator) -> np.ndarray:
    """Cameras along a line through a random start pose, at the given distances from it."""
    start = random_c2w(rng, 1)[0]
    direction = rng.normal(size=3)
    direction /= np.linalg.norm(direction)
    c2w = np.tile(start, (len(steps), 1, 1))
    c2w[:, :3, 3] += np.outer(steps, direction)
    c2w[:, :3, :3] = Rotation.random(len(steps), random_state=rng).as_matrix()
    return c2w


def test_max_distance_normalisation(rng):
    """`motionflow` / `cami2v` presets: relative to frame 0, farthest camera at distance 1."""
    c2w = _line_trajectory([0.0, 0.5, 3.0, 1.5], rng)
    assert max_distance_from_first(c2w) == pytest.approx(3.0)
    normalized = normalize_scale_by_max_distance(c2w)
    np.testing.assert_allclose(normalized[0], np.eye(4), atol=1e-12)
    distances = np.linalg.norm(camera_centers(normalized), axis=1)
    np.testing.assert_allclose(distances, [0.0, 1 / 6, 1.0, 0.5], atol=1e-12)
    np.testing.assert_allclose(normalized[:, :3, :3], relative_to_first(c2w)[:, :3, :3], atol=1e-12)


def test_max_distance_normalisation_is_scale_invariant(rng):
    c2w = random_c2w(rng, 5)
    scaled = c2w.copy()
    scaled[:, :3, 3] *= 7.5
    np.testing.assert_allclose(
        normalize_scale_by_max_distance(scaled), normalize_scale_by_max_distance(c2w), atol=1e-12
    )


def test_max_distance_normalisation_of_a_still_camera(rng):
    c2w = np.tile(random_c2w(rng, 1), (4, 1, 1))
    np.testing.assert_allclose(
        normalize_scale_by_max_distance(c2w), np.tile(np.eye(4), (4, 1, 1)), atol=1e-12
    )


def test_first_step_normalisation_matches_reference(rng):
    """`cameractrl` preset: the estimate's first step is scaled to the reference's first step."""
    estimate = _line_trajectory([0.0, 0.2, 0.9, 1.4], rng)
    reference = _line_trajectory([0.0, 2.5, 4.0, 9.0], rng)
    scaled = normalize_scale_by_first_step(estimate, reference)
    np.testing.assert_allclose(scaled[0], np.eye(4), atol=1e-12)
    assert first_step_distance(scaled) == pytest.approx(2.5)
    np.testing.assert_allclose(
        np.linalg.norm(camera_centers(scaled), axis=1), [0.0, 2.5, 2.5 * 4.5, 2.5 * 7], atol=1e-12
    )


def test_first_step_normalisation_zero_distances(rng):
    still_start = _line_trajectory([0.0, 0.0, 1.0], rng)
    reference = _line_trajectory([0.0, 2.0, 3.0], rng)
    np.testing.assert_allclose(
        normalize_scale_by_first_step(still_start, reference), relative_to_first(still_start), atol=1e-12
    )
    moving = _line_trajectory([0.0, 1.0, 2.0], rng)
    still_reference = _line_trajectory([0.0, 0.0, 3.0], rng)
    np.testing.assert_allclose(
        camera_centers(normalize_scale_by_first_step(moving, still_reference)), 0.0, atol=1e-12
    )
    with pytest.raises(PoseError, match="at least 2 frames"):
        normalize_scale_by_first_step(moving[:1], reference)
