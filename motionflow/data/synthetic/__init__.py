"""Synthetic videos with exactly known cameras: seeded scenes of textured quads, ray cast per pixel.

    clip = render_synthetic_clip("indoor", "re10k", num_frames=16, image_size=(256, 256), seed=0)
    clip.frames      # uint8 [F, H, W, 3]
    clip.depth       # float32 [F, H, W], z-depth along the camera's +z; inf where nothing is hit (sky)
    clip.trajectory  # c2w (OpenCV axes) + pixel K of the rendered frames

Everything follows from (scene, path, seed): the image size and the frame count change neither the
scene nor the path, only how finely they are sampled."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from motionflow.camera.intrinsics import intrinsics_matrix
from motionflow.camera.trajectory import Trajectory
from motionflow.data.synthetic.geometry import Scene
from motionflow.data.synthetic.paths import PATHS
from motionflow.data.synthetic.raycast import Rendering, render_views
from motionflow.data.synthetic.scenes import SCENES

FIELD_OF_VIEW_DEGREES = (50.0, 70.0)
"""Range of the field of view across the shorter image side."""
FRAME_INTERVAL_US = 1_000_000 // 30
"""Timestamps as if the clip were a 30 fps video (RealEstate10K stores microseconds)."""

SCENE_KINDS = tuple(SCENES.names())
PATH_KINDS = tuple(PATHS.names())


@dataclass
class SyntheticClip:
    name: str
    frames: np.ndarray
    """uint8 [F, H, W, 3]"""
    depth: np.ndarray
    """float32 [F, H, W], z-depth along the camera's +z (OpenCV); np.inf where nothing is hit (sky)."""
    trajectory: Trajectory
    """c2w OpenCV + pixel intrinsics of the rendered frames."""


def _generator(seed: int, scene: str, path: str) -> np.random.Generator:
    """A stream fixed by (seed, scene, path), the same in every process (no salted str hash)."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng([int(seed), zlib.crc32(scene.encode()), zlib.crc32(path.encode())])


def synthetic_setup(
    scene: str = "indoor",
    path: str = "re10k",
    num_frames: int = 16,
    image_size: tuple[int, int] = (256, 256),
    seed: int = 0,
) -> tuple[Scene, Trajectory]:
    """The scene and the camera trajectory of a synthetic clip, without rendering it."""
    family, path_generator = SCENES.get(scene), PATHS.get(path)
    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    height, width = (int(value) for value in image_size)
    if height < 1 or width < 1:
        raise ValueError(f"image_size must be positive (H, W), got {image_size}")
    rng = _generator(seed, scene, path)
    stage = family.stage(rng)
    camera_path = path_generator(stage, rng)
    field_of_view = np.radians(rng.uniform(*FIELD_OF_VIEW_DEGREES))
    scene_model = family.build(stage, camera_path, rng)
    focal = 0.5 * min(height, width) / np.tan(field_of_view / 2)
    trajectory = Trajectory(
        c2w=camera_path.poses(num_frames),
        intrinsics=intrinsics_matrix(focal, focal, width / 2, height / 2),
        image_size=(height, width),
        frame_indices=np.arange(num_frames),
        timestamps=np.arange(num_frames) * FRAME_INTERVAL_US,
        source=f"synthetic://{scene}/{path}/seed={seed}",
        metadata={"scene": scene, "path": path, "seed": int(seed), **scene_model.description},
    )
    return scene_model, trajectory


def render_synthetic_clip(
    scene: str = "indoor",
    path: str = "re10k",
    num_frames: int = 16,
    image_size: tuple[int, int] = (256, 256),
    seed: int = 0,
) -> SyntheticClip:
    """Renders a clip of `scene` in {indoor, outdoor, textureless} along `path` in
    {re10k, sideways, forward, orbit, rotation}; deterministic for a seed."""
    scene_model, trajectory = synthetic_setup(scene, path, num_frames, image_size, seed)
    rendering = render_views(scene_model, trajectory)
    return SyntheticClip(
        name=f"{scene}-{path}-{seed}",
        frames=rendering.frames,
        depth=rendering.depth,
        trajectory=trajectory,
    )


__all__ = [
    "PATH_KINDS",
    "SCENE_KINDS",
    "Rendering",
    "Scene",
    "SyntheticClip",
    "render_synthetic_clip",
    "render_views",
    "synthetic_setup",
]
