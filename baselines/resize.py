"""Bringing a reference image to the trajectory's frame size."""

from __future__ import annotations

import numpy as np
from PIL import Image


def fit_reference(reference_image: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """The reference image resized (squashed) to (H, W); unchanged when it already has that size.

    The trajectory's intrinsics describe frames of `image_size`, so a reference of another size is
    taken to show the same field of view."""
    height, width = image_size
    if reference_image.shape[:2] == (height, width):
        return reference_image
    return np.asarray(Image.fromarray(reference_image).resize((width, height), Image.Resampling.BICUBIC))
