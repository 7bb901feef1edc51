"""PSNR and SSIM against scikit-image with the Wang et al. settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from bench.metrics.base import video_to_unit_tensor
from bench.metrics.visual import gaussian_window_1d, psnr, ssim
from tests.metrics.conftest import random_video


def structured_pair(frames: int = 3, height: int = 37, width: int = 52) -> tuple[np.ndarray, np.ndarray]:
    """Smooth gradients plus texture, and a shifted, noisier copy: SSIM well away from 0 and 1."""
    rows, cols = np.mgrid[0:height, 0:width]
    base = np.stack([rows * 4.0, cols * 3.0, (rows + cols) * 2.0], axis=-1)
    rng = np.random.default_rng(7)
    clean = np.stack([base + 40 * np.sin(cols[..., None] / (2 + f)) for f in range(frames)])
    a = np.clip(clean + rng.normal(0, 8, clean.shape), 0, 255).astype(np.uint8)
    b = np.clip(np.roll(clean, 1, axis=2) + rng.normal(0, 20, clean.shape), 0, 255).astype(np.uint8)
    return a, b


def skimage_ssim(a: np.ndarray, b: np.ndarray, data_range: float) -> list[float]:
    return [
        structural_similarity(
            x,
            y,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            channel_axis=-1,
            data_range=data_range,
        )
        for x, y in zip(a, b, strict=True)
    ]


@pytest.mark.parametrize(
    "pair", [structured_pair(), (random_video(2, 24, 31, 1), random_video(2, 24, 31, 2))]
)
def test_ssim_matches_skimage_wang_settings(pair):
    a, b = pair
    ours = ssim(video_to_unit_tensor(a), video_to_unit_tensor(b), data_range=1.0)
    np.testing.assert_allclose(ours, skimage_ssim(a, b, 255), atol=1e-3)
    np.testing.assert_allclose(ours, skimage_ssim(a, b, 255), atol=1e-5)


def test_ssim_with_data_range_255_and_chunking():
    a, b = structured_pair(frames=5)
    x = torch.from_numpy(a).permute(0, 3, 1, 2).float()
    y = torch.from_numpy(b).permute(0, 3, 1, 2).float()
    whole = ssim(x, y, data_range=255.0)
    np.testing.assert_allclose(ssim(x, y, data_range=255.0, chunk_frames=2), whole, atol=1e-7)
    np.testing.assert_allclose(whole, skimage_ssim(a, b, 255), atol=1e-5)


def test_uint8_frames_with_data_range_255():
    a, b = structured_pair()
    x, y = torch.from_numpy(a).permute(0, 3, 1, 2), torch.from_numpy(b).permute(0, 3, 1, 2)
    np.testing.assert_allclose(ssim(x, y, data_range=255.0), skimage_ssim(a, b, 255), atol=1e-5)
    expected = [peak_signal_noise_ratio(p, q, data_range=255) for p, q in zip(a, b, strict=True)]
    np.testing.assert_allclose(psnr(x, y, data_range=255.0), expected, rtol=1e-6)


def test_ssim_of_identical_frames_is_one():
    a = video_to_unit_tensor(random_video(2, 16, 16))
    np.testing.assert_allclose(ssim(a, a), 1.0, atol=1e-6)


def test_gaussian_window_is_scipys_11_tap_kernel():
    from scipy.ndimage import gaussian_filter1d

    impulse = np.zeros(21)
    impulse[10] = 1.0
    expected = gaussian_filter1d(impulse, sigma=1.5, truncate=3.5)[5:16]
    np.testing.assert_allclose(gaussian_window_1d().numpy(), expected, atol=1e-12)


def test_psnr_matches_skimage_per_frame():
    a, b = structured_pair()
    ours = psnr(video_to_unit_tensor(a), video_to_unit_tensor(b), data_range=1.0)
    expected = [peak_signal_noise_ratio(x, y, data_range=255) for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_psnr_of_identical_frames_is_infinite():
    a = video_to_unit_tensor(random_video(1, 8, 8))
    assert np.isinf(psnr(a, a)).all()


def test_bad_shapes_are_rejected():
    a = torch.rand(2, 3, 20, 20)
    with pytest.raises(ValueError, match="same shape"):
        ssim(a, torch.rand(2, 3, 20, 21))
    with pytest.raises(ValueError, match="at least 11 pixels"):
        ssim(torch.rand(1, 3, 10, 40), torch.rand(1, 3, 10, 40))
