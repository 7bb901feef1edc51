"""CameraCtrl (He et al., 2024) on the shared AnimateDiff backbone, and its image-conditioned variant.

Camera encoder (the official `CameraPoseEncoder`): Plücker rays [B, F, 6, H, W] -> pixel-unshuffle to the
latent grid -> conv_in -> per UNet level: (2x average-pool) + ResNet blocks, each followed by TEMPORAL
self-attention over the frames of every pixel -> one feature map per level (multi-scale). The ResNet
blocks are the official T2I-Adapter blocks (conv 3x3, ReLU, conv 1x1, identity skip; a 1x1 conv where
the width changes), diffusers' `AdapterResnetBlock`; the temporal attention is diffusers'
`BasicTransformerBlock` with sinusoidal frame positions, the block AnimateDiff's motion modules use.

Injection: in the first temporal self-attention of every transformer block of the down and up motion
modules (the official `temporal_attn_names: '0'`, no mid-block motion module), the camera features of
the block's resolution are merged into the attention input: x' = qkv_merge(x + f) * scale + x, queries,
keys and values computed from x'; the block's residual still adds to the unmerged x. qkv_merge starts at
zero, so a fresh model is its base UNet.

`cameractrl+ic` (Table 3, "CameraCtrl+IC"): the same model with the reference image's latent
concatenated to every frame's noisy latent (conv_in widened by zero-initialised channels). Every
baseline here also receives the reference's CLIP image tokens as cross-attention context, so "IC" adds
the pixel-aligned first-frame condition that CLIP tokens lack."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from diffusers import UNetMotionModel
from diffusers.models.adapter import AdapterResnetBlock
from diffusers.models.attention import BasicTransformerBlock
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from torch import nn

from baselines.backbone import CAMERA_CONTROLS, BaselineConfig, CameraBank, CameraControl, motion_blocks
from baselines.base import METHODS, MethodRequirements
from baselines.generation import BaselineCheckpointMethod, checkpoint_spec
from motionflow.camera.trajectory import Trajectory
from motionflow.errors import FrameCountError
from motionflow.models.attention import zero_linear
from motionflow.models.config import MotionFlowConfig
from motionflow.models.inputs import trajectory_plucker
from motionflow.models.trajectory_encoder import PLUCKER_CHANNELS

OFFICIAL_ENCODER_SETTINGS = dict(layers_per_level=2, attention_heads=8, max_frames=16, merge_scale=1.0)
"""configs/train_cameractrl/adv3_256_384_cameractrl_relora.yaml: nums_rb 2, temporal_attention_nhead 8,
temporal_position_encoding_max_len 16, attention processor scale 1.0."""


class CameraResnetBlock(AdapterResnetBlock):
    """The official encoder's `ResnetBlock(in, out, down, ksize=1, sk=True, use_conv=False)`:
    (2x2 average pool) -> (1x1 in_conv where the width changes) -> conv3x3, ReLU, conv1x1 + skip."""

    def __init__(self, in_channels: int, out_channels: int, downsample: bool):
        super().__init__(out_channels)
        self.downsample = nn.AvgPool2d(kernel_size=2, stride=2) if downsample else None
        self.in_conv = (
            nn.Conv2d(in_channels, out_channels, kernel_size=1) if in_channels != out_channels else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsample is not None:
            x = self.downsample(x)
        if self.in_conv is not None:
            x = self.in_conv(x)
        return super().forward(x)


def temporal_layout(features: torch.Tensor, num_frames: int) -> torch.Tensor:
    """[B * F, C, h, w] -> [B * h * w, F, C] (the layout of AnimateDiff's temporal attention)."""
    batch_frames, channels, height, width = features.shape
    batch = batch_frames // num_frames
    return features.unflatten(0, (batch, num_frames)).permute(0, 3, 4, 1, 2).reshape(-1, num_frames, channels)


def spatial_layout(tokens: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """[B * h * w, F, C] -> [B * F, C, h, w]."""
    rows, num_frames, channels = tokens.shape
    batch = rows // (height * width)
    return tokens.reshape(batch, height, width, num_frames, channels).permute(0, 3, 4, 1, 2).flatten(0, 1)


class CameraCtrlLevel(nn.Module):
    """One resolution of the camera encoder: ResNet blocks, each followed by temporal self-attention."""

    def __init__(
        self, in_channels: int, out_channels: int, downsample: bool, layers: int, heads: int, max_frames: int
    ):
        super().__init__()
        if out_channels % heads:
            raise ValueError(f"{out_channels} camera-encoder channels are not divisible by {heads} heads")
        self.resnets = nn.ModuleList(
            CameraResnetBlock(
                in_channels if index == 0 else out_channels, out_channels, downsample and index == 0
            )
            for index in range(layers)
        )
        self.attentions = nn.ModuleList(
            BasicTransformerBlock(
                out_channels,
                heads,
                out_channels // heads,
                activation_fn="geglu",
                attention_bias=False,
                positional_embeddings="sinusoidal",
                num_positional_embeddings=max_frames,
            )
            for _ in range(layers)
        )

    def forward(self, features: torch.Tensor, num_frames: int) -> torch.Tensor:
        for resnet, attention in zip(self.resnets, self.attentions, strict=True):
            features = resnet(features)
            height, width = features.shape[-2:]
            tokens = attention(temporal_layout(features, num_frames))
            features = spatial_layout(tokens, height, width)
        return features


class CameraCtrlEncoder(nn.Module):
    """Plücker rays [B, F, 6, H, W] -> per level i features [B * F, channels[i], H / f / 2**i, W / f / 2**i]."""

    def __init__(
        self,
        channels: tuple[int, ...],
        downscale_factor: int,
        layers_per_level: int,
        attention_heads: int,
        max_frames: int,
    ):
        super().__init__()
        self.downscale_factor = downscale_factor
        self.max_frames = max_frames
        self.conv_in = nn.Conv2d(
            PLUCKER_CHANNELS * downscale_factor**2, channels[0], kernel_size=3, padding=1
        )
        self.levels = nn.ModuleList(
            CameraCtrlLevel(
                channels[max(index - 1, 0)],
                out_channels,
                index > 0,
                layers_per_level,
                attention_heads,
                max_frames,
            )
            for index, out_channels in enumerate(channels)
        )

    def forward(self, plucker: torch.Tensor) -> list[torch.Tensor]:
        if plucker.ndim != 5 or plucker.shape[2] != PLUCKER_CHANNELS:
            raise ValueError(f"expected Plücker rays [B, F, 6, H, W], got {tuple(plucker.shape)}")
        num_frames = plucker.shape[1]
        if num_frames > self.max_frames:
            raise FrameCountError(
                f"{num_frames} frames; the camera encoder handles at most {self.max_frames}"
            )
        features = self.conv_in(F.pixel_unshuffle(plucker.flatten(0, 1), self.downscale_factor))
        outputs = []
        for level in self.levels:
            features = level(features, num_frames)
            outputs.append(features)
        return outputs


class PoseMergeAttnProcessor(nn.Module):
    """The official `PoseAdaptorAttnProcessor` (query and key/value condition): attention over
    x' = qkv_merge(x + f) * scale + x, with f the camera features of the block's level."""

    def __init__(self, bank: CameraBank, level: int, dim: int, scale: float):
        super().__init__()
        self.bank = bank
        self.level = level
        self.scale = scale
        self.base = AttnProcessor2_0()
        self.qkv_merge = zero_linear(dim, dim)

    def __call__(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
    ) -> torch.Tensor:
        features = self.bank.camera[self.level]
        if features.shape != hidden_states.shape:
            raise ValueError(
                f"camera features {tuple(features.shape)} do not match the temporal tokens {tuple(hidden_states.shape)}"
            )
        merged = self.qkv_merge(hidden_states + features.to(hidden_states.dtype)) * self.scale + hidden_states
        return self.base(attn, merged, None, attention_mask, temb)


@CAMERA_CONTROLS.register("cameractrl")
class CameraCtrlControl(CameraControl):
    name = "cameractrl"

    def __init__(self, config: BaselineConfig, bank: CameraBank):
        super().__init__(config, bank)
        backbone = config.backbone
        self.encoder = CameraCtrlEncoder(
            channels=backbone.block_out_channels,
            downscale_factor=backbone.latent_codec["downsample_factor"],
            layers_per_level=self.settings["layers_per_level"],
            attention_heads=self.settings["attention_heads"],
            max_frames=self.settings["max_frames"],
        )

    @classmethod
    def default_settings(cls, backbone: MotionFlowConfig) -> dict[str, Any]:
        """The official settings at full size; at smaller sizes one block per level and the motion
        modules' head count, like MotionFlow-small's trajectory encoder."""
        if backbone.block_out_channels == (320, 640, 1280, 1280):
            return dict(OFFICIAL_ENCODER_SETTINGS)
        return dict(
            OFFICIAL_ENCODER_SETTINGS,
            layers_per_level=backbone.trajectory_layers_per_level,
            attention_heads=backbone.motion_adapter["motion_num_attention_heads"],
        )

    @property
    def max_frames(self) -> int:
        return self.encoder.max_frames

    def camera_input(self, trajectory: Trajectory, size: tuple[int, int]) -> torch.Tensor:
        return trajectory_plucker(trajectory, size)

    def check_input(self, camera: torch.Tensor, size: tuple[int, int]) -> None:
        if camera.ndim != 5 or camera.shape[2] != PLUCKER_CHANNELS or tuple(camera.shape[-2:]) != tuple(size):
            raise ValueError(
                f"CameraCtrl takes Plücker rays [B, F, 6, {size[0]}, {size[1]}], got {tuple(camera.shape)}"
            )

    def encode(self, camera: torch.Tensor) -> list[torch.Tensor]:
        return self.encoder(camera)

    def attach(self, encoded: list[torch.Tensor], batch_size: int, num_frames: int) -> None:
        self.bank.camera = {
            level: temporal_layout(features, num_frames) for level, features in enumerate(encoded)
        }

    def install(self, video_unet: UNetMotionModel) -> None:
        channels = video_unet.config.block_out_channels
        for name, level, block in motion_blocks(video_unet):
            if name.startswith("mid_block"):
                continue
            dim = block.attn1.to_q.in_features
            if dim != channels[level]:
                raise ValueError(
                    f"{name}: temporal width {dim} differs from the level's {channels[level]} channels"
                )
            block.attn1.set_processor(
                PoseMergeAttnProcessor(self.bank, level, dim, self.settings["merge_scale"])
            )

    def is_own_parameter(self, name: str) -> bool:
        return name.startswith("camera_control.") or ".processor.qkv_merge." in name


CAMERACTRL_CHECKPOINT = checkpoint_spec("cameractrl")
CAMERACTRL_IC_CHECKPOINT = checkpoint_spec("cameractrl+ic")


@METHODS.register("cameractrl")
class CameraCtrlMethod(BaselineCheckpointMethod):
    name = "cameractrl"
    weights = CAMERACTRL_CHECKPOINT
    bundled_checkpoint = "cameractrl-small"
    requirements = MethodRequirements(weights=(CAMERACTRL_CHECKPOINT.name,))


@METHODS.register("cameractrl+ic")
class CameraCtrlImageConditionedMethod(BaselineCheckpointMethod):
    name = "cameractrl+ic"
    weights = CAMERACTRL_IC_CHECKPOINT
    bundled_checkpoint = "cameractrl-ic-small"
    requirements = MethodRequirements(weights=(CAMERACTRL_IC_CHECKPOINT.name,))
