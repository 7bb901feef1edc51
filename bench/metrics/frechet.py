"""Statistics between two feature sets: the Fréchet distance (FID, FVD) and the kernel distance (KID).

Fréchet distance between N(mu1, S1) and N(mu2, S2):

    d^2 = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1^(1/2) S2 S1^(1/2))^(1/2))

The trace term equals tr(sqrtm(S1 S2)) of pytorch-fid: S1 S2 is similar to the symmetric PSD matrix
S1^(1/2) S2 S1^(1/2) (and to L^T S2 L for S1 = L L^T), so the trace is the sum of the square roots of
the eigenvalues of a symmetric matrix. A symmetric eigen-decomposition replaces the Schur-based
`scipy.linalg.sqrtm` of a non-symmetric product: faster, real by construction, and no dependence on
sqrtm's deprecated `disp` argument. Eigenvalues that rounding makes slightly negative (rank-deficient
covariances, N below the feature dimension) are clipped to zero.

KID (Binkowski et al. 2018): the unbiased MMD^2 with the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3, averaged over random subsets (seeded), as torch-fidelity and clean-fid do."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000


@dataclass(frozen=True)
class FeatureStatistics:
    mean: np.ndarray
    covariance: np.ndarray
    n: int


def feature_statistics(features: np.ndarray) -> FeatureStatistics:
    """Mean and unbiased covariance (N - 1, as pytorch-fid) of features [N, d]."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need features [N >= 2, d], got shape {features.shape}")
    return FeatureStatistics(features.mean(axis=0), np.cov(features, rowvar=False), len(features))


def psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (negative rounding eigenvalues -> 0)."""
    eigenvalues, eigenvectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((S1^(1/2) S2 S1^(1/2))^(1/2)) = tr(sqrtm(S1 S2)) for PSD S1, S2.

    The symmetric matrix whose eigenvalues are those of S1 S2 is built as L^T S2 L from the Cholesky
    factor S1 = L L^T (a fraction of the cost of an eigen-decomposition), or as S1^(1/2) S2 S1^(1/2)
    when S1 is singular (N below the feature dimension) and has no Cholesky factor."""
    try:
        lower = np.linalg.cholesky(sigma1)
        product = lower.T @ sigma2 @ lower
    except np.linalg.LinAlgError:
        root = psd_sqrt(sigma1)
        product = root @ sigma2 @ root
    eigenvalues = np.linalg.eigvalsh((product + product.T) / 2.0)
    return float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = (
        np.atleast_2d(np.asarray(sigma1, np.float64)),
        np.atleast_2d(np.asarray(sigma2, np.float64)),
    )
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(
            f"mismatched shapes: mu {mu1.shape}, {mu2.shape}; sigma {sigma1.shape}, {sigma2.shape}"
        )
    difference = mu1 - mu2
    trace_term = trace_sqrt_product(sigma1, sigma2)
    return float(difference @ difference + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_term)


def frechet_distance_of_features(features1: np.ndarray, features2: np.ndarray) -> float:
    stats1, stats2 = feature_statistics(features1), feature_statistics(features2)
    return frechet_distance(stats1.mean, stats1.covariance, stats2.mean, stats2.covariance)


def polynomial_mmd2(features1: np.ndarray, features2: np.ndarray) -> float:
    """Unbiased MMD^2 between two samples [m, d] with the kernel (x.y / d + 1)^3."""
    m, n, dim = len(features1), len(features2), features1.shape[1]
    k11 = (features1 @ features1.T / dim + 1.0) ** 3
    k22 = (features2 @ features2.T / dim + 1.0) ** 3
    k12 = (features1 @ features2.T / dim + 1.0) ** 3
    within1 = (k11.sum() - np.trace(k11)) / (m * (m - 1))
    within2 = (k22.sum() - np.trace(k22)) / (n * (n - 1))
    return float(within1 + within2 - 2.0 * k12.mean())


def kernel_distance(
    features1: np.ndarray,
    features2: np.ndarray,
    n_subsets: int = KID_SUBSETS,
    subset_size: int = KID_SUBSET_SIZE,
    seed: int = 0,
) -> np.ndarray:
    """KID per subset: MMD^2 of `n_subsets` random subsets of min(subset_size, N1, N2) from each set."""
    features1, features2 = np.asarray(features1, np.float64), np.asarray(features2, np.float64)
    size = min(subset_size, len(features1), len(features2))
    if size < 2:
        raise ValueError(
            f"KID needs at least 2 samples in each set, got {len(features1)} and {len(features2)}"
        )
    rng = np.random.default_rng(seed)
    return np.array(
        [
            polynomial_mmd2(
                features1[rng.choice(len(features1), size, replace=False)],
                features2[rng.choice(len(features2), size, replace=False)],
            )
            for _ in range(n_subsets)
        ]
    )
