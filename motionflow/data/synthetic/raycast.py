"""Vectorised ray casting of a quad scene: one ray per pixel centre, nearest hit by z-buffer.

The ray of pixel (u, v) is R_c2w K^-1 [u + 0.5, v + 0.5, 1]^T from the camera centre, the same pixel
convention as the Plücker embedding. With the camera-space ray scaled to z = 1, the ray parameter of
a hit is its z-depth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from motionflow.camera.trajectory import Trajectory
from motionflow.data.synthetic.geometry import Quads, Scene

NEAR = 0.05
"""Hits closer than this z-depth (m) are ignored."""


@dataclass(frozen=True)
class Rendering:
    frames: np.ndarray
    """uint8 [F, H, W, 3]"""
    depth: np.ndarray
    """float32 [F, H, W], z-depth; inf where no surface is hit."""
    surface: np.ndarray
    """int32 [F, H, W], index of the quad seen at each pixel; -1 where none."""


@dataclass(frozen=True)
class _QuadTables:
    """Per-quad constants of a scene, computed once per rendering."""

    normal: np.ndarray
    u_step: np.ndarray
    """edge_u / |edge_u|^2: dotted with (point - origin) gives the texture coordinate a in [0, 1]."""
    v_step: np.ndarray
    texels_per_metre: np.ndarray

    @classmethod
    def of(cls, quads: Quads) -> _QuadTables:
        return cls(
            normal=quads.normal,
            u_step=quads.edge_u / np.einsum("qi,qi->q", quads.edge_u, quads.edge_u)[:, None],
            v_step=quads.edge_v / np.einsum("qi,qi->q", quads.edge_v, quads.edge_v)[:, None],
            texels_per_metre=quads.texels_per_metre,
        )


def camera_rays(intrinsics: np.ndarray, image_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the camera-space rays K^-1 [u + 0.5, v + 0.5, 1] of every pixel, each float64 [H, W]."""
    height, width = image_size
    (fx, skew, cx), (_, fy, cy) = intrinsics[0], intrinsics[1]
    y = (np.arange(height) + 0.5 - cy) / fy
    x = (np.arange(width)[None, :] + 0.5 - cx - skew * y[:, None]) / fx
    return np.broadcast_to(x, (height, width)), np.broadcast_to(y[:, None], (height, width))


def _clip_to_near(corners: np.ndarray) -> np.ndarray:
    """The part of a convex polygon [4, 3] (camera coordinates) in front of the near plane."""
    kept = []
    for current, following in zip(corners, np.roll(corners, -1, axis=0), strict=True):
        if current[2] >= NEAR:
            kept.append(current)
        if (current[2] >= NEAR) != (following[2] >= NEAR):
            fraction = (NEAR - current[2]) / (following[2] - current[2])
            kept.append(current + fraction * (following - current))
    return np.array(kept).reshape(-1, 3)


def screen_boxes(
    quads: Quads, w2c: np.ndarray, intrinsics: np.ndarray, image_size: tuple[int, int]
) -> list[tuple[int, slice, slice]]:
    """(quad, rows, columns) of the pixel boxes each quad may cover; quads facing away from the
    camera or outside the view are left out. Boxes are conservative (a pixel margin)."""
    height, width = image_size
    camera_center = -w2c[:3, :3].T @ w2c[:3, 3]
    faces_camera = np.einsum("qi,qi->q", quads.facing, camera_center - quads.origin) > 0
    double_sided = ~np.any(quads.facing, axis=1)
    corners = quads.corners @ w2c[:3, :3].T + w2c[:3, 3]
    boxes = []
    for index in np.flatnonzero(faces_camera | double_sided):
        polygon = corners[index]
        if np.any(polygon[:, 2] < NEAR):
            polygon = _clip_to_near(polygon)
            if len(polygon) == 0:
                continue
        projected = polygon @ intrinsics.T
        u, v = projected[:, 0] / projected[:, 2], projected[:, 1] / projected[:, 2]
        column_begin, column_end = (
            max(0, int(np.floor(u.min() - 0.5))),
            min(width, int(np.floor(u.max() - 0.5)) + 2),
        )
        row_begin, row_end = (
            max(0, int(np.floor(v.min() - 0.5))),
            min(height, int(np.floor(v.max() - 0.5)) + 2),
        )
        if column_begin < column_end and row_begin < row_end:
            boxes.append((int(index), slice(row_begin, row_end), slice(column_begin, column_end)))
    return boxes


def nearest_hits(
    quads: Quads, tables: _QuadTables, c2w: np.ndarray, intrinsics: np.ndarray, image_size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Z-buffered ray casting: per pixel the z-depth of the nearest hit [H, W] (inf if none), the
    index of the quad hit [H, W] (-1 if none), and the world rays [H, W, 3] (camera z = 1).

    Each quad is intersected only with the rays of its screen box (all of them at once)."""
    height, width = image_size
    rotation, center = c2w[:3, :3], c2w[:3, 3]
    x, y = camera_rays(intrinsics, image_size)
    rays = np.stack(
        [(rotation[i, 0] * x + rotation[i, 1] * y + rotation[i, 2]).astype(np.float32) for i in range(3)]
    )
    plane_offset = np.einsum("qi,qi->q", quads.origin - center, tables.normal)
    start_u = np.einsum("qi,qi->q", center - quads.origin, tables.u_step)
    start_v = np.einsum("qi,qi->q", center - quads.origin, tables.v_step)
    depth = np.full((height, width), np.inf, dtype=np.float32)
    surface = np.full((height, width), -1, dtype=np.int32)
    for index, rows, columns in screen_boxes(quads, np.linalg.inv(c2w), intrinsics, image_size):
        ray_x, ray_y, ray_z = rays[0, rows, columns], rays[1, rows, columns], rays[2, rows, columns]
        normal, u_step, v_step = tables.normal[index], tables.u_step[index], tables.v_step[index]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.float32(plane_offset[index]) / (ray_x * normal[0] + ray_y * normal[1] + ray_z * normal[2])
            a = np.float32(start_u[index]) + t * (ray_x * u_step[0] + ray_y * u_step[1] + ray_z * u_step[2])
            b = np.float32(start_v[index]) + t * (ray_x * v_step[0] + ray_y * v_step[1] + ray_z * v_step[2])
        box_depth = depth[rows, columns]
        hit = (t > NEAR) & (t < box_depth) & (a >= 0) & (a <= 1) & (b >= 0) & (b <= 1)
        np.copyto(box_depth, t, where=hit)
        surface[rows, columns][hit] = index
    return depth, surface, np.moveaxis(rays, 0, -1)


def _shade(scene: Scene, points: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Lambertian light factor [N] of surface points whose normals face the camera."""
    lighting = scene.lighting
    light = np.full(len(points), lighting.ambient, dtype=np.float32)
    if lighting.sun_direction is not None:
        light += lighting.sun_intensity * np.clip(
            normals @ lighting.sun_direction.astype(np.float32), 0.0, None
        )
    for position, intensity, reach in zip(
        lighting.light_positions, lighting.light_intensities, lighting.light_ranges, strict=True
    ):
        to_light = position.astype(np.float32) - points
        distance = np.linalg.norm(to_light, axis=1)
        facing = np.clip(np.einsum("ni,ni->n", normals, to_light) / np.maximum(distance, 1e-6), 0.0, None)
        light += intensity * facing / (1.0 + (distance / reach) ** 2)
    return light


def _sky(scene: Scene, directions: np.ndarray, focal: float) -> np.ndarray:
    """Sky colour [N, 3] for unit world directions: gradient by elevation, clouds on a plane at
    infinity (they depend on the direction only, so they do not move when the camera translates)."""
    sky = scene.sky
    elevation = np.clip(-directions[:, 1], 0.0, 1.0)
    colour = sky.horizon + (sky.zenith - sky.horizon) * (elevation[:, None] ** 0.6)
    above = elevation > 0.02
    if np.any(above):
        lift = elevation[above]
        s = sky.cloud_scale * directions[above, 0] / lift
        t = sky.cloud_scale * directions[above, 2] / lift
        footprint = scene.atlas.size * sky.cloud_scale / (focal * lift**2)
        textures = np.full(len(s), sky.cloud_texture)
        alpha = scene.atlas.sample(textures, s, t, footprint)[:, 0]
        alpha *= np.clip((lift - 0.02) / 0.35, 0.0, 1.0)
        colour[above] += (0.97 - colour[above]) * alpha[:, None]
    return colour


def render_frame(
    scene: Scene, tables: _QuadTables, c2w: np.ndarray, intrinsics: np.ndarray, image_size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One view: (uint8 image [H, W, 3], float32 z-depth [H, W], int32 quad index [H, W])."""
    height, width = image_size
    depth_image, surface_image, ray_image = nearest_hits(scene.quads, tables, c2w, intrinsics, image_size)
    depth, surface, rays = depth_image.ravel(), surface_image.ravel(), ray_image.reshape(-1, 3)
    colour = np.zeros((len(rays), 3), dtype=np.float32)
    ray_length = np.linalg.norm(rays, axis=1)
    directions = rays / ray_length[:, None]
    focal = float(np.sqrt(intrinsics[0, 0] * intrinsics[1, 1]))
    hit = np.flatnonzero(surface >= 0)
    if len(hit):
        quads, which = scene.quads, surface[hit]

        def per_hit(values: np.ndarray) -> np.ndarray:
            """Rows of a per-quad table for each hit pixel, float32 (np.take: fancy indexing is slow)."""
            return np.take(values, which, axis=0).astype(np.float32)

        hit_rays, hit_directions = np.take(rays, hit, axis=0), np.take(directions, hit, axis=0)
        points = c2w[:3, 3].astype(np.float32) + depth[hit, None] * hit_rays
        offset = points - per_hit(quads.origin)
        a = np.einsum("ni,ni->n", offset, per_hit(tables.u_step))
        b = np.einsum("ni,ni->n", offset, per_hit(tables.v_step))
        normals = per_hit(tables.normal)
        facing = np.einsum("ni,ni->n", normals, hit_directions)
        normals *= -np.sign(facing)[:, None]
        incidence = np.maximum(np.abs(facing), 0.1)
        distance = depth[hit] * ray_length[hit]
        footprint = distance / focal / np.sqrt(incidence) * per_hit(tables.texels_per_metre)
        repeats = per_hit(quads.repeats)
        albedo = scene.atlas.sample(
            np.take(quads.texture, which), a * repeats[:, 0], b * repeats[:, 1], footprint
        )
        shaded = albedo * per_hit(quads.tint) * _shade(scene, points, normals)[:, None]
        if scene.sky is not None:
            haze = 1.0 - np.exp(-distance / scene.sky.haze_distance)
            shaded += (scene.sky.horizon.astype(np.float32) - shaded) * haze[:, None]
        colour[hit] = shaded
    missed = np.flatnonzero(surface < 0)
    if len(missed) and scene.sky is not None:
        colour[missed] = _sky(scene, np.take(directions, missed, axis=0), focal)
    image = np.clip(colour * 255.0 + 0.5, 0, 255).astype(np.uint8).reshape(height, width, 3)
    return image, depth_image, surface_image


def render_views(scene: Scene, trajectory: Trajectory) -> Rendering:
    """Renders every frame of `trajectory` (c2w OpenCV, K in pixels of its image_size)."""
    tables = _QuadTables.of(scene.quads)
    views = [
        render_frame(scene, tables, c2w, intrinsics, trajectory.image_size)
        for c2w, intrinsics in zip(trajectory.c2w, trajectory.intrinsics, strict=True)
    ]
    frames, depth, surface = (np.stack(parts) for parts in zip(*views, strict=True))
    return Rendering(frames=frames, depth=depth, surface=surface)
