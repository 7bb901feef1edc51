"""Metrics benchmark: Fréchet distance at 2048-d against scipy's sqrtm route, and SSIM + PSNR of a
16 x 256 x 384 video against scikit-image.

Run as `python -m bench.benchmarks.metrics`. Each pair of implementations runs alternately, so load
from other processes affects both alike; figures are medians on the CPU with the current torch and
BLAS thread counts. Process CPU time is printed beside wall time, since wall time depends on what
else runs on the machine. Targets: Fréchet >= 4x faster with the same value to 1e-6 relative;
SSIM + PSNR >= 3x faster."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from bench.metrics.frechet import frechet_distance
from bench.metrics.visual import psnr, ssim

FEATURE_DIM = 2048
FEATURE_SAMPLES = 4096
VIDEO_SHAPE = (16, 256, 384, 3)


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float
    """Process CPU time (all threads): unlike wall time, barely affected by other processes' load."""


def interleaved_medians(functions: dict[str, Callable[[], object]], rounds: int) -> dict[str, Timing]:
    """Median wall and CPU time of each function over `rounds` rounds, running them in turn in every
    round (after one untimed warm-up call each)."""
    for function in functions.values():
        function()
    wall: dict[str, list[float]] = {name: [] for name in functions}
    cpu: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            function()
            wall[name].append(time.perf_counter() - start_wall)
            cpu[name].append(time.process_time() - start_cpu)
    return {name: Timing(statistics.median(wall[name]), statistics.median(cpu[name])) for name in functions}


def report(label: str, timing: Timing) -> str:
    return f"  {label:<18}{timing.wall:8.3f} s wall {timing.cpu:8.3f} s CPU"


def speedups(baseline: Timing, ours: Timing, target: float) -> str:
    wall, cpu = baseline.wall / ours.wall, baseline.cpu / ours.cpu
    verdict = "met" if wall >= target else "NOT met"
    return f"  speed-up {wall:.1f}x wall ({cpu:.1f}x CPU time); target >= {target:g}x wall: {verdict}"


def scipy_sqrtm_frechet(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """The pytorch-fid route: the Schur-based matrix square root of the non-symmetric product."""
    covariance_mean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    difference = mu1 - mu2
    return float(
        difference @ difference + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covariance_mean)
    )


def gaussian_statistics(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    features = np.abs(rng.normal(size=(FEATURE_SAMPLES, FEATURE_DIM))) * rng.uniform(0.5, 2.0, FEATURE_DIM)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def benchmark_frechet() -> None:
    (mu1, sigma1), (mu2, sigma2) = gaussian_statistics(0), gaussian_statistics(1)
    ours = frechet_distance(mu1, sigma1, mu2, sigma2)
    reference = scipy_sqrtm_frechet(mu1, sigma1, mu2, sigma2)
    times = interleaved_medians(
        {
            "eigh": lambda: frechet_distance(mu1, sigma1, mu2, sigma2),
            "sqrtm": lambda: scipy_sqrtm_frechet(mu1, sigma1, mu2, sigma2),
        },
        rounds=2,
    )
    relative = abs(ours - reference) / abs(reference)
    print(f"Fréchet distance, {FEATURE_DIM}-d covariances from N = {FEATURE_SAMPLES}:")
    print(report("ours (eigvalsh)", times["eigh"]) + f"   value {ours:.10g}")
    print(report("scipy sqrtm", times["sqrtm"]) + f"   value {reference:.10g}")
    print(speedups(times["sqrtm"], times["eigh"], 4.0))
    print(
        f"  relative difference {relative:.2e} (target <= 1e-6: {'met' if relative <= 1e-6 else 'NOT met'})"
    )


def skimage_ssim_psnr(generated: np.ndarray, reference: np.ndarray) -> tuple[list[float], list[float]]:
    ssim_values, psnr_values = [], []
    for a, b in zip(generated, reference, strict=True):
        ssim_values.append(
            structural_similarity(
                a,
                b,
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
                channel_axis=-1,
                data_range=255,
            )
        )
        psnr_values.append(peak_signal_noise_ratio(a, b, data_range=255))
    return ssim_values, psnr_values


def torch_ssim_psnr(generated: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """On the uint8 frames as [F, 3, H, W] views (no copy); SSIM scales them to float32 in its first pass."""
    a = torch.from_numpy(generated).permute(0, 3, 1, 2)
    b = torch.from_numpy(reference).permute(0, 3, 1, 2)
    return ssim(a, b, data_range=255.0), psnr(a, b, data_range=255.0)


def benchmark_ssim_psnr() -> None:
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 256, VIDEO_SHAPE, dtype=np.uint8)
    generated = np.clip(reference + rng.normal(0, 20, VIDEO_SHAPE), 0, 255).astype(np.uint8)
    ours_ssim, ours_psnr = torch_ssim_psnr(generated, reference)
    skimage_values = skimage_ssim_psnr(generated, reference)
    times = interleaved_medians(
        {
            "torch": lambda: torch_ssim_psnr(generated, reference),
            "skimage": lambda: skimage_ssim_psnr(generated, reference),
        },
        rounds=5,
    )
    shape = "x".join(map(str, VIDEO_SHAPE[:3]))
    print(f"SSIM + PSNR of a {shape} video (torch threads: {torch.get_num_threads()}):")
    print(report("torch (batched)", times["torch"]))
    print(report("skimage (frames)", times["skimage"]))
    print(speedups(times["skimage"], times["torch"], 3.0))
    print(
        f"  max |SSIM diff| {np.abs(ours_ssim - skimage_values[0]).max():.1e}, "
        f"max |PSNR diff| {np.abs(ours_psnr - skimage_values[1]).max():.1e} dB"
    )


def main() -> None:
    benchmark_frechet()
    benchmark_ssim_psnr()


if __name__ == "__main__":
    main()
