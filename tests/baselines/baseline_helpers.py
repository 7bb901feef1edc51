"""Tiny baseline models and inputs that run in well under a second on a CPU."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import torch
from diffusers import UNetMotionModel

from baselines.backbone import BaselineConfig, BaselineModel, baseline_config
from motionflow.camera.trajectory import Trajectory
from motionflow.models import MotionFlowComponents
from tests.models import helpers as model_helpers
from tests.models.helpers import SIZE, TINY_BACKBONE

FRAMES = TINY_BACKBONE["num_frames"]
CAMERA_METHODS = ("cameractrl", "cameractrl+ic", "motionctrl")
METHODS = ("animatediff", *CAMERA_METHODS)
LATENT_CHANNELS = 3 * 4 * 4


def tiny_config(method: str, **overrides: Any) -> BaselineConfig:
    return baseline_config(method, "small", **{**TINY_BACKBONE, **overrides})


def tiny_model(method: str, seed: int = 0) -> tuple[BaselineModel, MotionFlowComponents]:
    """A fresh baseline on a random base without the image-latent input (AnimateDiff's UNet), and that base."""
    torch.manual_seed(seed)
    config = tiny_config(method)
    components = MotionFlowComponents.random(replace(config.backbone, image_latent_condition=False))
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
    """A rising arc (see tests.models.helpers.orbit_trajectory)."""
    return model_helpers.orbit_trajectory(frames, image_size, radius, rise=0.3)


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
