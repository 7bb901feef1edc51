"""The synthetic renderer against its own exact cameras: reprojection, Plücker rays, paths, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionflow.camera.plucker import plucker_embedding
from motionflow.camera.poses import rotation_angle
from motionflow.data.synthetic import (
    PATH_KINDS,
    SCENE_KINDS,
    render_synthetic_clip,
    render_views,
    synthetic_setup,
)
from motionflow.utils.registry import UnknownNameError

SIZE = (48, 64)  # not square, so that a swapped H/W shows


def back_project(depth: np.ndarray, c2w: np.ndarray, intrinsics: np.ndarray) -> np.ndarray:
    """World points [H, W, 3] of pixel centres (u + 0.5, v + 0.5) at z-depth `depth` (OpenCV c2w)."""
    height, width = depth.shape
    v, u = np.meshgrid(np.arange(height) + 0.5, np.arange(width) + 0.5, indexing="ij")
    pixels = np.stack([u, v, np.ones_like(u)], axis=-1)
    camera_points = (pixels @ np.linalg.inv(intrinsics).T) * depth[..., None].astype(np.float64)
    with np.errstate(invalid="ignore"):  # sky (inf depth) gives inf/nan points, left out by callers
        return camera_points @ c2w[:3, :3].T + c2w[:3, 3]


def project(points: np.ndarray, c2w: np.ndarray, intrinsics: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Continuous pixel coordinates [N, 2] (pixel centres at +0.5) and z-depths [N] of world points."""
    w2c = np.linalg.inv(c2w)
    camera_points = points @ w2c[:3, :3].T + w2c[:3, 3]
    projected = camera_points @ intrinsics.T
    return projected[:, :2] / projected[:, 2:], camera_points[:, 2]


@pytest.fixture(scope="module")
def indoor_views():
    scene, trajectory = synthetic_setup("indoor", "re10k", num_frames=6, image_size=SIZE, seed=3)
    return scene, trajectory, render_views(scene, trajectory)


@pytest.mark.parametrize("scene_kind", ["indoor", "outdoor"])
def test_a_pixel_reprojects_to_where_the_other_frame_sees_the_same_point(scene_kind):
    scene, trajectory = synthetic_setup(scene_kind, "re10k", num_frames=6, image_size=SIZE, seed=1)
    rendering = render_views(scene, trajectory)
    source, target = 0, 5
    K = trajectory.intrinsics
    points = back_project(rendering.depth[source], trajectory.c2w[source], K[source]).reshape(-1, 3)
    surface = rendering.surface[source].ravel()
    seen = np.isfinite(points).all(axis=1)
    pixels, depth_in_target = project(points[seen], trajectory.c2w[target], K[target])

    # Bilinear interpolation of inverse depth between the four pixel centres around the projection is
    # exact on a plane, so where all four see the same quad as the source pixel, it must agree.
    height, width = SIZE
    corner = np.floor(pixels - 0.5).astype(int)
    inside = (
        (corner[:, 0] >= 0) & (corner[:, 1] >= 0) & (corner[:, 0] < width - 1) & (corner[:, 1] < height - 1)
    )
    corner, pixels, depth_in_target = corner[inside], pixels[inside], depth_in_target[inside]
    source_surface = surface[seen][inside]
    rows, columns = corner[:, 1], corner[:, 0]
    block = [(rows + dr, columns + dc) for dr in (0, 1) for dc in (0, 1)]
    same = np.all([rendering.surface[target][r, c] == source_surface for r, c in block], axis=0)
    assert same.mean() > 0.4, "too few pixels visible in both frames to test anything"
    fraction = pixels[same] - 0.5 - corner[same]
    inverse = [1.0 / rendering.depth[target][r[same], c[same]].astype(np.float64) for r, c in block]
    interpolated = (
        inverse[0] * (1 - fraction[:, 0]) * (1 - fraction[:, 1])
        + inverse[1] * fraction[:, 0] * (1 - fraction[:, 1])
        + inverse[2] * (1 - fraction[:, 0]) * fraction[:, 1]
        + inverse[3] * fraction[:, 0] * fraction[:, 1]
    )
    relative_error = np.abs(interpolated * depth_in_target[same] - 1.0)
    assert relative_error.max() < 1e-4

    # Colours agree too (view-independent shading): far better than unrelated pixel pairs.
    source_colours = rendering.frames[source].reshape(-1, 3)[seen][inside][same].astype(float)
    nearest = np.floor(pixels[same]).astype(int)
    target_colours = rendering.frames[target][nearest[:, 1], nearest[:, 0]].astype(float)
    matched = np.abs(source_colours - target_colours).mean()
    shuffled = np.abs(source_colours - np.random.default_rng(0).permutation(target_colours)).mean()
    assert matched < 0.5 * shuffled


def test_depth_is_z_along_the_camera_axis_and_lands_on_the_surface_hit(indoor_views):
    scene, trajectory, rendering = indoor_views
    quads = scene.quads
    for frame in range(len(trajectory)):
        points = back_project(rendering.depth[frame], trajectory.c2w[frame], trajectory.intrinsics[frame])
        surface = rendering.surface[frame]
        assert np.all(surface >= 0), "a closed room leaves no pixel empty"
        normals = quads.normal[surface]
        distance_to_plane = np.einsum("hwi,hwi->hw", points - quads.origin[surface], normals)
        assert np.abs(distance_to_plane).max() < 1e-5 * rendering.depth[frame].max()


def test_plucker_rays_of_the_rendered_pixels_pass_through_the_rendered_points(indoor_views):
    """Each pixel's Plücker line, cut with the plane of the quad the renderer hit there, must give a
    point at the rendered depth, in front of the camera (no unprojection on the test's side)."""
    scene, trajectory, rendering = indoor_views
    quads = scene.quads
    embedding = plucker_embedding(
        torch.from_numpy(trajectory.c2w), torch.from_numpy(trajectory.intrinsics), trajectory.image_size
    ).numpy()
    for frame in range(len(trajectory)):
        moment = np.moveaxis(embedding[frame, :3], 0, -1)
        direction = np.moveaxis(embedding[frame, 3:], 0, -1)
        closest_to_origin = np.cross(direction, moment)  # a point of the line (o x d, d), |d| = 1
        surface = rendering.surface[frame]
        normal, plane_point = quads.normal[surface], quads.origin[surface]
        along = np.einsum("hwi,hwi->hw", plane_point - closest_to_origin, normal) / np.einsum(
            "hwi,hwi->hw", direction, normal
        )
        points = closest_to_origin + along[..., None] * direction
        w2c = np.linalg.inv(trajectory.c2w[frame])
        z_depth = points @ w2c[2, :3] + w2c[2, 3]
        np.testing.assert_allclose(z_depth, rendering.depth[frame], rtol=1e-4)
        camera_center = trajectory.c2w[frame, :3, 3]
        assert np.einsum("hwi,hwi->hw", points - camera_center, direction).min() > 0


def test_sky_is_infinitely_far_and_only_outdoors():
    outdoor = render_synthetic_clip("outdoor", "rotation", num_frames=3, image_size=SIZE, seed=2)
    indoor = render_synthetic_clip("indoor", "rotation", num_frames=3, image_size=SIZE, seed=2)
    sky = np.isinf(outdoor.depth)
    assert 0.05 < sky.mean() < 0.8
    assert sky[:, 0].mean() > sky[:, -1].mean(), "sky is at the top of the image (y points down)"
    assert np.all(np.isfinite(indoor.depth)) and indoor.depth.min() > 0


def test_the_same_seed_renders_the_same_clip_and_another_seed_another():
    first = render_synthetic_clip("outdoor", "re10k", num_frames=3, image_size=SIZE, seed=7)
    again = render_synthetic_clip("outdoor", "re10k", num_frames=3, image_size=SIZE, seed=7)
    other = render_synthetic_clip("outdoor", "re10k", num_frames=3, image_size=SIZE, seed=8)
    np.testing.assert_array_equal(first.frames, again.frames)
    np.testing.assert_array_equal(first.depth, again.depth)
    np.testing.assert_array_equal(first.trajectory.c2w, again.trajectory.c2w)
    assert np.abs(first.frames.astype(int) - other.frames).mean() > 10
    assert not np.allclose(first.trajectory.c2w, other.trajectory.c2w)


@pytest.mark.parametrize(("num_frames", "size"), [(1, (32, 32)), (5, (40, 72)), (3, (33, 17))])
def test_frame_count_and_image_size_are_honoured(num_frames, size):
    clip = render_synthetic_clip("textureless", "orbit", num_frames=num_frames, image_size=size, seed=0)
    assert clip.frames.shape == (num_frames, *size, 3) and clip.frames.dtype == np.uint8
    assert clip.depth.shape == (num_frames, *size) and clip.depth.dtype == np.float32
    assert len(clip.trajectory) == num_frames and clip.trajectory.image_size == size
    np.testing.assert_allclose(
        clip.trajectory.intrinsics[:, :2, 2], [[size[1] / 2, size[0] / 2]] * num_frames
    )


def test_frame_count_only_changes_how_densely_the_path_is_sampled():
    _, coarse = synthetic_setup("indoor", "re10k", num_frames=17, seed=4)
    _, dense = synthetic_setup("indoor", "re10k", num_frames=129, seed=4)
    _, long = synthetic_setup("outdoor", "re10k", num_frames=200, seed=4)
    np.testing.assert_allclose(dense.c2w[::8], coarse.c2w, atol=1e-9)
    assert len(long) == 200
    steps = np.linalg.norm(np.diff(long.c2w[:, :3, 3], axis=0), axis=1)
    assert steps.max() < 3 * np.median(steps) + 1e-9, "a smooth path has no jumps"


@pytest.mark.parametrize("scene_kind", SCENE_KINDS)
def test_each_path_kind_moves_as_its_name_says(scene_kind):
    def setup(path):
        return synthetic_setup(scene_kind, path, num_frames=9, image_size=SIZE, seed=5)[1].c2w

    rotation = setup("rotation")
    assert np.ptp(rotation[:, :3, 3], axis=0).max() == 0.0, "pure rotation keeps the centre fixed"
    assert np.degrees(rotation_angle(rotation[0, :3, :3], rotation[-1, :3, :3])) > 40

    for path in ("forward", "sideways"):
        poses = setup(path)
        np.testing.assert_allclose(poses[:, :3, :3], np.broadcast_to(poses[0, :3, :3], (9, 3, 3)), atol=1e-12)
        motion = poses[-1, :3, 3] - poses[0, :3, 3]
        in_camera = poses[0, :3, :3].T @ motion / np.linalg.norm(motion)
        axis = 2 if path == "forward" else 0
        assert abs(in_camera[axis]) > 0.95, f"{path}: motion {in_camera} in camera axes"
        assert np.linalg.norm(motion) > 0.5

    orbit = setup("orbit")
    centres, forward = orbit[:, :3, 3], orbit[:, :3, 2]
    # all optical axes meet at one point (the focus), at the same distance
    closest = np.linalg.lstsq(
        np.concatenate([np.eye(3) - np.outer(f, f) for f in forward]),
        np.concatenate([(np.eye(3) - np.outer(f, f)) @ c for c, f in zip(centres, forward, strict=True)]),
        rcond=None,
    )[0]
    distances = np.linalg.norm(centres - closest, axis=1)
    assert np.ptp(distances) < 1e-6 * distances.mean()

    re10k = setup("re10k")
    height_change = np.ptp(re10k[:, 1, 3])
    assert height_change < 0.2 * np.linalg.norm(re10k[-1, :3, 3] - re10k[0, :3, 3]), (
        "mostly horizontal motion"
    )


def test_every_scene_and_path_renders_with_cameras_clear_of_objects():
    for scene_kind in SCENE_KINDS:
        for path in PATH_KINDS:
            clip = render_synthetic_clip(scene_kind, path, num_frames=3, image_size=(24, 32), seed=11)
            assert clip.depth.min() > 0.3, (
                f"{scene_kind}/{path}: a surface {clip.depth.min():.2f} m from the camera"
            )


def test_textureless_scenes_have_far_less_texture_than_textured_ones():
    def texture_energy(scene_kind):
        frames = render_synthetic_clip(scene_kind, "re10k", num_frames=2, image_size=(96, 96), seed=0).frames
        grey = frames.astype(float).mean(axis=-1)
        return np.median(np.abs(np.diff(grey, axis=2)))

    assert texture_energy("textureless") < 0.25 * texture_energy("indoor")


def test_bad_arguments_are_named():
    with pytest.raises(UnknownNameError, match="known: indoor, outdoor, textureless"):
        render_synthetic_clip("castle")
    with pytest.raises(UnknownNameError, match="orbit"):
        render_synthetic_clip("indoor", "zigzag")
    with pytest.raises(ValueError, match="seed"):
        render_synthetic_clip(seed=-1)
    with pytest.raises(ValueError, match="num_frames"):
        render_synthetic_clip(num_frames=0)
    with pytest.raises(ValueError, match="image_size"):
        render_synthetic_clip(image_size=(0, 10))
