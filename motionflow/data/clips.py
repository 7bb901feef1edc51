"""Clips (frames + cameras) and the interface of on-disk datasets of clips.

A dataset lists clip names without loading anything; `load(name)` reads one clip or raises a
ClipError naming it; `iter_clips(skip_invalid=True)` skips bad clips with a warning and records them
in `skipped`, so that a caller can report them instead of silently losing them."""

from __future__ import annotations

import contextlib
import os
import shutil
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionflow.camera.trajectory import Trajectory
from motionflow.data.video_io import check_video_array
from motionflow.errors import MotionFlowError
from motionflow.utils.registry import Registry


class ClipError(MotionFlowError, ValueError):
    """A clip of a dataset cannot be used: missing or malformed files, frames and cameras that disagree."""

    def __init__(self, clip: str, problem: str):
        self.clip = clip
        self.problem = problem
        super().__init__(f"clip {clip!r}: {problem}")


@dataclass(frozen=True)
class Clip:
    name: str
    frames: np.ndarray
    """uint8 [F, H, W, 3]"""
    trajectory: Trajectory
    """Cameras of `frames`: c2w (OpenCV axes), K in pixels of the frames."""

    def __post_init__(self) -> None:
        check_video_array(self.frames)
        if len(self.frames) != len(self.trajectory):
            raise ClipError(self.name, f"{len(self.trajectory)} cameras but {len(self.frames)} frames")
        if tuple(self.frames.shape[1:3]) != tuple(self.trajectory.image_size):
            raise ClipError(
                self.name,
                f"frames are {self.frames.shape[1]}x{self.frames.shape[2]} (H x W) but the cameras "
                f"describe {self.trajectory.image_size[0]}x{self.trajectory.image_size[1]}",
            )


@dataclass(frozen=True)
class ClipInfo:
    """What a dataset holds for one clip, read from headers without decoding it."""

    name: str
    num_frames: int | None = None
    num_cameras: int | None = None
    image_size: tuple[int, int] | None = None
    problem: str = ""
    """Empty when the clip looks usable."""

    @property
    def ok(self) -> bool:
        return not self.problem


class ClipDataset(ABC):
    """Clips stored under `root` (and `split`, for layouts that have splits)."""

    layout: str = ""

    def __init__(self, root: str | Path, split: str | None = None):
        self.root = Path(root)
        self.split = split
        self.skipped: list[ClipError] = []

    @classmethod
    def splits(cls, root: str | Path) -> list[str]:
        """Names of the sub-folders of `root` that are splits of this layout, sorted."""
        root = Path(root)
        if not root.is_dir():
            return []
        return sorted(child.name for child in root.iterdir() if child.is_dir() and cls.is_split_folder(child))

    @staticmethod
    @abstractmethod
    def is_split_folder(folder: Path) -> bool:
        """Whether a sub-folder of a dataset root is a split (holds clips in this layout)."""

    @abstractmethod
    def clip_names(self) -> list[str]:
        """Names of all clips found (including broken ones, so that they can be reported)."""

    @abstractmethod
    def load(self, name: str) -> Clip:
        """Reads one clip; raises ClipError naming it when its files are missing or disagree."""

    @abstractmethod
    def inspect(self, name: str) -> ClipInfo:
        """Frame and camera counts of one clip from headers, with the problem found, if any."""

    def __len__(self) -> int:
        return len(self.clip_names())

    def __iter__(self) -> Iterator[Clip]:
        return self.iter_clips()

    def iter_clips(self, skip_invalid: bool = False) -> Iterator[Clip]:
        """Loads every clip in name order. With skip_invalid, a bad clip is skipped with a warning
        and appended to `self.skipped`; without it, the first bad clip raises its ClipError."""
        self.skipped = []
        for name in self.clip_names():
            try:
                clip = self.load(name)
            except ClipError as error:
                if not skip_invalid:
                    raise
                warnings.warn(f"skipping {error}", stacklevel=2)
                self.skipped.append(error)
                continue
            yield clip


DATASET_LAYOUTS: Registry[type[ClipDataset]] = Registry("dataset layout")


def as_clip_error(name: str, error: Exception) -> ClipError:
    """A file-level error (camera file, video, frame count) restated as a problem of clip `name`."""
    return error if isinstance(error, ClipError) else ClipError(name, str(error))


@contextlib.contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yields a temporary folder beside `path` to fill; it replaces `path` only if the block succeeds,
    so a killed writer never leaves a half-written folder under the final name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.tmp-{os.getpid()}"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    try:
        yield temporary
        if path.exists():
            shutil.rmtree(path)
        os.replace(temporary, path)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
