"""Tiny MotionFlow configurations and inputs that run in well under a second on a CPU."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from motionflow.camera.poses import look_at
from motionflow.camera.trajectory import Trajectory
from motionflow.models import MotionFlowConfig, MotionFlowModel

SIZE = (32, 32)
TINY_BACKBONE: dict[str, Any] = dict(
    block_out_channels=(16, 32),
    layers_per_block=1,
    attention_heads=2,
    cross_attention_dim=16,
    norm_num_groups=4,
    latent_factor=4,
    encoder_width=16,
    image_size=SIZE,
    num_frames=4,
    trajectory_attention_head_dim=8,
)
"""MotionFlowConfig.small overrides: two UNet levels of 16 and 32 channels, 4x pixel-unshuffle latents,
16-wide encoders, 4 frames of 32x32."""


def tiny_config(**overrides: Any) -> MotionFlowConfig:
    return MotionFlowConfig.small(**{**TINY_BACKBONE, **overrides})


def tiny_vae_config(**overrides: Any) -> MotionFlowConfig:
    return tiny_config(latent_codec="vae", **overrides)


def tiny_model(seed: int = 0, **overrides: Any) -> MotionFlowModel:
    torch.manual_seed(seed)
    return MotionFlowModel(tiny_config(**overrides)).eval()


def randomize_new_modules(model: MotionFlowModel, seed: int = 1, std: float = 0.2) -> None:
    """Gives every zero-initialised MotionFlow module non-zero weights (as after training)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if ".processor." in name or name.startswith("semantic_to_latent."):
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)


def inputs(
    batch: int = 1, frames: int = 4, size: tuple[int, int] = SIZE, channels: int = 48, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(noisy latents [B, C, F, h, w], reference image [B, 3, H, W], Plücker [B, F, 6, H, W])."""
    generator = torch.Generator().manual_seed(seed)
    latents = torch.randn(batch, channels, frames, size[0] // 4, size[1] // 4, generator=generator)
    reference = torch.rand(batch, 3, *size, generator=generator) * 2 - 1
    plucker = torch.randn(batch, frames, 6, *size, generator=generator)
    return latents, reference, plucker


def orbit_trajectory(
    frames: int = 4, image_size: tuple[int, int] = SIZE, radius: float = 2.0, rise: float = 0.0
) -> Trajectory:
    """Cameras on an arc looking at the origin (rising by `rise` per radian turned), intrinsics in pixels
    of `image_size`."""
    angles = np.linspace(0, 0.6, frames)
    c2w = np.stack(
        [look_at(np.array([radius * np.sin(a), rise * a, -radius * np.cos(a)]), np.zeros(3)) for a in angles]
    )
    height, width = image_size
    intrinsics = np.array([[0.9 * width, 0, width / 2], [0, 0.9 * width, height / 2], [0, 0, 1.0]])
    return Trajectory(c2w=c2w, intrinsics=np.repeat(intrinsics[None], frames, axis=0), image_size=image_size)


def parameter_count(module: nn.Module) -> int:
    return sum(parameter.numel() for parameter in module.parameters())
