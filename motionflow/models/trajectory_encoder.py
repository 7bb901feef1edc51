"""Trajectory encoder (Section 3.2): per-frame Plücker rays -> camera features at every UNet resolution.

Built like CameraCtrl's camera encoder (pixel-unshuffle to the latent grid, ResNet blocks, a strided
downsampling per level) except that the attention after each ResNet block is spatial self-attention
over the frame's tokens instead of temporal attention; each level's output is kept (multi-scale)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention
from diffusers.models.resnet import ResnetBlock2D
from torch import nn

PLUCKER_CHANNELS = 6


class TrajectoryLevel(nn.Module):
    """(downsample) -> [ResNet block -> spatial self-attention] x layers, at one resolution."""

    def __init__(
        self, in_channels: int, out_channels: int, downsample: bool, layers: int, head_dim: int, groups: int
    ):
        super().__init__()
        self.downsample = nn.Conv2d(in_channels, in_channels, 3, stride=2, padding=1) if downsample else None
        heads = max(1, out_channels // head_dim)
        self.resnets = nn.ModuleList(
            ResnetBlock2D(
                in_channels=in_channels if index == 0 else out_channels,
                out_channels=out_channels,
                temb_channels=None,
                groups=groups,
            )
            for index in range(layers)
        )
        self.attentions = nn.ModuleList(
            Attention(
                out_channels,
                heads=heads,
                dim_head=out_channels // heads,
                norm_num_groups=groups,
                bias=True,
                residual_connection=True,
            )
            for _ in range(layers)
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if self.downsample is not None:
            features = self.downsample(features)
        for resnet, attention in zip(self.resnets, self.attentions, strict=True):
            features = attention(resnet(features, None))
        return features


class TrajectoryEncoder(nn.Module):
    """Plücker [N, 6, H, W] (N = batch x frames) -> [N, channels[i], H / f / 2**i, W / f / 2**i] per level i."""

    def __init__(
        self,
        channels: tuple[int, ...],
        downscale_factor: int,
        layers_per_level: int,
        attention_head_dim: int,
        norm_num_groups: int,
    ):
        super().__init__()
        self.downscale_factor = downscale_factor
        self.channels = tuple(channels)
        self.conv_in = nn.Conv2d(
            PLUCKER_CHANNELS * downscale_factor**2, channels[0], kernel_size=3, padding=1
        )
        self.levels = nn.ModuleList(
            TrajectoryLevel(
                in_channels=channels[max(index - 1, 0)],
                out_channels=out_channels,
                downsample=index > 0,
                layers=layers_per_level,
                head_dim=attention_head_dim,
                groups=norm_num_groups,
            )
            for index, out_channels in enumerate(channels)
        )

    def forward(self, plucker: torch.Tensor) -> list[torch.Tensor]:
        if plucker.ndim != 4 or plucker.shape[1] != PLUCKER_CHANNELS:
            raise ValueError(f"expected Plücker rays [N, 6, H, W], got {tuple(plucker.shape)}")
        height, width = plucker.shape[-2:]
        if height % self.downscale_factor or width % self.downscale_factor:
            raise ValueError(f"Plücker size {height}x{width} is not divisible by {self.downscale_factor}")
        features = self.conv_in(F.pixel_unshuffle(plucker, self.downscale_factor))
        outputs = []
        for level in self.levels:
            features = level(features)
            outputs.append(features)
        return outputs
