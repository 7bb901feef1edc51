"""The two encoders of the reference image: CLIP image tokens (cross-attention context of both UNets,
Eq. 4's K_i / V_i) and the DINO semantic encoder (Section 3.3)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import (
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
    Dinov2Config,
    Dinov2Model,
    ViTConfig,
    ViTModel,
)


def prepare_for_encoder(
    images: torch.Tensor, size: int, mean: tuple[float, float, float], std: tuple[float, float, float]
) -> torch.Tensor:
    """[B, 3, H, W] in [-1, 1] -> [B, 3, size, size] normalised with the encoder's mean and std.

    The image is resized as a whole (no crop), so every pixel of the reference is seen."""
    images = F.interpolate(
        images.float(), size=(size, size), mode="bicubic", align_corners=False, antialias=True
    )
    images = (images.clamp(-1, 1) + 1) / 2
    mean_tensor = torch.tensor(mean, device=images.device).view(1, 3, 1, 1)
    std_tensor = torch.tensor(std, device=images.device).view(1, 3, 1, 1)
    return (images - mean_tensor) / std_tensor


class ClipImageTokens(nn.Module):
    """CLIP vision tokens in the UNets' cross-attention space: every token (CLS and patches) goes through
    the post-layernorm and the visual projection, so the CLS token is CLIP's own image embedding."""

    def __init__(self, encoder: CLIPVisionModelWithProjection, mean: tuple, std: tuple):
        super().__init__()
        self.encoder = encoder
        self.mean, self.std = tuple(mean), tuple(std)

    @property
    def projection_dim(self) -> int:
        return self.encoder.config.projection_dim

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] in [-1, 1] -> [B, 1 + patches, projection_dim]."""
        pixels = prepare_for_encoder(images, self.encoder.config.image_size, self.mean, self.std)
        hidden = self.encoder.vision_model(pixel_values=pixels.to(self.encoder.dtype)).last_hidden_state
        return self.encoder.visual_projection(self.encoder.vision_model.post_layernorm(hidden))


class SemanticEncoder(nn.Module):
    """DINO ViT (transformers ViTModel or Dinov2Model) -> patch tokens [B, P, D] and the map [B, D, g, g].

    The semantic prior of Section 3.3: the map is added (through a zero-initialised projection) to the
    noisy latents, the tokens are the keys and values of object attention."""

    def __init__(self, encoder: ViTModel | Dinov2Model, mean: tuple, std: tuple):
        super().__init__()
        if not isinstance(encoder, ViTModel | Dinov2Model):
            raise TypeError(
                f"semantic encoder must be a ViTModel or Dinov2Model, got {type(encoder).__name__}"
            )
        self.encoder = encoder
        self.mean, self.std = tuple(mean), tuple(std)

    @property
    def hidden_size(self) -> int:
        return self.encoder.config.hidden_size

    @property
    def grid_size(self) -> int:
        return self.encoder.config.image_size // self.encoder.config.patch_size

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pixels = prepare_for_encoder(images, self.encoder.config.image_size, self.mean, self.std)
        hidden = self.encoder(pixel_values=pixels.to(self.encoder.dtype)).last_hidden_state
        tokens = hidden[:, 1:]  # drop CLS
        grid = self.grid_size
        feature_map = tokens.transpose(1, 2).reshape(tokens.shape[0], tokens.shape[2], grid, grid)
        return tokens, feature_map


def build_image_encoder(config: dict[str, Any]) -> CLIPVisionModelWithProjection:
    settings = {key: value for key, value in config.items() if key != "model_type"}
    return CLIPVisionModelWithProjection(CLIPVisionConfig(**settings))


def build_semantic_backbone(config: dict[str, Any]) -> ViTModel | Dinov2Model:
    settings = {key: value for key, value in config.items() if key != "model_type"}
    model_type = config.get("model_type")
    if model_type == "vit":
        return ViTModel(ViTConfig(**settings), add_pooling_layer=False)
    if model_type == "dinov2":
        return Dinov2Model(Dinov2Config(**settings))
    raise ValueError(f"semantic encoder model_type must be 'vit' or 'dinov2', got {model_type!r}")
