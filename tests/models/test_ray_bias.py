"""Reference attention's ray bias (`MotionFlowConfig.reference_ray_bias`): the formula, the geometry it
encodes, and what it leaves unchanged."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from diffusers.models.attention_processor import Attention

from motionflow.camera.plucker import plucker_embedding
from motionflow.camera.poses import rotation_about_axis
from motionflow.models import MotionFlowModel
from motionflow.models.attention import _attend, ray_biased_attention, token_rays

from .helpers import inputs, randomize_new_modules, tiny_config

HEADS, HEAD_DIM = 2, 4
IMAGE, TOKEN = 64, 4
"""64x64 images, 4x4 pixels per token at level 0: a 16x16 token grid."""


def attention_module() -> Attention:
    return Attention(HEADS * HEAD_DIM, heads=HEADS, dim_head=HEAD_DIM)


def unit_rays(*shape: int, seed: int = 0) -> torch.Tensor:
    rays = torch.randn(*shape, 3, generator=torch.Generator().manual_seed(seed))
    return rays / rays.norm(dim=-1, keepdim=True)


def test_ray_bias_adds_scaled_ray_cosines_to_every_head_logits() -> None:
    generator = torch.Generator().manual_seed(1)
    batch, queries, keys = 3, 5, 7
    query, key, value = (
        torch.randn(batch, n, HEADS * HEAD_DIM, generator=generator) for n in (queries, keys, keys)
    )
    query_rays, key_rays = unit_rays(batch, queries), unit_rays(batch, keys, seed=1)
    ray_scale, head_scale = torch.tensor([1.0, 20.0, 300.0]), torch.tensor([0.5, 2.0])

    output = ray_biased_attention(
        attention_module(), query, key, value, query_rays, key_rays, ray_scale, head_scale
    )

    q, k, v = (t.unflatten(-1, (HEADS, HEAD_DIM)).transpose(1, 2) for t in (query, key, value))
    bias = (
        ray_scale[:, None, None, None]
        * head_scale[None, :, None, None]
        * (query_rays @ key_rays.transpose(1, 2))[:, None]
    )
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(HEAD_DIM) + bias, dim=-1)
    expected = (weights @ v).transpose(1, 2).flatten(2)
    torch.testing.assert_close(output, expected, rtol=1e-4, atol=1e-5)


def test_zero_rays_of_a_dropped_camera_leave_plain_attention() -> None:
    generator = torch.Generator().manual_seed(2)
    query, key, value = (torch.randn(2, 6, HEADS * HEAD_DIM, generator=generator) for _ in range(3))
    rays = token_rays(torch.zeros(2, 3, 6, IMAGE, IMAGE), TOKEN, 2, reference_view=True)
    level = rays[0]
    assert torch.equal(level.frame, torch.zeros_like(level.frame))
    attn = attention_module()
    output = ray_biased_attention(
        attn, query, key, value, level.frame[:2, :6], level.frame[:2, :6], level.scale[:2], torch.ones(HEADS)
    )
    torch.testing.assert_close(output, _attend(attn, query, key, value))


def camera_pair(yaw: float) -> torch.Tensor:
    """Plücker [1, 2, 6, 64, 64] of frame 0 at the identity and frame 1 turned by `yaw` about the y axis."""
    c2w = np.repeat(np.eye(4)[None], 2, axis=0)
    c2w[1, :3, :3] = rotation_about_axis(np.array([0.0, 1.0, 0.0]), yaw)
    intrinsics = np.array([[50.0, 0, IMAGE / 2], [0, 50.0, IMAGE / 2], [0, 0, 1]])
    return plucker_embedding(
        torch.tensor(c2w, dtype=torch.float32), torch.tensor(intrinsics), (IMAGE, IMAGE)
    )[None]


@pytest.mark.parametrize("yaw", [0.1, -0.25])
def test_a_sharp_ray_bias_retrieves_the_reference_token_of_the_rotation_homography(yaw: float) -> None:
    """With no content term, frame 1's token attends to the reference token that holds the pixel the
    homography K R K^-1 (R: frame 1 c2w) maps its centre to: the rotating camera's correspondence."""
    rays = token_rays(camera_pair(yaw), TOKEN, 1, reference_view=True)[0]
    grid = IMAGE // TOKEN
    zeros = torch.zeros(1, grid * grid, HEADS * HEAD_DIM)
    identity = torch.eye(grid * grid)[None].repeat(1, 1, HEADS)
    output = ray_biased_attention(
        attention_module(),
        zeros,
        zeros,
        identity,
        rays.frame[1:],
        rays.reference[1:],
        rays.scale[1:],
        torch.full((HEADS,), 30.0),
    )
    retrieved = output[0, :, : grid * grid].argmax(dim=-1)

    centres = (torch.arange(grid) + 0.5) * TOKEN
    v, u = torch.meshgrid(centres, centres, indexing="ij")
    focal, principal = 50.0, IMAGE / 2
    rotation = torch.tensor(rotation_about_axis(np.array([0.0, 1.0, 0.0]), yaw), dtype=torch.float32)
    directions = (
        torch.stack([(u - principal) / focal, (v - principal) / focal, torch.ones_like(u)], -1) @ rotation.T
    )
    mapped_u = principal + focal * directions[..., 0] / directions[..., 2]
    mapped_v = principal + focal * directions[..., 1] / directions[..., 2]
    inside = ((mapped_u > 0) & (mapped_u < IMAGE) & (mapped_v > 0) & (mapped_v < IMAGE)).flatten()
    expected = ((mapped_v // TOKEN) * grid + mapped_u // TOKEN).long().flatten()
    assert inside.sum() > grid * grid // 2
    retrieved_u, retrieved_v = (retrieved % grid + 0.5) * TOKEN, (retrieved // grid + 0.5) * TOKEN
    distance = torch.hypot(retrieved_u - mapped_u.flatten(), retrieved_v - mapped_v.flatten())
    assert (distance[inside] <= TOKEN * 0.75 * math.sqrt(2)).all()
    assert (retrieved[inside] == expected[inside]).float().mean() > 0.9


def test_token_rays_are_unit_per_level_with_spacing_growing_fourfold() -> None:
    rays = token_rays(camera_pair(0.2).repeat(2, 1, 1, 1, 1), TOKEN, 3, reference_view=True)
    for level, grid in enumerate((16, 8, 4)):
        assert rays[level].frame.shape == (4, grid * grid, 3)
        torch.testing.assert_close(rays[level].frame.norm(dim=-1), torch.ones(4, grid * grid))
    torch.testing.assert_close(rays[1].scale * 4, rays[0].scale)
    torch.testing.assert_close(rays[0].reference[1], rays[0].frame[0])
    without_reference_view = token_rays(camera_pair(0.2), TOKEN, 1, reference_view=False)[0]
    assert torch.equal(without_reference_view.reference, without_reference_view.frame)
    centres = (torch.arange(16, dtype=torch.float64) + 0.5) * TOKEN - IMAGE / 2
    y, x = torch.meshgrid(centres, centres, indexing="ij")
    pixel_rays = torch.stack([x, y, torch.full_like(x, 50.0)], -1)
    pixel_rays = pixel_rays / pixel_rays.norm(dim=-1, keepdim=True)
    neighbour_cosine = (pixel_rays[:, 1:] * pixel_rays[:, :-1]).sum(-1).mean().item()
    assert 1 / rays[0].scale[0].item() == pytest.approx(1 - neighbour_cosine, rel=0.02)


def test_the_camera_reaches_the_prediction_through_the_ray_bias_with_zero_camera_values() -> None:
    """With V_c of Eq. 4 at zero the reference maps do not depend on the camera; the ray bias alone
    carries it into reference attention."""
    torch.manual_seed(0)
    model = MotionFlowModel(tiny_config(reference_ray_bias=True)).eval()
    randomize_new_modules(model)
    for name, parameter in model.named_parameters():
        if name.endswith("to_v_camera.weight"):
            parameter.data.zero_()
    latents, reference, plucker = inputs()
    with torch.no_grad():
        own = model(latents, 500, reference, plucker)
        turned = model(latents, 500, reference, plucker.flip(-1))
    assert (own - turned).abs().max() > 1e-3


def test_ray_scales_are_trained_in_stage_one() -> None:
    model = MotionFlowModel(tiny_config(reference_ray_bias=True))
    names = [name for name, _ in model.stage_named_parameters(1) if name.endswith("ray_log_scale")]
    assert len(names) == len([key for key in model.block_keys])
