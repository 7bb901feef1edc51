from __future__ import annotations

import numpy as np
import pytest

from motionflow.camera.intrinsics import (
    as_intrinsics_stack,
    center_crop_box,
    normalized_to_pixels,
    pixels_to_normalized,
    resize_frames,
    resize_intrinsics,
    scale_intrinsics,
)
from motionflow.errors import PoseError, VideoError

from .helpers import pinhole


def test_normalized_pixels_round_trip():
    normalized = np.array([[0.474812461, 0.844111024, 0.5, 0.5], [0.6, 0.9, 0.45, 0.55]])
    pixels = normalized_to_pixels(normalized, (256, 384))
    assert pixels[0, 0, 0] == pytest.approx(0.474812461 * 384)
    assert pixels[0, 1, 1] == pytest.approx(0.844111024 * 256)
    assert pixels[1, 0, 2] == pytest.approx(0.45 * 384)
    assert pixels[1, 1, 2] == pytest.approx(0.55 * 256)
    np.testing.assert_allclose(pixels_to_normalized(pixels, (256, 384)), normalized, rtol=0, atol=1e-15)


@pytest.mark.parametrize(
    "bad, problem",
    [
        (np.zeros((2, 3, 4)), "shape"),
        (pinhole(np.nan, 1, 1, 1), "NaN"),
        (pinhole(-5, 1, 1, 1), "non-positive focal"),
    ],
)
def test_invalid_intrinsics_are_rejected(bad, problem):
    with pytest.raises(PoseError, match=problem):
        as_intrinsics_stack(bad)


def test_squash_maps_image_edges_to_image_edges():
    """The image spans [0, W] x [0, H]: the left/top edges stay at 0, the right/bottom edges land on W', H'."""
    K = pinhole(300.0, 280.0, 320.0, 180.0)
    new_K = scale_intrinsics(K, (360, 640), (256, 384))[0]
    edges = np.array([[0.0, 0.0, 1.0], [640.0, 360.0, 1.0]])
    rays = edges @ np.linalg.inv(K).T
    np.testing.assert_allclose(rays @ new_K.T, [[0.0, 0.0, 1.0], [384.0, 256.0, 1.0]], atol=1e-9)


@pytest.mark.parametrize(
    "from_size, to_size, box",
    [
        ((720, 1280), (256, 384), (0, 100, 720, 1080)),  # 16:9 -> 3:2 crops the sides
        ((480, 480), (256, 384), (80, 0, 320, 480)),  # square -> 3:2 crops top and bottom
        ((256, 384), (128, 192), (0, 0, 256, 384)),  # same aspect: no crop
        ((101, 100), (50, 50), (0, 0, 100, 100)),  # odd leftover row goes to the bottom
    ],
)
def test_center_crop_box(from_size, to_size, box):
    assert center_crop_box(from_size, to_size) == box


def test_crop_intrinsics_shift_then_scale():
    K = pinhole(500.0, 500.0, 640.0, 360.0)
    new_K = resize_intrinsics(K, (720, 1280), (256, 384), mode="crop")[0]
    scale = 256 / 720
    np.testing.assert_allclose(new_K, pinhole(500 * scale, 500 * scale, (640 - 100) * scale, 360 * scale))


def test_same_aspect_crop_equals_squash():
    K = pinhole(210.0, 190.0, 170.0, 130.0)
    np.testing.assert_array_equal(
        resize_intrinsics(K, (256, 384), (64, 96), mode="crop"),
        resize_intrinsics(K, (256, 384), (64, 96), mode="squash"),
    )


def test_unknown_resize_mode():
    with pytest.raises(ValueError, match="unknown resize mode 'pad'"):
        resize_intrinsics(pinhole(1, 1, 1, 1), (10, 10), (5, 5), mode="pad")


def _blob_frame(size: tuple[int, int], centers: np.ndarray, sigma: float) -> np.ndarray:
    """A uint8 frame [H, W, 3] with Gaussian blobs centred at continuous pixel positions (u, v); pixel
    (row i, column j) is sampled at its centre (j + 0.5, i + 0.5)."""
    height, width = size
    v, u = np.meshgrid(np.arange(height) + 0.5, np.arange(width) + 0.5, indexing="ij")
    image = np.zeros(size)
    for cu, cv in centers:
        image += np.exp(-((u - cu) ** 2 + (v - cv) ** 2) / (2 * sigma**2))
    return np.repeat(np.round(255 * np.clip(image, 0, 1)).astype(np.uint8)[..., None], 3, axis=-1)


def _blob_centroid(frame: np.ndarray, around: np.ndarray, radius: float) -> np.ndarray:
    """Intensity centroid (u, v) of the pixels within `radius` of `around`, in pixel-edge coordinates."""
    v, u = np.meshgrid(np.arange(frame.shape[0]) + 0.5, np.arange(frame.shape[1]) + 0.5, indexing="ij")
    weight = frame[..., 0].astype(np.float64) * (((u - around[0]) ** 2 + (v - around[1]) ** 2) < radius**2)
    return np.array([(weight * u).sum(), (weight * v).sum()]) / weight.sum()


@pytest.mark.parametrize(
    "source_size, target_size, mode",
    [
        ((180, 320), (64, 96), "squash"),  # RealEstate10K: 16:9 squashed to 3:2
        ((180, 320), (64, 96), "crop"),  # 16:9 centre-cropped to 3:2
        ((150, 120), (64, 96), "crop"),  # portrait source: crop rows
        ((60, 90), (150, 200), "squash"),  # upsampling
    ],
)
def test_projected_point_lands_on_the_same_content(source_size, target_size, mode):
    """Points projected with the source K sit on blobs; after resize_frames the new K projects the same 3D
    points onto the same blobs. A half-pixel slip or a wrong crop offset moves them by >= 0.15 px."""
    height, width = source_size
    K = pinhole(0.9 * width, 0.8 * width, 0.53 * width, 0.47 * height)
    points = np.array([[0.0, 0.0, 4.0], [-0.6, 0.4, 2.5], [0.5, -0.3, 3.0]])
    source_pixels = (points / points[:, 2:]) @ K.T
    sigma = 0.025 * min(source_size)
    frames = np.stack([_blob_frame(source_size, source_pixels[:, :2], sigma)] * 2)

    resized, new_K = resize_frames(frames, K, target_size, mode=mode)

    assert resized.shape == (2, *target_size, 3) and resized.dtype == np.uint8
    assert new_K.shape == (2, 3, 3)
    target_pixels = ((points / points[:, 2:]) @ new_K[0].T)[:, :2]
    target_sigma = sigma * target_size[0] / source_size[0]
    for expected in target_pixels:
        centroid = _blob_centroid(resized[1], expected, radius=3.5 * max(target_sigma, 1.0))
        np.testing.assert_allclose(centroid, expected, atol=0.05)


def test_crop_keeps_pixels_unchanged_when_no_resize_is_needed():
    frames = np.random.default_rng(0).integers(0, 256, size=(3, 10, 16, 3), dtype=np.uint8)
    resized, new_K = resize_frames(frames, pinhole(8, 8, 8, 5), (10, 10), mode="crop")
    np.testing.assert_array_equal(resized, frames[:, :, 3:13])
    np.testing.assert_allclose(new_K[0], pinhole(8, 8, 5, 5))


def test_resize_frames_rejects_bad_input():
    with pytest.raises(VideoError, match="uint8"):
        resize_frames(np.zeros((2, 8, 8, 3), dtype=np.float32), pinhole(4, 4, 4, 4), (4, 4))
    with pytest.raises(VideoError, match="2 frames but 3 intrinsics"):
        resize_frames(np.zeros((2, 8, 8, 3), dtype=np.uint8), np.stack([pinhole(4, 4, 4, 4)] * 3), (4, 4))
    with pytest.raises(ValueError, match="positive"):
        resize_frames(np.zeros((2, 8, 8, 3), dtype=np.uint8), pinhole(4, 4, 4, 4), (0, 4))
