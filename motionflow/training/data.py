"""Training clips: synthetic scenes rendered on the fly, or a folder in RealEstate10K / DL3DV layout.

Every item is a sampled trajectory set (the paper's frame sampling) of one clip: frames [F, 3, H, W] in
[-1, 1] and the Plücker rays [F, 6, H, W] of its cameras relative to frame 0. What a clip looks like
depends only on (seed, index), never on the worker or the order, so a resumed run sees the same data.
A clip that cannot be used (bad camera file, too few frames, unreadable video) is skipped with a
warning naming it; the next clip takes its place."""

from __future__ import annotations

import warnings
from abc import abstractmethod
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from motionflow.camera.intrinsics import resize_frames
from motionflow.camera.sampling import BASIC_STRIDE, frames_needed, sample_difficult, sample_with_stride
from motionflow.camera.trajectory import Trajectory
from motionflow.data.clips import Clip, ClipDataset, as_clip_error
from motionflow.data.datasets import open_dataset
from motionflow.data.synthetic import PATH_KINDS, SCENE_KINDS, render_views, synthetic_setup
from motionflow.errors import MotionFlowError
from motionflow.models.inputs import trajectory_plucker
from motionflow.training.config import DataSettings


class UnusableClip(Exception):
    """Raised by a clip dataset for an item that must be skipped; carries the clip's name and why."""

    def __init__(self, clip: str, problem: str):
        self.clip = clip
        self.problem = problem
        super().__init__(f"clip {clip!r}: {problem}")


def sample_frames(trajectory: Trajectory, kind: str, num_frames: int, rng: np.random.Generator) -> Trajectory:
    """The paper's sampling: `basic` every 8th frame from a random start that fits, `difficult` the
    largest stride from frame 0."""
    if kind == "difficult":
        return sample_difficult(trajectory, num_frames)
    if kind != "basic":
        raise ValueError(f"unknown trajectory sampling {kind!r}; expected basic or difficult")
    latest_start = len(trajectory) - frames_needed(num_frames, BASIC_STRIDE)
    start = int(rng.integers(0, latest_start + 1)) if latest_start > 0 else 0
    return sample_with_stride(trajectory, num_frames, BASIC_STRIDE, start, "basic")


def to_training_item(frames: np.ndarray, trajectory: Trajectory, image_size: tuple[int, int]) -> dict:
    """uint8 frames [F, H, W, 3] + their cameras -> {"frames": [F, 3, h, w] in [-1, 1], "plucker"}."""
    if tuple(frames.shape[1:3]) != tuple(image_size):
        frames, _ = resize_frames(frames, trajectory.intrinsics, image_size, mode="crop")
        trajectory = trajectory.resized(image_size, mode="crop")
    tensor = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 127.5 - 1
    return {"frames": tensor, "plucker": trajectory_plucker(trajectory, image_size)}


class ClipItems(Dataset):
    """Items by index; `item` raises UnusableClip for a clip that must be skipped."""

    def __init__(self, settings: DataSettings, seed: int):
        self.settings = settings
        self.seed = seed

    def rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, index])

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def clip_name(self, index: int) -> str: ...

    @abstractmethod
    def item(self, index: int) -> dict: ...

    def __getitem__(self, index: int) -> dict:
        """The item at `index`, or the next usable one after skipping (with a warning) those that fail."""
        for offset in range(len(self)):
            candidate = (index + offset) % len(self)
            try:
                return self.item(candidate)
            except UnusableClip as error:
                warnings.warn(f"skipping {error}", stacklevel=2)
        raise RuntimeError(f"no usable clip in the training data ({len(self)} clips, all skipped)")


class SyntheticClipItems(ClipItems):
    """Synthetic clip i: scene, path and sampling drawn from (seed, i); the scene's seed is seed_offset + i."""

    def __init__(self, settings: DataSettings, seed: int):
        super().__init__(settings, seed)
        for scene in settings.scenes:
            if scene not in SCENE_KINDS:
                raise ValueError(f"unknown synthetic scene {scene!r}; known: {', '.join(SCENE_KINDS)}")
        for path in settings.path_weights:
            if path not in PATH_KINDS:
                raise ValueError(f"unknown synthetic camera path {path!r}; known: {', '.join(PATH_KINDS)}")
        self.paths = list(settings.path_weights)
        weights = np.array([settings.path_weights[path] for path in self.paths], dtype=float)
        self.path_probabilities = weights / weights.sum()

    def __len__(self) -> int:
        return self.settings.num_clips

    def choice(self, index: int) -> tuple[str, str, str, np.random.Generator]:
        rng = self.rng(index)
        scene = self.settings.scenes[int(rng.integers(len(self.settings.scenes)))]
        path = self.paths[int(rng.choice(len(self.paths), p=self.path_probabilities))]
        sampling = self.settings.sampling[int(rng.integers(len(self.settings.sampling)))]
        return scene, path, sampling, rng

    def clip_name(self, index: int) -> str:
        scene, path, _, _ = self.choice(index)
        return f"{scene}-{path}-{self.settings.seed_offset + index}"

    def item(self, index: int) -> dict:
        scene, path, sampling, rng = self.choice(index)
        size = self.settings.image_size
        source_frames = max(
            self.settings.source_frames, frames_needed(self.settings.num_frames, BASIC_STRIDE)
        )
        try:
            scene_model, source = synthetic_setup(
                scene, path, source_frames, size, self.settings.seed_offset + index
            )
            trajectory = sample_frames(source, sampling, self.settings.num_frames, rng)
            frames = render_views(scene_model, trajectory).frames
        except MotionFlowError as error:
            raise UnusableClip(self.clip_name(index), str(error)) from error
        return to_training_item(frames, trajectory, size)


class FolderClipItems(ClipItems):
    """The clips of one split of a dataset folder (RealEstate10K or DL3DV layout)."""

    def __init__(self, settings: DataSettings, seed: int, dataset: ClipDataset | None = None):
        super().__init__(settings, seed)
        self.dataset = dataset if dataset is not None else self._open_split(settings)
        self.names = self.dataset.clip_names()
        if not self.names:
            raise ValueError(f"{settings.root}: no clips in split {settings.split!r}")

    @staticmethod
    def _open_split(settings: DataSettings) -> ClipDataset:
        datasets = {dataset.split: dataset for dataset in open_dataset(settings.root)}
        if settings.split in datasets:
            return datasets[settings.split]
        if list(datasets) == [None]:
            return datasets[None]
        found = ", ".join(str(split) for split in datasets)
        raise ValueError(f"{settings.root}: no split {settings.split!r} (found {found})")

    def __len__(self) -> int:
        return len(self.names)

    def clip_name(self, index: int) -> str:
        return self.names[index]

    def item(self, index: int) -> dict:
        name = self.names[index]
        rng = self.rng(index)
        sampling = self.settings.sampling[int(rng.integers(len(self.settings.sampling)))]
        try:
            clip = self.dataset.load(name)
            trajectory = sample_frames(clip.trajectory, sampling, self.settings.num_frames, rng)
            frames = clip.frames[_positions(clip, trajectory)]
        except (MotionFlowError, ValueError, OSError) as error:
            raise UnusableClip(name, as_clip_error(name, error).problem) from error
        return to_training_item(frames, trajectory, self.settings.image_size)


def _positions(clip: Clip, sampled: Trajectory) -> np.ndarray:
    """Positions in `clip.frames` of the sampled cameras (trajectories keep their source frame indices)."""
    if clip.trajectory.frame_indices is None:
        return np.asarray(sampled.frame_indices)
    return np.searchsorted(clip.trajectory.frame_indices, sampled.frame_indices)


def build_training_items(settings: DataSettings, seed: int) -> ClipItems:
    if settings.source == "synthetic":
        return SyntheticClipItems(settings, seed)
    return FolderClipItems(settings, seed)


class StepSampler(Sampler[int]):
    """Dataset indices for global steps `start_step`, `start_step + 1`, ... of one process.

    Epoch e visits a permutation of the dataset fixed by (*seed, e); global step s of process r takes
    positions (s * world + r) * batch ... + batch - 1 of the concatenated epochs. The order depends only
    on the step, so a run resumed at step s continues exactly where it stopped."""

    def __init__(
        self,
        dataset_size: int,
        batch_size: int,
        seed: Sequence[int],
        start_step: int,
        end_step: int,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.dataset_size = dataset_size
        self.batch_size = batch_size
        self.seed = list(seed)
        self.start_step, self.end_step = start_step, end_step
        self.rank, self.world_size = rank, world_size
        self._epoch, self._permutation = -1, np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return max(0, self.end_step - self.start_step) * self.batch_size

    def index_at(self, position: int) -> int:
        epoch, offset = divmod(position, self.dataset_size)
        if epoch != self._epoch:
            self._epoch = epoch
            self._permutation = np.random.default_rng([*self.seed, epoch]).permutation(self.dataset_size)
        return int(self._permutation[offset])

    def __iter__(self) -> Iterator[int]:
        for step in range(self.start_step, self.end_step):
            first = (step * self.world_size + self.rank) * self.batch_size
            for position in range(first, first + self.batch_size):
                yield self.index_at(position)
