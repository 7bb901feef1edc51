"""The image-latent condition: the reference latent concatenated to every noisy frame latent, the UNet's
conv_in resized to take it, the reference network fed it in both input slots."""

from __future__ import annotations

import pytest
import torch
from diffusers import UNet2DConditionModel

from motionflow.models import MotionFlowComponents, MotionFlowConfig, MotionFlowModel
from motionflow.models.components import resize_conv_in
from motionflow.training import BackboneDenoiser

from .helpers import inputs, randomize_new_modules, tiny_config

LATENT_CHANNELS = 48


def test_the_switch_sets_the_unets_input_channels_and_survives_a_round_trip() -> None:
    plain, conditioned = tiny_config(), tiny_config(image_latent_condition=True)
    assert plain.unet["in_channels"] == LATENT_CHANNELS
    assert conditioned.unet["in_channels"] == 2 * LATENT_CHANNELS
    assert conditioned.unet["out_channels"] == LATENT_CHANNELS
    assert MotionFlowConfig.from_json(conditioned.to_json()) == conditioned
    assert MotionFlowConfig.full(image_latent_condition=True).unet["in_channels"] == 8


def test_a_unet_input_that_fits_neither_layout_is_refused() -> None:
    values = tiny_config().to_dict()
    values["unet"]["in_channels"] = LATENT_CHANNELS + 1
    with pytest.raises(ValueError, match="in_channels 49 is neither"):
        MotionFlowConfig.from_dict(values)


def test_resizing_conv_in_keeps_the_kept_channels_and_zeroes_the_added_ones() -> None:
    torch.manual_seed(0)
    unet = UNet2DConditionModel.from_config(tiny_config().unet)
    original = unet.conv_in.weight.detach().clone()
    resize_conv_in(unet, 2 * LATENT_CHANNELS)
    assert unet.config.in_channels == 2 * LATENT_CHANNELS
    assert torch.equal(unet.conv_in.weight[:, :LATENT_CHANNELS], original)
    assert not unet.conv_in.weight[:, LATENT_CHANNELS:].any()
    resize_conv_in(unet, LATENT_CHANNELS)
    assert torch.equal(unet.conv_in.weight, original)


def test_fitting_components_resizes_a_copy_and_leaves_the_given_unet_alone() -> None:
    torch.manual_seed(0)
    components = MotionFlowComponents.random(tiny_config())
    fitted, config = components.fit(tiny_config(image_latent_condition=True))
    assert components.unet.conv_in.in_channels == LATENT_CHANNELS
    assert fitted.unet.conv_in.in_channels == config.unet["in_channels"] == 2 * LATENT_CHANNELS
    same, _ = components.fit(tiny_config())
    assert same is components


def _models_on_one_base() -> tuple[MotionFlowModel, MotionFlowModel]:
    """MotionFlow without and with the image-latent condition, assembled on the same random base, with
    the same new modules."""
    torch.manual_seed(0)
    components = MotionFlowComponents.random(tiny_config())
    plain = MotionFlowModel(tiny_config(), components).eval()
    conditioned = MotionFlowModel(tiny_config(image_latent_condition=True), components).eval()
    shared = conditioned.state_dict()
    conditioned.load_state_dict(
        {name: value for name, value in plain.state_dict().items() if value.shape == shared[name].shape},
        strict=False,
    )
    return plain, conditioned


def test_added_channels_leave_a_model_computing_what_it_computed_without_them() -> None:
    plain, conditioned = _models_on_one_base()
    randomize_new_modules(plain)
    randomize_new_modules(conditioned)
    latents, reference, plucker = inputs(batch=2)
    with torch.no_grad():
        expected = plain(latents, torch.tensor([10, 700]), reference, plucker)
        output = conditioned(latents, torch.tensor([10, 700]), reference, plucker)
    torch.testing.assert_close(output, expected, rtol=0, atol=1e-6)
    assert conditioned.conv_in_widened and not plain.conv_in_widened
    stage_one = {name for name, _ in conditioned.stage_named_parameters(1)}
    assert {"video_unet.conv_in.weight", "video_unet.conv_in.bias"} <= stage_one
    assert not any(name.startswith("video_unet.conv_in.") for name, _ in plain.stage_named_parameters(1))


def test_the_reference_latent_reaches_both_networks_once_their_conv_in_is_trained() -> None:
    _, model = _models_on_one_base()
    randomize_new_modules(model)
    latents, reference, plucker = inputs(batch=2)
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        conditions = model.encode_conditions(reference, plucker)
        other = model.encode_conditions(torch.rand(reference.shape, generator=generator) * 2 - 1, plucker)
        other.image_tokens, other.semantic_tokens, other.semantic_map = (
            conditions.image_tokens,
            conditions.semantic_tokens,
            conditions.semantic_map,
        )
        before = model(latents, 300, conditions=conditions), model(latents, 300, conditions=other)
        for unet in (model.video_unet, model.reference_net):
            unet.conv_in.weight[:, LATENT_CHANNELS:].normal_(0, 0.2, generator=generator)
        after = model(latents, 300, conditions=conditions), model(latents, 300, conditions=other)
    # before: the latent reaches the output only through the reference network's first slot
    assert (after[0] - after[1]).abs().max() > 10 * (before[0] - before[1]).abs().max()


def test_a_conditioned_model_round_trips_and_a_conditioned_base_needs_no_new_channels(tmp_path) -> None:
    _, model = _models_on_one_base()
    randomize_new_modules(model)
    model.save_pretrained(tmp_path)
    loaded = MotionFlowModel.from_pretrained(tmp_path)
    assert loaded.config == model.config and not loaded.conv_in_widened
    latents, reference, plucker = inputs()
    with torch.no_grad():
        assert torch.equal(model(latents, 42, reference, plucker), loaded(latents, 42, reference, plucker))

    config = tiny_config(image_latent_condition=True)
    torch.manual_seed(0)
    base = BackboneDenoiser(config, MotionFlowComponents.random(config))
    trained = base.to_components(MotionFlowComponents.random(config))
    assert trained.unet.conv_in.in_channels == 2 * LATENT_CHANNELS
    assert torch.equal(trained.unet.conv_in.weight, base.video_unet.conv_in.weight)
    on_base = MotionFlowModel(config, trained)
    assert not on_base.conv_in_widened
    assert not any(name.startswith("video_unet.conv_in.") for name, _ in on_base.stage_named_parameters(1))


def test_the_pretraining_backbone_sees_the_reference_latent() -> None:
    config = tiny_config(image_latent_condition=True)
    torch.manual_seed(0)
    base = BackboneDenoiser(config, MotionFlowComponents.random(config)).eval()
    latents, reference, _ = inputs(batch=2)
    with torch.no_grad():
        own = base(latents, torch.tensor([300, 300]), reference)
        dropped = base(latents, torch.tensor([300, 300]), reference, drop_image=torch.tensor([False, True]))
    assert torch.equal(own[0], dropped[0])
    assert (own[1] - dropped[1]).abs().max() > 1e-3
