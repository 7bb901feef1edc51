"""Tiny baseline models and inputs that run in well under a second on a CPU."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from diffusers import UNetMotionModel

from baselines.backbone import BaselineConfig, BaselineModel, baseline_config
from motionflow.camera.poses import look_at
from motionflow.camera.trajectory import Trajectory
from motionflow.models import MotionFlowComponents

SIZE = (32, 32)
FRAMES = 4
CAMERA_METHODS = ("cameractrl", "cameractrl+ic", "motionctrl")
METHODS = ("animatediff", *CAMERA_METHODS)
TINY_BACKBONE: dict[str, Any] = dict(
    block_out_channels=(16, 32),
    layers_per_block=1,
    attention_heads=2,
    cross_attention_dim=16,
    norm_num_groups=4,
    latent_factor=4,
    encoder_width=16,
    image_size=SIZE,
    num_frames=FRAMES,
    trajectory_attention_head_dim=8,
)
LATENT_CHANNELS = 3 * 4 * 4


def tiny_config(method: str, **overrides: Any) -> BaselineConfig:
    return baseline_config(method, "small", **{**TINY_BACKBONE, **overrides})


def tiny_model(method: str, seed: int = 0) -> tuple[BaselineModel, MotionFlowComponents]:
    torch.manual_seed(seed)
    config = tiny_config(method)
    components = MotionFlowComponents.random(config.backbone)
    return BaselineModel(config, components).eval(), components


def base_unet(components: MotionFlowComponents) -> UNetMotionModel:
    return UNetMotionModel.from_unet2d(components.unet, components.motion_adapter).eval()


def randomize(model: BaselineModel, names: list[str], seed: int = 1, std: float = 0.2) -> None:
    """Gives the named (zero- or identity-initialised) parameters random values, as after training."""
    generator = torch.Generator().manual_seed(seed)
    parameters = dict(model.named_parameters())
    with torch.no_grad():
        for name in names:
            parameters[name].add_(torch.randn(parameters[name].shape, generator=generator) * std)


def orbit_trajectory(
    frames: int = FRAMES, image_size: tuple[int, int] = SIZE, radius: float = 2.0
) -> Trajectory:
    """Cameras on an arc looking at the origin, intrinsics in pixels of `image_size`."""
    angles = np.linspace(0, 0.6, frames)
    c2w = np.stack(
        [look_at(np.array([radius * np.sin(a), 0.3 * a, -radius * np.cos(a)]), np.zeros(3)) for a in angles]
    )
    height, width = image_size
    intrinsics = np.array([[0.9 * width, 0, width / 2], [0, 0.9 * width, height / 2], [0, 0, 1.0]])
    return Trajectory(c2w=c2w, intrinsics=np.repeat(intrinsics[None], frames, axis=0), image_size=image_size)


def inputs(
    model: BaselineModel, batch: int = 2, trajectory: Trajectory | None = None, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(noisy latents [B, C, F, h, w], reference image [B, 3, H, W], camera input [B, F, ...] or None)."""
    generator = torch.Generator().manual_seed(seed)
    trajectory = trajectory or orbit_trajectory()
    frames = len(trajectory)
    latents = torch.randn(batch, LATENT_CHANNELS, frames, SIZE[0] // 4, SIZE[1] // 4, generator=generator)
    reference = torch.rand(batch, 3, *SIZE, generator=generator) * 2 - 1
    camera = model.camera_input(trajectory, SIZE)
    if camera is not None:
        camera = camera[None].repeat(batch, *[1] * camera.ndim)
    return latents, reference, camera


def reference_image(size: tuple[int, int] = (48, 64), seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((*size, 3)) * 255).astype(np.uint8)
