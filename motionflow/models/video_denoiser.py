"""What every noise predictor on the AnimateDiff backbone shares (MotionFlowModel, the baselines' model).

The frozen latent codec and CLIP image encoder, the UNetMotionModel assembled from a UNet and a
motion adapter, saving to a folder, the training-stage parameter groups, and the conversion between
frames and the latents the UNet denoises."""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from diffusers import UNetMotionModel
from safetensors.torch import load_file, save_file
from torch import nn

from motionflow.errors import MissingWeightsError
from motionflow.models.components import MotionFlowComponents
from motionflow.models.config import MotionFlowConfig
from motionflow.models.image_encoders import ClipImageTokens
from motionflow.models.latent_codec import LatentCodec, build_latent_codec
from motionflow.utils.io import atomic_path, atomic_write_json, content_hash, sha256_file
from motionflow.weights import WeightsChecksumError, WeightsFormatError

WEIGHTS_NAME = "model.safetensors"
SHARED_WEIGHTS_NAME = "shared_weights.json"
FROZEN_PREFIXES = ("image_encoder.", "codec.")
"""Frozen in every diffusion phase: the CLIP image encoder and the latent codec (only a `decoder` phase
fine-tunes the codec's decoder)."""


@dataclass(frozen=True)
class SharedWeights:
    """The file holding a checkpoint's frozen tensors when several checkpoints on one backbone share them
    (`motionflow.checkpoints.bundle`): its path relative to the checkpoint folder and its SHA-256."""

    relative_path: str
    sha256: str

    @classmethod
    def read(cls, folder: Path) -> SharedWeights | None:
        """The reference in `folder`, None for a self-contained checkpoint."""
        file = folder / SHARED_WEIGHTS_NAME
        if not file.is_file():
            return None
        try:
            payload = json.loads(file.read_text())
            return cls(relative_path=str(payload["path"]), sha256=str(payload["sha256"]))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise WeightsFormatError(f"{file}: not a shared-weights reference ({error!r})") from error

    def write(self, folder: Path) -> None:
        atomic_write_json(folder / SHARED_WEIGHTS_NAME, {"path": self.relative_path, "sha256": self.sha256})

    def verified_file(self, folder: Path) -> Path:
        """The shared file; MissingWeightsError if absent, WeightsChecksumError if it is not the one the
        checkpoint was bundled with."""
        path = (folder / self.relative_path).resolve()
        reference = folder / SHARED_WEIGHTS_NAME
        if not path.is_file():
            raise MissingWeightsError(f"shared weights {path} not found (named by {reference})")
        digest = sha256_file(path)
        if digest != self.sha256:
            raise WeightsChecksumError(
                f"shared weights {path}: SHA-256 {digest} does not match {self.sha256} recorded in {reference}"
            )
        return path


def read_weights(folder: Path, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Every tensor of a `save_pretrained` folder: its model.safetensors plus, for a bundled checkpoint,
    the frozen tensors of its shared file."""
    state = load_file(folder / WEIGHTS_NAME, device=str(device))
    shared = SharedWeights.read(folder)
    if shared is None:
        return state
    path = shared.verified_file(folder)
    frozen = load_file(path, device=str(device))
    overlap = sorted(state.keys() & frozen.keys())
    if overlap:
        raise WeightsFormatError(f"{folder / WEIGHTS_NAME} and {path} both hold {overlap[:3]}")
    return {**state, **frozen}


def checkpoint_weights_hash(folder: Path) -> str:
    """Identifies the weights of a checkpoint folder: the SHA-256 of model.safetensors, combined with the
    shared file's for a bundled checkpoint (verified, so a replaced shared file is an error, not a stale
    hash); MissingWeightsError when a file is absent."""
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise MissingWeightsError(f"{weights} not found")
    weights_hash = sha256_file(weights)
    shared = SharedWeights.read(folder)
    if shared is None:
        return weights_hash
    shared.verified_file(folder)
    return content_hash(weights_hash, shared.sha256)


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


def with_reference_latent(sample: torch.Tensor, reference_latents: torch.Tensor) -> torch.Tensor:
    """The image-latent condition: reference latents [B, C, h, w] concatenated to every frame of
    `sample` [B, C, F, h, w] along the channels, or to `sample` [B, C, h, w] itself; per-frame reference
    latents [B, C, F, h, w] to their own frames."""
    reference = reference_latents.to(sample.dtype)
    if sample.ndim == 5 and reference.ndim == 4:
        reference = reference[:, :, None].expand(-1, -1, sample.shape[2], -1, -1)
    return torch.cat([sample, reference], dim=1)


def check_training_stage(stage: int) -> None:
    if stage not in (1, 2):
        raise ValueError(f"training stage must be 1 or 2, got {stage}")


class AnimateDiffBackbone(nn.Module):
    """The frozen latent codec and CLIP image encoder and the video UNet (UNetMotionModel) that every
    noise predictor here is built on: the pretraining backbone and the VideoDenoiser subclasses.
    `takes_frame_latents`: whether `forward` needs the depth-warped reference latents of every frame
    (`frame_latents`, `motionflow.pipeline.depth_warped_latents`) besides the reference and cameras."""

    codec: LatentCodec
    image_encoder: ClipImageTokens
    video_unet: UNetMotionModel
    takes_frame_latents: bool = False

    def _assemble_backbone(self, backbone: MotionFlowConfig, components: MotionFlowComponents) -> None:
        """The frozen latent codec and CLIP image encoder, and the UNetMotionModel of `components`
        (built without copying weights when the components are on the meta device). `backbone` is a
        config fitted to the components (`MotionFlowComponents.fit`)."""
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
    def dtype(self) -> torch.dtype:
        return self.video_unet.dtype

    @property
    def device(self) -> torch.device:
        return self.video_unet.device

    @torch.no_grad()
    def encode_video(self, frames: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Frames [B, F, 3, H, W] in [-1, 1] -> latents [B, C, F, h, w] (the layout forward takes)."""
        batch, num_frames = frames.shape[:2]
        latents = self.codec.encode(frames.flatten(0, 1).to(self.dtype), generator)
        return latents.unflatten(0, (batch, num_frames)).transpose(1, 2)


class VideoDenoiser(AnimateDiffBackbone, ABC):
    """Base of the noise predictors on the AnimateDiff backbone.

    A subclass calls `_assemble_backbone` in its constructor (which sets `codec`, `image_encoder` and
    `video_unet`), has a `config` with `save(directory)`, and names its training stages in
    `stage_named_parameters`. `conv_in_widened`: whether the assembly added the image-latent input
    channels to a UNet without them (zero-initialised: new weights for a first stage to train)."""

    config: Any
    conv_in_widened: bool = False

    def _fit_components(
        self, config: MotionFlowConfig, components: MotionFlowComponents
    ) -> tuple[MotionFlowComponents, MotionFlowConfig]:
        """`components.fit(config)`, noting whether the image-latent input channels were added."""
        fitted, config = components.fit(config)
        self.conv_in_widened = fitted.unet.conv_in.in_channels > components.unet.conv_in.in_channels
        return fitted, config

    @property
    @abstractmethod
    def backbone_config(self) -> MotionFlowConfig:
        """The MotionFlow config of the UNet, motion adapter, CLIP encoder and codec."""

    @abstractmethod
    def set_generation_defaults(self, image_size: tuple[int, int], num_frames: int) -> None:
        """Sets the size and frame count a pipeline generates at by default (the config's `image_size` and
        `num_frames`): those a model is trained at, also when it continues another size's model."""

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
        """This (empty) model with the weights of a `save_pretrained` file (and the shared file of a bundled
        checkpoint), on `device` in `dtype` (float32 by default: `assign` would otherwise keep the stored
        dtype, float16 for a bundled checkpoint), in eval mode."""
        self.load_state_dict(read_weights(weights.parent, device), strict=True, assign=True)
        self.to(device=device, dtype=torch.float32 if dtype is None else dtype)
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
    def latent_channels(self) -> int:
        return self.codec.latent_channels

    @property
    def size_multiple(self) -> int:
        """Image sides must be multiples of this (latent factor x the UNet's total downsampling)."""
        return self.codec.downsample_factor * 2 ** (len(self.backbone_config.block_out_channels) - 1)

    @torch.no_grad()
    def decode_video(self, latents: torch.Tensor, chunk_size: int = 16) -> torch.Tensor:
        """Latents [B, C, F, h, w] -> frames [B, F, 3, H, W], roughly in [-1, 1]."""
        batch, num_frames = latents.shape[0], latents.shape[2]
        flat = latents.transpose(1, 2).flatten(0, 1)
        frames = torch.cat([self.codec.decode(chunk) for chunk in flat.split(chunk_size)])
        return frames.unflatten(0, (batch, num_frames))
