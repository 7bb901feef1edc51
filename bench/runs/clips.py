"""Ground-truth clips for a suite: each source yields clips already sampled into a trajectory set.

A trajectory set is the paper's `basic` (every 8th source frame) or `difficult` (the largest stride
that fits). A clip that cannot provide a set is planned with a skip reason, reported, not dropped."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from motionflow.camera.intrinsics import resize_frames
from motionflow.camera.sampling import BASIC_STRIDE, frames_needed, sample_trajectory
from motionflow.camera.trajectory import Trajectory
from motionflow.data.bundled import bundled_clip_names, load_bundled_clip
from motionflow.data.clips import Clip
from motionflow.data.datasets import detect_layout, open_dataset
from motionflow.data.synthetic import render_views, synthetic_setup
from motionflow.errors import MotionFlowError
from motionflow.training.config import HELD_OUT_SEED_OFFSET
from motionflow.utils.registry import Registry

TRAJECTORY_SETS = ("basic", "difficult")
BUNDLED_FRAMES = 16
TEST_SPLIT = "test"

SYNTHETIC_SOURCE_FRAMES = 200
"""Length of a synthetic source path: basic (stride 8) spans 121 of its frames, difficult all 200
(stride 13 for 16 frames), so difficult has about 1.6x the motion per frame, as on RealEstate10K."""


@dataclass(frozen=True)
class EvalClip:
    """One ground-truth video of a suite and the trajectory every method is asked to follow."""

    dataset: str
    clip_id: str
    trajectory_set: str
    frames: np.ndarray
    """uint8 [F, H, W, 3], the ground-truth video."""
    trajectory: Trajectory
    """Cameras of `frames`, intrinsics in their pixels."""

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.trajectory_set}/{self.clip_id}"


@dataclass(frozen=True)
class ClipPlan:
    """What a clip will be, known before it is rendered or read: its identity is its cache key."""

    source: str
    clip_id: str
    trajectory_set: str
    num_frames: int
    image_size: tuple[int, int] | None
    seed: int
    skip_reason: str = ""
    """Non-empty when the clip cannot provide this trajectory set (e.g. too short); it is then reported."""

    @property
    def key(self) -> str:
        return f"{self.source}/{self.trajectory_set}/{self.clip_id}"


class ClipSource(ABC):
    """A dataset of source clips that can be sampled into trajectory sets."""

    name: str = ""
    family: str = ""
    """`re10k` (indoor, the training domain) or `dl3dv` (outdoor, the generalisation test of Table 3)."""

    @abstractmethod
    def plan(
        self, count: int, trajectory_set: str, num_frames: int, image_size: tuple[int, int] | None, seed: int
    ) -> list[ClipPlan]:
        """Up to `count` clips of the set, deterministic for `seed`, without loading them."""

    @abstractmethod
    def load(self, plan: ClipPlan) -> EvalClip:
        """Renders or reads the clip of a plan."""


CLIP_SOURCES: Registry[type[ClipSource]] = Registry("clip source")


class SyntheticSource(ClipSource):
    """Synthetic scenes with exact cameras; only the sampled frames of the long source path are rendered."""

    scene = ""
    path = "re10k"

    def plan(
        self, count: int, trajectory_set: str, num_frames: int, image_size: tuple[int, int] | None, seed: int
    ) -> list[ClipPlan]:
        if image_size is None:
            raise ValueError(f"clip source {self.name!r} renders frames and needs an image size")
        if seed < 0 or seed + count > HELD_OUT_SEED_OFFSET:
            raise ValueError(
                f"{self.name}: scene seeds {seed}..{seed + count - 1} leave the test range "
                f"0..{HELD_OUT_SEED_OFFSET - 1} (held-out validation scenes start at {HELD_OUT_SEED_OFFSET}, "
                "training scenes above)"
            )
        return [
            ClipPlan(
                self.name,
                f"{self.scene}-{self.path}-{seed + index}",
                trajectory_set,
                num_frames,
                tuple(image_size),
                seed + index,
            )
            for index in range(count)
        ]

    def load(self, plan: ClipPlan) -> EvalClip:
        source_frames = max(SYNTHETIC_SOURCE_FRAMES, frames_needed(plan.num_frames, BASIC_STRIDE))
        scene, source = synthetic_setup(self.scene, self.path, source_frames, plan.image_size, plan.seed)
        trajectory = sample_trajectory(source, plan.trajectory_set, plan.num_frames)
        rendering = render_views(scene, trajectory)
        return EvalClip(self.name, plan.clip_id, plan.trajectory_set, rendering.frames, trajectory)


@CLIP_SOURCES.register("synthetic-indoor")
class SyntheticIndoorSource(SyntheticSource):
    name, family, scene = "synthetic-indoor", "re10k", "indoor"


@CLIP_SOURCES.register("synthetic-outdoor")
class SyntheticOutdoorSource(SyntheticSource):
    name, family, scene = "synthetic-outdoor", "dl3dv", "outdoor"


def _resized_clip(clip: Clip, image_size: tuple[int, int] | None) -> tuple[np.ndarray, Trajectory]:
    """Frames and cameras at `image_size` (squashed, K rescaled accordingly), or unchanged for None."""
    if image_size is None or tuple(image_size) == clip.trajectory.image_size:
        return clip.frames, clip.trajectory
    frames, _ = resize_frames(clip.frames, clip.trajectory.intrinsics, image_size, mode="squash")
    return frames, clip.trajectory.resized(image_size, mode="squash")


@CLIP_SOURCES.register("re10k-bundled")
class BundledRe10kSource(ClipSource):
    """The six real RealEstate10K clips shipped with the package.

    Their 16 frames are RealEstate10K frames 8 apart (the timestamps step by 8/29.97 s), so they already
    are the paper's `basic` set; `difficult` needs the longer source clips and is reported as skipped."""

    name, family = "re10k-bundled", "re10k"

    def plan(
        self, count: int, trajectory_set: str, num_frames: int, image_size: tuple[int, int] | None, seed: int
    ) -> list[ClipPlan]:
        size = None if image_size is None else tuple(image_size)
        plans = []
        for name in bundled_clip_names()[:count]:
            reason = ""
            if trajectory_set != "basic":
                reason = (
                    "bundled clips are already sampled at the basic stride; difficult needs the source video"
                )
            elif num_frames > BUNDLED_FRAMES:
                reason = f"bundled clips have {BUNDLED_FRAMES} frames, {num_frames} requested"
            plans.append(ClipPlan(self.name, name, trajectory_set, num_frames, size, seed, reason))
        return plans

    def load(self, plan: ClipPlan) -> EvalClip:
        clip = load_bundled_clip(plan.clip_id)
        frames, trajectory = _resized_clip(clip, plan.image_size)
        selected = np.arange(plan.num_frames)
        return EvalClip(
            self.name, plan.clip_id, plan.trajectory_set, frames[selected], trajectory.select(selected)
        )


DATASET_PREFIX = "dataset:"


class DatasetSource(ClipSource):
    """A user's dataset in RealEstate10K or DL3DV layout (`dataset:<root>`), long clips sampled into sets.

    Its family is its layout: RealEstate10K layout counts as `re10k`, DL3DV layout as `dl3dv`."""

    def __init__(self, root: str | Path, name: str | None = None):
        self.root = Path(root)
        self.family = detect_layout(self.root)
        self.name = name or f"{self.family}-{self.root.name}"
        self.datasets = {dataset.split or "": dataset for dataset in open_dataset(self.root)}

    def plan(
        self, count: int, trajectory_set: str, num_frames: int, image_size: tuple[int, int] | None, seed: int
    ) -> list[ClipPlan]:
        split = TEST_SPLIT if TEST_SPLIT in self.datasets else sorted(self.datasets)[0]
        dataset = self.datasets[split]
        size = None if image_size is None else tuple(image_size)
        plans = []
        for name in dataset.clip_names()[:count]:
            info = dataset.inspect(name)
            reason = info.problem
            needed = frames_needed(num_frames, BASIC_STRIDE if trajectory_set == "basic" else 1)
            if not reason and info.num_cameras is not None and info.num_cameras < needed:
                reason = (
                    f"{info.num_cameras} frames, {trajectory_set} sampling of {num_frames} needs {needed}"
                )
            plans.append(
                ClipPlan(
                    self.name,
                    f"{split}/{name}" if split else name,
                    trajectory_set,
                    num_frames,
                    size,
                    seed,
                    reason,
                )
            )
        return plans

    def load(self, plan: ClipPlan) -> EvalClip:
        split, _, name = plan.clip_id.rpartition("/")
        clip = self.datasets[split].load(name)
        sampled = sample_trajectory(clip.trajectory, plan.trajectory_set, plan.num_frames)
        positions = (
            sampled.frame_indices
            if clip.trajectory.frame_indices is None
            else np.searchsorted(clip.trajectory.frame_indices, sampled.frame_indices)
        )
        selected = Clip(clip.name, clip.frames[positions], sampled)
        frames, trajectory = _resized_clip(selected, plan.image_size)
        return EvalClip(self.name, plan.clip_id, plan.trajectory_set, frames, trajectory)


DATASET_ENVIRONMENT = {"re10k-test": "MFBENCH_RE10K_ROOT", "dl3dv-test": "MFBENCH_DL3DV_ROOT"}
"""Sources of the paper suite: the user's copies of the RealEstate10K test split and of DL3DV, in the
layouts `mfbench dataset` documents, found through these environment variables."""


class ClipSourceUnavailableError(MotionFlowError, FileNotFoundError):
    """A clip source's data is not on this machine."""


def make_source(name: str) -> ClipSource:
    """A registered source by name, a user's dataset as `dataset:<root>`, or one of DATASET_ENVIRONMENT."""
    if name.startswith(DATASET_PREFIX):
        return DatasetSource(name[len(DATASET_PREFIX) :])
    if name in DATASET_ENVIRONMENT:
        variable = DATASET_ENVIRONMENT[name]
        root = os.environ.get(variable)
        if not root or not Path(root).is_dir():
            raise ClipSourceUnavailableError(
                f"clip source {name!r} needs ${variable} set to the dataset's folder "
                f"({'unset' if not root else f'{root} is not a folder'}); see `mfbench dataset --help` for the layouts"
            )
        return DatasetSource(root, name)
    return CLIP_SOURCES.get(name)()
