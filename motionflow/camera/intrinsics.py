"""Pinhole intrinsics in pixels of the frame they describe, and their normalised form."""

from __future__ import annotations

from typing import Literal

import numpy as np

from motionflow.errors import PoseError, VideoError

ResizeMode = Literal["squash", "crop"]
RESIZE_MODES: tuple[str, ...] = ("squash", "crop")


def intrinsics_matrix(fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """The 3x3 pinhole matrix K."""
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])


def as_intrinsics_stack(intrinsics: np.ndarray, num_frames: int | None = None) -> np.ndarray:
    """Returns K as float64 [F, 3, 3]; a single [3, 3] is repeated to num_frames."""
    intrinsics = np.asarray(intrinsics, dtype=np.float64)
    if intrinsics.shape == (3, 3):
        intrinsics = np.repeat(intrinsics[None], 1 if num_frames is None else num_frames, axis=0)
    if intrinsics.ndim != 3 or intrinsics.shape[1:] != (3, 3):
        raise PoseError(f"expected intrinsics of shape [F, 3, 3], got {tuple(intrinsics.shape)}")
    if not np.all(np.isfinite(intrinsics)):
        raise PoseError("intrinsics contain NaN or infinite values")
    if np.any(intrinsics[:, 0, 0] <= 0) or np.any(intrinsics[:, 1, 1] <= 0):
        raise PoseError("intrinsics have a non-positive focal length")
    return intrinsics


def normalized_to_pixels(normalized: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """RealEstate10K-style (fx, fy, cx, cy) divided by (W, H, W, H) -> pixel K [F, 3, 3].

    `normalized` is [F, 4] or [4]; image_size is (H, W)."""
    height, width = image_size
    normalized = np.atleast_2d(np.asarray(normalized, dtype=np.float64))
    scale = np.array([width, height, width, height], dtype=np.float64)
    fx, fy, cx, cy = (normalized * scale).T
    stack = np.zeros((normalized.shape[0], 3, 3))
    stack[:, 0, 0], stack[:, 1, 1], stack[:, 0, 2], stack[:, 1, 2], stack[:, 2, 2] = fx, fy, cx, cy, 1.0
    return stack


def pixels_to_normalized(intrinsics: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """Pixel K [F, 3, 3] -> [F, 4] (fx/W, fy/H, cx/W, cy/H)."""
    height, width = image_size
    intrinsics = as_intrinsics_stack(intrinsics)
    return np.stack(
        [
            intrinsics[:, 0, 0] / width,
            intrinsics[:, 1, 1] / height,
            intrinsics[:, 0, 2] / width,
            intrinsics[:, 1, 2] / height,
        ],
        axis=1,
    )


def scale_intrinsics(
    intrinsics: np.ndarray, from_size: tuple[int, int], to_size: tuple[int, int]
) -> np.ndarray:
    """K of a frame resized (squashed, no crop) from `from_size` to `to_size`, both (H, W).

    Pixel edges map to pixel edges (the image spans [0, W] x [0, H] and the centre of pixel u is
    u + 0.5), so fx and cx scale by W'/W, fy and cy by H'/H."""
    intrinsics = np.array(as_intrinsics_stack(intrinsics), copy=True)
    scale_y = to_size[0] / from_size[0]
    scale_x = to_size[1] / from_size[1]
    intrinsics[:, 0, :] *= scale_x
    intrinsics[:, 1, :] *= scale_y
    return intrinsics


def center_crop_box(from_size: tuple[int, int], to_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the largest centred crop of a `from_size` frame with the aspect
    ratio of `to_size` (both (H, W)), in whole pixels.

    Rounding to whole pixels can leave the crop's aspect a fraction of a pixel off the target's; the
    resize that follows absorbs it, and :func:`resize_intrinsics` accounts for it exactly."""
    from_h, from_w = _checked_size(from_size)
    to_h, to_w = _checked_size(to_size)
    if from_w * to_h > from_h * to_w:
        crop_h, crop_w = from_h, min(from_w, max(1, round(from_h * to_w / to_h)))
    else:
        crop_h, crop_w = min(from_h, max(1, round(from_w * to_h / to_w))), from_w
    return (from_h - crop_h) // 2, (from_w - crop_w) // 2, crop_h, crop_w


def resize_intrinsics(
    intrinsics: np.ndarray,
    from_size: tuple[int, int],
    to_size: tuple[int, int],
    mode: ResizeMode = "squash",
) -> np.ndarray:
    """K [F, 3, 3] of frames resized from `from_size` to `to_size` (both (H, W)).

    mode "squash" resizes the whole frame (the aspect ratio may change, as RealEstate10K's 16:9 -> 3:2
    clips did); "crop" first takes the centred crop of :func:`center_crop_box`, then resizes it."""
    if mode == "squash":
        return scale_intrinsics(intrinsics, from_size, to_size)
    if mode != "crop":
        raise ValueError(f"unknown resize mode {mode!r}; expected one of {', '.join(RESIZE_MODES)}")
    top, left, crop_h, crop_w = center_crop_box(from_size, to_size)
    cropped = np.array(as_intrinsics_stack(intrinsics), copy=True)
    cropped[:, 0, 2] -= left
    cropped[:, 1, 2] -= top
    return scale_intrinsics(cropped, (crop_h, crop_w), to_size)


def resize_frames(
    frames: np.ndarray,
    intrinsics: np.ndarray,
    target_size: tuple[int, int],
    mode: ResizeMode = "squash",
) -> tuple[np.ndarray, np.ndarray]:
    """Resizes (and with mode "crop", centre-crops) uint8 frames [F, H, W, C] to `target_size` (H, W).

    Returns the new frames and the K [F, 3, 3] that describes them (:func:`resize_intrinsics`).
    Resampling is bilinear with antialiasing and half-pixel centres (align_corners=False), the same
    pixel-edge convention the intrinsics follow."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4:
        raise VideoError(f"frames must be uint8 [F, H, W, C], got {frames.dtype} {tuple(frames.shape)}")
    from_size = (frames.shape[1], frames.shape[2])
    new_intrinsics = resize_intrinsics(
        as_intrinsics_stack(intrinsics, len(frames)), from_size, target_size, mode
    )
    if len(new_intrinsics) != len(frames):
        raise VideoError(f"{len(frames)} frames but {len(new_intrinsics)} intrinsics")
    if mode == "crop":
        top, left, crop_h, crop_w = center_crop_box(from_size, target_size)
        frames = frames[:, top : top + crop_h, left : left + crop_w]
    return _resample(frames, _checked_size(target_size)), new_intrinsics


def _resample(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if frames.shape[1:3] == size:
        return np.ascontiguousarray(frames)
    import torch  # here, not at the top: pose-estimation workers import the camera package, not torch
    import torch.nn.functional as F

    tensor = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    resized = F.interpolate(tensor, size=size, mode="bilinear", align_corners=False, antialias=True)
    return resized.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def _checked_size(size: tuple[int, int]) -> tuple[int, int]:
    height, width = (int(value) for value in size)
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive (H, W), got {tuple(size)}")
    return height, width
