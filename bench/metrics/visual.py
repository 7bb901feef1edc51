"""PSNR and SSIM, batched in torch over frames [F, C, H, W].

SSIM follows Wang et al. 2004 as scikit-image computes it with `gaussian_weights=True, sigma=1.5,
use_sample_covariance=False`: an 11x11 Gaussian window (sigma 1.5, truncated at 3.5 sigma),
K1 = 0.01, K2 = 0.03, population (weighted) covariances, the SSIM map averaged over the pixels whose
window lies inside the image (skimage crops a 5-pixel border), then over channels. PSNR of a frame is
10 log10(data_range^2 / MSE) over all its pixels and channels; identical frames give +inf."""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
import torch.nn.functional as F

from bench.metrics.base import PAIRED_METRICS, PairedFrameMetric

SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _check_frames(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.ndim != 4 or x.shape != y.shape:
        raise ValueError(
            f"expected two [F, C, H, W] tensors of the same shape, got {tuple(x.shape)}, {tuple(y.shape)}"
        )


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> np.ndarray:
    """Per-frame PSNR in dB, float64 [F]."""
    _check_frames(x, y)
    mse = (x.float() - y.float()).square_().mean(dim=(1, 2, 3)).double()
    return (10.0 * torch.log10(data_range**2 / mse)).cpu().numpy()


@cache
def gaussian_window_1d(sigma: float = SSIM_SIGMA, truncate: float = SSIM_TRUNCATE) -> torch.Tensor:
    """scipy.ndimage's Gaussian kernel: radius int(truncate * sigma + 0.5), normalised to sum 1."""
    radius = int(truncate * sigma + 0.5)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


def _separable_filter_valid(maps: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Gaussian filter of maps [N, H, W, C] along H and W without padding (only fully covered windows).

    Depthwise convolutions in channels-last layout: on CPU, oneDNN vectorises these well, while a
    1-channel NCHW convolution is several times slower."""
    channels, size = maps.shape[-1], window.numel()
    vertical = window.view(1, 1, size, 1).expand(channels, 1, size, 1)
    horizontal = window.view(1, 1, 1, size).expand(channels, 1, 1, size)
    filtered = maps.permute(0, 3, 1, 2)
    for kernel in (vertical, horizontal):
        kernel = kernel.contiguous(memory_format=torch.channels_last)
        filtered = F.conv2d(filtered, kernel, groups=channels)
    return filtered.permute(0, 2, 3, 1)


def _ssim_of_chunk(x: torch.Tensor, y: torch.Tensor, data_range: float, window: torch.Tensor) -> torch.Tensor:
    """Per-frame SSIM of frames [n, H, W, C], float64 [n].

    Only 4 maps are filtered (SSIM needs the sum of the two second moments, not each), and the
    formula is evaluated in place on the filtered buffers: on CPU the cost is memory traffic, and a
    few frames at a time stay in cache. Scaling both images by 1 / data_range leaves SSIM unchanged
    and keeps float32 variances exact enough."""
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    moments = torch.empty((4, *x.shape), dtype=torch.float32, device=x.device)
    a = torch.mul(x, 1.0 / data_range, out=moments[0])
    b = torch.mul(y, 1.0 / data_range, out=moments[1])
    torch.mul(a, a, out=moments[2]).addcmul_(b, b)
    torch.mul(a, b, out=moments[3])
    filtered = _separable_filter_valid(moments.flatten(0, 1), window).unflatten(0, (4, len(x)))
    mean_a, mean_b, second_sum, mean_ab = filtered.unbind(0)
    numerator = mean_a * mean_b
    denominator = mean_a.square_().add_(mean_b.square_())  # mean_a^2 + mean_b^2
    covariance_term = mean_ab.sub_(numerator).mul_(2.0).add_(c2)  # 2 cov_ab + C2
    numerator.mul_(2.0).add_(c1).mul_(covariance_term)  # (2 mean_a mean_b + C1)(2 cov_ab + C2)
    variance_term = second_sum.sub_(denominator).add_(c2)  # var_a + var_b + C2
    denominator.add_(c1).mul_(variance_term)
    return numerator.div_(denominator).mean(dim=(1, 2, 3)).double()


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, chunk_frames: int = 4) -> np.ndarray:
    """Per-frame SSIM (mean over pixels and channels), float64 [F], computed `chunk_frames` at a time."""
    _check_frames(x, y)
    window = gaussian_window_1d()
    if min(x.shape[-2:]) < window.numel():
        raise ValueError(
            f"SSIM needs frames of at least {window.numel()} pixels a side, got {tuple(x.shape[-2:])}"
        )
    window = window.to(device=x.device, dtype=torch.float32)
    values = [
        _ssim_of_chunk(
            x[start : start + chunk_frames].permute(0, 2, 3, 1),
            y[start : start + chunk_frames].permute(0, 2, 3, 1),
            data_range,
            window,
        )
        for start in range(0, len(x), chunk_frames)
    ]
    return torch.cat(values).cpu().numpy()


@PAIRED_METRICS.register("psnr")
class PSNR(PairedFrameMetric):
    name = "psnr"
    higher_is_better = True

    def per_frame(self, generated: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
        return psnr(generated, reference, data_range=1.0)


@PAIRED_METRICS.register("ssim")
class SSIM(PairedFrameMetric):
    name = "ssim"
    higher_is_better = True

    def per_frame(self, generated: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
        return ssim(generated, reference, data_range=1.0)
