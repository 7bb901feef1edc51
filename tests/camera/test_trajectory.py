from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from motionflow.camera.intrinsics import intrinsics_matrix
from motionflow.camera.trajectory import Trajectory

from .helpers import random_c2w


def trajectory_of(c2w: np.ndarray) -> Trajectory:
    return Trajectory(c2w=c2w, intrinsics=intrinsics_matrix(50, 50, 32, 32), image_size=(64, 64))


def test_a_mirrored_motion_keeps_the_first_camera_and_reflects_the_relative_motion(rng):
    trajectory = trajectory_of(random_c2w(rng, 5))
    relative = trajectory.relative().c2w
    for flip_x, flip_z in ((True, False), (False, True), (True, True)):
        mirrored = trajectory.mirrored_motion(flip_x, flip_z)
        np.testing.assert_allclose(mirrored.c2w[0], trajectory.c2w[0], atol=1e-12)
        signs = np.array([-1.0 if flip_x else 1.0, 1.0, -1.0 if flip_z else 1.0])
        moved = mirrored.relative().c2w
        np.testing.assert_allclose(moved[:, :3, 3], relative[:, :3, 3] * signs, atol=1e-9)
        np.testing.assert_allclose(np.linalg.det(moved[:, :3, :3]), 1.0, atol=1e-9)
        np.testing.assert_allclose(mirrored.mirrored_motion(flip_x, flip_z).c2w, trajectory.c2w, atol=1e-9)


def test_mirroring_left_right_turns_a_pan_to_the_right_into_one_to_the_left():
    c2w = np.repeat(np.eye(4)[None], 3, axis=0)
    c2w[:, :3, :3] = Rotation.from_euler("y", [[0], [10], [20]], degrees=True).as_matrix()
    mirrored = trajectory_of(c2w).mirrored_motion(flip_x=True)
    angles = Rotation.from_matrix(mirrored.c2w[:, :3, :3]).as_euler("yxz", degrees=True)
    np.testing.assert_allclose(angles, [[0, 0, 0], [-10, 0, 0], [-20, 0, 0]], atol=1e-9)
    forward = trajectory_of(c2w).mirrored_motion(flip_z=True)
    angles = Rotation.from_matrix(forward.c2w[:, :3, :3]).as_euler("yxz", degrees=True)
    np.testing.assert_allclose(angles, [[0, 0, 0], [-10, 0, 0], [-20, 0, 0]], atol=1e-9)


def test_no_mirror_is_the_identity(rng):
    trajectory = trajectory_of(random_c2w(rng, 4))
    np.testing.assert_allclose(trajectory.mirrored_motion().c2w, trajectory.c2w, atol=1e-12)
