"""MotionFlow's attention pieces as diffusers attention processors and forward hooks.

- `CameraCrossAttnProcessor` (reference motion network, attn2): Eq. 4,
  softmax(Q K_i^T / sqrt d) V_i + lambda_c softmax(Q K_c^T / sqrt d) V_c, with K_c / V_c projected from
  the trajectory encoder's tokens at the block's resolution.
- `ReferenceMapCapture` (reference motion network, every transformer block): stores the block's
  output, the per-frame reference motion map, in the shared `ConditionBank`.
- `MotionFlowSelfAttnProcessor` (video network, attn1): the block's own self-attention, plus
  reference attention (queries from the frame's tokens, keys/values from [frame tokens, reference
  motion map of the same frame] -- the first half of attention over the width-concatenated maps;
  with `MotionFlowConfig.reference_ray_bias`, biased towards keys that see the query's ray, see
  `ray_biased_attention`), plus object attention to the semantic tokens, which also yields the semantic mask.
- `SemanticMaskHook` (video network, the motion module after each spatial transformer): multiplies
  the temporal-attention output by the block's semantic mask.

Every new output is zero-initialised (and the mask is 1 + a zero-initialised term), so a freshly
assembled model computes exactly what its base UNets compute."""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from torch import nn

_SPATIAL_BLOCK = re.compile(
    r"^(?:(down_blocks|up_blocks)\.(\d+)|mid_block)\.attentions\.\d+\.transformer_blocks\.\d+$"
)


def spatial_block_level(key: str, num_levels: int) -> int:
    """Resolution level (0 = latent grid) of a spatial transformer block, from its module name."""
    match = _SPATIAL_BLOCK.match(key)
    if match is None:
        raise ValueError(f"{key!r} is not a spatial transformer block of a UNet")
    kind, index = match.groups()
    if kind is None:
        return num_levels - 1
    return int(index) if kind == "down_blocks" else num_levels - 1 - int(index)


def is_spatial_block(key: str) -> bool:
    return _SPATIAL_BLOCK.match(key) is not None


def transformer_key(block_key: str) -> str:
    """`down_blocks.0.attentions.1.transformer_blocks.0` -> `down_blocks.0.attentions.1`."""
    return block_key.split(".transformer_blocks.")[0]


@dataclass
class LevelRays:
    """Unit ray directions (world axes of frame 0) of one resolution level's tokens.

    frame [B * F, L, 3]: the rays of each frame's tokens; reference [B * F, L, 3]: the rays of the
    reference-map tokens each frame attends to (frame 0's, whose view the reference network sees);
    scale [B * F]: 1 / (1 - cos) of the angle between neighbouring tokens, so that a bias
    `scale * (r_q . r_k)` falls by about 1 per token of distance squared. A dropped camera has zero rays
    (no bias)."""

    frame: torch.Tensor
    reference: torch.Tensor
    scale: torch.Tensor


def token_rays(
    plucker: torch.Tensor, downsample: int, num_levels: int, reference_view: bool
) -> dict[int, LevelRays]:
    """The rays of every level's token grid from Plücker embeddings [B, F, 6, H, W] (channels 3-5 are the
    unit directions): averaged over each token's pixels and renormalised (zero rays stay zero).

    `reference_view`: the reference-map tokens see frame 0's rays (the reference network's input is the
    reference image); otherwise they are aligned with each frame's own tokens."""
    batch, frames = plucker.shape[:2]
    directions = plucker[:, :, 3:].flatten(0, 1).float()
    grids = []
    for level in range(num_levels):
        pooled = F.avg_pool2d(directions, downsample * 2**level)
        grids.append(pooled * torch.rsqrt((pooled * pooled).sum(1, keepdim=True).clamp_min(1e-12)))
    spacing = _neighbour_spacing(grids[0].unflatten(0, (batch, frames))[:, 0])
    levels: dict[int, LevelRays] = {}
    for level, grid in enumerate(grids):
        rays = grid.flatten(2).transpose(1, 2)
        reference = rays
        if reference_view:
            reference = rays.unflatten(0, (batch, frames))[:, :1].expand(-1, frames, -1, -1).flatten(0, 1)
        levels[level] = LevelRays(
            frame=rays.to(plucker.dtype),
            reference=reference.to(plucker.dtype),
            scale=(1 / (spacing * 4**level)).repeat_interleave(frames).to(plucker.dtype),
        )
    return levels


def _neighbour_spacing(rays: torch.Tensor) -> torch.Tensor:
    """Mean 1 - cos of the angle between neighbouring tokens of rays [B, 3, h, w] (1 for zero rays or a
    single token): [B]."""
    if rays.shape[-1] > 1:
        cosine = (rays[..., 1:] * rays[..., :-1]).sum(1)
    elif rays.shape[-2] > 1:
        cosine = (rays[..., 1:, :] * rays[..., :-1, :]).sum(1)
    else:
        return torch.ones(rays.shape[0], dtype=rays.dtype, device=rays.device)
    return (1 - cosine.flatten(1).mean(1)).clamp_min(1e-8)


def ray_biased_attention(
    attn: Attention,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    query_rays: torch.Tensor,
    key_rays: torch.Tensor,
    ray_scale: torch.Tensor,
    head_scale: torch.Tensor,
) -> torch.Tensor:
    """softmax(Q K^T / sqrt d + b) V with b = ray_scale * head_scale * (r_q . r_k) per head: [N, L, inner].

    Up to a constant per query, b = -ray_scale * head_scale * (1 - cos angle(r_q, r_k)), a Gaussian-like
    preference (width about 1 / sqrt(head_scale) tokens) for keys that see the query's direction. It is
    computed as three extra channels of Q and K, so no [L, L] bias is ever stored."""
    query, key, value = _heads(attn, query), _heads(attn, key), _heads(attn, value)
    head_dim = query.shape[-1]
    weight = ray_scale[:, None] * head_scale.to(ray_scale.dtype)[None, :] * head_dim**0.5
    query = torch.cat([query, query_rays[:, None] * weight[:, :, None, None]], dim=-1)
    key = torch.cat([key, key_rays[:, None].expand(-1, key.shape[1], -1, -1)], dim=-1)
    output = F.scaled_dot_product_attention(query, key, value, scale=head_dim**-0.5)
    return _merge_heads(output).to(value.dtype)


class ConditionBank:
    """What one forward pass shares between the two UNets' processors and hooks.

    Written by MotionFlowModel before each forward and by the reference network's capture hooks;
    kept until the next forward (gradient checkpointing recomputes blocks during backward)."""

    def __init__(self) -> None:
        self.camera_tokens: dict[int, torch.Tensor] = {}
        self.rays: dict[int, LevelRays] = {}
        self.reference_maps: dict[str, torch.Tensor] = {}
        self.semantic_tokens: torch.Tensor | None = None
        self.num_frames: int = 1
        self.masks: dict[str, torch.Tensor] = {}

    def clear(self) -> None:
        self.__init__()

    def __deepcopy__(self, memo: dict) -> ConditionBank:
        return ConditionBank()


def _heads(attn: Attention, tensor: torch.Tensor) -> torch.Tensor:
    """[N, L, heads * d] -> [N, heads, L, d]."""
    return tensor.unflatten(-1, (attn.heads, -1)).transpose(1, 2)


def _merge_heads(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.transpose(1, 2).flatten(2)


def _attend(attn: Attention, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Multi-head softmax(Q K^T / sqrt d) V with `attn`'s head count; [N, L, inner] in and out."""
    output = F.scaled_dot_product_attention(_heads(attn, query), _heads(attn, key), _heads(attn, value))
    return _merge_heads(output).to(query.dtype)


def zero_linear(in_features: int, out_features: int) -> nn.Linear:
    """A Linear with zero weight and bias: a new output path that starts as a no-op."""
    layer = nn.Linear(in_features, out_features)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def _copy_linear(source: nn.Linear) -> nn.Linear:
    """A new Linear with `source`'s weights (a trainable copy of a pretrained projection)."""
    layer = nn.Linear(source.in_features, source.out_features, bias=source.bias is not None)
    with torch.no_grad():
        layer.weight.copy_(source.weight)
        if source.bias is not None:
            layer.bias.copy_(source.bias)
    return layer


def _check_plain(attn: Attention, where: str) -> None:
    if attn.spatial_norm is not None or attn.group_norm is not None or attn.residual_connection:
        raise ValueError(
            f"{where}: attention with spatial/group norm or a residual connection is not supported"
        )


class CameraCrossAttnProcessor(nn.Module):
    """Eq. 4 on the reference motion network's cross-attention.

    K_i / V_i are the block's own to_k / to_v of the CLIP image tokens; K_c / V_c are new projections
    of the camera tokens of the block's resolution (`bank.camera_tokens[level]`). With `zero_values`
    V_c starts at zero, so at initialisation the block computes exactly its base cross-attention;
    otherwise normal with std 1/sqrt(camera_dim) (`MotionFlowConfig.camera_value_init`)."""

    def __init__(
        self,
        bank: ConditionBank,
        level: int,
        camera_dim: int,
        inner_dim: int,
        lambda_c: float,
        zero_values: bool = True,
    ):
        super().__init__()
        self.bank = bank
        self.level = level
        self.lambda_c = lambda_c
        self.to_k_camera = nn.Linear(camera_dim, inner_dim, bias=False)
        self.to_v_camera = nn.Linear(camera_dim, inner_dim, bias=False)
        if zero_values:
            nn.init.zeros_(self.to_v_camera.weight)
        else:
            nn.init.normal_(self.to_v_camera.weight, std=camera_dim**-0.5)

    def __call__(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
    ) -> torch.Tensor:
        _check_plain(attn, "CameraCrossAttnProcessor")
        if encoder_hidden_states is None or attention_mask is not None:
            raise ValueError("CameraCrossAttnProcessor needs image tokens and no attention mask")
        if attn.norm_cross:
            encoder_hidden_states = attn.norm_encoder_hidden_states(encoder_hidden_states)
        camera = self.bank.camera_tokens[self.level]
        if camera.shape[:2] != hidden_states.shape[:2]:
            raise ValueError(
                f"camera tokens {tuple(camera.shape)} do not match the block's tokens {tuple(hidden_states.shape)}"
            )
        query = attn.to_q(hidden_states)
        image_term = _attend(attn, query, attn.to_k(encoder_hidden_states), attn.to_v(encoder_hidden_states))
        camera = camera.to(query.dtype)
        camera_term = _attend(attn, query, self.to_k_camera(camera), self.to_v_camera(camera))
        output = attn.to_out[1](attn.to_out[0](image_term + self.lambda_c * camera_term))
        return output / attn.rescale_output_factor


class ReferenceMapCapture:
    """Forward hook on a reference-network transformer block: its output is the reference motion map."""

    def __init__(self, bank: ConditionBank, key: str):
        self.bank = bank
        self.key = key

    def __call__(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        self.bank.reference_maps[self.key] = output


class MotionFlowSelfAttnProcessor(nn.Module):
    """The video network's attn1: self-attention + reference attention + object attention (+ mask).

    Reference attention has its own query/key/value projections, copied from the block's attn1, and a
    zero-initialised output; the reference map is layer-normalised first (a copy of the block's norm1)
    because the block's own tokens arrive normalised. Object attention takes the reference attention's
    output as queries and the semantic tokens (shared by all frames of a video) as keys and values; its
    output goes through a zero-initialised projection into the block and through a zero-initialised
    head into the semantic mask (1 + head), which SemanticMaskHook applies after temporal attention.

    With `ray_bias`, reference attention is `ray_biased_attention` over the block's level's rays, with a
    learnt log-scale per head (0 at the start: a preference about one token wide)."""

    def __init__(
        self,
        bank: ConditionBank,
        key: str,
        attn: Attention,
        norm: nn.LayerNorm,
        semantic_dim: int | None,
        level: int = 0,
        ray_bias: bool = False,
    ):
        super().__init__()
        _check_plain(attn, "MotionFlowSelfAttnProcessor")
        self.bank = bank
        self.key = key
        self.level = level
        self.ray_log_scale = nn.Parameter(torch.zeros(attn.heads)) if ray_bias else None
        self.base = AttnProcessor2_0()
        dim, inner = attn.to_q.in_features, attn.to_q.out_features
        self.reference_norm = nn.LayerNorm(dim, eps=norm.eps, elementwise_affine=norm.elementwise_affine)
        self.reference_norm.load_state_dict(norm.state_dict())
        self.reference_to_q = _copy_linear(attn.to_q)
        self.reference_to_k = _copy_linear(attn.to_k)
        self.reference_to_v = _copy_linear(attn.to_v)
        self.reference_to_out = zero_linear(inner, dim)
        self.use_semantic = semantic_dim is not None
        if semantic_dim is not None:
            self.object_norm = nn.LayerNorm(inner)
            self.object_to_q = nn.Linear(inner, inner, bias=False)
            self.object_to_k = nn.Linear(semantic_dim, inner, bias=False)
            self.object_to_v = nn.Linear(semantic_dim, inner, bias=False)
            self.object_to_out = zero_linear(inner, dim)
            self.mask_head = zero_linear(inner, 1)

    def __call__(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
    ) -> torch.Tensor:
        output = self.base(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        features = self.reference_attention(attn, hidden_states)
        output = output + self.reference_to_out(features)
        if self.use_semantic:
            objects = self.object_attention(attn, features)
            output = output + self.object_to_out(objects)
            self.bank.masks[self.key] = 1 + self.mask_head(objects)
        return output

    def reference_attention(self, attn: Attention, hidden_states: torch.Tensor) -> torch.Tensor:
        """Attention of the frame's tokens over [frame tokens, reference map tokens]: [N, L, inner]."""
        reference = self.bank.reference_maps[self.key]
        if reference.shape != hidden_states.shape:
            raise ValueError(
                f"{self.key}: reference map {tuple(reference.shape)} does not match the block's tokens "
                f"{tuple(hidden_states.shape)}"
            )
        context = torch.cat([hidden_states, self.reference_norm(reference.to(hidden_states.dtype))], dim=1)
        query = self.reference_to_q(hidden_states)
        key, value = self.reference_to_k(context), self.reference_to_v(context)
        if self.ray_log_scale is None:
            return _attend(attn, query, key, value)
        rays = self.bank.rays[self.level]
        return ray_biased_attention(
            attn,
            query,
            key,
            value,
            rays.frame,
            torch.cat([rays.frame, rays.reference], dim=1),
            rays.scale,
            self.ray_log_scale.exp(),
        )

    def object_attention(self, attn: Attention, features: torch.Tensor) -> torch.Tensor:
        """Cross-attention of every frame's tokens to the video's semantic tokens: [N, L, inner]."""
        tokens = self.bank.semantic_tokens.to(features.dtype)
        batch, frames_tokens = tokens.shape[0], features.shape[0] * features.shape[1]
        query = self.object_to_q(self.object_norm(features)).reshape(batch, frames_tokens // batch, -1)
        objects = _attend(attn, query, self.object_to_k(tokens), self.object_to_v(tokens))
        return objects.reshape(features.shape[0], features.shape[1], -1)


class SemanticMaskHook:
    """Forward hook on a video-network motion module: output * semantic mask of the spatial transformer
    it follows (the product over that transformer's blocks)."""

    def __init__(self, bank: ConditionBank, block_keys: list[str]):
        self.bank = bank
        self.block_keys = list(block_keys)

    def __call__(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        batch_frames, _, height, width = output.shape
        mask = self.bank.masks[self.block_keys[0]]
        for key in self.block_keys[1:]:
            mask = mask * self.bank.masks[key]
        return output * mask.reshape(batch_frames, height, width, 1).permute(0, 3, 1, 2).to(output.dtype)
