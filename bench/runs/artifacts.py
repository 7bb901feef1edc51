"""Video folders of a run (ground truth and generated): frames, MP4, cameras, and a meta file written
last. The meta file is the commit marker: a folder without it, or whose meta has another cache key,
is incomplete or stale and is rewritten."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.runs.layout import CAMERA_FILE, FRAMES_DIR, META_FILE, VIDEO_FILE
from motionflow.camera.json_format import read_trajectory_json, write_trajectory_json
from motionflow.camera.trajectory import Trajectory
from motionflow.data.video_io import read_frames, write_frames, write_video
from motionflow.utils.io import atomic_write_json


def read_meta(directory: Path) -> dict[str, Any] | None:
    try:
        return json.loads((directory / META_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def is_complete(directory: Path, cache_key: str) -> bool:
    meta = read_meta(directory)
    return meta is not None and meta.get("cache_key") == cache_key


def write_video_folder(
    directory: Path, frames: np.ndarray, trajectory: Trajectory, cache_key: str, meta: dict[str, Any]
) -> None:
    """Writes frames (PNG, lossless: metrics read these), the MP4 (for people), cameras, then the meta."""
    (directory / META_FILE).unlink(missing_ok=True)
    write_frames(directory / FRAMES_DIR, frames)
    write_video(directory / VIDEO_FILE, frames)
    write_trajectory_json(directory / CAMERA_FILE, trajectory)
    atomic_write_json(directory / META_FILE, {**meta, "cache_key": cache_key, "num_frames": len(frames)})


def read_video_folder(directory: Path) -> tuple[np.ndarray, Trajectory]:
    return read_frames(directory / FRAMES_DIR), read_trajectory_json(directory / CAMERA_FILE)
