from __future__ import annotations

import copy

import pytest
import torch
from diffusers import UNetMotionModel

from motionflow.errors import FrameCountError
from motionflow.models import MotionFlowComponents, MotionFlowModel

from .helpers import inputs, randomize_new_modules, tiny_config, tiny_model

ABLATIONS = {
    "full": {},
    "w/o reference net": {"use_reference_net": False},
    "w/o semantic encoder": {"use_semantic_encoder": False},
    "random reference init": {"reference_net_init": "random"},
    "normal camera values": {"camera_value_init": "normal"},
    "ray-biased reference attention": {"reference_ray_bias": True},
    "ray bias w/o reference net": {"reference_ray_bias": True, "use_reference_net": False},
    "three levels, two layers": {"block_out_channels": (16, 16, 32), "layers_per_block": 2},
}


@pytest.mark.parametrize("overrides", ABLATIONS.values(), ids=ABLATIONS.keys())
def test_fresh_model_reproduces_its_base_animatediff_unet(overrides: dict) -> None:
    config = tiny_config(**overrides)
    torch.manual_seed(0)
    components = MotionFlowComponents.random(config)
    model = MotionFlowModel.from_components(config, components).eval()
    base = UNetMotionModel.from_unet2d(components.unet, components.motion_adapter).eval()
    latents, reference, plucker = inputs(batch=2)
    with torch.no_grad():
        output = model(latents, torch.tensor([10, 700]), reference, plucker)
        image_tokens = model.image_encoder(reference).repeat_interleave(latents.shape[2], dim=0)
        expected = base(latents, torch.tensor([10, 700]), encoder_hidden_states=image_tokens).sample
    assert torch.equal(output, expected)


@pytest.mark.parametrize(
    ("batch", "frames", "size"), [(1, 4, (32, 32)), (2, 3, (32, 48)), (1, 8, (64, 32)), (1, 1, (16, 24))]
)
def test_output_shape_follows_the_input(batch: int, frames: int, size: tuple[int, int]) -> None:
    model = tiny_model()
    randomize_new_modules(model)
    latents, reference, plucker = inputs(batch=batch, frames=frames, size=size)
    with torch.no_grad():
        output = model(latents, 500, reference, plucker)
    assert output.shape == latents.shape
    assert torch.isfinite(output).all()


@pytest.mark.parametrize(("init", "reaches_encoder"), [("zero", False), ("normal", True)])
def test_the_trajectory_encoder_learns_once_reference_attention_has_moved_only_with_non_zero_camera_values(
    init: str, reaches_encoder: bool
) -> None:
    """After the first update of reference attention's output (zero at first), the camera branch
    gets gradient only if V_c of Eq. 4 does not also start at zero."""
    torch.manual_seed(0)
    model = MotionFlowModel.from_components(
        tiny_config(camera_value_init=init), MotionFlowComponents.random(tiny_config())
    )
    for name, parameter in model.named_parameters():
        if name.endswith("reference_to_out.weight"):
            parameter.data.normal_(0, 0.1)
    latents, reference, plucker = inputs()
    model(latents, 300, reference, plucker).square().mean().backward()
    encoder_gradient = sum(
        parameter.grad.abs().sum().item()
        for name, parameter in model.named_parameters()
        if name.startswith("trajectory_encoder.") and parameter.grad is not None
    )
    assert (encoder_gradient > 0) == reaches_encoder


def test_camera_changes_the_output_once_camera_weights_are_non_zero() -> None:
    model = tiny_model()
    latents, reference, plucker = inputs()
    other_plucker = torch.randn_like(plucker)
    with torch.no_grad():
        assert torch.equal(
            model(latents, 300, reference, plucker), model(latents, 300, reference, other_plucker)
        )
        randomize_new_modules(model)
        first = model(latents, 300, reference, plucker)
        second = model(latents, 300, reference, other_plucker)
    assert (first - second).abs().max() > 1e-3


def test_camera_reaches_the_output_without_reference_network() -> None:
    model = tiny_model(use_reference_net=False)
    randomize_new_modules(model)
    latents, reference, plucker = inputs()
    with torch.no_grad():
        difference = model(latents, 300, reference, plucker) - model(latents, 300, reference, -plucker)
    assert difference.abs().max() > 1e-3


def test_condition_dropout_is_the_null_condition() -> None:
    model = tiny_model()
    randomize_new_modules(model)
    latents, reference, plucker = inputs(batch=2)
    keep_first = torch.tensor([False, True])
    with torch.no_grad():
        dropped = model(latents, 100, reference, plucker, drop_image=keep_first, drop_camera=keep_first)
        null_reference, null_plucker = reference.clone(), plucker.clone()
        null_reference[1], null_plucker[1] = 0, 0
        expected = model(latents, 100, null_reference, null_plucker)
        conditioned = model(latents, 100, reference, plucker)
    torch.testing.assert_close(dropped, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(dropped[0], conditioned[0], rtol=1e-5, atol=1e-5)
    assert (dropped[1] - conditioned[1]).abs().max() > 1e-3


def test_precomputed_conditions_give_the_same_prediction() -> None:
    model = tiny_model(reference_timestep="zero")
    randomize_new_modules(model)
    latents, reference, plucker = inputs()
    with torch.no_grad():
        conditions = model.encode_conditions(reference, plucker)
        first = model(latents, 900, conditions=conditions)
        assert conditions.reference_maps is not None
        cached = model(latents, 900, conditions=conditions)
        direct = model(latents, 900, reference, plucker)
    assert torch.equal(first, cached)
    torch.testing.assert_close(first, direct)


def test_mismatched_frames_are_rejected() -> None:
    model = tiny_model()
    latents, reference, plucker = inputs(frames=4)
    with pytest.raises(FrameCountError, match="latents have 3 frames, the cameras 4"):
        model(latents[:, :, :3], 10, reference, plucker)
    with pytest.raises(ValueError, match="plucker must be"):
        model(latents, 10, reference, plucker[:, :, :3])


def test_save_load_round_trip_is_exact(tmp_path) -> None:
    model = tiny_model(lambda_c=0.5)
    randomize_new_modules(model)
    model.save_pretrained(tmp_path)
    loaded = MotionFlowModel.from_pretrained(tmp_path)
    assert loaded.config == model.config
    original_state, loaded_state = model.state_dict(), loaded.state_dict()
    assert original_state.keys() == loaded_state.keys()
    assert all(torch.equal(original_state[name], loaded_state[name]) for name in original_state)
    latents, reference, plucker = inputs()
    with torch.no_grad():
        assert torch.equal(model(latents, 42, reference, plucker), loaded(latents, 42, reference, plucker))
    assert not any(path.name.startswith(".") for path in tmp_path.iterdir())


def test_from_pretrained_names_a_missing_checkpoint(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        MotionFlowModel.from_pretrained(tmp_path)


def test_stage_parameter_groups() -> None:
    model = tiny_model()
    stage_one = {name for name, _ in model.stage_named_parameters(1)}
    stage_two = {name for name, _ in model.stage_named_parameters(2)}
    assert stage_one < stage_two
    assert not any(name.startswith(("image_encoder.", "codec.")) for name in stage_two)
    assert any(name.startswith("trajectory_encoder.") for name in stage_one)
    assert any(name.startswith("semantic_encoder.") for name in stage_one)
    assert any(".processor.to_v_camera." in name for name in stage_one)
    assert any(".processor.reference_to_out." in name for name in stage_one)
    assert not any(
        name.startswith(("video_unet.", "reference_net.")) and ".processor." not in name for name in stage_one
    )
    assert any(name.startswith("reference_net.") and ".processor." not in name for name in stage_two)
    random_reference = tiny_model(reference_net_init="random")
    assert any(
        name.startswith("reference_net.conv_in") for name, _ in random_reference.stage_named_parameters(1)
    )
    with pytest.raises(ValueError, match="stage must be 1 or 2"):
        model.stage_parameters(3)


@pytest.mark.parametrize("stage", [1, 2])
def test_every_trained_parameter_receives_a_gradient(stage: int) -> None:
    """No dead parameters in a stage (distributed training would fail on them)."""
    model = tiny_model()
    randomize_new_modules(model)
    trained = model.set_trainable_stage(stage)
    assert {id(p) for p in model.parameters() if p.requires_grad} == {id(p) for p in trained}
    latents, reference, plucker = inputs(batch=2)
    model(latents, torch.tensor([5, 600]), reference, plucker).square().mean().backward()
    names = {id(parameter): name for name, parameter in model.named_parameters()}
    missing = [names[id(parameter)] for parameter in trained if parameter.grad is None]
    assert missing == []


def test_deep_copy_keeps_its_own_condition_bank() -> None:
    model = tiny_model()
    randomize_new_modules(model)
    twin = copy.deepcopy(model)
    latents, reference, plucker = inputs()
    with torch.no_grad():
        expected = model(latents, 50, reference, plucker)
        assert torch.equal(twin(latents, 50, reference, plucker), expected)
    assert twin.bank is not model.bank
    assert (
        twin.video_unet.down_blocks[0].attentions[0].transformer_blocks[0].attn1.processor.bank is twin.bank
    )


def test_encode_and_decode_video_layout() -> None:
    model = tiny_model()
    frames = torch.rand(2, 3, 3, 32, 32) * 2 - 1
    latents = model.encode_video(frames)
    assert latents.shape == (2, 48, 3, 8, 8)
    torch.testing.assert_close(model.decode_video(latents), frames)


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    """The condition bank must survive the recomputation of checkpointed blocks during backward."""
    model = tiny_model()
    randomize_new_modules(model)
    model.set_trainable_stage(2)
    latents, reference, plucker = inputs(batch=2)

    def gradients() -> dict[str, torch.Tensor]:
        model.zero_grad()
        model(latents, torch.tensor([5, 600]), reference, plucker).square().mean().backward()
        return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}

    plain = gradients()
    model.video_unet.enable_gradient_checkpointing()
    model.reference_net.enable_gradient_checkpointing()
    model.train()
    checkpointed = gradients()
    assert plain.keys() == checkpointed.keys()
    for name, gradient in plain.items():
        torch.testing.assert_close(checkpointed[name], gradient, msg=name)


def test_an_unknown_camera_value_init_is_refused() -> None:
    with pytest.raises(ValueError, match="camera_value_init"):
        tiny_config(camera_value_init="ones")
