"""MotionFlowModel: the whole network of Section 3 as one nn.Module (noise prediction).

reference image --CLIP--> image tokens (cross-attention context of both UNets)
               --DINO--> semantic tokens / map (added to the noisy latents; object attention)
               --codec-> reference latent --reference motion network (per frame, Eq. 4 with the
                         trajectory encoder's camera tokens)--> reference motion maps per block
                         (and, with `image_latent_condition`, concatenated to every noisy frame latent)
noisy video latents + the above --AnimateDiff UNetMotionModel with MotionFlow processors--> noise
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from accelerate import init_empty_weights
from diffusers import UNet2DConditionModel
from diffusers.models.attention import BasicTransformerBlock
from torch import nn

from motionflow.camera.homography import warp_by_ray_directions
from motionflow.errors import FrameCountError
from motionflow.models.attention import (
    CameraCrossAttnProcessor,
    ConditionBank,
    LevelRays,
    MotionFlowSelfAttnProcessor,
    ReferenceMapCapture,
    SemanticMaskHook,
    is_spatial_block,
    spatial_block_level,
    token_rays,
    transformer_key,
)
from motionflow.models.components import MotionFlowComponents, load_components
from motionflow.models.config import MotionFlowConfig
from motionflow.models.image_encoders import SemanticEncoder
from motionflow.models.trajectory_encoder import TrajectoryEncoder
from motionflow.models.video_denoiser import (
    FROZEN_PREFIXES,
    WEIGHTS_NAME,
    VideoDenoiser,
    check_training_stage,
    drop_condition,
    with_reference_latent,
)


@dataclass
class MotionFlowConditions:
    """Everything the denoiser needs besides the noisy latents and the timestep; computed once per
    video (the pipeline reuses it at every step).

    image_tokens [B, T, D], reference_latents [B, C, h, w], camera_features: per level
    [B * F, C_i, h_i, w_i], semantic_tokens [B, P, S] / semantic_map [B, S, g, g] (None without the
    semantic encoder). `reference_maps` caches the reference network's maps when they do not depend
    on the timestep (config.reference_timestep == "zero"). `rays`: every level's token rays for
    reference attention's ray bias (None without `config.reference_ray_bias`). `frame_reference_latents`
    [B, C, F, h, w]: the reference latent each frame is concatenated with under
    `config.reference_latent_warp` (None without it: `reference_latents` for every frame)."""

    image_tokens: torch.Tensor
    reference_latents: torch.Tensor
    camera_features: list[torch.Tensor]
    semantic_tokens: torch.Tensor | None
    semantic_map: torch.Tensor | None
    num_frames: int
    reference_maps: dict[str, torch.Tensor] | None = None
    rays: dict[int, LevelRays] | None = None
    frame_reference_latents: torch.Tensor | None = None

    @property
    def batch_size(self) -> int:
        return self.image_tokens.shape[0]


class MotionFlowModel(VideoDenoiser):
    """Camera-trajectory-controlled image-to-video noise predictor (MotionFlow, Section 3).

    `MotionFlowModel(config)` assembles it from randomly initialised components; `from_components`
    from given networks; `from_pretrained_components` from the local SD1.5 / AnimateDiff / DINO / CLIP
    folders; `from_pretrained` from a folder written by `save_pretrained`."""

    camera_input_kind = "plucker"

    def __init__(self, config: MotionFlowConfig, components: MotionFlowComponents | None = None):
        super().__init__()
        components = components if components is not None else MotionFlowComponents.random(config)
        components, config = self._fit_components(config, components)
        self.config = config
        self.bank = ConditionBank()
        self._assemble_backbone(config, components)
        self.reference_net: UNet2DConditionModel | None = None
        if config.use_reference_net:
            self.reference_net = (
                copy.deepcopy(components.unet)
                if config.reference_net_init == "pretrained"
                else UNet2DConditionModel.from_config(components.unet.config)
            )
            _trim_reference_net(self.reference_net)
        self.trajectory_encoder = TrajectoryEncoder(
            channels=config.block_out_channels,
            downscale_factor=self.codec.downsample_factor,
            layers_per_level=config.trajectory_layers_per_level,
            attention_head_dim=config.trajectory_attention_head_dim,
            norm_num_groups=config.unet["norm_num_groups"],
        )
        self.semantic_encoder: SemanticEncoder | None = None
        self.semantic_to_latent: nn.Conv2d | None = None
        if config.use_semantic_encoder:
            self.semantic_encoder = SemanticEncoder(
                components.semantic_encoder, config.semantic_encoder_mean, config.semantic_encoder_std
            )
            self.semantic_to_latent = nn.Conv2d(
                self.semantic_encoder.hidden_size, self.codec.latent_channels, 1
            )
            nn.init.zeros_(self.semantic_to_latent.weight)
            nn.init.zeros_(self.semantic_to_latent.bias)
        self.block_keys = self._install_video_processors()
        if self.reference_net is not None:
            self._install_reference_processors()

    # ----------------------------------------------------------------- assembly

    def _spatial_blocks(self, unet: nn.Module) -> dict[str, BasicTransformerBlock]:
        return {
            name: module
            for name, module in unet.named_modules()
            if isinstance(module, BasicTransformerBlock) and is_spatial_block(name)
        }

    def _checked_level(self, key: str, block: BasicTransformerBlock) -> int:
        level = spatial_block_level(key, len(self.config.block_out_channels))
        channels = self.config.block_out_channels[level]
        if block.attn1.to_q.in_features != channels:
            raise ValueError(
                f"{key}: block width {block.attn1.to_q.in_features} differs from the level's {channels} channels; "
                "MotionFlow needs an SD-style UNet whose block widths equal block_out_channels per resolution"
            )
        return level

    def _install_video_processors(self) -> list[str]:
        blocks = self._spatial_blocks(self.video_unet)
        semantic_dim = self.semantic_encoder.hidden_size if self.semantic_encoder is not None else None
        for key, block in blocks.items():
            block.attn1.set_processor(
                MotionFlowSelfAttnProcessor(
                    self.bank,
                    key,
                    block.attn1,
                    block.norm1,
                    semantic_dim=semantic_dim,
                    level=self._checked_level(key, block),
                    ray_bias=self.config.reference_ray_bias,
                )
            )
        if semantic_dim is not None:
            by_transformer: dict[str, list[str]] = {}
            for key in blocks:
                by_transformer.setdefault(transformer_key(key), []).append(key)
            modules = dict(self.video_unet.named_modules())
            for name, keys in by_transformer.items():
                motion_module = modules[name.replace(".attentions.", ".motion_modules.")]
                motion_module.register_forward_hook(SemanticMaskHook(self.bank, keys))
        return list(blocks)

    def _install_reference_processors(self) -> None:
        blocks = self._spatial_blocks(self.reference_net)
        if sorted(blocks) != sorted(self.block_keys):
            raise ValueError("reference network and video network have different transformer blocks")
        for key, block in blocks.items():
            level = self._checked_level(key, block)
            block.attn2.set_processor(
                CameraCrossAttnProcessor(
                    self.bank,
                    level=level,
                    camera_dim=self.config.block_out_channels[level],
                    inner_dim=block.attn2.to_q.out_features,
                    lambda_c=self.config.lambda_c,
                    zero_values=self.config.camera_value_init == "zero",
                )
            )
            block.register_forward_hook(ReferenceMapCapture(self.bank, key))

    @classmethod
    def from_components(cls, config: MotionFlowConfig, components: MotionFlowComponents) -> MotionFlowModel:
        return cls(config, components)

    @classmethod
    def from_pretrained_components(
        cls,
        sd15_dir: str | Path | None = None,
        motion_adapter_dir: str | Path | None = None,
        dino_dir: str | Path | None = None,
        clip_dir: str | Path | None = None,
        config: MotionFlowConfig | None = None,
        weights_root: str | Path | None = None,
    ) -> MotionFlowModel:
        """The full model from the local pretrained folders (the registered ones under the weights root
        where a folder is not given); a missing folder raises MissingWeightsError naming it."""
        config = config if config is not None else MotionFlowConfig.full()
        components = load_components(config, sd15_dir, motion_adapter_dir, dino_dir, clip_dir, weights_root)
        return cls(config, components)

    @classmethod
    def empty(cls, config: MotionFlowConfig) -> MotionFlowModel:
        """The model with its parameters on the meta device (no memory): for counting or loading."""
        with init_empty_weights():
            return cls(config, MotionFlowComponents.random(config))

    @property
    def backbone_config(self) -> MotionFlowConfig:
        return self.config

    def set_generation_defaults(self, image_size: tuple[int, int], num_frames: int) -> None:
        self.config = replace(self.config, image_size=tuple(image_size), num_frames=num_frames)

    # ----------------------------------------------------------------- persistence

    @classmethod
    def from_pretrained(
        cls,
        directory: str | Path,
        device: str | torch.device = "cpu",
        dtype: torch.dtype | None = None,
        config_overrides: dict[str, Any] | None = None,
    ) -> MotionFlowModel:
        """The model saved in `directory`; `config_overrides` replace fields of its saved config (switches
        that change no weights: one that does makes the weights fail to load, naming the mismatch)."""
        directory = Path(directory)
        weights = directory / WEIGHTS_NAME
        if not weights.exists():
            raise FileNotFoundError(f"{weights}: no MotionFlow weights (write them with save_pretrained)")
        config = replace(MotionFlowConfig.load(directory), **(config_overrides or {}))
        return cls.empty(config)._load_weights(weights, device, dtype)

    # ----------------------------------------------------------------- training groups

    def stage_named_parameters(self, stage: int) -> list[tuple[str, nn.Parameter]]:
        """The parameters each training stage updates (Section 3.6).

        Stage 1: the trajectory encoder, the semantic encoder (DINO and its latent projection) and every
        new attention module (Eq. 4's camera projections, reference / object attention, mask heads);
        the reference network too when it starts from random weights, and the video network's conv_in
        where the image-latent channels were added to a UNet without them. Stage 2: everything but the
        frozen CLIP image encoder and latent codec."""
        check_training_stage(stage)
        stage_one = ("trajectory_encoder.", "semantic_encoder.", "semantic_to_latent.")
        if self.config.reference_net_init == "random":
            stage_one = (*stage_one, "reference_net.")
        if self.conv_in_widened:
            stage_one = (*stage_one, "video_unet.conv_in.")
        selected = []
        for name, parameter in self.named_parameters():
            if name.startswith(FROZEN_PREFIXES) or name.endswith("mask_token"):
                continue
            if stage == 2 or name.startswith(stage_one) or ".processor." in name:
                selected.append((name, parameter))
        return selected

    # ----------------------------------------------------------------- forward

    def encode_conditions(
        self,
        reference_image: torch.Tensor,
        plucker: torch.Tensor,
        drop_image: torch.Tensor | None = None,
        drop_camera: torch.Tensor | None = None,
        frame_latents: torch.Tensor | None = None,
    ) -> MotionFlowConditions:
        """reference_image [B, 3, H, W] in [-1, 1], plucker [B, F, 6, H, W] (relative to frame 0);
        `frame_latents` [B, C, F, h, w]: the depth-warped reference latents `config.depth_warped_condition`
        needs (`motionflow.pipeline.depth_warped_latents`), else unused.

        Classifier-free guidance: `drop_image` / `drop_camera` ([B] bool) replace a sample's reference
        image by zeros (mid-grey: CLIP, DINO and the reference latent all see the null image) and its
        Plücker rays by zeros (no camera)."""
        if reference_image.ndim != 4 or reference_image.shape[1] != 3:
            raise ValueError(f"reference_image must be [B, 3, H, W], got {tuple(reference_image.shape)}")
        if plucker.ndim != 5 or plucker.shape[2] != 6 or plucker.shape[0] != reference_image.shape[0]:
            raise ValueError(
                f"plucker must be [B, F, 6, H, W] with B={reference_image.shape[0]}, got {tuple(plucker.shape)}"
            )
        if plucker.shape[-2:] != reference_image.shape[-2:]:
            raise ValueError(
                f"plucker size {tuple(plucker.shape[-2:])} != reference image size {tuple(reference_image.shape[-2:])}"
            )
        reference_image = drop_condition(reference_image.to(self.device, self.dtype), drop_image)
        plucker = drop_condition(plucker.to(self.device, self.dtype), drop_camera)
        with torch.no_grad():
            image_tokens = self.image_encoder(reference_image)
            reference_latents = self.codec.encode(reference_image)
        semantic_tokens = semantic_map = None
        if self.semantic_encoder is not None:
            semantic_tokens, semantic_map = self.semantic_encoder(reference_image)
        rays = None
        if self.config.reference_ray_bias:
            rays = token_rays(
                plucker,
                self.codec.downsample_factor,
                len(self.config.block_out_channels),
                reference_view=self.reference_net is not None,
            )
        frame_reference_latents = None
        if self.config.reference_latent_warp:
            frame_reference_latents = warp_by_ray_directions(reference_latents, plucker)
        if self.config.depth_warped_condition:
            frame_reference_latents = self._depth_warped_condition(
                reference_latents, frame_latents, plucker.shape[1], drop_image, drop_camera
            )
        return MotionFlowConditions(
            image_tokens=image_tokens,
            reference_latents=reference_latents,
            camera_features=self.trajectory_encoder(plucker.flatten(0, 1)),
            semantic_tokens=semantic_tokens,
            semantic_map=semantic_map,
            num_frames=plucker.shape[1],
            rays=rays,
            frame_reference_latents=frame_reference_latents,
        )

    def _depth_warped_condition(
        self,
        reference_latents: torch.Tensor,
        frame_latents: torch.Tensor | None,
        num_frames: int,
        drop_image: torch.Tensor | None,
        drop_camera: torch.Tensor | None,
    ) -> torch.Tensor:
        """Each frame's concatenated latent under `config.depth_warped_condition`: `frame_latents`, or
        the (possibly null) reference latent where the sample's camera or image is dropped."""
        expected = (*reference_latents.shape[:2], num_frames, *reference_latents.shape[2:])
        if frame_latents is None:
            raise ValueError("this model is conditioned on depth-warped frames: it needs frame_latents")
        if tuple(frame_latents.shape) != expected:
            raise ValueError(f"frame_latents must be {expected}, got {tuple(frame_latents.shape)}")
        unwarped = reference_latents[:, :, None].expand(expected)
        dropped = torch.zeros(expected[0], dtype=torch.bool, device=reference_latents.device)
        for drop in (drop_image, drop_camera):
            if drop is not None:
                dropped = dropped | torch.as_tensor(drop, dtype=torch.bool, device=dropped.device)
        return torch.where(dropped.reshape(-1, 1, 1, 1, 1), unwarped, frame_latents.to(unwarped))

    @property
    def takes_frame_latents(self) -> bool:
        return self.config.depth_warped_condition

    def forward(
        self,
        noisy_latents: torch.Tensor,
        timesteps: torch.Tensor | int,
        reference_image: torch.Tensor | None = None,
        plucker: torch.Tensor | None = None,
        *,
        conditions: MotionFlowConditions | None = None,
        drop_image: torch.Tensor | None = None,
        drop_camera: torch.Tensor | None = None,
        frame_latents: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Noise prediction [B, C, F, h, w] for noisy_latents [B, C, F, h, w] at `timesteps` ([B] or scalar).

        Give either reference_image + plucker (see `encode_conditions`, with the optional CFG drops and
        frame latents) or precomputed `conditions`."""
        if conditions is None:
            if reference_image is None or plucker is None:
                raise ValueError("forward needs reference_image and plucker, or conditions")
            conditions = self.encode_conditions(
                reference_image, plucker, drop_image, drop_camera, frame_latents
            )
        batch, _, num_frames, height, width = noisy_latents.shape
        if num_frames != conditions.num_frames:
            raise FrameCountError(f"latents have {num_frames} frames, the cameras {conditions.num_frames}")
        if batch != conditions.batch_size:
            raise ValueError(f"latents have batch {batch}, the conditions {conditions.batch_size}")
        timesteps = torch.as_tensor(timesteps, device=noisy_latents.device).reshape(-1).expand(batch)
        sample = noisy_latents.to(self.dtype)
        if self.semantic_to_latent is not None:
            semantic = self.semantic_to_latent(conditions.semantic_map.to(self.dtype))
            sample = sample + F.interpolate(semantic, size=(height, width), mode="bilinear")[:, :, None]
        if self.config.image_latent_condition:
            frame_references = conditions.frame_reference_latents
            sample = with_reference_latent(
                sample, conditions.reference_latents if frame_references is None else frame_references
            )
        context = conditions.image_tokens.repeat_interleave(num_frames, dim=0)

        bank = self.bank
        bank.clear()
        bank.num_frames = num_frames
        bank.semantic_tokens = conditions.semantic_tokens
        bank.camera_tokens = {
            level: features.flatten(2).transpose(1, 2)
            for level, features in enumerate(conditions.camera_features)
        }
        if self.config.reference_ray_bias:
            if conditions.rays is None:
                raise ValueError(
                    "a model with reference_ray_bias needs conditions with rays (encode_conditions)"
                )
            bank.rays = conditions.rays
        bank.reference_maps = self._reference_maps(conditions, timesteps, context)
        return self.video_unet(sample, timesteps, encoder_hidden_states=context).sample

    def _reference_maps(
        self, conditions: MotionFlowConditions, timesteps: torch.Tensor, context: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Per-frame reference motion maps of every block (the trajectory features themselves in the
        w/o-reference-network ablation)."""
        num_levels = len(self.config.block_out_channels)
        if self.reference_net is None:
            return {
                key: self.bank.camera_tokens[spatial_block_level(key, num_levels)] for key in self.block_keys
            }
        if conditions.reference_maps is not None:
            return conditions.reference_maps
        frames = conditions.num_frames
        if self.config.reference_timestep == "zero":
            timesteps = torch.zeros_like(timesteps)
        reference = conditions.reference_latents
        if self.config.image_latent_condition:
            reference = with_reference_latent(reference, reference)
        self.reference_net(
            reference.repeat_interleave(frames, dim=0),
            timesteps.repeat_interleave(frames),
            encoder_hidden_states=context,
        )
        maps = dict(self.bank.reference_maps)
        if self.config.reference_timestep == "zero" and not torch.is_grad_enabled():
            conditions.reference_maps = maps
        return maps


def _trim_reference_net(unet: UNet2DConditionModel) -> None:
    """Removes what lies after the last reference map (the last transformer's output projection, the
    output norm and conv): the reference network's own noise prediction is never used."""
    last_up = unet.up_blocks[-1]
    if not getattr(last_up, "attentions", None):
        raise ValueError("the reference network's last up block must have attention (an SD-style UNet)")
    last_up.attentions[-1].proj_out = nn.Identity()
    unet.conv_norm_out = None
    unet.conv_act = None
    unet.conv_out = nn.Identity()
