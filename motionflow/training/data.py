"""Training clips: synthetic scenes rendered on the fly, or a folder in RealEstate10K / DL3DV layout.

Every item is a sampled trajectory set (the paper's frame sampling) of one clip: uint8 frames
[F, 3, H, W] and its cameras relative to frame 0 (float32 c2w [F, 4, 4], K [F, 3, 3] at the training
size). `batch_inputs` turns a batch into model inputs on the training device: frames in [-1, 1] and the
camera input a model takes (`CAMERA_INPUT_KINDS`), computed there, so that a GPU is fed 0.8 MB per
16-frame 128x128 item instead of 10 MB of rays. What a clip looks like
depends only on (seed, index), never on the worker or the order, so a resumed run sees the same data.
A clip that cannot be used (bad camera file, too few frames, unreadable video) is skipped with a
warning naming it; the next clip takes its place."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import warnings
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from rich.progress import Progress
from torch.utils.data import Dataset, Sampler

from motionflow.camera.intrinsics import resize_frames
from motionflow.camera.sampling import BASIC_STRIDE, frames_needed, sample_difficult, sample_with_stride
from motionflow.camera.trajectory import Trajectory
from motionflow.data.clips import Clip, ClipDataset, as_clip_error
from motionflow.data.datasets import open_dataset
from motionflow.data.synthetic import PATH_KINDS, SCENE_KINDS, render_views, synthetic_setup
from motionflow.errors import MotionFlowError
from motionflow.models.inputs import CAMERA_INPUT_KINDS, relative_cameras
from motionflow.training.config import MOTION_MIRRORS, DataSettings
from motionflow.utils.io import atomic_write_json, content_hash
from motionflow.utils.processes import empty_main_module


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


def fit_to_size(
    frames: np.ndarray, trajectory: Trajectory, image_size: tuple[int, int]
) -> tuple[np.ndarray, Trajectory]:
    """uint8 frames [F, H, W, 3] and their cameras, resized and centre-cropped to `image_size`."""
    if tuple(frames.shape[1:3]) == tuple(image_size):
        return frames, trajectory
    frames, _ = resize_frames(frames, trajectory.intrinsics, image_size, mode="crop")
    return frames, trajectory.resized(image_size, mode="crop")


def to_training_item(frames: np.ndarray, trajectory: Trajectory) -> dict[str, torch.Tensor]:
    """uint8 frames [F, H, W, 3] + their cameras -> {"frames": uint8 [F, 3, H, W], "c2w": relative
    [F, 4, 4], "intrinsics": [F, 3, 3] at the frames' size}."""
    c2w, intrinsics = relative_cameras(trajectory, tuple(frames.shape[1:3]))
    return {
        "frames": torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2),
        "c2w": c2w.float(),
        "intrinsics": intrinsics.float(),
    }


def frames_to_model_range(frames: torch.Tensor) -> torch.Tensor:
    """uint8 frames -> float in [-1, 1]."""
    return frames.float() / 127.5 - 1


def batch_trajectories(batch: dict[str, torch.Tensor]) -> list[Trajectory]:
    """The relative cameras of a (collated) batch's clips as trajectories at the frames' size."""
    size = tuple(batch["frames"].shape[-2:])
    return [
        Trajectory(c2w.double().numpy(), intrinsics.double().numpy(), image_size=size)
        for c2w, intrinsics in zip(batch["c2w"].cpu(), batch["intrinsics"].cpu(), strict=True)
    ]


def batch_inputs(
    batch: dict[str, torch.Tensor], device: torch.device, camera_kind: str | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Frames [B, F, 3, H, W] in [-1, 1] and the camera input of `camera_kind` (None for a model
    without one), both on `device`."""
    frames = frames_to_model_range(batch["frames"].to(device, non_blocking=True))
    if camera_kind is None:
        return frames, None
    c2w = batch["c2w"].to(device, non_blocking=True)
    intrinsics = batch["intrinsics"].to(device, non_blocking=True)
    return frames, CAMERA_INPUT_KINDS[camera_kind](c2w, intrinsics, tuple(frames.shape[-2:]))


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
    def clip(self, index: int) -> tuple[np.ndarray, Trajectory]:
        """uint8 frames [F, H, W, 3] at the training size and their cameras; UnusableClip if it fails."""

    def item(self, index: int) -> dict:
        return to_training_item(*self.clip(index))

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
    """Synthetic clip i of scene s = i // motion_variants: scene, path and sampling drawn from (seed, s);
    the scene's seed is seed_offset + s."""

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

    def scene_and_variant(self, index: int) -> tuple[int, int]:
        """Clip `index` -> (the scene's index, its motion variant)."""
        return divmod(index, self.settings.motion_variants)

    def choice(self, index: int) -> tuple[str, str, str, np.random.Generator]:
        """Scene kind, path kind, sampling and the generator that samples the frames: shared by the
        motion variants of a scene."""
        rng = self.rng(self.scene_and_variant(index)[0])
        scene = self.settings.scenes[int(rng.integers(len(self.settings.scenes)))]
        path = self.paths[int(rng.choice(len(self.paths), p=self.path_probabilities))]
        sampling = self.settings.sampling[int(rng.integers(len(self.settings.sampling)))]
        return scene, path, sampling, rng

    def clip_name(self, index: int) -> str:
        scene, path, _, _ = self.choice(index)
        scene_index, variant = self.scene_and_variant(index)
        name = f"{scene}-{path}-{self.settings.seed_offset + scene_index}"
        return f"{name}-mirror{variant}" if variant else name

    def clip(self, index: int) -> tuple[np.ndarray, Trajectory]:
        scene, path, sampling, rng = self.choice(index)
        scene_index, variant = self.scene_and_variant(index)
        size = self.settings.image_size
        source_frames = max(
            self.settings.source_frames, frames_needed(self.settings.num_frames, BASIC_STRIDE)
        )
        try:
            scene_model, source = synthetic_setup(
                scene, path, source_frames, size, self.settings.seed_offset + scene_index
            )
            trajectory = sample_frames(source, sampling, self.settings.num_frames, rng)
            if variant:
                trajectory = trajectory.mirrored_motion(*MOTION_MIRRORS[variant])
            frames = render_views(scene_model, trajectory).frames
        except MotionFlowError as error:
            raise UnusableClip(self.clip_name(index), str(error)) from error
        return frames, trajectory


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

    def clip(self, index: int) -> tuple[np.ndarray, Trajectory]:
        name = self.names[index]
        rng = self.rng(index)
        sampling = self.settings.sampling[int(rng.integers(len(self.settings.sampling)))]
        try:
            clip = self.dataset.load(name)
            trajectory = sample_frames(clip.trajectory, sampling, self.settings.num_frames, rng)
            frames = clip.frames[_positions(clip, trajectory)]
        except (MotionFlowError, ValueError, OSError) as error:
            raise UnusableClip(name, as_clip_error(name, error).problem) from error
        return fit_to_size(frames, trajectory, self.settings.image_size)


def _positions(clip: Clip, sampled: Trajectory) -> np.ndarray:
    """Positions in `clip.frames` of the sampled cameras (trajectories keep their source frame indices)."""
    if clip.trajectory.frame_indices is None:
        return np.asarray(sampled.frame_indices)
    return np.searchsorted(clip.trajectory.frame_indices, sampled.frame_indices)


CACHE_MARKER = "complete.json"
CACHE_ARRAYS = ("frames", "c2w", "intrinsics")
"""One memory-mapped .npy file each: uint8 frames [N, F, H, W, 3], c2w [N, F, 4, 4], intrinsics [N, F, 3, 3]."""
CACHE_CHUNK = 32
"""Clips per task of the processes that fill a clip cache."""
_UNCACHED_SETTINGS = ("cache", "cache_latents", "num_workers", "loader_workers")


def clip_cache_folder(settings: DataSettings, seed: int) -> Path:
    """The cache folder of these data settings and seed (under `settings.cache`): runs whose clips are
    the same share it, whatever their other settings."""
    values = {key: value for key, value in asdict(settings).items() if key not in _UNCACHED_SETTINGS}
    return Path(settings.cache).expanduser() / f"clips-{content_hash(values, seed)[:16]}"


def _open_cache_arrays(folder: Path, mode: str) -> dict[str, np.ndarray]:
    return {name: np.load(folder / f"{name}.npy", mmap_mode=mode) for name in CACHE_ARRAYS}


def _fill_cache_chunk(source: ClipItems, folder: Path, indices: list[int]) -> dict[int, str]:
    """Writes the clips `indices` of `source` into the cache arrays; returns {index: problem} of the
    unusable ones."""
    torch.set_num_threads(1)
    arrays = _open_cache_arrays(folder, "r+")
    problems = {}
    for index in indices:
        try:
            frames, trajectory = source.clip(index)
        except UnusableClip as error:
            problems[index] = error.problem
            continue
        arrays["frames"][index] = frames
        arrays["c2w"][index] = trajectory.c2w
        arrays["intrinsics"][index] = trajectory.intrinsics
    for array in arrays.values():
        array.flush()
    return problems


class CachedClipItems(ClipItems):
    """The clips of `source`, rendered or decoded once into memory-mapped arrays (frames, cameras) and
    read from there: a synthetic clip costs a third of a second to render on one CPU core, a cached one
    a millisecond to read, which is what keeps a GPU busy. Every run and process with the same data
    settings and seed shares the cache; the first one fills it (under a file lock, with
    `num_workers` processes), and a clip that could not be used stays skipped, with its reason."""

    def __init__(self, source: ClipItems, progress: bool = True):
        super().__init__(source.settings, source.seed)
        self.source = source
        self.folder = clip_cache_folder(source.settings, source.seed)
        self._arrays: dict[str, np.ndarray] | None = None
        self.problems: dict[int, str] = {}
        self._fill(progress)

    def _fill(self, progress: bool) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            marker = self.folder / CACHE_MARKER
            if not marker.is_file():
                self._render_all(progress)
            record = json.loads(marker.read_text())
        self.problems = {int(index): problem for index, problem in record["problems"].items()}

    def _render_all(self, progress: bool) -> None:
        settings, count = self.settings, len(self.source)
        height, width = settings.image_size
        shapes = {
            "frames": ((count, settings.num_frames, height, width, 3), np.uint8),
            "c2w": ((count, settings.num_frames, 4, 4), np.float64),
            "intrinsics": ((count, settings.num_frames, 3, 3), np.float64),
        }
        for name, (shape, dtype) in shapes.items():
            np.lib.format.open_memmap(
                self.folder / f"{name}.npy", mode="w+", dtype=dtype, shape=shape
            ).flush()
        chunks = [
            list(range(start, min(start + CACHE_CHUNK, count))) for start in range(0, count, CACHE_CHUNK)
        ]
        problems: dict[int, str] = {}
        context = multiprocessing.get_context("spawn")
        with (
            ProcessPoolExecutor(max(settings.num_workers, 1), mp_context=context) as pool,
            Progress(disable=not progress) as bar,
        ):
            task = bar.add_task(f"caching {count} clips", total=count)
            with empty_main_module():
                futures = [
                    pool.submit(_fill_cache_chunk, self.source, self.folder, chunk) for chunk in chunks
                ]
            for future, chunk in zip(futures, chunks, strict=True):
                problems.update(future.result())
                bar.advance(task, len(chunk))
        for index, problem in sorted(problems.items()):
            warnings.warn(f"skipping clip {self.source.clip_name(index)!r}: {problem}", stacklevel=2)
        atomic_write_json(
            self.folder / CACHE_MARKER, {"clips": count, "problems": {str(k): v for k, v in problems.items()}}
        )

    def _cached(self) -> dict[str, np.ndarray]:
        if self._arrays is None:
            self._arrays = _open_cache_arrays(self.folder, "r")
        return self._arrays

    def __len__(self) -> int:
        return len(self.source)

    def clip_name(self, index: int) -> str:
        return self.source.clip_name(index)

    def clip(self, index: int) -> tuple[np.ndarray, Trajectory]:
        if index in self.problems:
            raise UnusableClip(self.clip_name(index), self.problems[index])
        arrays = self._cached()
        trajectory = Trajectory(
            np.array(arrays["c2w"][index]),
            np.array(arrays["intrinsics"][index]),
            tuple(self.settings.image_size),
        )
        return np.array(arrays["frames"][index]), trajectory

    def __getstate__(self) -> dict:
        """DataLoader workers open the memory maps themselves."""
        return {**self.__dict__, "_arrays": None}


def build_training_items(settings: DataSettings, seed: int, progress: bool = True) -> ClipItems:
    """The clips `settings` describe; read from (and first written to) the clip cache when it names one."""
    source_kind = SyntheticClipItems if settings.source == "synthetic" else FolderClipItems
    items = source_kind(settings, seed)
    return CachedClipItems(items, progress) if settings.cache else items


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
