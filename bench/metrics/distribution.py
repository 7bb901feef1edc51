"""FID, KID and FVD from feature sets, each result carrying its sample counts.

Below the feature dimension (N < 2048 for Inception, N < 400 for I3D) the covariance estimates are
rank-deficient and the Fréchet distance is biased upward, strongly dependent on N: such a result says
so in its details, and results are comparable only at equal N. KID is unbiased in N but its variance
grows as N shrinks."""

from __future__ import annotations

import numpy as np

from bench.metrics import i3d, inception  # noqa: F401  (registers the extractors these metrics use)
from bench.metrics.base import DISTRIBUTION_METRICS, FEATURE_EXTRACTORS, DistributionMetric
from bench.metrics.frechet import KID_SUBSET_SIZE, KID_SUBSETS, frechet_distance_of_features, kernel_distance
from bench.metrics.result import MetricResult

for _metric in (
    DistributionMetric("fid", "inception_fid", "frechet", "Fréchet Inception Distance over all frames"),
    DistributionMetric("kid", "inception_fid", "kid", "Kernel Inception Distance over all frames"),
    DistributionMetric("fvd", "i3d_stylegan_v", "frechet", "Fréchet Video Distance over 16-frame clips"),
    DistributionMetric(
        "fvd_videogpt", "i3d_videogpt", "frechet", "Fréchet Video Distance, VideoGPT's I3D and preprocessing"
    ),
):
    DISTRIBUTION_METRICS.register(_metric.name)(_metric)


def sample_note(n_generated: int, n_reference: int, feature_dim: int, unit: str) -> str:
    """States N, and warns when it is below the feature dimension."""
    note = f"N = {n_generated} generated / {n_reference} reference {unit}s"
    if min(n_generated, n_reference) < feature_dim:
        note += (
            f", below the feature dimension {feature_dim}: rank-deficient covariances, "
            "biased and N-dependent; compare only at equal N"
        )
    return note


def score_features(
    metric: DistributionMetric | str,
    generated: np.ndarray,
    reference: np.ndarray,
    seed: int = 0,
    kid_subsets: int = KID_SUBSETS,
    kid_subset_size: int = KID_SUBSET_SIZE,
) -> MetricResult:
    """A distribution metric from generated features [N1, d] and reference features [N2, d]."""
    metric = DISTRIBUTION_METRICS.get(metric) if isinstance(metric, str) else metric
    extractor = FEATURE_EXTRACTORS.get(metric.extractor)
    generated, reference = np.asarray(generated, np.float64), np.asarray(reference, np.float64)
    for label, features in (("generated", generated), ("reference", reference)):
        if features.ndim != 2 or features.shape[1] != extractor.feature_dim:
            raise ValueError(
                f"{label} features have shape {features.shape}, expected [N, {extractor.feature_dim}]"
            )
    n_generated, n_reference = len(generated), len(reference)
    details = {
        "n_generated": n_generated,
        "n_reference": n_reference,
        "feature_dim": extractor.feature_dim,
        "unit": extractor.unit,
        "extractor": extractor.name,
        "below_feature_dim": min(n_generated, n_reference) < extractor.feature_dim,
        "note": sample_note(n_generated, n_reference, extractor.feature_dim, extractor.unit),
    }
    if min(n_generated, n_reference) < 2:
        reason = f"needs at least 2 {extractor.unit}s on each side, got {n_generated} and {n_reference}"
        return MetricResult(metric.name, None, "undefined", reason, details=details)
    if metric.statistic == "frechet":
        return MetricResult(metric.name, frechet_distance_of_features(generated, reference), details=details)
    subsets = kernel_distance(generated, reference, kid_subsets, kid_subset_size, seed)
    details |= {
        "kid_std": float(subsets.std()),
        "subsets": kid_subsets,
        "subset_size": min(kid_subset_size, n_generated, n_reference),
    }
    return MetricResult(metric.name, float(subsets.mean()), per_item=tuple(subsets.tolist()), details=details)
