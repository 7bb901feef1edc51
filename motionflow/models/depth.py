"""A small monocular depth network: RGB -> inverse z-depth, for warping the reference into each camera.

Not part of MotionFlow: it serves the "depth-warped" initial noise (`motionflow.pipeline`) and the
`depth-warp` reference row. A U-Net predicts inverse depth (1 / z, metres^-1 in the synthetic scenes'
units) through a softplus, so the sky (no surface) is a target of 0 rather than infinity."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from motionflow.models.inputs import image_to_tensor

SKY_INVERSE_DEPTH = 1e-3
"""Predicted inverse depths below this (surfaces beyond 1 km) are read as no surface: z = inf."""


def _block(in_channels: int, out_channels: int, groups: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.GroupNorm(min(groups, out_channels), out_channels),
        nn.SiLU(),
        nn.Conv2d(out_channels, out_channels, 3, padding=1),
        nn.GroupNorm(min(groups, out_channels), out_channels),
        nn.SiLU(),
    )


class DepthNet(ModelMixin, ConfigMixin):
    """U-Net with `len(channels)` levels, each halving the resolution after the first; inputs in [-1, 1]
    with sides a multiple of 2^(levels - 1)."""

    @register_to_config
    def __init__(
        self,
        channels: tuple[int, ...] = (32, 64, 128, 256),
        groups: int = 8,
        image_size: tuple[int, int] = (128, 128),
    ):
        super().__init__()
        self.encoders = nn.ModuleList()
        previous = 3
        for width in channels:
            self.encoders.append(_block(previous, width, groups))
            previous = width
        self.decoders = nn.ModuleList(
            _block(channels[level + 1] + channels[level], channels[level], groups)
            for level in reversed(range(len(channels) - 1))
        )
        self.head = nn.Conv2d(channels[0], 1, 1)

    @property
    def size_multiple(self) -> int:
        return 2 ** (len(self.config.channels) - 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Inverse depth [B, 1, H, W] (>= 0) of images [B, 3, H, W] in [-1, 1]."""
        if images.shape[-2] % self.size_multiple or images.shape[-1] % self.size_multiple:
            raise ValueError(
                f"image sides {tuple(images.shape[-2:])} must be multiples of {self.size_multiple}"
            )
        skips = []
        hidden = images
        for level, encoder in enumerate(self.encoders):
            if level:
                hidden = F.avg_pool2d(hidden, 2)
            hidden = encoder(hidden)
            skips.append(hidden)
        for decoder, skip in zip(self.decoders, reversed(skips[:-1]), strict=True):
            hidden = F.interpolate(hidden, scale_factor=2.0, mode="nearest")
            hidden = decoder(torch.cat([hidden, skip], dim=1))
        return F.softplus(self.head(hidden))

    @torch.no_grad()
    def estimate_depth(self, image: np.ndarray) -> np.ndarray:
        """z-depth float32 [H, W] of uint8 [H, W, 3] (np.inf where no surface is seen), predicted at the
        network's `image_size` and resized back."""
        height, width = image.shape[:2]
        tensor = image_to_tensor(image, tuple(self.config.image_size))[None].to(self.device, self.dtype)
        inverse = self(tensor)
        inverse = F.interpolate(inverse.float(), size=(height, width), mode="bilinear", align_corners=False)
        inverse = inverse[0, 0].cpu().numpy()
        with np.errstate(divide="ignore"):
            return np.where(inverse < SKY_INVERSE_DEPTH, np.inf, 1.0 / inverse).astype(np.float32)
