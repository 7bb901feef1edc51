"""Forward warping by depth: parallax of a plane, the sky as a rotation, occlusion, refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionflow.camera.depth_warp import forward_warp
from motionflow.camera.homography import rotation_homographies, warp_by_homographies
from motionflow.camera.poses import rotation_about_axis
from motionflow.camera.trajectory import Trajectory

from .helpers import pinhole

SIZE = (32, 48)
FOCAL = 40.0


def _trajectory(c2w: np.ndarray) -> Trajectory:
    intrinsics = pinhole(FOCAL, FOCAL, SIZE[1] / 2, SIZE[0] / 2)
    return Trajectory(c2w=c2w, intrinsics=intrinsics, image_size=SIZE)


def _moving_right(shifts_world: list[float]) -> Trajectory:
    c2w = np.tile(np.eye(4), (len(shifts_world), 1, 1))
    c2w[:, 0, 3] = shifts_world
    return _trajectory(c2w)


def _image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(*SIZE, 3), dtype=np.uint8)


def test_frame_zero_is_the_reference_and_fully_covered() -> None:
    image = _image()
    frames, covered = forward_warp(image, np.full(SIZE, 3.0), _moving_right([0.0, 0.1]))
    np.testing.assert_array_equal(frames[0], image)
    assert covered[0].all()


def test_a_plane_shifts_by_focal_times_baseline_over_depth() -> None:
    """A camera moving right by t sees a fronto-parallel plane at depth z move left by f t / z pixels;
    what enters on the right is not in the reference and takes the nearest warped colour."""
    image = _image()
    depth = 8.0
    frames, covered = forward_warp(image, np.full(SIZE, depth), _moving_right([0.0, 0.4, 0.6]))
    for index, baseline in ((1, 0.4), (2, 0.6)):
        shift = round(FOCAL * baseline / depth)  # 2 and 3 pixels
        np.testing.assert_array_equal(frames[index][:, : SIZE[1] - shift], image[:, shift:])
        assert covered[index][:, : SIZE[1] - shift].all() and not covered[index][:, SIZE[1] - shift :].any()
        np.testing.assert_array_equal(
            frames[index][:, SIZE[1] - shift :], image[:, -1:].repeat(shift, axis=1)
        )


def test_the_sky_turns_with_the_camera_and_ignores_translation() -> None:
    """Points without a surface (z = inf) are directions: a turning, moving camera sees them as the
    rotation-only homography has it, wherever it stands."""
    smooth = np.linspace(0, 255, SIZE[1])[None, :, None] * np.ones((SIZE[0], 1, 3))
    image = smooth.round().astype(np.uint8)
    c2w = np.tile(np.eye(4), (2, 1, 1))
    c2w[1, :3, :3] = rotation_about_axis([0.0, 1.0, 0.0], np.radians(4.0))
    c2w[1, :3, 3] = [0.5, 0.1, -0.3]
    trajectory = _trajectory(c2w)
    frames, covered = forward_warp(image, np.full(SIZE, np.inf), trajectory, fill="zeros")
    expected = warp_by_homographies(
        torch.from_numpy(image).permute(2, 0, 1).float(), rotation_homographies(trajectory)
    ).permute(0, 2, 3, 1)
    inside = covered[1] & (expected[1].numpy().sum(-1) > 0)
    assert inside.mean() > 0.8
    difference = np.abs(frames[1].astype(float) - expected[1].numpy())[inside]
    assert np.median(difference) < 4.0  # nearest splatting against bilinear sampling: about half a pixel


def test_the_nearer_surface_hides_the_farther_one() -> None:
    """A near square in front of a far wall: moving right, the square slides over the wall (more
    parallax) and covers what is behind it, never the other way round."""
    image = np.zeros((*SIZE, 3), dtype=np.uint8)
    image[..., 2] = 200  # the wall: blue
    depth = np.full(SIZE, 20.0)
    image[10:20, 20:30] = (255, 0, 0)  # the square: red, at depth 2
    depth[10:20, 20:30] = 2.0
    frames, _ = forward_warp(image, depth, _moving_right([0.0, 0.25]))  # square moves 5 px, wall 0.5
    square = frames[1][10:20, 15:25]
    assert (square == (255, 0, 0)).all()
    assert (frames[1][10:20, 27:30, 2] == 200).all()  # the wall reappears where the square was


@pytest.mark.parametrize(
    ("depth", "message"),
    [
        (np.full(SIZE, np.nan), "not NaN"),
        (np.full(SIZE, -1.0), "positive"),
        (np.full((4, 4), 1.0), "does not match"),
    ],
)
def test_bad_depth_is_refused(depth: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        forward_warp(_image(), depth, _moving_right([0.0, 0.1]))


def test_a_trajectory_for_another_size_is_refused() -> None:
    trajectory = _moving_right([0.0, 0.1]).resized((64, 96))
    with pytest.raises(ValueError, match="trajectory is for"):
        forward_warp(_image(), np.full(SIZE, 2.0), trajectory)
