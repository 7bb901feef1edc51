"""The full-configuration loading path, on tiny models saved in the real folder formats."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from diffusers import UNetMotionModel
from transformers import CLIPConfig, CLIPModel, CLIPVisionModelWithProjection, Dinov2Config, Dinov2Model

from motionflow.errors import MissingWeightsError
from motionflow.models import MotionFlowComponents, MotionFlowModel
from motionflow.models.components import CLIP, DINO, MOTION_ADAPTER, SD15
from motionflow.weights import WEIGHTS_ENV

from .helpers import inputs, tiny_vae_config


def write_weights_root(root: Path) -> MotionFlowComponents:
    """Saves tiny SD1.5 (unet/, vae/), MotionAdapter, DINO ViT and CLIP vision folders under `root`."""
    torch.manual_seed(3)
    components = MotionFlowComponents.random(tiny_vae_config())
    components.unet.save_pretrained(root / SD15.relative_path / "unet")
    components.vae.save_pretrained(root / SD15.relative_path / "vae")
    components.motion_adapter.save_pretrained(root / MOTION_ADAPTER.relative_path)
    components.semantic_encoder.save_pretrained(root / DINO.relative_path)
    components.image_encoder.save_pretrained(root / CLIP.relative_path)
    return components


@pytest.fixture(scope="module")
def weights_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MotionFlowComponents]:
    root = tmp_path_factory.mktemp("weights")
    return root, write_weights_root(root)


def assert_same_weights(loaded: torch.nn.Module, saved: torch.nn.Module) -> None:
    loaded_state = loaded.state_dict()
    for name, tensor in saved.state_dict().items():
        assert torch.equal(loaded_state[name], tensor), name


def assert_same_pretrained_weights(first: MotionFlowModel, second: MotionFlowModel) -> None:
    """Equal loaded parts (the new MotionFlow modules are initialised randomly on each assembly)."""
    new = (".processor.", "trajectory_encoder.", "semantic_to_latent.")
    second_state = second.state_dict()
    compared = 0
    for name, tensor in first.state_dict().items():
        if not any(part in name for part in new):
            assert torch.equal(second_state[name], tensor), name
            compared += 1
    assert compared > 100


def test_full_path_loads_every_component(weights_root) -> None:
    root, saved = weights_root
    model = MotionFlowModel.from_pretrained_components(config=tiny_vae_config(), weights_root=root).eval()
    assert model.config.unet["block_out_channels"] == list(saved.unet.config.block_out_channels)
    assert_same_weights(model.codec.vae, saved.vae)
    assert_same_weights(model.image_encoder.encoder, saved.image_encoder)
    assert_same_weights(model.semantic_encoder.encoder, saved.semantic_encoder)
    assert torch.equal(model.reference_net.conv_in.weight, saved.unet.conv_in.weight)
    reference_block = model.reference_net.down_blocks[0].attentions[0].transformer_blocks[0]
    assert torch.equal(
        reference_block.ff.net[2].weight,
        saved.unet.down_blocks[0].attentions[0].transformer_blocks[0].ff.net[2].weight,
    )

    base = UNetMotionModel.from_unet2d(saved.unet, saved.motion_adapter).eval()
    video_state = model.video_unet.state_dict()
    for name, tensor in base.state_dict().items():
        assert torch.equal(video_state[name], tensor), name
    latents, reference, plucker = inputs(channels=4)
    with torch.no_grad():
        output = model(latents, 250, reference, plucker)
        image_tokens = model.image_encoder(reference).repeat_interleave(latents.shape[2], dim=0)
        assert torch.equal(output, base(latents, 250, encoder_hidden_states=image_tokens).sample)


def test_explicit_folders_and_environment_root(weights_root, monkeypatch, tmp_path) -> None:
    root, saved = weights_root
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "empty"))
    with pytest.raises(MissingWeightsError, match="stable-diffusion-v1-5"):
        MotionFlowModel.from_pretrained_components(config=tiny_vae_config())
    monkeypatch.setenv(WEIGHTS_ENV, str(root))
    from_env = MotionFlowModel.from_pretrained_components(config=tiny_vae_config())
    explicit = MotionFlowModel.from_pretrained_components(
        sd15_dir=root / SD15.relative_path,
        motion_adapter_dir=root / MOTION_ADAPTER.relative_path,
        dino_dir=root / DINO.relative_path,
        clip_dir=root / CLIP.relative_path,
        config=tiny_vae_config(),
        weights_root=tmp_path / "unused",
    )
    assert_same_pretrained_weights(explicit, from_env)


def test_full_clip_model_and_dinov2_folders(weights_root, tmp_path) -> None:
    """openai/clip-vit-large-patch14 is a whole CLIPModel folder; DINOv2 is the other supported ViT."""
    root, saved = weights_root
    for name in (SD15, MOTION_ADAPTER):
        shutil.copytree(root / name.relative_path, tmp_path / name.relative_path)
    vision = saved.image_encoder.config
    clip = CLIPModel(
        CLIPConfig(
            text_config=dict(
                hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2
            ),
            vision_config=vision.to_dict(),
            projection_dim=vision.projection_dim,
        )
    )
    clip.save_pretrained(tmp_path / CLIP.relative_path)
    dinov2 = Dinov2Model(
        Dinov2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, image_size=64, patch_size=8)
    )
    dinov2.save_pretrained(tmp_path / DINO.relative_path)
    model = MotionFlowModel.from_pretrained_components(config=tiny_vae_config(), weights_root=tmp_path)
    assert torch.equal(model.image_encoder.encoder.visual_projection.weight, clip.visual_projection.weight)
    assert isinstance(model.semantic_encoder.encoder, Dinov2Model)
    assert model.config.semantic_encoder["model_type"] == "dinov2"
    assert isinstance(model.image_encoder.encoder, CLIPVisionModelWithProjection)
    latents, reference, plucker = inputs(channels=4)
    with torch.no_grad():
        assert model(latents, 3, reference, plucker).shape == latents.shape


@pytest.mark.parametrize(
    ("remove", "message"),
    [
        (DINO.relative_path, "dino-vits16"),
        (CLIP.relative_path, "clip-vit-large-patch14"),
        (MOTION_ADAPTER.relative_path, "animatediff-motion-adapter-v1-5-2"),
        (f"{SD15.relative_path}/unet", "unet/config.json"),
        (f"{SD15.relative_path}/vae", "vae/config.json"),
    ],
)
def test_missing_folder_is_named(weights_root, tmp_path, remove: str, message: str) -> None:
    root, _ = weights_root
    copy = tmp_path / "weights"
    shutil.copytree(root, copy)
    shutil.rmtree(copy / remove)
    with pytest.raises(MissingWeightsError, match=message) as error:
        MotionFlowModel.from_pretrained_components(config=tiny_vae_config(), weights_root=copy)
    assert str(copy / remove) in str(error.value)


def test_semantic_folder_is_not_needed_without_semantic_encoder(weights_root, tmp_path) -> None:
    root, _ = weights_root
    for name in (SD15, MOTION_ADAPTER, CLIP):
        shutil.copytree(root / name.relative_path, tmp_path / name.relative_path)
    model = MotionFlowModel.from_pretrained_components(
        config=tiny_vae_config(use_semantic_encoder=False), weights_root=tmp_path
    )
    assert model.semantic_encoder is None


def test_save_load_of_a_loaded_model_keeps_the_loaded_configs(weights_root, tmp_path) -> None:
    root, saved = weights_root
    model = MotionFlowModel.from_pretrained_components(config=tiny_vae_config(), weights_root=root)
    model.save_pretrained(tmp_path / "checkpoint")
    loaded = MotionFlowModel.from_pretrained(tmp_path / "checkpoint")
    assert loaded.config == model.config
    assert_same_weights(loaded, model)


def test_meta_model_counts_the_full_configuration() -> None:
    from motionflow.models import MotionFlowConfig

    model = MotionFlowModel.empty(MotionFlowConfig.full())
    assert model.video_unet.device.type == "meta"
    unet_2d = sum(
        p.numel() for name, p in model.reference_net.named_parameters() if ".processor." not in name
    )
    assert 855e6 < unet_2d < 860e6  # SD1.5 UNet (859.5M) minus the trimmed output conv/proj
    motion = sum(p.numel() for name, p in model.video_unet.named_parameters() if "motion_modules" in name)
    assert 450e6 < motion < 456e6  # AnimateDiff v1-5-2 motion modules (453M)
    assert 21e6 < sum(p.numel() for p in model.semantic_encoder.parameters()) < 22.5e6  # ViT-S/16
