"""A small run directory in the real layout and file formats: tiny MP4s, PNG frames, camera.json files,
pose estimates and a records table with ok, failed, undefined and not_computed rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.pose_runner import PoseRecord, write_record
from bench.runs.layout import (
    CAMERA_FILE,
    FRAMES_DIR,
    GROUND_TRUTH,
    RECORD_COLUMNS,
    STILL_CAMERA,
    VIDEO_FILE,
    RunLayout,
    VideoKey,
)
from bench.sfm_adapters.base import PoseEstimate, empty_estimate
from motionflow.camera.intrinsics import intrinsics_matrix
from motionflow.camera.json_format import write_trajectory_json
from motionflow.camera.poses import rotation_about_axis
from motionflow.camera.trajectory import Trajectory
from motionflow.data.video_io import write_frames, write_video
from motionflow.utils.io import atomic_write_text, content_hash, sha256_file

NUM_FRAMES = 8
IMAGE_SIZE = (48, 64)
KEYS = (
    VideoKey("synthetic-indoor", "basic", "room-0"),
    VideoKey("synthetic-indoor", "difficult", "room-1"),
)
METHODS = ("motionflow", "static")
ESTIMATOR = "colmap"
METHOD_COLOURS = {"motionflow": (255, 0, 255), "static": (0, 200, 255)}
"""Flat colours no other part of the page uses, so a screenshot shows whether the videos were painted."""
GROUND_TRUTH_TRIALS = 2
UNREGISTERED_FRAMES = (3, 4)
"""Frames the estimate of the motionflow video of the first clip did not register."""


@dataclass(frozen=True)
class BuiltRun:
    root: Path
    records: pd.DataFrame

    @property
    def layout(self) -> RunLayout:
        return RunLayout(self.root)


def camera_path(num_frames: int = NUM_FRAMES, scale: float = 1.0) -> np.ndarray:
    """c2w [F, 4, 4]: forward along a curve, turning about the vertical axis and rising (y down)."""
    c2w = np.repeat(np.eye(4)[None], num_frames, axis=0)
    for index in range(num_frames):
        step = index / (num_frames - 1)
        c2w[index, :3, :3] = rotation_about_axis([0.0, 1.0, 0.0], 0.4 * step)
        c2w[index, :3, 3] = scale * np.array([0.5 * step**2, -0.2 * step, 2.0 * step])
    return c2w


def trajectory(c2w: np.ndarray) -> Trajectory:
    height, width = IMAGE_SIZE
    return Trajectory(c2w, intrinsics_matrix(60.0, 60.0, width / 2, height / 2), IMAGE_SIZE, source="test")


def ground_truth_frames(seed: int) -> np.ndarray:
    """A moving grey-level gradient with a white bar: textured, and free of the method colours."""
    height, width = IMAGE_SIZE
    rng = np.random.default_rng(seed)
    base = np.linspace(40, 160, width, dtype=np.float64)[None, :, None] * np.ones((height, 1, 3))
    frames = []
    for index in range(NUM_FRAMES):
        frame = np.roll(base, 4 * index, axis=1) + rng.integers(0, 20, size=(height, width, 1))
        frame[:, 6 * index : 6 * index + 4] = 250
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return np.stack(frames)


def method_frames(method: str) -> np.ndarray:
    height, width = IMAGE_SIZE
    frames = np.empty((NUM_FRAMES, height, width, 3), dtype=np.uint8)
    frames[:] = METHOD_COLOURS[method]
    for index in range(NUM_FRAMES):
        frames[index, :, 5 * index : 5 * index + 6] = 0
    return frames


def pose_estimate(c2w_world: np.ndarray, registered: np.ndarray, failure_reason: str | None) -> PoseEstimate:
    """An estimate in an arbitrary world frame and scale, as an estimator returns it; identity where
    a frame is not registered."""
    world = np.eye(4)
    world[:3, :3] = rotation_about_axis([1.0, 2.0, 0.5], 0.7)
    world[:3, 3] = [3.0, -1.0, 2.0]
    c2w = world @ c2w_world
    c2w[~registered] = np.eye(4)
    height, width = IMAGE_SIZE
    return PoseEstimate(
        estimator=ESTIMATOR,
        c2w=c2w,
        intrinsics=intrinsics_matrix(58.0, 58.0, width / 2, height / 2),
        registered=registered,
        image_size=IMAGE_SIZE,
        failure_reason=failure_reason,
        num_points=120,
    )


def write_pose(layout: RunLayout, source: str, key: VideoKey, trial: int, estimate: PoseEstimate) -> None:
    """The pose runner's file for one trial of the video of `source`."""
    video = layout.source_dir(source, key) / VIDEO_FILE
    video_sha256 = sha256_file(video)
    record = PoseRecord(
        video_name=layout.pose_video_name(source, key),
        video_path=str(video),
        video_sha256=video_sha256,
        trial=trial,
        seed=trial,
        cache_key=content_hash(video_sha256, ESTIMATOR, trial),
        estimate=estimate,
    )
    write_record(layout.pose_file(ESTIMATOR, source, key, trial), record)


def record(
    key: VideoKey,
    method: str,
    estimator: str,
    metric: str,
    value: float | None,
    status: str,
    reason: str = "",
) -> dict:
    return {
        "dataset": key.dataset,
        "family": "re10k",
        "trajectory_set": key.trajectory_set,
        "clip": key.clip,
        "method": method,
        "estimator": estimator,
        "trial": 0,
        "metric": metric,
        "value": value,
        "status": status,
        "reason": reason,
        "n": 1 if status == "ok" else 0,
    }


def build_run(root: Path) -> BuiltRun:
    layout = RunLayout(root)
    atomic_write_text(
        layout.manifest,
        json.dumps(
            {
                "suite": "smoke",
                "seeds": [0, 1],
                "settings": {"num_frames": NUM_FRAMES, "preset": "motionflow"},
                "sources": [{"source": "synthetic-indoor", "count": len(KEYS)}],
            }
        ),
    )
    all_registered = np.ones(NUM_FRAMES, dtype=bool)
    partly_registered = all_registered.copy()
    partly_registered[list(UNREGISTERED_FRAMES)] = False
    rows = []
    for clip_index, key in enumerate(KEYS):
        clip_dir = layout.clip_dir(key)
        frames = ground_truth_frames(clip_index)
        write_video(clip_dir / VIDEO_FILE, frames)
        write_frames(clip_dir / FRAMES_DIR, frames)
        c2w = camera_path()
        write_trajectory_json(clip_dir / CAMERA_FILE, trajectory(c2w))
        for trial in range(GROUND_TRUTH_TRIALS):
            write_pose(
                layout,
                GROUND_TRUTH,
                key,
                trial,
                pose_estimate(_scaled(c2w, 2.5 + trial), all_registered, None),
            )
        for method in METHODS:
            video_dir = layout.video_dir(method, key)
            write_video(video_dir / VIDEO_FILE, method_frames(method))
            write_trajectory_json(video_dir / CAMERA_FILE, trajectory(c2w))
            atomic_write_text(video_dir / "meta.json", json.dumps({"method": method, "seed": 0}))
        unregistered_reason = (
            f"{len(UNREGISTERED_FRAMES)} of {NUM_FRAMES} frames not registered (frames 3, 4)"
        )
        if clip_index == 0:
            estimate = pose_estimate(_scaled(c2w, 0.7), partly_registered, unregistered_reason)
        else:
            estimate = pose_estimate(c2w, all_registered, None)
        write_pose(layout, "motionflow", key, 0, estimate)
        write_pose(
            layout, "static", key, 0, empty_estimate(ESTIMATOR, NUM_FRAMES, IMAGE_SIZE, "no frame registered")
        )
        motionflow_status = ("failed", unregistered_reason) if clip_index == 0 else ("ok", "")
        for metric in ("RotErr", "TransErr"):
            value = None if motionflow_status[0] == "failed" else 0.1 * (clip_index + 1)
            rows.append(record(key, "motionflow", ESTIMATOR, metric, value, *motionflow_status))
            rows.append(record(key, "static", ESTIMATOR, metric, None, "failed", "no frame registered"))
            rows.append(record(key, STILL_CAMERA, ESTIMATOR, metric, 0.5, "ok"))
        for method in METHODS:
            rows.append(record(key, method, "", "PSNR", 20.0 + clip_index, "ok"))
            rows.append(
                record(key, method, "", "LPIPS", None, "not_computed", "not computed: lpips/alex.pth missing")
            )
    rows.append(
        record(
            VideoKey("synthetic-indoor", "basic", "*"),
            "static",
            "",
            "FID",
            None,
            "undefined",
            "N=2 < 2048 features",
        )
    )
    records = pd.DataFrame(rows, columns=list(RECORD_COLUMNS))
    layout.records_dir.mkdir(parents=True, exist_ok=True)
    records.to_parquet(layout.records_file(), index=False)
    return BuiltRun(root, records)


def _scaled(c2w: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """The same path with translations multiplied by `scale` (a different reconstruction scale)."""
    scaled = c2w.copy()
    scaled[:, :3, 3] *= scale
    return scaled
