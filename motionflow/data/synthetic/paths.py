"""Camera paths through a synthetic scene, as continuous functions of the clip time s in [0, 1].

A path spans the same motion whatever the number of frames: `num_frames` only sets how densely it is
sampled, so a 128-frame clip moves 8 times less per frame than a 16-frame one of the same seed.
Angles: yaw about the world's vertical (positive turns right), pitch positive looks up, roll about the
viewing axis. World y points down (see geometry.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from motionflow.camera.poses import look_at
from motionflow.utils.registry import Registry

PATH_SAMPLES = 65
"""Samples used to check that a path stays in the walkable area (independent of num_frames)."""
MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class Stage:
    """Where cameras may go in a scene: the walkable box (x, z), eye heights, preferred viewing
    direction, and the interior walls (if any) that the view must not face too closely."""

    walk_min: np.ndarray
    walk_max: np.ndarray
    eye_height: tuple[float, float]
    center: np.ndarray
    heading: float | None
    """Preferred yaw of the view (radians, 0 = world +z); None: any direction."""
    heading_spread: float
    travel: float
    """Typical distance (m) a translating path covers."""
    orbit_radius: float
    room_min: np.ndarray | None = None
    room_max: np.ndarray | None = None
    room_height: float | None = None
    min_view_depth: float = 0.0

    def contains(self, positions_xz: np.ndarray) -> bool:
        return bool(np.all((positions_xz >= self.walk_min) & (positions_xz <= self.walk_max)))

    def view_depth(self, positions_xz: np.ndarray, yaws: np.ndarray) -> np.ndarray:
        """Horizontal distance from each position to the room's wall straight ahead (inf outdoors)."""
        if self.room_min is None or self.room_max is None:
            return np.full(len(positions_xz), np.inf)
        direction = np.stack([np.sin(yaws), np.cos(yaws)], axis=1)
        with np.errstate(divide="ignore"):
            to_min = (self.room_min - positions_xz) / direction
            to_max = (self.room_max - positions_xz) / direction
        exits = np.maximum(to_min, to_max)
        return exits.min(axis=1)

    def sample_heading(self, rng: np.random.Generator) -> float:
        if self.heading is None:
            return float(rng.uniform(-np.pi, np.pi))
        return float(self.heading + rng.uniform(-self.heading_spread, self.heading_spread))

    def sample_position(self, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.walk_min, self.walk_max)

    def sample_eye_height(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(*self.eye_height))


@dataclass(frozen=True)
class CameraPath:
    """c2w poses (OpenCV axes) as a function of s in [0, 1]; `focus` is the point an orbit circles."""

    pose_at: Callable[[np.ndarray], np.ndarray]
    focus: np.ndarray | None = None

    def poses(self, num_frames: int) -> np.ndarray:
        return self.pose_at(np.linspace(0.0, 1.0, num_frames))

    def probe_points(self, ahead: tuple[float, ...] = (0.0, 0.5, 1.0)) -> np.ndarray:
        """Horizontal points (x, z) [N, 2] that objects must keep clear of: the camera centres and
        points `ahead` metres in front of them, along the path."""
        poses = self.pose_at(np.linspace(0.0, 1.0, PATH_SAMPLES))
        forward = poses[:, [0, 2], 2]
        forward = forward / np.maximum(np.linalg.norm(forward, axis=1, keepdims=True), 1e-9)
        centres = poses[:, [0, 2], 3]
        return np.concatenate([centres + distance * forward for distance in ahead])


PathGenerator = Callable[[Stage, np.random.Generator], CameraPath]
PATHS: Registry[PathGenerator] = Registry("camera path")


def rotation_from_angles(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Camera-to-world rotations [N, 3, 3] (OpenCV camera axes, world y down): R_yaw R_pitch R_roll."""
    yaw, pitch, roll = np.broadcast_arrays(
        *(np.asarray(angle, dtype=np.float64) for angle in (yaw, pitch, roll))
    )
    zeros, ones = np.zeros_like(yaw), np.ones_like(yaw)

    def stack(rows: list[list[np.ndarray]]) -> np.ndarray:
        return np.stack([np.stack(row, axis=-1) for row in rows], axis=-2)

    cy, sy, cp, sp, cr, sr = (
        np.cos(yaw),
        np.sin(yaw),
        np.cos(pitch),
        np.sin(pitch),
        np.cos(roll),
        np.sin(roll),
    )
    about_vertical = stack([[cy, zeros, sy], [zeros, ones, zeros], [-sy, zeros, cy]])
    about_x = stack([[ones, zeros, zeros], [zeros, cp, -sp], [zeros, sp, cp]])
    about_z = stack([[cr, -sr, zeros], [sr, cr, zeros], [zeros, zeros, ones]])
    return about_vertical @ about_x @ about_z


def _poses(rotations: np.ndarray, centres: np.ndarray) -> np.ndarray:
    poses = np.tile(np.eye(4), (len(rotations), 1, 1))
    poses[:, :3, :3] = rotations
    poses[:, :3, 3] = centres
    return poses


def _smoothstep(s: np.ndarray) -> np.ndarray:
    return s * s * (3.0 - 2.0 * s)


def _wave(s: np.ndarray, amplitude: float, frequency: float, phase: float) -> np.ndarray:
    """A sinusoid that is 0 at s = 0 (so the first pose is exactly the sampled start)."""
    return amplitude * (np.sin(2 * np.pi * frequency * s + phase) - np.sin(phase))


@dataclass(frozen=True)
class _Translation:
    """Travel along `direction` with an eased speed, a lateral wobble and a turn of yaw."""

    start: np.ndarray
    direction: np.ndarray
    travel: float
    ease: float
    heading: float
    turn: float
    pitch: float
    wobble: float
    waves: np.ndarray
    """Frequencies and phases of the wobble terms."""

    def __call__(self, s: np.ndarray) -> np.ndarray:
        frequency, phase = self.waves[0::2], self.waves[1::2]
        across = np.array([self.direction[2], 0.0, -self.direction[0]])
        progress = (1.0 - self.ease) * s + self.ease * _smoothstep(s)
        lateral = _wave(s, self.wobble * self.travel, frequency[0], phase[0])
        centres = self.start + np.outer(self.travel * progress, self.direction) + np.outer(lateral, across)
        centres[:, 1] += _wave(s, 0.15 * self.wobble * self.travel, frequency[1], phase[1])
        yaw = (
            self.heading
            + self.turn * _smoothstep(s)
            + _wave(s, np.radians(60.0) * self.wobble, frequency[2], phase[2])
        )
        pitch = self.pitch + _wave(s, np.radians(30.0) * self.wobble, frequency[1], phase[2])
        roll = _wave(s, np.radians(10.0) * self.wobble, frequency[2], phase[0])
        return _poses(rotation_from_angles(yaw, pitch, roll), centres)


def _translating_path(
    stage: Stage, rng: np.random.Generator, sideways_probability: float, yaw_change: float, wobble: float
) -> CameraPath:
    """A camera moving along a line (plus `wobble`) while its yaw turns by up to `yaw_change`.

    Retries starts and directions until the whole path stays walkable and keeps a wall at least
    `stage.min_view_depth` ahead."""
    probe = np.linspace(0.0, 1.0, PATH_SAMPLES)
    for attempt in range(MAX_ATTEMPTS):
        shrink = 1.0 - 0.5 * attempt / MAX_ATTEMPTS
        heading = stage.sample_heading(rng)
        sideways = rng.random() < sideways_probability
        motion_angle = heading + rng.normal(0.0, np.radians(10.0))
        if sideways:
            motion_angle += rng.choice([-1.0, 1.0]) * np.pi / 2
        start_xz = stage.sample_position(rng)
        motion = _Translation(
            start=np.array([start_xz[0], -stage.sample_eye_height(rng), start_xz[1]]),
            direction=np.array([np.sin(motion_angle), 0.0, np.cos(motion_angle)]),
            travel=stage.travel * shrink * rng.uniform(0.6, 1.0) * (0.7 if sideways else 1.0),
            ease=rng.uniform(0.0, 0.6),
            heading=heading,
            turn=rng.uniform(-yaw_change, yaw_change),
            pitch=rng.normal(0.0, np.radians(4.0)),
            wobble=wobble,
            waves=rng.uniform([0.4, 0.0] * 3, [1.5, 2 * np.pi] * 3),
        )
        poses = motion(probe)
        positions = poses[:, [0, 2], 3]
        yaws = np.arctan2(poses[:, 0, 2], poses[:, 2, 2])
        if stage.contains(positions) and stage.view_depth(positions, yaws).min() >= stage.min_view_depth:
            return CameraPath(motion)
    raise RuntimeError(f"no path fits the stage after {MAX_ATTEMPTS} attempts")


@PATHS.register("re10k")
def re10k_path(stage: Stage, rng: np.random.Generator) -> CameraPath:
    """Like RealEstate10K: smooth, mostly forward (sometimes sideways) motion with a turn of yaw."""
    return _translating_path(stage, rng, sideways_probability=0.35, yaw_change=np.radians(35.0), wobble=0.05)


@PATHS.register("forward")
def forward_path(stage: Stage, rng: np.random.Generator) -> CameraPath:
    """Dolly forward along the viewing direction, orientation fixed."""
    return _translating_path(stage, rng, sideways_probability=0.0, yaw_change=0.0, wobble=0.0)


@PATHS.register("sideways")
def sideways_path(stage: Stage, rng: np.random.Generator) -> CameraPath:
    """Truck left or right, orientation fixed."""
    return _translating_path(stage, rng, sideways_probability=1.0, yaw_change=0.0, wobble=0.0)


@dataclass(frozen=True)
class _Orbit:
    """An arc of a horizontal circle around `focus`, looking at it."""

    focus: np.ndarray
    radius: float
    start_angle: float
    arc: float
    height: float

    def __call__(self, s: np.ndarray) -> np.ndarray:
        angles = self.start_angle + self.arc * s
        eyes = np.stack(
            [
                self.focus[0] + self.radius * np.sin(angles),
                np.full_like(angles, self.height),
                self.focus[2] + self.radius * np.cos(angles),
            ],
            axis=1,
        )
        return np.stack([look_at(eye, self.focus) for eye in eyes])


@PATHS.register("orbit")
def orbit_path(stage: Stage, rng: np.random.Generator) -> CameraPath:
    """An arc around a focus point near the stage centre, always looking at it."""
    probe = np.linspace(0.0, 1.0, PATH_SAMPLES)
    for attempt in range(MAX_ATTEMPTS):
        shrink = 1.0 - 0.5 * attempt / MAX_ATTEMPTS
        focus_xz = stage.center + rng.uniform(-0.3, 0.3, 2)
        arc = rng.choice([-1.0, 1.0]) * rng.uniform(np.radians(40.0), np.radians(80.0))
        motion = _Orbit(
            focus=np.array([focus_xz[0], -rng.uniform(0.5, 1.0), focus_xz[1]]),
            radius=stage.orbit_radius * shrink * rng.uniform(0.7, 1.0),
            start_angle=stage.sample_heading(rng) + np.pi - arc / 2,
            arc=arc,
            height=-stage.sample_eye_height(rng),
        )
        if stage.contains(motion(probe)[:, [0, 2], 3]):
            return CameraPath(motion, focus=motion.focus)
    raise RuntimeError(f"no orbit fits the stage after {MAX_ATTEMPTS} attempts")


@dataclass(frozen=True)
class _Rotation:
    """A fixed centre; yaw sweeps by `sweep` (eased), pitch rises and falls by `tilt`."""

    center: np.ndarray
    heading: float
    sweep: float
    tilt: float
    pitch: float

    def __call__(self, s: np.ndarray) -> np.ndarray:
        yaw = self.heading + self.sweep * (_smoothstep(s) - 0.5)
        pitch = self.pitch + self.tilt * np.sin(np.pi * s)
        return _poses(rotation_from_angles(yaw, pitch, np.zeros_like(s)), np.tile(self.center, (len(s), 1)))


@PATHS.register("rotation")
def rotation_path(stage: Stage, rng: np.random.Generator) -> CameraPath:
    """Pure rotation: the camera centre stays fixed while it pans (and tilts a little)."""
    center_xz = stage.center + rng.uniform(-0.3, 0.3, 2)
    motion = _Rotation(
        center=np.array([center_xz[0], -stage.sample_eye_height(rng), center_xz[1]]),
        heading=stage.sample_heading(rng),
        sweep=rng.choice([-1.0, 1.0]) * rng.uniform(np.radians(45.0), np.radians(100.0)),
        tilt=rng.uniform(-np.radians(10.0), np.radians(10.0)),
        pitch=rng.normal(0.0, np.radians(4.0)),
    )
    return CameraPath(motion)
