"""Scene families: an indoor room with furniture, the same room without texture, and an outdoor field.

A family first proposes a Stage (where cameras may go); the camera path is drawn on it; then the
family fills the scene, keeping every object clear of the path."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np

from motionflow.data.synthetic.geometry import UP, Lighting, Scene, SceneBuilder, Sky, footprint_contains
from motionflow.data.synthetic.paths import CameraPath, Stage
from motionflow.data.synthetic.textures import (
    MATERIALS,
    PHOTOGRAPHS,
    PROCEDURAL,
    cloud_texture,
    flat_texture,
    procedural_texture,
    shipped_texture,
)
from motionflow.utils.registry import Registry

FURNITURE = {
    "table": (1.2, 0.75, 0.8),
    "cabinet": (0.6, 1.8, 0.45),
    "sofa": (2.0, 0.85, 0.9),
    "bed": (2.0, 0.5, 1.6),
    "shelf": (1.0, 2.0, 0.35),
    "cube": (0.5, 0.5, 0.5),
    "desk": (1.4, 0.75, 0.7),
    "crate": (0.8, 0.8, 0.8),
}
"""Archetype sizes (width, height, depth) in metres; each placement jitters them."""
FLOOR_TEXTURES = ("planks", "tiles", "gravel", "stone")
WALL_TEXTURES = ("brick", "stone", "tiles", "checker", "dots", "page")
CEILING_TEXTURES = ("stone", "moon")
RUG_TEXTURES = ("dots", "checker", "tiles")
GROUND_TEXTURES = ("grass", "gravel", "stone", "brick")
PLACEMENT_ATTEMPTS = 60
PROCEDURAL_VARIANTS = 2

Box = tuple[np.ndarray, tuple[float, float, float], float]
"""Footprint centre (x, z), size (width, height, depth), yaw."""


class SceneFamily(ABC):
    """One kind of synthetic scene."""

    @abstractmethod
    def stage(self, rng: np.random.Generator) -> Stage:
        """The region cameras may move in, drawn before the path."""

    @abstractmethod
    def build(self, stage: Stage, path: CameraPath, rng: np.random.Generator) -> Scene:
        """The scene around `path`: no object within reach of a camera or just in front of one."""


SCENES: Registry[SceneFamily] = Registry("synthetic scene")


class _Materials:
    """Draws textures for surfaces and registers them with the builder."""

    def __init__(self, builder: SceneBuilder, rng: np.random.Generator):
        self.builder, self.rng = builder, rng
        self._procedural: dict[str, list[int]] = {}

    def photograph(self) -> tuple[int, float]:
        """A photograph's texture id and its width / height."""
        name = str(self.rng.choice(sorted(PHOTOGRAPHS)))
        image, aspect = shipped_texture(name)
        return self.builder.texture(name, image), aspect

    def surface(self, choices: tuple[str, ...] | None = None) -> int:
        """A material or a procedural texture; up to PROCEDURAL_VARIANTS of each procedural kind are
        drawn per scene, then reused (tints still vary per surface)."""
        name = str(self.rng.choice(choices or sorted(MATERIALS) + sorted(PROCEDURAL)))
        if name in MATERIALS:
            return self.builder.texture(name, shipped_texture(name)[0])
        variants = self._procedural.setdefault(name, [])
        if len(variants) < PROCEDURAL_VARIANTS:
            image = procedural_texture(name, self.rng)
            variants.append(self.builder.texture(f"{name}-{len(variants)}", image, tileable=True))
            return variants[-1]
        return variants[int(self.rng.integers(len(variants)))]

    def tint(self, low: float = 0.55) -> np.ndarray:
        return self.rng.uniform(low, 1.0, 3)


def _place_boxes(
    rng: np.random.Generator,
    count: int,
    propose: Callable[[np.random.Generator], Box],
    keep_clear: np.ndarray,
    clearance: float,
    placed: list[tuple[np.ndarray, float]] | None = None,
) -> list[Box]:
    """Rejection-samples `count` boxes from `propose(rng) -> (centre, size, yaw)`, skipping those that
    come within `clearance` of a `keep_clear` point or overlap (bounding circles) a placed box."""
    placed = list(placed or [])
    boxes = []
    for _ in range(count):
        for _ in range(PLACEMENT_ATTEMPTS):
            center, size, yaw = propose(rng)
            radius = 0.5 * float(np.hypot(size[0], size[2]))
            if np.any(footprint_contains(center, (size[0], size[2]), yaw, keep_clear, clearance)):
                continue
            if any(np.linalg.norm(center - other) < radius + other_radius for other, other_radius in placed):
                continue
            placed.append((center, radius))
            boxes.append((center, size, yaw))
            break
    return boxes


class Room(SceneFamily):
    """A closed room (floor, walls, ceiling) with furniture-like boxes, pictures and a rug; with
    `textured=False`, every surface has one flat colour (a hard case for feature matching)."""

    def __init__(self, textured: bool):
        self.textured = textured

    def stage(self, rng: np.random.Generator) -> Stage:
        width, depth, height = rng.uniform(5.0, 8.0), rng.uniform(6.0, 10.0), rng.uniform(2.6, 3.2)
        room_min, room_max = np.array([-width / 2, 0.0]), np.array([width / 2, depth])
        walk_min, walk_max = room_min + 1.0, room_max - 1.0
        return Stage(
            walk_min=walk_min,
            walk_max=walk_max,
            eye_height=(1.3, min(1.7, height - 0.9)),
            center=(room_min + room_max) / 2,
            heading=0.0,
            heading_spread=np.radians(30.0),
            travel=min(3.0, 0.4 * depth),
            orbit_radius=float(min(walk_max - walk_min) / 2),
            room_min=room_min,
            room_max=room_max,
            room_height=height,
            min_view_depth=2.0,
        )

    def build(self, stage: Stage, path: CameraPath, rng: np.random.Generator) -> Scene:
        builder = SceneBuilder()
        materials = _Materials(builder, rng)
        (x0, z0), (x1, z1) = stage.room_min, stage.room_max
        height = stage.room_height
        flat = builder.texture("flat", flat_texture(), tileable=True)

        def surface(choices: tuple[str, ...] | None = None) -> int:
            return materials.surface(choices) if self.textured else flat

        def tint(low: float = 0.55) -> np.ndarray:
            return materials.tint(low) if self.textured else rng.uniform(0.35, 0.95, 3)

        floor_tile, wall_tile = rng.uniform(0.8, 1.6), rng.uniform(1.0, 2.0)
        ceiling_y = -height
        builder.add_quad(
            [x0, 0.0, z0],
            [x1 - x0, 0, 0],
            [0, 0, z1 - z0],
            surface(FLOOR_TEXTURES),
            floor_tile,
            tint(),
            seen_from=UP,
        )
        builder.add_quad(
            [x0, ceiling_y, z0],
            [x1 - x0, 0, 0],
            [0, 0, z1 - z0],
            surface(CEILING_TEXTURES),
            2.0,
            tint(0.8),
            seen_from=-UP,
        )
        walls = [  # corner at the top left and direction to the right, as seen from inside the room
            ([x0, ceiling_y, z1], [x1 - x0, 0, 0]),  # far wall (+z)
            ([x1, ceiling_y, z1], [0, 0, z0 - z1]),  # right wall (+x)
            ([x1, ceiling_y, z0], [x0 - x1, 0, 0]),  # near wall (z0)
            ([x0, ceiling_y, z0], [0, 0, z1 - z0]),  # left wall (-x)
        ]
        wall_texture, wall_tint = surface(WALL_TEXTURES), tint()
        for origin, along in walls:
            if self.textured and rng.random() < 0.3:
                wall_texture, wall_tint = surface(WALL_TEXTURES), tint()
            inward = np.cross(along, UP)
            builder.add_quad(
                origin, along, [0, height, 0], wall_texture, wall_tile, wall_tint, seen_from=inward
            )
        if self.textured:
            self._hang_pictures(builder, materials, walls, height, rng)
            rug_size = rng.uniform(1.5, 3.0, 2)
            rug_center = rng.uniform(stage.walk_min, stage.walk_max)
            builder.add_quad(
                [rug_center[0] - rug_size[0] / 2, -0.004, rug_center[1] - rug_size[1] / 2],
                [rug_size[0], 0, 0],
                [0, 0, rug_size[1]],
                materials.surface(RUG_TEXTURES),
                None,
                tint(0.7),
                seen_from=UP,
            )

        placed = []
        if path.focus is not None:
            side = rng.uniform(0.5, 0.8)
            centerpiece = (
                path.focus[[0, 2]],
                (side, -path.focus[1] + rng.uniform(0.0, 0.3), side),
                rng.uniform(0, np.pi),
            )
            placed.append((centerpiece[0], 0.5 * np.hypot(side, side)))
            self._add_furniture(builder, surface, tint, [centerpiece], rng)

        def propose(rng: np.random.Generator) -> Box:
            size = np.array(FURNITURE[str(rng.choice(sorted(FURNITURE)))]) * rng.uniform(0.8, 1.2, 3)
            yaw = rng.choice([0.0, np.pi / 2]) if rng.random() < 0.6 else rng.uniform(0, np.pi)
            margin = 0.5 * float(np.hypot(size[0], size[2])) + 0.05
            center = rng.uniform(stage.room_min + margin, stage.room_max - margin)
            return center, tuple(size), yaw

        boxes = _place_boxes(rng, int(rng.integers(5, 10)), propose, path.probe_points(), 0.35, placed)
        self._add_furniture(builder, surface, tint, boxes, rng)

        lights = int(rng.integers(1, 3))
        lighting = Lighting(
            ambient=float(rng.uniform(0.5, 0.6)),
            light_positions=np.column_stack(
                [
                    rng.uniform(x0 + 1, x1 - 1, lights),
                    np.full(lights, ceiling_y + 0.4),
                    rng.uniform(z0 + 1, z1 - 1, lights),
                ]
            ),
            light_intensities=rng.uniform(0.5, 0.8, lights),
            light_ranges=rng.uniform(3.0, 5.0, lights),
        )
        description = {
            "room_size": [float(x1 - x0), float(height), float(z1 - z0)],
            "boxes": len(boxes) + len(placed),
        }
        return builder.build("indoor" if self.textured else "textureless", lighting, None, description)

    @staticmethod
    def _add_furniture(
        builder: SceneBuilder,
        surface: Callable[[], int],
        tint: Callable[[], np.ndarray],
        boxes: list[Box],
        rng: np.random.Generator,
    ) -> None:
        for center, size, yaw in boxes:
            textures = [surface()] if rng.random() < 0.5 else [surface(), surface()]
            builder.add_box(tuple(center), size, yaw, textures, rng.uniform(0.4, 1.0), tint())

    @staticmethod
    def _hang_pictures(
        builder: SceneBuilder,
        materials: _Materials,
        walls: list[tuple[list[float], list[float]]],
        height: float,
        rng: np.random.Generator,
    ) -> None:
        """Photographs on the walls, 1 cm in front of them, with their own aspect ratio."""
        for origin, along in walls:
            length = float(np.linalg.norm(along))
            unit_along = np.asarray(along, dtype=np.float64) / length
            inward = np.cross(unit_along, UP)
            slots = int(rng.integers(1, 3))
            for slot in range(slots):
                texture, aspect = materials.photograph()
                picture_height = rng.uniform(0.7, 1.3)
                picture_width = min(picture_height * aspect, 0.8 * length / slots)
                picture_height = picture_width / aspect
                center_along = (slot + 0.5) / slots * length + rng.uniform(-0.1, 0.1) * length / slots
                center_height = min(rng.uniform(1.2, 1.8), height - picture_height / 2 - 0.1)
                corner = (
                    np.asarray(origin, dtype=np.float64)
                    + unit_along * (center_along - picture_width / 2)
                    + np.array([0.0, height - center_height - picture_height / 2, 0.0])
                    + 0.01 * inward
                )
                builder.add_quad(
                    corner, unit_along * picture_width, [0.0, picture_height, 0.0], texture, seen_from=inward
                )


class Field(SceneFamily):
    """Outdoors: a textured ground plane with patches, sky, and boxes and billboards from 4 m to ~60 m."""

    def stage(self, rng: np.random.Generator) -> Stage:
        return Stage(
            walk_min=np.array([-8.0, -8.0]),
            walk_max=np.array([8.0, 8.0]),
            eye_height=(1.5, 2.2),
            center=np.zeros(2),
            heading=None,
            heading_spread=np.pi,
            travel=float(rng.uniform(4.0, 7.0)),
            orbit_radius=float(rng.uniform(5.0, 7.0)),
        )

    def build(self, stage: Stage, path: CameraPath, rng: np.random.Generator) -> Scene:
        builder = SceneBuilder()
        materials = _Materials(builder, rng)
        extent = 200.0
        ground = materials.surface(GROUND_TEXTURES)
        builder.add_quad(
            [-extent, 0.0, -extent],
            [2 * extent, 0, 0],
            [0, 0, 2 * extent],
            ground,
            rng.uniform(2.0, 4.0),
            materials.tint(0.5),
            seen_from=UP,
        )

        self._add_ground_patches(builder, materials, stage, rng)

        placed = []
        if path.focus is not None:
            side = rng.uniform(1.0, 2.0)
            center = path.focus[[0, 2]]
            placed.append((center, 0.5 * np.hypot(side, side)))
            builder.add_box(
                tuple(center),
                (side, rng.uniform(1.5, 3.0), side),
                rng.uniform(0, np.pi),
                [materials.surface(), materials.photograph()[0]],
                None,
                materials.tint(),
            )

        def propose(rng: np.random.Generator) -> Box:
            distance = float(np.exp(rng.uniform(np.log(4.0), np.log(60.0))))
            angle = rng.uniform(-np.pi, np.pi)
            center = np.array([np.sin(angle), np.cos(angle)]) * distance
            scale = 1.0 + distance / 15.0
            size = (
                rng.uniform(1.0, 3.0) * scale,
                rng.uniform(1.0, 4.0) * (1.0 + distance / 20.0),
                rng.uniform(1.0, 3.0) * scale,
            )
            return center, size, rng.uniform(0, np.pi)

        boxes = _place_boxes(
            rng, int(rng.integers(40, 60)), propose, path.probe_points((0.0, 1.5, 3.0)), 1.5, placed
        )
        for center, size, yaw in boxes:
            photo = rng.random() < 0.3
            textures = [materials.photograph()[0]] if photo else [materials.surface()]
            tile = None if photo else rng.uniform(1.0, 3.0)
            builder.add_box(tuple(center), size, yaw, textures, tile, materials.tint())
        for _ in range(int(rng.integers(3, 6))):
            self._add_billboard(builder, materials, rng)

        sun_elevation, sun_azimuth = rng.uniform(np.radians(25), np.radians(60)), rng.uniform(-np.pi, np.pi)
        lighting = Lighting(
            ambient=float(rng.uniform(0.45, 0.55)),
            sun_direction=np.array(
                [
                    np.cos(sun_elevation) * np.sin(sun_azimuth),
                    -np.sin(sun_elevation),
                    np.cos(sun_elevation) * np.cos(sun_azimuth),
                ]
            ),
            sun_intensity=float(rng.uniform(0.5, 0.7)),
        )
        horizon = rng.uniform([0.75, 0.8, 0.85], [0.9, 0.92, 0.97])
        sky = Sky(
            zenith=rng.uniform([0.2, 0.4, 0.75], [0.4, 0.6, 0.95]),
            horizon=horizon,
            cloud_texture=builder.texture("clouds", cloud_texture(rng), tileable=True),
            cloud_scale=float(rng.uniform(0.35, 0.7)),
            haze_distance=float(rng.uniform(200.0, 350.0)),
        )
        return builder.build("outdoor", lighting, sky, {"boxes": len(boxes) + len(placed)})

    @staticmethod
    def _add_ground_patches(
        builder: SceneBuilder, materials: _Materials, stage: Stage, rng: np.random.Generator
    ) -> None:
        """Flat patches of other textures lying on the ground around the walkable area (paths, paving,
        flower beds): they break the repetition of the ground texture, which confuses feature matching."""
        for index in range(int(rng.integers(12, 20))):
            center = stage.center + rng.uniform(-25.0, 25.0, 2)
            width, depth = rng.uniform(2.0, 6.0, 2)
            yaw = rng.uniform(0, np.pi)
            along_x = np.array([np.cos(yaw), 0.0, -np.sin(yaw)]) * width
            along_z = np.array([np.sin(yaw), 0.0, np.cos(yaw)]) * depth
            lift = 0.002 * (index + 1)  # distinct heights: overlapping patches never tie in depth
            corner = np.array([center[0], -lift, center[1]]) - along_x / 2 - along_z / 2
            photo = rng.random() < 0.3
            texture = materials.photograph()[0] if photo else materials.surface()
            tile = None if photo else rng.uniform(1.0, 2.5)
            builder.add_quad(corner, along_x, along_z, texture, tile, materials.tint(0.6), seen_from=UP)

    @staticmethod
    def _add_billboard(builder: SceneBuilder, materials: _Materials, rng: np.random.Generator) -> None:
        """A photograph standing upright, 14-40 m from the centre (beyond the walkable area), facing it."""
        texture, aspect = materials.photograph()
        distance, angle = rng.uniform(14.0, 40.0), rng.uniform(-np.pi, np.pi)
        center = np.array([np.sin(angle), 0.0, np.cos(angle)]) * distance
        width = rng.uniform(3.0, 8.0)
        height = width / aspect
        along = np.array([np.cos(angle), 0.0, -np.sin(angle)])
        corner = center - along * width / 2 + np.array([0.0, -(height + rng.uniform(0.0, 2.0)), 0.0])
        builder.add_quad(corner, along * width, [0.0, height, 0.0], texture, seen_from=-center)


SCENES.register("indoor")(Room(textured=True))
SCENES.register("textureless")(Room(textured=False))
SCENES.register("outdoor")(Field())
