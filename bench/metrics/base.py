"""Interfaces and registries of the visual-quality metrics.

Two kinds:
- a paired frame metric (PSNR, SSIM, LPIPS) scores each generated frame against the ground-truth frame
  at the same index; a video's value is the mean over its frames;
- a distribution metric (FID, KID, FVD) compares the features of all generated videos with those of all
  reference videos; the features come from a feature extractor (Inception per frame, I3D per clip).

Implementations that need pretrained weights name them (WeightSpec names) in `weights` and load them
in their constructor, which raises MissingWeightsError when a file is absent."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import torch

from motionflow.data.video_io import check_video_array
from motionflow.errors import FrameCountError, MissingWeightsError, VideoError
from motionflow.utils.registry import Registry
from motionflow.weights import WeightsFormatError, weight_spec, weights_path


def resolve_weights_file(
    spec_name: str, weights_root: str | Path | None, weights_file: str | Path | None
) -> Path:
    """The registered file under the weights root (size/checksum verified), or an explicit file."""
    if weights_file is None:
        return weights_path(spec_name, weights_root)
    weights_file = Path(weights_file)
    if not weights_file.is_file():
        raise MissingWeightsError(
            f"weights file {weights_file} not found (for {weight_spec(spec_name).used_by})"
        )
    return weights_file


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A third-party state dict, read with weights_only=True (no code from the file runs)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a file that is not a safe state dict
        raise WeightsFormatError(f"{path}: not a readable PyTorch state dict ({error})") from error
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise WeightsFormatError(f"{path}: expected a state dict of tensors, got {type(state).__name__}")
    return state


def load_into(module: torch.nn.Module, state: dict[str, torch.Tensor], path: Path, architecture: str) -> None:
    """load_state_dict(strict=True), with a wrong file reported as such."""
    try:
        module.load_state_dict(state)
    except RuntimeError as error:
        summary = str(error).splitlines()[0:3]
        raise WeightsFormatError(f"{path} is not {architecture} weights: {' '.join(summary)}") from error


def video_to_unit_tensor(video: np.ndarray) -> torch.Tensor:
    """uint8 [F, H, W, 3] -> float32 [F, 3, H, W] in [0, 1]."""
    frames = torch.from_numpy(np.ascontiguousarray(check_video_array(video)))
    return frames.permute(0, 3, 1, 2).float().div_(255.0)


def check_pair(generated: np.ndarray, reference: np.ndarray) -> None:
    """Raises FrameCountError / VideoError unless two uint8 videos pair frame by frame."""
    check_video_array(generated)
    check_video_array(reference)
    if len(generated) != len(reference):
        raise FrameCountError(f"generated video has {len(generated)} frames, reference has {len(reference)}")
    if generated.shape[1:] != reference.shape[1:]:
        raise VideoError(
            f"generated frames are {generated.shape[1:3]} (H, W), reference frames {reference.shape[1:3]}"
        )


class PairedFrameMetric(ABC):
    """A per-frame metric of a generated video against its ground-truth video."""

    name: ClassVar[str]
    higher_is_better: ClassVar[bool]
    weights: ClassVar[tuple[str, ...]] = ()

    def __init__(self, weights_root: str | Path | None = None, device: str | torch.device = "cpu"):
        self.device = torch.device(device)

    @abstractmethod
    def per_frame(self, generated: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
        """generated, reference: float [F, 3, H, W] in [0, 1] -> float64 [F]."""


class FeatureExtractor(ABC):
    """Maps one video to feature vectors: one per frame or one per clip."""

    name: ClassVar[str]
    feature_dim: ClassVar[int]
    unit: ClassVar[Literal["frame", "clip"]]
    weights: ClassVar[tuple[str, ...]] = ()

    def __init__(self, weights_root: str | Path | None = None, device: str | torch.device = "cpu"):
        self.device = torch.device(device)

    @abstractmethod
    def features(self, video: np.ndarray) -> np.ndarray:
        """uint8 [F, H, W, 3] -> float64 [n, feature_dim] (n frames, or n clips)."""


@dataclass(frozen=True)
class DistributionMetric:
    """A statistic between the feature sets of generated and reference videos."""

    name: str
    extractor: str
    statistic: Literal["frechet", "kid"]
    description: str


PAIRED_METRICS: Registry[type[PairedFrameMetric]] = Registry("paired visual metric")
FEATURE_EXTRACTORS: Registry[type[FeatureExtractor]] = Registry("feature extractor")
DISTRIBUTION_METRICS: Registry[DistributionMetric] = Registry("distribution metric")
