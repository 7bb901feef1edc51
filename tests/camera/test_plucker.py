from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest
import torch

import motionflow.camera.plucker as plucker_module
from motionflow.camera.intrinsics import resize_intrinsics
from motionflow.camera.plucker import plucker_embedding
from motionflow.errors import PoseError

from .helpers import pinhole, project, random_c2w

IMAGE_SIZE = (24, 36)


def _cameras(rng: np.random.Generator, num_frames: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Random poses with distinct, off-centre, non-square (one skewed) intrinsics in pixels of IMAGE_SIZE."""
    c2w = random_c2w(rng, num_frames)
    intrinsics = np.stack(
        [
            pinhole(30.0 + 4 * i, 27.0 + 3 * i, 17.0 + i, 11.5 - i, skew=0.7 * (i == 1))
            for i in range(num_frames)
        ]
    )
    return c2w, intrinsics


def test_shape_at_image_and_latent_resolution(rng):
    c2w, intrinsics = _cameras(rng, 16)
    intrinsics = resize_intrinsics(intrinsics, IMAGE_SIZE, (256, 384))
    assert plucker_embedding(c2w, intrinsics, (256, 384)).shape == (16, 6, 256, 384)
    assert plucker_embedding(c2w, intrinsics, (256, 384), grid_size=(32, 48)).shape == (16, 6, 32, 48)
    assert plucker_embedding(c2w, intrinsics[0], (256, 384), grid_size=(7, 5)).shape == (16, 6, 7, 5)


def test_no_python_loops():
    """The embedding is vectorised over frames and pixels: its source has no loops or comprehensions."""
    tree = ast.parse(inspect.getsource(plucker_module))
    loops = (ast.For, ast.While, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)
    found = [type(node).__name__ for node in ast.walk(tree) if isinstance(node, loops)]
    assert found == []


def test_rays_pass_through_points_that_project_to_the_pixel_centre(rng):
    """Put a 3D point at a known depth on the ray of pixel (u, v)'s centre (u + 0.5, v + 0.5); it must
    project there, and lie on the Plücker line (p x d = m) in front of the camera."""
    c2w, intrinsics = _cameras(rng)
    embedding = plucker_embedding(torch.from_numpy(c2w), torch.from_numpy(intrinsics), IMAGE_SIZE).numpy()
    for frame in range(len(c2w)):
        rows = rng.integers(0, IMAGE_SIZE[0], size=6)
        cols = rng.integers(0, IMAGE_SIZE[1], size=6)
        centres = np.stack([cols + 0.5, rows + 0.5, np.ones(6)], axis=1)
        depths = rng.uniform(0.5, 20.0, size=6)
        points_camera = depths[:, None] * (centres @ np.linalg.inv(intrinsics[frame]).T)
        points = points_camera @ c2w[frame, :3, :3].T + c2w[frame, :3, 3]
        np.testing.assert_allclose(project(c2w[frame], intrinsics[frame], points), centres[:, :2], atol=1e-9)

        moments = embedding[frame, :3, rows, cols]
        directions = embedding[frame, 3:, rows, cols]
        np.testing.assert_allclose(np.cross(points, directions), moments, atol=1e-9)
        along = np.einsum("ni,ni->n", points - c2w[frame, :3, 3], directions)
        np.testing.assert_allclose(along, np.linalg.norm(points - c2w[frame, :3, 3], axis=1), rtol=1e-9)


def test_channel_order_moment_then_unit_direction(rng):
    c2w, intrinsics = _cameras(rng)
    embedding = plucker_embedding(c2w, intrinsics, IMAGE_SIZE).numpy()
    moments, directions = embedding[:, :3], embedding[:, 3:]
    np.testing.assert_allclose(np.linalg.norm(directions, axis=1), 1.0, atol=1e-12)
    origins = np.broadcast_to(c2w[:, :3, 3, None, None], directions.shape)
    np.testing.assert_allclose(moments, np.cross(origins, directions, axis=1), atol=1e-12)


def test_identity_rotation_centre_pixel_looks_along_z():
    """Odd image with the principal point at its centre: the centre pixel's ray is (0, 0, 1)."""
    c2w = np.eye(4)[None].copy()
    c2w[0, :3, 3] = [1.0, -2.0, 0.5]
    embedding = plucker_embedding(c2w, pinhole(9.0, 11.0, 3.5, 2.5), (5, 7)).numpy()
    np.testing.assert_allclose(embedding[0, 3:, 2, 3], [0.0, 0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(
        embedding[0, :3, 2, 3], np.cross([1.0, -2.0, 0.5], [0.0, 0.0, 1.0]), atol=1e-15
    )
    # x grows to the right, y downwards (OpenCV)
    assert embedding[0, 3, 2, 6] > 0 and embedding[0, 4, 4, 3] > 0


def test_matches_per_pixel_reference(rng):
    """A plain per-pixel implementation of DESIGN.md's formula, written independently."""
    c2w, intrinsics = _cameras(rng, 2)
    embedding = plucker_embedding(c2w, intrinsics, (4, 6)).numpy()
    for frame in range(2):
        for v in range(4):
            for u in range(6):
                direction = c2w[frame, :3, :3] @ np.linalg.solve(intrinsics[frame], [u + 0.5, v + 0.5, 1.0])
                direction /= np.linalg.norm(direction)
                expected = np.concatenate([np.cross(c2w[frame, :3, 3], direction), direction])
                np.testing.assert_allclose(embedding[frame, :, v, u], expected, atol=1e-12)


def test_grid_size_equals_explicitly_scaled_intrinsics(rng):
    c2w, intrinsics = _cameras(rng)
    grid = (6, 9)
    on_grid = plucker_embedding(c2w, intrinsics, IMAGE_SIZE, grid_size=grid)
    explicit = plucker_embedding(c2w, resize_intrinsics(intrinsics, IMAGE_SIZE, grid), grid)
    torch.testing.assert_close(on_grid, explicit, rtol=0, atol=1e-12)


def test_latent_cell_rays_go_through_the_image_location_of_the_cell_centre(rng):
    """Latent cell (i, j) covers image pixels; its ray is the image ray through ((j + 0.5) W / w, (i + 0.5) H / h)."""
    c2w, intrinsics = _cameras(rng)
    grid = (3, 4)
    embedding = plucker_embedding(c2w, intrinsics, IMAGE_SIZE, grid_size=grid).numpy()
    rows, cols = np.meshgrid(np.arange(grid[0]), np.arange(grid[1]), indexing="ij")
    image_points = np.stack(
        [(cols.ravel() + 0.5) * IMAGE_SIZE[1] / grid[1], (rows.ravel() + 0.5) * IMAGE_SIZE[0] / grid[0]],
        axis=1,
    )
    for frame in range(len(c2w)):
        rays_camera = (
            np.concatenate([image_points, np.ones((len(image_points), 1))], 1)
            @ np.linalg.inv(intrinsics[frame]).T
        )
        points = 3.0 * rays_camera @ c2w[frame, :3, :3].T + c2w[frame, :3, 3]
        moments = embedding[frame, :3].reshape(3, -1).T
        directions = embedding[frame, 3:].reshape(3, -1).T
        np.testing.assert_allclose(np.cross(points, directions), moments, atol=1e-9)


def test_dtype_follows_input(rng):
    c2w, intrinsics = _cameras(rng)
    embedding = plucker_embedding(torch.from_numpy(c2w).float(), intrinsics, IMAGE_SIZE)
    assert embedding.dtype == torch.float32
    torch.testing.assert_close(
        embedding.double(), plucker_embedding(c2w, intrinsics, IMAGE_SIZE), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize(
    "c2w_shape, intrinsics_shape", [((3, 3, 4), (3, 3, 3)), ((3, 4, 4), (2, 3, 3)), ((4, 4), (3, 3))]
)
def test_shape_errors(c2w_shape, intrinsics_shape):
    with pytest.raises(PoseError, match="expected c2w"):
        plucker_embedding(np.zeros(c2w_shape), np.ones(intrinsics_shape), IMAGE_SIZE)
