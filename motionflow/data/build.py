"""Synthetic datasets on disk: rendered clips with exact cameras, in RealEstate10K or DL3DV layout.

The dataset is a pure function of its settings: `manifest.json` records them with every clip's
scene kind, path kind and seed, so that any clip can be rendered again. Building into a folder that
already holds the same dataset resumes it (complete clips are kept); a folder holding anything else
is refused. Each clip is written atomically, the manifest first (status "building") and last
(status "complete")."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

import motionflow
from motionflow.data.clips import Clip
from motionflow.data.dl3dv_dataset import TRANSFORMS, Dl3dvDataset
from motionflow.data.re10k_dataset import STORAGES, Re10kDataset
from motionflow.data.synthetic import PATH_KINDS, SCENE_KINDS, render_synthetic_clip
from motionflow.utils.io import atomic_write_json

MANIFEST = "manifest.json"
MANIFEST_KIND = "synthetic"
LAYOUTS = ("re10k", "dl3dv")
DEFAULT_SPLITS = {"train": 0.9, "test": 0.1}
DEFAULT_SCENES = {"re10k": ("indoor", "outdoor"), "dl3dv": ("outdoor",)}
"""RealEstate10K layout holds both families; DL3DV layout the outdoor family (as DL3DV itself)."""
DEFAULT_PATH_WEIGHTS = {"re10k": 0.6, "forward": 0.1, "sideways": 0.1, "orbit": 0.1, "rotation": 0.1}


@dataclass(frozen=True)
class SyntheticDatasetSettings:
    num_clips: int
    seed: int = 0
    splits: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SPLITS))
    layout: str = "re10k"
    num_frames: int = 128
    image_size: tuple[int, int] = (256, 256)
    scenes: tuple[str, ...] = ()
    """Scene kinds, taken in turn within each split; empty: the layout's default."""
    path_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PATH_WEIGHTS))
    storage: str = "video"
    """RealEstate10K layout: "video" (MP4) or "frames" (PNG). DL3DV layout is always PNG."""

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {self.layout!r}")
        object.__setattr__(self, "scenes", tuple(self.scenes) or DEFAULT_SCENES[self.layout])
        object.__setattr__(self, "image_size", tuple(int(value) for value in self.image_size))
        object.__setattr__(self, "splits", {str(k): float(v) for k, v in self.splits.items()})
        object.__setattr__(self, "path_weights", {str(k): float(v) for k, v in self.path_weights.items()})
        problems = []
        if self.num_clips < 1:
            problems.append(f"num_clips must be at least 1, got {self.num_clips}")
        if self.seed < 0:
            problems.append(f"seed must be non-negative, got {self.seed}")
        if self.num_frames < 1:
            problems.append(f"num_frames must be at least 1, got {self.num_frames}")
        if min(self.image_size) < 1:
            problems.append(f"image_size must be positive (H, W), got {self.image_size}")
        if not self.splits or min(self.splits.values()) <= 0:
            problems.append(f"splits need positive fractions, got {self.splits}")
        if self.num_clips < len(self.splits):
            problems.append(f"{self.num_clips} clips cannot fill {len(self.splits)} splits")
        problems += [
            f"unknown scene kind {s!r} (known: {', '.join(SCENE_KINDS)})"
            for s in self.scenes
            if s not in SCENE_KINDS
        ]
        problems += [
            f"unknown path kind {p!r} (known: {', '.join(PATH_KINDS)})"
            for p in self.path_weights
            if p not in PATH_KINDS
        ]
        if not self.path_weights or min(self.path_weights.values()) <= 0:
            problems.append(f"path weights must be positive, got {self.path_weights}")
        if self.storage not in STORAGES:
            problems.append(f"storage must be one of {STORAGES}, got {self.storage!r}")
        if (
            self.layout == "re10k"
            and self.storage == "video"
            and (self.image_size[0] % 2 or self.image_size[1] % 2)
        ):
            problems.append(
                f"H.264 video needs an even image size, got {self.image_size}; use storage 'frames'"
            )
        if problems:
            raise ValueError("; ".join(problems))

    def to_json(self) -> dict:
        payload = asdict(self)
        payload["image_size"] = list(self.image_size)
        payload["scenes"] = list(self.scenes)
        return payload


@dataclass(frozen=True)
class PlannedClip:
    name: str
    split: str
    scene: str
    path: str
    seed: int


def split_counts(num_clips: int, fractions: Mapping[str, float]) -> dict[str, int]:
    """Clips per split, proportional to `fractions` (largest remainder; every split gets at least one)."""
    total = sum(fractions.values())
    exact = {name: num_clips * value / total for name, value in fractions.items()}
    counts = {name: max(1, int(np.floor(value))) for name, value in exact.items()}
    by_remainder = sorted(fractions, key=lambda name: exact[name] - np.floor(exact[name]), reverse=True)
    while sum(counts.values()) < num_clips:
        for name in by_remainder:
            if sum(counts.values()) < num_clips:
                counts[name] += 1
    while sum(counts.values()) > num_clips:
        largest = max(counts, key=counts.get)
        counts[largest] -= 1
    return counts


def plan_synthetic_dataset(settings: SyntheticDatasetSettings) -> list[PlannedClip]:
    """Every clip's split, scene kind (in turn), path kind (drawn by weight) and seed; deterministic."""
    path_names = sorted(settings.path_weights)
    weights = np.array([settings.path_weights[name] for name in path_names])
    planned, index = [], 0
    for split, count in split_counts(settings.num_clips, settings.splits).items():
        for position in range(count):
            rng = np.random.default_rng([settings.seed, index])
            scene = settings.scenes[position % len(settings.scenes)]
            path = str(rng.choice(path_names, p=weights / weights.sum()))
            planned.append(
                PlannedClip(f"{scene}-{path}-{index:05d}", split, scene, path, int(rng.integers(2**31 - 1)))
            )
            index += 1
    return planned


def _is_complete(root: Path, settings: SyntheticDatasetSettings, clip: PlannedClip) -> bool:
    """A clip's last-written file exists (the camera file, or the renamed scene folder)."""
    if settings.layout == "re10k":
        return (root / clip.split / "cameras" / f"{clip.name}.txt").is_file()
    return (root / clip.split / clip.name / TRANSFORMS).is_file()


def _check_target(root: Path, settings: SyntheticDatasetSettings) -> None:
    """Refuses a folder that holds anything but (a partial build of) this same dataset."""
    manifest_path = root / MANIFEST
    if manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text())
        except ValueError as error:
            raise ValueError(f"{manifest_path}: not valid JSON ({error}); choose an empty folder") from None
        is_synthetic = isinstance(manifest, dict) and manifest.get("kind") == MANIFEST_KIND
        previous, current = manifest.get("settings") if is_synthetic else None, settings.to_json()
        if previous != current:
            if isinstance(previous, dict):
                differing = ", ".join(sorted(key for key in current if previous.get(key) != current[key]))
                reason = f"made with other settings (differing: {differing})"
            else:
                reason = "that is not a synthetic dataset"
            raise ValueError(f"{root} already holds a dataset {reason}; choose another folder")
    elif root.exists() and any(root.iterdir()):
        raise ValueError(f"{root} is not empty and holds no {MANIFEST}; choose an empty or new folder")


def build_synthetic_dataset(
    root: str | Path,
    num_clips: int,
    seed: int = 0,
    splits: Mapping[str, float] | None = None,
    layout: str = "re10k",
    num_frames: int = 128,
    image_size: tuple[int, int] = (256, 256),
    scenes: Sequence[str] | None = None,
    path_weights: Mapping[str, float] | None = None,
    storage: str = "video",
    progress: bool = True,
    console: Console | None = None,
) -> Path:
    """Renders `num_clips` synthetic clips into `root` in RealEstate10K or DL3DV layout; returns the
    manifest path. `splits` maps split names to fractions (default 90% train, 10% test); scene kinds
    are taken in turn, path kinds drawn by `path_weights`."""
    settings = SyntheticDatasetSettings(
        num_clips=num_clips,
        seed=seed,
        splits=dict(splits or DEFAULT_SPLITS),
        layout=layout,
        num_frames=num_frames,
        image_size=tuple(image_size),
        scenes=tuple(scenes or ()),
        path_weights=dict(path_weights or DEFAULT_PATH_WEIGHTS),
        storage=storage,
    )
    root = Path(root)
    _check_target(root, settings)
    planned = plan_synthetic_dataset(settings)
    manifest = {
        "kind": MANIFEST_KIND,
        "layout": settings.layout,
        "generator": f"motionflow {motionflow.__version__}, motionflow.data.synthetic",
        "settings": settings.to_json(),
        "clips": [asdict(clip) for clip in planned],
        "status": "building",
    }
    atomic_write_json(root / MANIFEST, manifest)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=not progress) as bar:
        task = bar.add_task("synthetic clips", total=len(planned))
        for clip in planned:
            bar.update(task, description=f"{clip.split}/{clip.name}")
            if not _is_complete(root, settings, clip):
                rendered = render_synthetic_clip(
                    clip.scene, clip.path, settings.num_frames, settings.image_size, clip.seed
                )
                _write(root, settings, Clip(clip.name, rendered.frames, rendered.trajectory), clip.split)
            bar.advance(task)
        bar.update(task, description="synthetic clips")
    manifest["status"] = "complete"
    return atomic_write_json(root / MANIFEST, manifest)


def _write(root: Path, settings: SyntheticDatasetSettings, clip: Clip, split: str) -> None:
    if settings.layout == "re10k":
        Re10kDataset.write(root, split, clip, storage=settings.storage)
    else:
        Dl3dvDataset.write(root, split, clip)
