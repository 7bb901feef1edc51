"""Visual-quality metrics of generated videos: the entry point of the run layer.

Importing this module registers every visual metric. A metric whose weights are missing (or fail
their checksum, or are not the expected architecture) is reported as not computed, with the reason,
and never stops the other metrics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.progress import track

from bench.metrics import i3d, inception, perceptual, visual  # noqa: F401  (registers the implementations)
from bench.metrics.base import (
    DISTRIBUTION_METRICS,
    FEATURE_EXTRACTORS,
    PAIRED_METRICS,
    FeatureExtractor,
    PairedFrameMetric,
    check_pair,
    video_to_unit_tensor,
)
from bench.metrics.distribution import score_features
from bench.metrics.result import MetricResult, missing_weights_reason, not_computed
from motionflow.errors import MissingWeightsError
from motionflow.utils.registry import Registry
from motionflow.weights import WeightsChecksumError, WeightsFormatError, weight_spec

DEFAULT_PAIRED = ("psnr", "ssim", "lpips")
DEFAULT_DISTRIBUTION = ("fid", "kid", "fvd")
_LOAD_ERRORS = (MissingWeightsError, WeightsChecksumError, WeightsFormatError)


def _not_loadable(name: str, weights: Sequence[str], error: Exception) -> MetricResult:
    if isinstance(error, MissingWeightsError) and weights:
        return not_computed(name, missing_weights_reason(weight_spec(weights[0])), error)
    return not_computed(name, f"not computed: {error}", error)


class VisualMetricSuite:
    """Loads the requested metrics once (lazily) and scores videos with them.

    Videos are uint8 [F, H, W, 3] arrays, generated and ground truth paired frame by frame."""

    def __init__(
        self,
        paired: Sequence[str] = DEFAULT_PAIRED,
        distribution: Sequence[str] = DEFAULT_DISTRIBUTION,
        weights_root: str | Path | None = None,
        device: str | torch.device = "cpu",
        seed: int = 0,
    ):
        self.paired = tuple(PAIRED_METRICS.get(name).name for name in paired)
        self.distribution = tuple(DISTRIBUTION_METRICS.get(name) for name in distribution)
        self.weights_root, self.device, self.seed = weights_root, device, seed
        self._paired: dict[str, PairedFrameMetric | MetricResult] = {}
        self._extractors: dict[str, FeatureExtractor | MetricResult] = {}

    def _load(self, cache: dict, registry: Registry, name: str) -> Any:
        """The loaded implementation `name`, or the not-computed result explaining why it cannot load."""
        if name not in cache:
            implementation = registry.get(name)
            try:
                cache[name] = implementation(weights_root=self.weights_root, device=self.device)
            except _LOAD_ERRORS as error:
                cache[name] = _not_loadable(name, implementation.weights, error)
        return cache[name]

    def extractor(self, name: str) -> FeatureExtractor | MetricResult:
        """The loaded feature extractor, or the not-computed result explaining why it cannot load."""
        return self._load(self._extractors, FEATURE_EXTRACTORS, name)

    def score_pair(self, generated: np.ndarray, reference: np.ndarray) -> dict[str, MetricResult]:
        """Paired metrics of one video: per-frame values and their mean over frames.

        Raises FrameCountError / VideoError when the videos do not pair frame by frame. PSNR of
        identical frames is +inf, and so is the mean of a video that has one."""
        check_pair(generated, reference)
        generated_frames = video_to_unit_tensor(generated).to(self.device)
        reference_frames = video_to_unit_tensor(reference).to(self.device)
        results = {}
        for name in self.paired:
            metric = self._load(self._paired, PAIRED_METRICS, name)
            if isinstance(metric, MetricResult):
                results[name] = metric
                continue
            per_frame = metric.per_frame(generated_frames, reference_frames)
            results[name] = MetricResult(name, float(np.mean(per_frame)), per_item=tuple(per_frame.tolist()))
        return results

    @property
    def extractor_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(metric.extractor for metric in self.distribution))

    def features(self, video: np.ndarray) -> dict[str, np.ndarray]:
        """Features of one video for every extractor the distribution metrics need and that could load
        (cache them per video to score any subset of videos later)."""
        loaded = {name: self.extractor(name) for name in self.extractor_names}
        return {
            name: extractor.features(video)
            for name, extractor in loaded.items()
            if isinstance(extractor, FeatureExtractor)
        }

    def score_features(
        self, generated: Sequence[dict[str, np.ndarray]], reference: Sequence[dict[str, np.ndarray]]
    ) -> dict[str, MetricResult]:
        """Distribution metrics from per-video features (as returned by `features`)."""
        results = {}
        for metric in self.distribution:
            extractor = self.extractor(metric.extractor)
            if isinstance(extractor, MetricResult):
                results[metric.name] = replace(extractor, name=metric.name)
                continue
            stacked = [
                np.concatenate(
                    [video[metric.extractor] for video in videos] or [np.zeros((0, extractor.feature_dim))]
                )
                for videos in (generated, reference)
            ]
            results[metric.name] = score_features(metric, *stacked, seed=self.seed)
        return results

    def score_distributions(
        self, generated_videos: Iterable[np.ndarray], reference_videos: Iterable[np.ndarray]
    ) -> dict[str, MetricResult]:
        """FID / KID / FVD between two sets of videos (each read once, with a progress bar)."""
        features = {}
        for label, videos in (("generated", generated_videos), ("reference", reference_videos)):
            total = len(videos) if isinstance(videos, Sequence) else None
            description = f"features of {label} videos"
            features[label] = [self.features(video) for video in track(videos, description, total=total)]
        return self.score_features(features["generated"], features["reference"])
