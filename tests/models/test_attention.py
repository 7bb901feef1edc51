"""The attention processors against direct computations of the paper's formulas."""

from __future__ import annotations

import math

import pytest
import torch
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from motionflow.models.attention import (
    CameraCrossAttnProcessor,
    ConditionBank,
    MotionFlowSelfAttnProcessor,
    spatial_block_level,
)

DIM, HEADS, TOKENS, CONTEXT_DIM = 16, 2, 12, 10


def softmax_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, heads: int
) -> torch.Tensor:
    """softmax(Q K^T / sqrt(d)) V per head, written out."""

    def split(tensor: torch.Tensor) -> torch.Tensor:
        return tensor.reshape(tensor.shape[0], tensor.shape[1], heads, -1).transpose(1, 2)

    q, k, v = split(query), split(key), split(value)
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
    return (weights @ v).transpose(1, 2).reshape(query.shape[0], query.shape[1], -1)


@pytest.fixture
def cross_attention() -> Attention:
    torch.manual_seed(0)
    return Attention(DIM, cross_attention_dim=CONTEXT_DIM, heads=HEADS, dim_head=DIM // HEADS).eval()


def test_eq4_matches_direct_computation(cross_attention: Attention) -> None:
    camera_dim, lambda_c = 6, 0.7
    bank = ConditionBank()
    processor = CameraCrossAttnProcessor(
        bank, level=0, camera_dim=camera_dim, inner_dim=DIM, lambda_c=lambda_c
    )
    torch.nn.init.normal_(processor.to_v_camera.weight)
    hidden = torch.randn(3, TOKENS, DIM)
    image_tokens = torch.randn(3, 5, CONTEXT_DIM)
    bank.camera_tokens[0] = torch.randn(3, TOKENS, camera_dim)
    cross_attention.set_processor(processor)
    with torch.no_grad():
        output = cross_attention(hidden, encoder_hidden_states=image_tokens)
        query = cross_attention.to_q(hidden)
        image_term = softmax_attention(
            query, cross_attention.to_k(image_tokens), cross_attention.to_v(image_tokens), HEADS
        )
        camera = bank.camera_tokens[0]
        camera_term = softmax_attention(
            query, processor.to_k_camera(camera), processor.to_v_camera(camera), HEADS
        )
        expected = cross_attention.to_out[0](image_term + lambda_c * camera_term)
    torch.testing.assert_close(output, expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(output, cross_attention.to_out[0](image_term), atol=1e-3)


def test_eq4_is_the_base_cross_attention_at_initialisation(cross_attention: Attention) -> None:
    bank = ConditionBank()
    bank.camera_tokens[1] = torch.randn(2, TOKENS, 8)
    hidden, image_tokens = torch.randn(2, TOKENS, DIM), torch.randn(2, 5, CONTEXT_DIM)
    with torch.no_grad():
        base = cross_attention(hidden, encoder_hidden_states=image_tokens)
        cross_attention.set_processor(
            CameraCrossAttnProcessor(bank, 1, camera_dim=8, inner_dim=DIM, lambda_c=1.0)
        )
        assert torch.equal(cross_attention(hidden, encoder_hidden_states=image_tokens), base)


def test_reference_attention_is_the_first_half_of_attention_over_width_concatenated_maps() -> None:
    """Section 3.5: concatenate frame and reference maps along w, attend, keep the first half."""
    torch.manual_seed(0)
    attention = Attention(DIM, heads=HEADS, dim_head=DIM // HEADS).eval()
    norm = torch.nn.LayerNorm(DIM)
    bank = ConditionBank()
    key = "down_blocks.0.attentions.0.transformer_blocks.0"
    processor = MotionFlowSelfAttnProcessor(bank, key, attention, norm, semantic_dim=None)
    height, width = 3, 4
    frame_map = torch.randn(2, DIM, height, width)
    reference_map = torch.randn(2, DIM, height, width)
    tokens = frame_map.flatten(2).transpose(1, 2)
    bank.reference_maps[key] = reference_map.flatten(2).transpose(1, 2)
    with torch.no_grad():
        features = processor.reference_attention(attention, tokens)
        concatenated = torch.cat([frame_map, reference_map], dim=3)
        sequence = concatenated.permute(0, 2, 3, 1)  # [N, h, 2w, C], rows of the width-concatenated map
        frame_part = sequence[:, :, :width].reshape(2, -1, DIM)
        reference_part = processor.reference_norm(sequence[:, :, width:].reshape(2, -1, DIM))
        every_token = torch.cat([frame_part, reference_part], dim=1)
        full = softmax_attention(
            processor.reference_to_q(every_token),
            processor.reference_to_k(every_token),
            processor.reference_to_v(every_token),
            HEADS,
        )
        first_half = full[:, : height * width]
    torch.testing.assert_close(features, first_half, rtol=1e-5, atol=1e-5)


def test_video_processor_is_plain_self_attention_at_initialisation() -> None:
    torch.manual_seed(0)
    attention = Attention(DIM, heads=HEADS, dim_head=DIM // HEADS).eval()
    bank = ConditionBank()
    key = "mid_block.attentions.0.transformer_blocks.0"
    processor = MotionFlowSelfAttnProcessor(bank, key, attention, torch.nn.LayerNorm(DIM), semantic_dim=7)
    hidden = torch.randn(4, TOKENS, DIM)
    bank.reference_maps[key] = torch.randn(4, TOKENS, DIM)
    bank.semantic_tokens = torch.randn(2, 9, 7)
    with torch.no_grad():
        expected = AttnProcessor2_0()(attention, hidden)
        attention.set_processor(processor)
        assert torch.equal(attention(hidden), expected)
    assert torch.equal(bank.masks[key], torch.ones(4, TOKENS, 1))


def test_block_levels_follow_the_unet_resolutions() -> None:
    assert spatial_block_level("down_blocks.2.attentions.1.transformer_blocks.0", 4) == 2
    assert spatial_block_level("mid_block.attentions.0.transformer_blocks.0", 4) == 3
    assert spatial_block_level("up_blocks.1.attentions.2.transformer_blocks.0", 4) == 2
    assert spatial_block_level("up_blocks.3.attentions.0.transformer_blocks.0", 4) == 0
    with pytest.raises(ValueError, match="not a spatial transformer block"):
        spatial_block_level("down_blocks.0.motion_modules.0.transformer_blocks.0", 4)
