"""Synthetic scenes as sets of textured rectangles ("quads"), with their lighting and sky.

World frame: metres, y points DOWN (like an OpenCV camera held upright), the floor / ground is y = 0,
so a camera 1.5 m above it has y = -1.5."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from motionflow.data.synthetic.textures import TEXTURE_SIZE, TextureAtlas

UP = np.array([0.0, -1.0, 0.0])


@dataclass(frozen=True)
class Quads:
    """Q rectangles: corner `origin`, perpendicular edges `edge_u`, `edge_v` (the texture's s and t axes).

    `repeats` [Q, 2] is how many times the texture repeats along each edge, `tint` [Q, 3] multiplies
    its colour. `facing` [Q, 3] is the unit normal of the side that can be seen (a box face's outside,
    a wall's inside), or zero for a quad seen from both sides; cameras behind it skip the quad."""

    origin: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    texture: np.ndarray
    repeats: np.ndarray
    tint: np.ndarray
    facing: np.ndarray

    def __len__(self) -> int:
        return len(self.origin)

    @property
    def normal(self) -> np.ndarray:
        normal = np.cross(self.edge_u, self.edge_v)
        return normal / np.linalg.norm(normal, axis=1, keepdims=True)

    @property
    def corners(self) -> np.ndarray:
        """[Q, 4, 3]"""
        o, u, v = self.origin, self.edge_u, self.edge_v
        return np.stack([o, o + u, o + u + v, o + v], axis=1)

    @property
    def texels_per_metre(self) -> np.ndarray:
        """Level-0 texture density, which drives mip-level selection."""
        per_u = TEXTURE_SIZE * self.repeats[:, 0] / np.linalg.norm(self.edge_u, axis=1)
        per_v = TEXTURE_SIZE * self.repeats[:, 1] / np.linalg.norm(self.edge_v, axis=1)
        return np.maximum(per_u, per_v)


@dataclass(frozen=True)
class Lighting:
    """Lambertian shading, view-independent (so a surface point has the same colour in every frame):
    ambient + sun (directional) + point lights with a soft 1 / (1 + (d / range)^2) falloff."""

    ambient: float
    sun_direction: np.ndarray | None = None
    """Unit vector from the scene towards the sun."""
    sun_intensity: float = 0.0
    light_positions: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    light_intensities: np.ndarray = field(default_factory=lambda: np.zeros(0))
    light_ranges: np.ndarray = field(default_factory=lambda: np.ones(0))


@dataclass(frozen=True)
class Sky:
    """What rays that hit nothing see: a zenith-to-horizon gradient with clouds at infinity; far
    surfaces fade towards the horizon colour over `haze_distance` metres."""

    zenith: np.ndarray
    horizon: np.ndarray
    cloud_texture: int
    cloud_scale: float
    haze_distance: float


@dataclass(frozen=True)
class Scene:
    kind: str
    quads: Quads
    atlas: TextureAtlas
    lighting: Lighting
    sky: Sky | None
    description: dict = field(default_factory=dict)


class SceneBuilder:
    """Collects textures and quads, then freezes them into a Scene."""

    def __init__(self) -> None:
        self._images: list[np.ndarray] = []
        self._tileable: list[bool] = []
        self._texture_ids: dict[str, int] = {}
        self._quads: list[
            tuple[np.ndarray, np.ndarray, np.ndarray, int, tuple[float, float], np.ndarray]
        ] = []

    def texture(self, key: str, image: np.ndarray | None = None, tileable: bool = False) -> int:
        """The id of texture `key`, adding `image` under that key the first time. Tileable textures
        repeat periodically, others mirrored (no seams either way)."""
        if key not in self._texture_ids:
            if image is None:
                raise KeyError(f"texture {key!r} has not been added")
            self._texture_ids[key] = len(self._images)
            self._images.append(image)
            self._tileable.append(tileable)
        return self._texture_ids[key]

    def add_quad(
        self,
        origin: np.ndarray,
        edge_u: np.ndarray,
        edge_v: np.ndarray,
        texture: int,
        tile: float | None = None,
        tint: np.ndarray | tuple[float, float, float] = (1.0, 1.0, 1.0),
        seen_from: np.ndarray | tuple[float, float, float] | None = None,
    ) -> None:
        """One rectangle. `tile`: world size (m) of one texture repeat; None stretches the texture once.
        `seen_from`: a direction pointing to the side it is seen from (None: both sides)."""
        origin, edge_u, edge_v = (np.asarray(value, dtype=np.float64) for value in (origin, edge_u, edge_v))
        length_u, length_v = np.linalg.norm(edge_u), np.linalg.norm(edge_v)
        if min(length_u, length_v) <= 0 or abs(edge_u @ edge_v) > 1e-9 * length_u * length_v:
            raise ValueError("quad edges must be non-zero and perpendicular")
        repeats = (1.0, 1.0) if tile is None else (length_u / tile, length_v / tile)
        facing = np.zeros(3)
        if seen_from is not None:
            normal = np.cross(edge_u, edge_v) / (length_u * length_v)
            facing = normal if normal @ np.asarray(seen_from) > 0 else -normal
        self._quads.append(
            (origin, edge_u, edge_v, texture, repeats, np.asarray(tint, dtype=np.float64), facing)
        )

    def add_box(
        self,
        center: tuple[float, float],
        size: tuple[float, float, float],
        yaw: float,
        textures: list[int],
        tile: float | None,
        tint: np.ndarray | tuple[float, float, float] = (1.0, 1.0, 1.0),
        base_height: float = 0.0,
    ) -> None:
        """A box standing on the plane y = -base_height: footprint centre (x, z), size (width along
        its x, height, depth along its z), turned by `yaw` about the vertical. Five faces (the bottom
        is never seen); face i gets textures[i % len(textures)]."""
        width, height, depth = size
        cos_yaw, sin_yaw = np.cos(yaw), np.sin(yaw)
        axis_x = np.array([cos_yaw, 0.0, -sin_yaw]) * width
        axis_z = np.array([sin_yaw, 0.0, cos_yaw]) * depth
        up = UP * height
        corner = np.array([center[0], -base_height, center[1]]) - axis_x / 2 - axis_z / 2
        faces = [
            (corner + up, axis_x, -up, -axis_z),  # front (-z side)
            (corner + axis_z + axis_x + up, -axis_x, -up, axis_z),  # back
            (corner + axis_z + up, -axis_z, -up, -axis_x),  # left
            (corner + axis_x + up, axis_z, -up, axis_x),  # right
            (corner + up, axis_x, axis_z, up),  # top
        ]
        for index, (origin, edge_u, edge_v, outside) in enumerate(faces):
            self.add_quad(
                origin, edge_u, edge_v, textures[index % len(textures)], tile, tint, seen_from=outside
            )

    def build(self, kind: str, lighting: Lighting, sky: Sky | None, description: dict) -> Scene:
        origin, edge_u, edge_v, texture, repeats, tint, facing = (
            np.array(values) for values in zip(*self._quads, strict=True)
        )
        quads = Quads(
            origin=origin,
            edge_u=edge_u,
            edge_v=edge_v,
            texture=texture.astype(np.int64),
            repeats=repeats.astype(np.float64),
            tint=tint.astype(np.float64),
            facing=facing.astype(np.float64),
        )
        return Scene(
            kind, quads, TextureAtlas.build(self._images, self._tileable), lighting, sky, description
        )


def footprint_contains(
    center: tuple[float, float], size: tuple[float, float], yaw: float, points: np.ndarray, margin: float
) -> np.ndarray:
    """Which horizontal points (x, z) [N, 2] lie within `margin` of a box footprint (width, depth)."""
    offset = np.asarray(points) - np.asarray(center)
    cos_yaw, sin_yaw = np.cos(yaw), np.sin(yaw)
    local_x = offset[:, 0] * cos_yaw - offset[:, 1] * sin_yaw
    local_z = offset[:, 0] * sin_yaw + offset[:, 1] * cos_yaw
    return (np.abs(local_x) <= size[0] / 2 + margin) & (np.abs(local_z) <= size[1] / 2 + margin)
