"""What every noise predictor on the AnimateDiff backbone shares (MotionFlowModel, the baselines' model).

The frozen latent codec and CLIP image encoder, the UNetMotionModel assembled from a UNet and a
motion adapter, saving to a folder, the training-stage parameter groups, and the conversion between
frames and the latents the UNet denoises."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from diffusers import UNetMotionModel
from safetensors.torch import load_file, save_file
from torch import nn

from motionflow.models.components import MotionFlowComponents
from motionflow.models.config import MotionFlowConfig
from motionflow.models.image_encoders import ClipImageTokens
from motionflow.models.latent_codec import LatentCodec, build_latent_codec
from motionflow.utils.io import atomic_path

WEIGHTS_NAME = "model.safetensors"
FROZEN_PREFIXES = ("image_encoder.", "codec.")
"""Never trained: the CLIP image encoder and the latent codec."""


@contextmanager
def quiet_diffusers() -> Iterator[None]:
    """from_unet2d logs a spurious float32 warning on every assembly."""
    logger = logging.getLogger("diffusers")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def drop_condition(values: torch.Tensor, drop: torch.Tensor | None) -> torch.Tensor:
    """Zeros (the null condition of classifier-free guidance) for the samples where `drop` [B] is true."""
    if drop is None:
        return values
    drop = torch.as_tensor(drop, dtype=torch.bool, device=values.device)
    if drop.shape != values.shape[:1]:
        raise ValueError(f"drop mask must be [B={values.shape[0]}], got {tuple(drop.shape)}")
    return torch.where(drop.reshape(-1, *[1] * (values.ndim - 1)), torch.zeros_like(values), values)


def check_training_stage(stage: int) -> None:
    if stage not in (1, 2):
        raise ValueError(f"training stage must be 1 or 2, got {stage}")


class VideoDenoiser(nn.Module, ABC):
    """Base of the noise predictors on the AnimateDiff backbone.

    A subclass calls `_assemble_backbone` in its constructor (which sets `codec`, `image_encoder` and
    `video_unet`), has a `config` with `save(directory)`, and names its training stages in
    `stage_named_parameters`."""

    config: Any
    codec: LatentCodec
    image_encoder: ClipImageTokens
    video_unet: UNetMotionModel

    def _assemble_backbone(self, backbone: MotionFlowConfig, components: MotionFlowComponents) -> None:
        """The frozen latent codec and CLIP image encoder, and the UNetMotionModel of `components`
        (built without copying weights when the components are on the meta device)."""
        self.codec = build_latent_codec(backbone.latent_codec, vae=components.vae)
        self.codec.requires_grad_(False)
        self.image_encoder = ClipImageTokens(
            components.image_encoder, backbone.image_encoder_mean, backbone.image_encoder_std
        )
        self.image_encoder.requires_grad_(False)
        if self.image_encoder.projection_dim != backbone.cross_attention_dim:
            raise ValueError(
                f"CLIP projection_dim {self.image_encoder.projection_dim} != UNet cross_attention_dim "
                f"{backbone.cross_attention_dim}"
            )
        empty = components.unet.device.type == "meta"
        with quiet_diffusers():
            self.video_unet = UNetMotionModel.from_unet2d(
                components.unet, components.motion_adapter, load_weights=not empty
            )

    @property
    @abstractmethod
    def backbone_config(self) -> MotionFlowConfig:
        """The MotionFlow config of the UNet, motion adapter, CLIP encoder and codec."""

    # ----------------------------------------------------------------- persistence

    def save_pretrained(self, directory: str | Path) -> Path:
        """config.json + model.safetensors (every parameter and persistent buffer), written atomically."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {name: tensor.detach().contiguous().cpu() for name, tensor in self.state_dict().items()}
        with atomic_path(directory / WEIGHTS_NAME) as temporary:
            save_file(state, temporary, metadata={"format": "pt"})
        self.config.save(directory)
        return directory

    def _load_weights(
        self, weights: Path, device: str | torch.device, dtype: torch.dtype | None
    ) -> VideoDenoiser:
        """This (empty) model with the weights of a `save_pretrained` file, on `device` in eval mode."""
        self.load_state_dict(load_file(weights, device=str(device)), strict=True, assign=True)
        self.to(device=device, dtype=dtype)
        return self.eval()

    # ----------------------------------------------------------------- training groups

    @abstractmethod
    def stage_named_parameters(self, stage: int) -> list[tuple[str, nn.Parameter]]:
        """(name, parameter) of what training stage 1 or 2 updates."""

    def stage_parameters(self, stage: int) -> list[nn.Parameter]:
        return [parameter for _, parameter in self.stage_named_parameters(stage)]

    def set_trainable_stage(self, stage: int) -> list[nn.Parameter]:
        """requires_grad on exactly the stage's parameters; returns them (for the optimizer)."""
        selected = self.stage_parameters(stage)
        self.requires_grad_(False)
        for parameter in selected:
            parameter.requires_grad_(True)
        return selected

    # ----------------------------------------------------------------- latents

    @property
    def dtype(self) -> torch.dtype:
        return self.video_unet.dtype

    @property
    def device(self) -> torch.device:
        return self.video_unet.device

    @property
    def latent_channels(self) -> int:
        return self.codec.latent_channels

    @property
    def size_multiple(self) -> int:
        """Image sides must be multiples of this (latent factor x the UNet's total downsampling)."""
        return self.codec.downsample_factor * 2 ** (len(self.backbone_config.block_out_channels) - 1)

    @torch.no_grad()
    def encode_video(self, frames: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Frames [B, F, 3, H, W] in [-1, 1] -> latents [B, C, F, h, w] (the layout forward takes)."""
        batch, num_frames = frames.shape[:2]
        latents = self.codec.encode(frames.flatten(0, 1).to(self.dtype), generator)
        return latents.unflatten(0, (batch, num_frames)).transpose(1, 2)

    @torch.no_grad()
    def decode_video(self, latents: torch.Tensor, chunk_size: int = 16) -> torch.Tensor:
        """Latents [B, C, F, h, w] -> frames [B, F, 3, H, W], roughly in [-1, 1]."""
        batch, num_frames = latents.shape[0], latents.shape[2]
        flat = latents.transpose(1, 2).flatten(0, 1)
        frames = torch.cat([self.codec.decode(chunk) for chunk in flat.split(chunk_size)])
        return frames.unflatten(0, (batch, num_frames))
