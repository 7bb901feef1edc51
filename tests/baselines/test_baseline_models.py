"""The baselines' networks: each camera module's zero/identity start, its wiring, training groups,
persistence."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from baseline_helpers import (
    CAMERA_METHODS,
    FRAMES,
    LATENT_CHANNELS,
    METHODS,
    SIZE,
    base_unet,
    inputs,
    orbit_trajectory,
    randomize,
    tiny_config,
    tiny_model,
)

from baselines.backbone import BaselineConfig, BaselineModel
from baselines.cameractrl import CameraCtrlEncoder
from motionflow.camera.poses import invert_rigid
from motionflow.camera.trajectory import Trajectory
from motionflow.errors import FrameCountError
from motionflow.models import MotionFlowComponents
from motionflow.models.inputs import pose_vector_input


@pytest.mark.parametrize("method", METHODS)
def test_fresh_model_reproduces_its_base_animatediff_unet(method: str) -> None:
    model, components = tiny_model(method)
    base = base_unet(components)
    latents, reference, camera = inputs(model)
    with torch.no_grad():
        output = model(latents, torch.tensor([10, 700]), reference, camera)
        tokens = model.image_encoder(reference).repeat_interleave(FRAMES, dim=0)
        expected = base(latents, torch.tensor([10, 700]), encoder_hidden_states=tokens).sample
    assert torch.equal(output, expected)


@pytest.mark.parametrize("method", CAMERA_METHODS)
def test_camera_reaches_the_output_once_the_camera_weights_are_trained(method: str) -> None:
    model, _ = tiny_model(method)
    latents, reference, camera = inputs(model)
    other = model.camera_input(orbit_trajectory(radius=5.0), SIZE)[None].repeat(2, *[1] * camera[0].ndim)
    with torch.no_grad():
        assert torch.equal(model(latents, 300, reference, camera), model(latents, 300, reference, other))
        randomize(model, [name for name, _ in model.stage_named_parameters(1) if "conv_in" not in name])
        difference = model(latents, 300, reference, camera) - model(latents, 300, reference, other)
    assert difference.abs().max() > 1e-3


def test_image_latent_condition_reaches_the_output_once_trained() -> None:
    model, _ = tiny_model("cameractrl+ic")
    latents, reference, camera = inputs(model)
    with torch.no_grad():
        conditions = model.encode_conditions(reference, camera)
        other = replace(conditions, reference_latents=-conditions.reference_latents)
        assert torch.equal(model(latents, 300, conditions=conditions), model(latents, 300, conditions=other))
        randomize(model, ["video_unet.conv_in.weight"])
        difference = model(latents, 300, conditions=conditions) - model(latents, 300, conditions=other)
    assert difference.abs().max() > 1e-3


def test_motionctrl_block_computes_the_official_cmcm_formula() -> None:
    """h1 = h + attn1(n1(h)); h' = cc([h1, RT]); h2 = h' + attn2(n2(h')); out = h2 + ff(n3(h2)), computed here
    from the block's own layers (called past their hooks) after training-like random weights."""
    model, _ = tiny_model("motionctrl")
    randomize(model, [name for name, _ in model.stage_named_parameters(1)])
    block = model.video_unet.down_blocks[1].motion_modules[0].transformer_blocks[0]
    generator = torch.Generator().manual_seed(2)
    batch, rows, width = 2, 3, block.norm1.normalized_shape[0]
    hidden = torch.randn(batch * rows, FRAMES, width, generator=generator)
    pose = torch.randn(batch, FRAMES, 12, generator=generator)
    model.bank.camera = pose
    with torch.no_grad():
        output = block(hidden)
        h1 = hidden + block.attn1.forward(block.pos_embed(block.norm1.forward(hidden)))
        projected = block.cc_projection(torch.cat([h1, pose.repeat_interleave(rows, dim=0)], dim=-1))
        h2 = projected + block.attn2.forward(block.pos_embed(block.norm2.forward(projected)))
        expected = h2 + block.ff(block.norm3(h2))
    torch.testing.assert_close(output, expected, rtol=1e-5, atol=1e-5)
    assert (projected - h1).abs().max() > 1e-2


def test_cameractrl_merge_layer_sits_in_the_first_temporal_attention_of_each_down_and_up_block() -> None:
    model, _ = tiny_model("cameractrl")
    merged = sorted(name for name, _ in model.named_parameters() if name.endswith("qkv_merge.weight"))
    assert merged == sorted(
        f"video_unet.{block}.motion_modules.{index}.transformer_blocks.0.attn1.processor.qkv_merge.weight"
        for block, count in (
            ("down_blocks.0", 1),
            ("down_blocks.1", 1),
            ("up_blocks.0", 2),
            ("up_blocks.1", 2),
        )
        for index in range(count)
    )
    assert hasattr(model.video_unet.mid_block, "motion_modules")  # present, but not camera-conditioned


def test_camera_encoder_gives_multiscale_features_mixed_over_time() -> None:
    torch.manual_seed(0)
    encoder = CameraCtrlEncoder(
        (16, 32), downscale_factor=4, layers_per_level=1, attention_heads=2, max_frames=16
    )
    plucker = torch.randn(2, 5, 6, 32, 48)
    with torch.no_grad():
        features = encoder(plucker)
        changed = plucker.clone()
        changed[:, 4] += 1
        changed_features = encoder(changed)
    assert [tuple(level.shape) for level in features] == [(10, 16, 8, 12), (10, 32, 4, 6)]
    first_frame = slice(0, 1)
    assert (features[0][first_frame] - changed_features[0][first_frame]).abs().max() > 1e-4
    with pytest.raises(FrameCountError, match="at most 16"):
        encoder(torch.zeros(1, 17, 6, 32, 48))


def test_motionctrl_poses_are_world_to_camera_relative_to_the_first_frame() -> None:
    trajectory = orbit_trajectory(frames=5)
    vectors = pose_vector_input(trajectory, (32, 32)).numpy()
    assert vectors.shape == (5, 12)
    np.testing.assert_allclose(vectors[0], np.eye(4)[:3].reshape(12), atol=1e-7)
    w2c = invert_rigid(trajectory.c2w)
    expected = (w2c[3] @ trajectory.c2w[0])[:3]
    np.testing.assert_allclose(vectors[3].reshape(3, 4), expected, atol=1e-6)
    moved_world = np.eye(4)
    moved_world[:3, 3] = [4.0, -1.0, 2.0]
    moved = Trajectory(moved_world @ trajectory.c2w, trajectory.intrinsics, trajectory.image_size)
    np.testing.assert_allclose(pose_vector_input(moved, (32, 32)).numpy(), vectors, atol=1e-6)


def test_training_stages_select_each_methods_own_parameters() -> None:
    expected_stage_one = {
        "animatediff": lambda name: ".motion_modules." in name or name.startswith("video_unet.conv_in."),
        "cameractrl": lambda name: name.startswith("camera_control.") or ".qkv_merge." in name,
        "cameractrl+ic": lambda name: (
            name.startswith(("camera_control.", "video_unet.conv_in.")) or ".qkv_merge." in name
        ),
        "motionctrl": lambda name: (
            ".motion_modules." in name
            and any(part in name for part in (".cc_projection.", ".attn2.", ".norm2."))
        ),
    }
    for method, rule in expected_stage_one.items():
        model, _ = tiny_model(method)
        names = [name for name, _ in model.named_parameters()]
        assert [name for name, _ in model.stage_named_parameters(1)] == [name for name in names if rule(name)]
        stage_two = [name for name, _ in model.stage_named_parameters(2)]
        assert stage_two == [name for name in names if not name.startswith(("image_encoder.", "codec."))]
        trainable = model.set_trainable_stage(1)
        assert sum(parameter.requires_grad for parameter in model.parameters()) == len(trainable)


@pytest.mark.parametrize("method", ["cameractrl+ic", "motionctrl"])
def test_save_and_load_round_trip(method: str, tmp_path: Path) -> None:
    model, _ = tiny_model(method)
    randomize(model, [name for name, _ in model.stage_named_parameters(1)])
    model.save_pretrained(tmp_path / "checkpoint")
    loaded = BaselineModel.from_pretrained(tmp_path / "checkpoint")
    assert loaded.config == model.config
    latents, reference, camera = inputs(model)
    with torch.no_grad():
        assert torch.equal(loaded(latents, 100, reference, camera), model(latents, 100, reference, camera))


def test_a_config_in_the_earlier_layout_reads_its_image_condition_into_the_backbone() -> None:
    """Checkpoints written before the switch moved into the backbone config keep loading as what they were."""
    for method in METHODS:
        values = tiny_config(method).to_dict()
        switch = values["backbone"].pop("image_latent_condition")
        values["backbone"]["unet"]["in_channels"] = LATENT_CHANNELS
        config = BaselineConfig.from_dict({**values, "image_latent_condition": switch})
        assert config == tiny_config(method)
        assert config.method == method


@pytest.mark.parametrize("method", METHODS)
def test_on_a_base_with_the_image_latent_input_each_method_keeps_or_drops_it(method: str) -> None:
    """On a base pretrained with the reference latent concatenated, the +IC methods keep conv_in as it was
    trained (not a stage-1 parameter), the others drop its reference channels."""
    torch.manual_seed(0)
    base = MotionFlowComponents.random(tiny_config("animatediff").backbone)
    model = BaselineModel(tiny_config(method), base).eval()
    conditioned = model.config.backbone.image_latent_condition
    assert not model.conv_in_widened
    assert base.unet.conv_in.in_channels == 2 * LATENT_CHANNELS
    kept = base.unet.conv_in.weight if conditioned else base.unet.conv_in.weight[:, :LATENT_CHANNELS]
    assert torch.equal(model.video_unet.conv_in.weight, kept)
    assert not any("conv_in" in name for name, _ in model.stage_named_parameters(1) if "video_unet" in name)
    latents, reference, camera = inputs(model)
    with torch.no_grad():
        assert model(latents, 100, reference, camera).shape == latents.shape


def test_config_round_trip_and_bad_folders(tmp_path: Path) -> None:
    config = tiny_config("cameractrl")
    assert BaselineConfig.from_dict(config.to_dict()) == config
    assert config.camera["layers_per_level"] == 1
    with pytest.raises(FileNotFoundError, match="no baseline config"):
        BaselineConfig.load(tmp_path)
    (tmp_path / "config.json").write_text('{"unet": {}}')
    with pytest.raises(ValueError, match="not a baseline config"):
        BaselineConfig.load(tmp_path)
    with pytest.raises(ValueError, match="without a camera control"):
        BaselineConfig(config.backbone, None, camera={"attention_heads": 2})


def test_wrong_inputs_are_refused() -> None:
    model, _ = tiny_model("cameractrl")
    latents, reference, camera = inputs(model)
    with pytest.raises(ValueError, match="Plücker"):
        model(latents, 10, reference, torch.zeros(2, FRAMES, 12))
    with pytest.raises(FrameCountError, match="cameras"):
        model(latents[:, :, :3], 10, reference, camera)
    motionctrl, _ = tiny_model("motionctrl")
    with pytest.raises(ValueError, match="relative poses"):
        motionctrl(latents, 10, reference, camera)


def test_camera_free_model_ignores_a_camera_input() -> None:
    """The trainer hands every model its batch's cameras; AnimateDiff has none to use."""
    model, _ = tiny_model("animatediff")
    latents, reference, _ = inputs(model)
    plucker = torch.randn(2, FRAMES, 6, *SIZE)
    with torch.no_grad():
        assert torch.equal(model(latents, 10, reference, plucker), model(latents, 10, reference))
