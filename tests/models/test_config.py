from __future__ import annotations

import json

import pytest

from motionflow.models import MotionFlowConfig

from .helpers import tiny_config


@pytest.mark.parametrize("factory", [MotionFlowConfig.full, MotionFlowConfig.small, tiny_config])
def test_json_round_trip_is_exact(factory) -> None:
    config = factory()
    again = MotionFlowConfig.from_json(config.to_json())
    assert again == config
    assert again.to_json() == config.to_json()


def test_save_and_load(tmp_path) -> None:
    config = tiny_config(lambda_c=0.5, use_semantic_encoder=False, reference_net_init="random")
    config.save(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["lambda_c"] == 0.5
    assert MotionFlowConfig.load(tmp_path) == config


def test_full_config_has_the_paper_components() -> None:
    config = MotionFlowConfig.full()
    assert config.block_out_channels == (320, 640, 1280, 1280)
    assert config.cross_attention_dim == config.image_encoder["projection_dim"] == 768
    assert config.semantic_encoder["hidden_size"] == 384 and config.semantic_encoder["patch_size"] == 16
    assert config.latent_codec["type"] == "vae" and config.latent_codec["downsample_factor"] == 8
    assert (config.image_size, config.num_frames) == ((256, 384), 16)


def test_small_config_variants() -> None:
    pixel = MotionFlowConfig.small()
    assert pixel.latent_codec == {"type": "pixel_unshuffle", "latent_channels": 192, "downsample_factor": 8}
    assert pixel.unet["in_channels"] == pixel.unet["out_channels"] == 192
    vae = MotionFlowConfig.small(latent_codec="vae", latent_factor=4)
    assert (
        vae.latent_codec["downsample_factor"] == 4 and len(vae.latent_codec["vae"]["block_out_channels"]) == 3
    )
    assert vae.unet["in_channels"] == 4


def test_unknown_fields_and_bad_switches_are_rejected(tmp_path) -> None:
    values = tiny_config().to_dict()
    with pytest.raises(ValueError, match="unknown MotionFlowConfig fields: typo"):
        MotionFlowConfig.from_dict({**values, "typo": 1})
    with pytest.raises(ValueError, match="reference_net_init"):
        MotionFlowConfig.from_dict({**values, "reference_net_init": "imagenet"})
    with pytest.raises(ValueError, match="semantic_encoder model_type"):
        MotionFlowConfig.from_dict({**values, "semantic_encoder": {"model_type": "resnet"}})
    with pytest.raises(FileNotFoundError, match="no MotionFlow config"):
        MotionFlowConfig.load(tmp_path)
