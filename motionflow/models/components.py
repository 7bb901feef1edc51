"""The pretrained parts MotionFlow is assembled from, built randomly from a config or loaded from local
folders in their standard formats (registered in the weights registry; nothing is downloaded)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL, MotionAdapter, UNet2DConditionModel
from torch import nn
from transformers import AutoConfig, CLIPVisionModelWithProjection, Dinov2Model, ViTModel

from motionflow.errors import MissingWeightsError
from motionflow.models.config import MotionFlowConfig, _json_normalized
from motionflow.models.image_encoders import build_image_encoder, build_semantic_backbone
from motionflow.weights import WeightSpec, register_weights, weight_spec, weights_path

SD15 = register_weights(
    WeightSpec(
        name="stable-diffusion-v1-5",
        relative_path="stable-diffusion-v1-5",
        source="https://huggingface.co/stable-diffusion-v1-5/stable-diffusion-v1-5 (diffusers folder: unet/, vae/)",
        used_by="MotionFlow full config: video UNet, reference motion network, VAE",
        license="CreativeML OpenRAIL-M",
    )
)
MOTION_ADAPTER = register_weights(
    WeightSpec(
        name="animatediff-motion-adapter-v1-5-2",
        relative_path="animatediff-motion-adapter-v1-5-2",
        source="https://huggingface.co/guoyww/animatediff-motion-adapter-v1-5-2 (diffusers MotionAdapter folder)",
        used_by="MotionFlow full config: temporal attention (motion modules) of the video UNet",
        license="Apache-2.0",
    )
)
DINO = register_weights(
    WeightSpec(
        name="dino-vits16",
        relative_path="dino-vits16",
        source="https://huggingface.co/facebook/dino-vits16 (transformers ViTModel folder)",
        used_by="MotionFlow full config: semantic encoder",
        license="Apache-2.0",
    )
)
CLIP = register_weights(
    WeightSpec(
        name="clip-vit-large-patch14",
        relative_path="clip-vit-large-patch14",
        source="https://huggingface.co/openai/clip-vit-large-patch14 (transformers CLIP folder)",
        used_by="MotionFlow full config: CLIP image encoder (cross-attention tokens)",
        license="MIT",
    )
)

_TRANSFORMERS_CONFIG_NOISE = ("transformers_version", "architectures", "dtype", "torch_dtype")


@dataclass
class MotionFlowComponents:
    """The pretrained networks: SD UNet, AnimateDiff motion adapter, DINO, CLIP vision, and the VAE
    (None for a pixel-space codec; the semantic encoder is None when the config does not use it)."""

    unet: UNet2DConditionModel
    motion_adapter: MotionAdapter
    image_encoder: CLIPVisionModelWithProjection
    semantic_encoder: ViTModel | Dinov2Model | None = None
    vae: AutoencoderKL | None = None

    @classmethod
    def random(cls, config: MotionFlowConfig) -> MotionFlowComponents:
        """Randomly initialised components with the config's sizes."""
        codec = config.latent_codec
        return cls(
            unet=UNet2DConditionModel.from_config(config.unet),
            motion_adapter=MotionAdapter.from_config(config.motion_adapter),
            image_encoder=build_image_encoder(config.image_encoder),
            semantic_encoder=build_semantic_backbone(config.semantic_encoder)
            if config.use_semantic_encoder
            else None,
            vae=AutoencoderKL.from_config(codec["vae"]) if codec["type"] == "vae" else None,
        )

    def config_for(self, config: MotionFlowConfig) -> MotionFlowConfig:
        """`config` with the sub-configs replaced by the components' own (what was really loaded)."""
        updates: dict[str, Any] = dict(
            unet=_diffusers_config_dict(self.unet),
            motion_adapter=_diffusers_config_dict(self.motion_adapter),
            image_encoder=_transformers_config_dict(self.image_encoder.config),
        )
        if self.semantic_encoder is not None:
            updates["semantic_encoder"] = _transformers_config_dict(self.semantic_encoder.config)
        if self.vae is not None:
            updates["latent_codec"] = dict(
                type="vae",
                latent_channels=self.vae.config.latent_channels,
                downsample_factor=2 ** (len(self.vae.config.block_out_channels) - 1),
                vae=_diffusers_config_dict(self.vae),
            )
        return replace(config, **updates)

    def fit(self, config: MotionFlowConfig) -> tuple[MotionFlowComponents, MotionFlowConfig]:
        """These components, with a copy of the UNet whose conv_in is resized to the input channels the
        config's image-latent switch asks for where it differs, and `config_for(config)`."""
        config = self.config_for(config)
        if self.unet.conv_in.in_channels == config.unet["in_channels"]:
            return self, config
        unet = copy.deepcopy(self.unet)
        resize_conv_in(unet, config.unet["in_channels"])
        return replace(self, unet=unet), config


def resize_conv_in(unet: UNet2DConditionModel, in_channels: int) -> None:
    """Gives the UNet's conv_in `in_channels` inputs (in place): the channels it keeps keep their weights,
    added ones start at zero (so the output is unchanged until they are trained), dropped ones are removed."""
    conv = unet.conv_in
    resized = nn.Conv2d(  # built empty: a random init would draw from the global generator
        in_channels, conv.out_channels, kernel_size=conv.kernel_size, padding=conv.padding, device="meta"
    ).to_empty(device=conv.weight.device)
    resized.to(conv.weight.dtype)
    kept = min(in_channels, conv.in_channels)
    with torch.no_grad():
        resized.weight.zero_()
        resized.weight[:, :kept] = conv.weight[:, :kept]
        resized.bias.copy_(conv.bias)
    unet.conv_in = resized
    unet.register_to_config(in_channels=in_channels)


def _diffusers_config_dict(model: Any) -> dict[str, Any]:
    return _json_normalized({key: value for key, value in model.config.items() if not key.startswith("_")})


def _transformers_config_dict(config: Any) -> dict[str, Any]:
    values = config.to_dict()
    return _json_normalized(
        {
            key: value
            for key, value in values.items()
            if not key.startswith("_") and key not in _TRANSFORMERS_CONFIG_NOISE
        }
    )


def _require(folder: Path, relative: str, spec: WeightSpec) -> Path:
    path = folder / relative
    if not path.exists():
        raise MissingWeightsError(
            f"weights {spec.name!r} incomplete: {path} not found (expected a {spec.source}; used by {spec.used_by})"
        )
    return folder


def resolve_folder(name: str, folder: str | Path | None, root: str | Path | None) -> Path:
    """The explicit folder if given (it must exist), else the registered one under the weights root."""
    if folder is None:
        return weights_path(name, root)
    folder = Path(folder).expanduser()
    if not folder.exists():
        spec = weight_spec(name)
        raise MissingWeightsError(
            f"weights {name!r} not found: expected {folder} (used by {spec.used_by}; source: {spec.source})"
        )
    return folder


def load_components(
    config: MotionFlowConfig,
    sd15_dir: str | Path | None = None,
    motion_adapter_dir: str | Path | None = None,
    dino_dir: str | Path | None = None,
    clip_dir: str | Path | None = None,
    weights_root: str | Path | None = None,
) -> MotionFlowComponents:
    """Loads the pretrained parts from local folders (explicit, or the registered ones under the weights
    root): SD1.5 diffusers folder (unet/, vae/), AnimateDiff MotionAdapter folder, DINO ViT (ViTModel or
    Dinov2Model) and CLIP vision (CLIPVisionModelWithProjection, or a full CLIPModel folder)."""
    sd15 = resolve_folder(SD15.name, sd15_dir, weights_root)
    adapter_folder = _require(
        resolve_folder(MOTION_ADAPTER.name, motion_adapter_dir, weights_root), "config.json", MOTION_ADAPTER
    )
    clip_folder = _require(resolve_folder(CLIP.name, clip_dir, weights_root), "config.json", CLIP)
    unet = UNet2DConditionModel.from_pretrained(
        _require(sd15, "unet/config.json", SD15), subfolder="unet", local_files_only=True
    )
    vae = None
    if config.latent_codec["type"] == "vae":
        vae = AutoencoderKL.from_pretrained(
            _require(sd15, "vae/config.json", SD15), subfolder="vae", local_files_only=True
        )
    semantic = None
    if config.use_semantic_encoder:
        dino_folder = _require(resolve_folder(DINO.name, dino_dir, weights_root), "config.json", DINO)
        semantic = load_semantic_backbone(dino_folder)
    return MotionFlowComponents(
        unet=unet,
        motion_adapter=MotionAdapter.from_pretrained(adapter_folder, local_files_only=True),
        image_encoder=load_image_encoder(clip_folder),
        semantic_encoder=semantic,
        vae=vae,
    )


def load_image_encoder(folder: Path) -> CLIPVisionModelWithProjection:
    """CLIP vision tower with its projection, from a CLIPVisionModelWithProjection folder or a full
    CLIPModel folder (openai/clip-vit-large-patch14 is one; its text tower is ignored)."""
    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    if config.model_type == "clip":
        vision_config = config.vision_config
        vision_config.projection_dim = config.projection_dim
        return CLIPVisionModelWithProjection.from_pretrained(
            folder, config=vision_config, local_files_only=True
        )
    if config.model_type == "clip_vision_model":
        return CLIPVisionModelWithProjection.from_pretrained(folder, local_files_only=True)
    raise ValueError(f"{folder}: image encoder must be a CLIP model, found model_type {config.model_type!r}")


def load_semantic_backbone(folder: Path) -> ViTModel | Dinov2Model:
    model_type = AutoConfig.from_pretrained(folder, local_files_only=True).model_type
    if model_type == "vit":
        return ViTModel.from_pretrained(folder, add_pooling_layer=False, local_files_only=True)
    if model_type == "dinov2":
        return Dinov2Model.from_pretrained(folder, local_files_only=True)
    raise ValueError(
        f"{folder}: semantic encoder must be a ViT (DINO) or DINOv2 model, found model_type {model_type!r}"
    )
