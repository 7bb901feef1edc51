"""Official CameraCtrl / MotionCtrl checkpoints -> the baselines here: key mapping and loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from baseline_helpers import TINY_BACKBONE, inputs, tiny_config, tiny_model
from official_checkpoint_keys import cameractrl_checkpoint_shapes, motionctrl_checkpoint_shapes

from baselines.backbone import BaselineModel, baseline_config
from baselines.checkpoint_keys import (
    MOTION_ADAPTER_V3,
    animatediff_motion_key,
    cameractrl_encoder_key,
    convert_official_checkpoint,
    load_official_cameractrl,
    load_official_motionctrl,
    map_official_cameractrl,
    map_official_motionctrl,
)
from motionflow.errors import MissingWeightsError
from motionflow.models import MotionFlowComponents
from motionflow.models.components import CLIP, SD15
from motionflow.models.config import motion_adapter_config
from motionflow.weights import WeightsFormatError

FULL_CHANNELS = (320, 640, 1280, 1280)
ANIMATEDIFF_V3_ADAPTER = dict(
    motion_adapter_config(FULL_CHANNELS, layers_per_block=2, heads=8, groups=32), use_motion_mid_block=False
)
TINY_CHANNELS = TINY_BACKBONE["block_out_channels"]


def random_checkpoint(shapes: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {key: torch.randn(shape, generator=generator) for key, shape in shapes.items()}


def mapped_shapes(mapped_keys: dict[str, tuple[int, ...]], mapping) -> dict[str, tuple[int, ...]]:
    result = {}
    for key, shape in mapped_keys.items():
        name = mapping(key)
        if name is None:
            assert key.endswith("pos_encoder.pe"), key
        else:
            result[name] = shape
    return result


def test_cameractrl_official_keys_cover_the_full_model_one_to_one() -> None:
    model = BaselineModel.empty(baseline_config("cameractrl", "full"))
    official = cameractrl_checkpoint_shapes(FULL_CHANNELS, nums_rb=2, unet_layers_per_block=2)
    mapped = {
        **{
            "camera_control.encoder." + name: shape
            for name, shape in mapped_shapes(
                official["pose_encoder_state_dict"], cameractrl_encoder_key
            ).items()
        },
        **{
            "video_unet." + name: shape
            for name, shape in mapped_shapes(
                official["attention_processor_state_dict"], animatediff_motion_key
            ).items()
        },
    }
    own = {
        name: tuple(p.shape)
        for name, p in model.named_parameters()
        if model.camera_control.is_own_parameter(name)
    }
    assert mapped == own
    assert len(official["attention_processor_state_dict"]) == 2 * (4 * 2 + 4 * 3)


def test_motionctrl_official_keys_cover_every_motion_module_one_to_one() -> None:
    model = BaselineModel.empty(baseline_config("motionctrl", "full", motion_adapter=ANIMATEDIFF_V3_ADAPTER))
    official = motionctrl_checkpoint_shapes(FULL_CHANNELS, layers_per_block=2, mid_block=False)
    mapped = {
        "video_unet." + name: shape for name, shape in mapped_shapes(official, animatediff_motion_key).items()
    }
    motion = {name: tuple(p.shape) for name, p in model.named_parameters() if ".motion_modules." in name}
    assert mapped == motion
    assert sum(".cc_projection." in name for name in mapped) == 2 * 20


@pytest.mark.parametrize(
    ("official", "ours"),
    [
        ("encoder_conv_in.weight", "conv_in.weight"),
        ("encoder_down_conv_blocks.1.0.in_conv.bias", "levels.1.resnets.0.in_conv.bias"),
        (
            "encoder_down_attention_blocks.2.1.attention_blocks.0.to_out.0.weight",
            "levels.2.attentions.1.attn1.to_out.0.weight",
        ),
        ("encoder_down_attention_blocks.0.0.norms.0.weight", "levels.0.attentions.0.norm1.weight"),
        ("encoder_down_attention_blocks.0.0.ff_norm.bias", "levels.0.attentions.0.norm3.bias"),
        (
            "encoder_down_attention_blocks.3.1.ff.net.0.proj.weight",
            "levels.3.attentions.1.ff.net.0.proj.weight",
        ),
        ("encoder_down_attention_blocks.0.0.attention_blocks.0.pos_encoder.pe", None),
    ],
)
def test_cameractrl_encoder_key_examples(official: str, ours: str | None) -> None:
    assert cameractrl_encoder_key(official) == ours


@pytest.mark.parametrize(
    ("official", "ours"),
    [
        (
            "up_blocks.3.motion_modules.2.temporal_transformer.transformer_blocks.0.attention_blocks.0.processor.qkv_merge.weight",
            "up_blocks.3.motion_modules.2.transformer_blocks.0.attn1.processor.qkv_merge.weight",
        ),
        (
            "down_blocks.0.motion_modules.1.temporal_transformer.transformer_blocks.0.attention_blocks.1.to_k.weight",
            "down_blocks.0.motion_modules.1.transformer_blocks.0.attn2.to_k.weight",
        ),
        (
            "mid_block.motion_modules.0.temporal_transformer.transformer_blocks.0.norms.1.bias",
            "mid_block.motion_modules.0.transformer_blocks.0.norm2.bias",
        ),
        (
            "down_blocks.2.motion_modules.0.temporal_transformer.transformer_blocks.0.cc_projection.weight",
            "down_blocks.2.motion_modules.0.transformer_blocks.0.cc_projection.weight",
        ),
        (
            "up_blocks.0.motion_modules.0.temporal_transformer.proj_in.weight",
            "up_blocks.0.motion_modules.0.proj_in.weight",
        ),
    ],
)
def test_motion_module_key_examples(official: str, ours: str) -> None:
    assert animatediff_motion_key(official) == ours


def test_unknown_keys_are_rejected() -> None:
    with pytest.raises(KeyError, match="CameraPoseEncoder"):
        cameractrl_encoder_key("encoder_up_blocks.0.weight")
    with pytest.raises(KeyError, match="motion-module"):
        animatediff_motion_key("down_blocks.0.attentions.0.proj_in.weight")


def write_official_cameractrl(path: Path, seed: int = 0) -> dict[str, dict[str, torch.Tensor]]:
    shapes = cameractrl_checkpoint_shapes(
        TINY_CHANNELS, nums_rb=1, unet_layers_per_block=1, downscale_factor=4
    )
    checkpoint = {part: random_checkpoint(part_shapes, seed) for part, part_shapes in shapes.items()}
    torch.save({**checkpoint, "epoch": 3, "global_step": 1000}, path)
    return checkpoint


def test_official_cameractrl_checkpoint_loads_into_a_tiny_model(tmp_path: Path) -> None:
    model, _ = tiny_model("cameractrl")
    latents, reference, camera = inputs(model)
    with torch.no_grad():
        before = model(latents, 500, reference, camera)
    checkpoint = write_official_cameractrl(tmp_path / "CameraCtrl.ckpt")
    loaded = load_official_cameractrl(model, tmp_path / "CameraCtrl.ckpt")
    state = model.state_dict()
    encoder = checkpoint["pose_encoder_state_dict"]
    assert torch.equal(
        state["camera_control.encoder.levels.1.resnets.0.in_conv.weight"],
        encoder["encoder_down_conv_blocks.1.0.in_conv.weight"],
    )
    assert torch.equal(
        state["camera_control.encoder.levels.0.attentions.0.norm3.weight"],
        encoder["encoder_down_attention_blocks.0.0.ff_norm.weight"],
    )
    merge = "up_blocks.1.motion_modules.1.temporal_transformer.transformer_blocks.0.attention_blocks.0.processor.qkv_merge.bias"
    assert torch.equal(
        state["video_unet.up_blocks.1.motion_modules.1.transformer_blocks.0.attn1.processor.qkv_merge.bias"],
        checkpoint["attention_processor_state_dict"][merge],
    )
    assert len(loaded) == sum(
        model.camera_control.is_own_parameter(name) for name, _ in model.named_parameters()
    )
    with torch.no_grad():
        after = model(latents, 500, reference, camera)
    assert (after - before).abs().max() > 1e-3


def test_official_motionctrl_checkpoint_loads_into_a_tiny_model(tmp_path: Path) -> None:
    model, _ = tiny_model("motionctrl")
    shapes = motionctrl_checkpoint_shapes(TINY_CHANNELS, layers_per_block=1, mid_block=True)
    state_dict = {"module." + key: value for key, value in random_checkpoint(shapes).items()}
    state_dict["module.conv_in.weight"] = torch.zeros(16, 48, 3, 3)  # spatial layers: SD1.5's, not used
    torch.save({"state_dict": state_dict}, tmp_path / "cmcm.ckpt")
    loaded = load_official_motionctrl(model, tmp_path / "cmcm.ckpt")
    key = "mid_block.motion_modules.0.temporal_transformer.transformer_blocks.0.cc_projection.weight"
    assert torch.equal(
        model.state_dict()["video_unet.mid_block.motion_modules.0.transformer_blocks.0.cc_projection.weight"],
        state_dict["module." + key],
    )
    assert len(loaded) == sum(".motion_modules." in name for name, _ in model.named_parameters())


def test_checkpoint_of_another_size_is_refused(tmp_path: Path) -> None:
    shapes = cameractrl_checkpoint_shapes((16, 24), nums_rb=1, unet_layers_per_block=1, downscale_factor=4)
    torch.save(
        {part: random_checkpoint(part_shapes) for part, part_shapes in shapes.items()},
        tmp_path / "other.ckpt",
    )
    model, _ = tiny_model("cameractrl")
    with pytest.raises(WeightsFormatError, match="shape"):
        load_official_cameractrl(model, tmp_path / "other.ckpt")


def test_incomplete_or_foreign_checkpoints_are_refused(tmp_path: Path) -> None:
    checkpoint = write_official_cameractrl(tmp_path / "full.ckpt")
    encoder = dict(checkpoint["pose_encoder_state_dict"])
    encoder.pop("encoder_down_conv_blocks.0.0.block1.weight")
    torch.save({**checkpoint, "pose_encoder_state_dict": encoder}, tmp_path / "partial.ckpt")
    model, _ = tiny_model("cameractrl")
    with pytest.raises(WeightsFormatError, match="lacks 1"):
        load_official_cameractrl(model, tmp_path / "partial.ckpt")
    with pytest.raises(WeightsFormatError, match="pose_encoder_state_dict"):
        map_official_cameractrl({"state_dict": {}})
    with pytest.raises(WeightsFormatError, match="cc_projection"):
        map_official_motionctrl({"state_dict": {}})
    (tmp_path / "garbage.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsFormatError, match="cannot read"):
        load_official_cameractrl(model, tmp_path / "garbage.ckpt")
    with pytest.raises(ValueError, match="cannot take MotionCtrl"):
        load_official_motionctrl(model, tmp_path / "full.ckpt")


def test_conversion_writes_a_loadable_baseline_folder(tmp_path: Path) -> None:
    """The official-release path end to end, on tiny models saved in the real folder formats."""
    torch.manual_seed(5)
    components = MotionFlowComponents.random(tiny_config("cameractrl", latent_codec="vae").backbone)
    root = tmp_path / "weights"
    components.unet.save_pretrained(root / SD15.relative_path / "unet")
    components.vae.save_pretrained(root / SD15.relative_path / "vae")
    components.motion_adapter.save_pretrained(root / MOTION_ADAPTER_V3.relative_path)
    components.image_encoder.save_pretrained(root / CLIP.relative_path)
    shapes = cameractrl_checkpoint_shapes(
        TINY_CHANNELS, nums_rb=2, unet_layers_per_block=1, downscale_factor=4
    )
    official = {part: random_checkpoint(part_shapes) for part, part_shapes in shapes.items()}
    torch.save(official, tmp_path / "CameraCtrl.ckpt")

    output = convert_official_checkpoint(
        "cameractrl", tmp_path / "CameraCtrl.ckpt", tmp_path / "out", weights_root=root
    )

    converted = BaselineModel.from_pretrained(output)
    assert converted.config.method == "cameractrl"
    state = converted.state_dict()
    assert torch.equal(
        state["camera_control.encoder.conv_in.bias"],
        official["pose_encoder_state_dict"]["encoder_conv_in.bias"],
    )
    unet_key = "down_blocks.0.resnets.0.conv1.weight"
    assert torch.equal(state["video_unet." + unet_key], components.unet.state_dict()[unet_key])


def test_conversion_names_the_missing_backbone_folder(tmp_path: Path) -> None:
    with pytest.raises(MissingWeightsError, match=MOTION_ADAPTER_V3.name):
        convert_official_checkpoint(
            "motionctrl", tmp_path / "cmcm.ckpt", tmp_path / "out", weights_root=tmp_path
        )
