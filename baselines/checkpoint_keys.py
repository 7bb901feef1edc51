"""The official CameraCtrl and MotionCtrl (AnimateDiff) checkpoints, loaded into the baselines here.

Official key names (from the released code's module structure):

CameraCtrl.ckpt (github.com/hehao13/CameraCtrl, AnimateDiff version: cameractrl/models/pose_adaptor.py,
motion_module.py, attention_processor.py; saved by train_camera_control.py) is a dict with
- "pose_encoder_state_dict", the CameraPoseEncoder:
    encoder_conv_in.{weight,bias}
    encoder_down_conv_blocks.{level}.{j}.{in_conv,block1,block2}.{weight,bias}
    encoder_down_attention_blocks.{level}.{j}.attention_blocks.0.{to_q,to_k,to_v}.weight
    encoder_down_attention_blocks.{level}.{j}.attention_blocks.0.to_out.0.{weight,bias}
    encoder_down_attention_blocks.{level}.{j}.attention_blocks.0.pos_encoder.pe
    encoder_down_attention_blocks.{level}.{j}.{norms.0,ff_norm}.{weight,bias}
    encoder_down_attention_blocks.{level}.{j}.ff.net.{0.proj,2}.{weight,bias}
- "attention_processor_state_dict", the UNet parameters whose name holds "merge":
    {down,up}_blocks.{i}.motion_modules.{j}.temporal_transformer.transformer_blocks.{k}
        .attention_blocks.0.processor.qkv_merge.{weight,bias}

motionctrl_animatediff_cmcm.ckpt (github.com/TencentARC/MotionCtrl, animatediff branch; loaded by
animatediff/utils/util.py `load_weights`): a UNet state dict, possibly under "state_dict" and with
"module." prefixes, of which the "motion_modules." keys are used: AnimateDiff's motion modules
    {down,up}_blocks.{i}.motion_modules.{j}.temporal_transformer.{norm,proj_in,proj_out}.*
    ....temporal_transformer.transformer_blocks.{k}.attention_blocks.{0,1}.* / norms.{0,1}.* / ff.* / ff_norm.*
plus train_camera_pose.py's
    ....temporal_transformer.transformer_blocks.{k}.cc_projection.{weight,bias}

AnimateDiff -> diffusers names follow diffusers' conversion script: temporal_transformer. dropped,
attention_blocks.0/1 -> attn1/attn2, norms.0/1 -> norm1/norm2, ff_norm -> norm3. The sinusoidal tables
(pos_encoder.pe) are not loaded: diffusers' SinusoidalPositionalEmbedding computes the same table."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from baselines.backbone import BaselineModel, baseline_config
from motionflow.models.components import MotionFlowComponents, load_components, resolve_folder
from motionflow.weights import WeightsFormatError, WeightSpec, register_weights

CAMERACTRL_OFFICIAL = register_weights(
    WeightSpec(
        name="cameractrl-official",
        relative_path="cameractrl/CameraCtrl.ckpt",
        source="https://huggingface.co/hehao13/CameraCtrl (CameraCtrl.ckpt, the AnimateDiff-v3 camera adaptor)",
        used_by="baselines cameractrl / cameractrl+ic: converted by convert_official_checkpoint",
    )
)
MOTIONCTRL_OFFICIAL = register_weights(
    WeightSpec(
        name="motionctrl-animatediff-official",
        relative_path="motionctrl/motionctrl_animatediff_cmcm.ckpt",
        source="https://huggingface.co/TencentARC/MotionCtrl (motionctrl_animatediff_cmcm.ckpt)",
        used_by="baseline motionctrl: converted by convert_official_checkpoint",
    )
)
MOTION_ADAPTER_V3 = register_weights(
    WeightSpec(
        name="animatediff-motion-adapter-v1-5-3",
        relative_path="animatediff-motion-adapter-v1-5-3",
        source="https://huggingface.co/guoyww/animatediff-motion-adapter-v1-5-3 (diffusers MotionAdapter folder)",
        used_by="baselines converted from the official CameraCtrl / MotionCtrl checkpoints (trained on AnimateDiff v3)",
        license="Apache-2.0",
    )
)

ENCODER_PREFIX = "camera_control.encoder."
UNET_PREFIX = "video_unet."

_TEMPORAL_BLOCK_RENAMES = (
    (".attention_blocks.0.", ".attn1."),
    (".attention_blocks.1.", ".attn2."),
    (".norms.0.", ".norm1."),
    (".norms.1.", ".norm2."),
    (".ff_norm.", ".norm3."),
)
_MOTION_MODULE_KEY = re.compile(
    r"^(?P<module>(?:down_blocks|up_blocks)\.\d+\.motion_modules\.\d+|mid_block\.motion_modules\.\d+)"
    r"\.temporal_transformer\.(?P<rest>.+)$"
)
_ENCODER_CONV_IN = re.compile(r"^encoder_conv_in\.(?P<rest>weight|bias)$")
_ENCODER_RESNET = re.compile(
    r"^encoder_down_conv_blocks\.(?P<level>\d+)\.(?P<index>\d+)\.(?P<rest>(?:in_conv|block1|block2)\.(?:weight|bias))$"
)
_ENCODER_ATTENTION = re.compile(
    r"^encoder_down_attention_blocks\.(?P<level>\d+)\.(?P<index>\d+)\.(?P<rest>.+)$"
)


def temporal_block_key(key: str) -> str | None:
    """A key inside an AnimateDiff temporal transformer block in diffusers' BasicTransformerBlock names;
    None for the sinusoidal position tables."""
    if key.endswith("pos_encoder.pe"):
        return None
    renamed = "." + key
    for old, new in _TEMPORAL_BLOCK_RENAMES:
        renamed = renamed.replace(old, new)
    return renamed[1:]


def animatediff_motion_key(key: str) -> str | None:
    """An AnimateDiff motion-module key (original layout) -> the UNetMotionModel key; None for position tables."""
    match = _MOTION_MODULE_KEY.match(key)
    if match is None:
        raise KeyError(f"{key!r} is not a motion-module key of an AnimateDiff UNet")
    rest = temporal_block_key(match["rest"])
    return None if rest is None else f"{match['module']}.{rest}"


def cameractrl_encoder_key(key: str) -> str | None:
    """A CameraPoseEncoder key -> the CameraCtrlEncoder key; None for position tables."""
    if match := _ENCODER_CONV_IN.match(key):
        return f"conv_in.{match['rest']}"
    if match := _ENCODER_RESNET.match(key):
        return f"levels.{match['level']}.resnets.{match['index']}.{match['rest']}"
    if match := _ENCODER_ATTENTION.match(key):
        rest = temporal_block_key(match["rest"])
        return None if rest is None else f"levels.{match['level']}.attentions.{match['index']}.{rest}"
    raise KeyError(f"{key!r} is not a key of CameraCtrl's CameraPoseEncoder")


def _strip_module_prefix(key: str) -> str:
    while key.startswith("module."):
        key = key[len("module.") :]
    return key


def map_official_cameractrl(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
    """CameraCtrl.ckpt contents -> BaselineModel state-dict entries (camera encoder and merge layers)."""
    for part in ("pose_encoder_state_dict", "attention_processor_state_dict"):
        if part not in checkpoint:
            raise WeightsFormatError(
                f"not a CameraCtrl checkpoint: no {part!r} (found {sorted(checkpoint)[:5]})"
            )
    mapped = {}
    for key, tensor in checkpoint["pose_encoder_state_dict"].items():
        name = cameractrl_encoder_key(_strip_module_prefix(key))
        if name is not None:
            mapped[ENCODER_PREFIX + name] = tensor
    for key, tensor in checkpoint["attention_processor_state_dict"].items():
        name = animatediff_motion_key(_strip_module_prefix(key))
        if name is not None:
            mapped[UNET_PREFIX + name] = tensor
    return mapped


def map_official_motionctrl(checkpoint: dict[str, Any]) -> dict[str, torch.Tensor]:
    """motionctrl_animatediff_cmcm.ckpt contents -> BaselineModel state-dict entries (every motion module,
    cc_projection included); the UNet's spatial layers in it are SD1.5's and are not used."""
    state = checkpoint.get("state_dict", checkpoint)
    mapped = {}
    for key, tensor in state.items():
        key = _strip_module_prefix(key)
        if "motion_modules." not in key:
            continue
        name = animatediff_motion_key(key)
        if name is not None:
            mapped[UNET_PREFIX + name] = tensor
    if not any(".cc_projection." in name for name in mapped):
        raise WeightsFormatError(
            "not a MotionCtrl (CMCM) checkpoint: no cc_projection weights in its motion modules"
        )
    return mapped


def load_mapped(
    model: BaselineModel, mapped: dict[str, torch.Tensor], required: Callable[[str], bool]
) -> list[str]:
    """Loads mapped entries into `model`; every one must name a tensor of the same shape, and every model
    parameter for which `required(name)` holds must be among them. Returns the loaded names."""
    state = model.state_dict()
    for name, tensor in mapped.items():
        if name not in state:
            raise WeightsFormatError(
                f"checkpoint entry {name!r} has no counterpart in the {model.config.method} model"
            )
        if tuple(tensor.shape) != tuple(state[name].shape):
            raise WeightsFormatError(
                f"checkpoint entry {name!r} has shape {tuple(tensor.shape)}, the model {tuple(state[name].shape)} "
                "(a different model size?)"
            )
    missing = sorted(name for name, _ in model.named_parameters() if required(name) and name not in mapped)
    if missing:
        raise WeightsFormatError(
            f"checkpoint lacks {len(missing)} {model.config.method} weights, e.g. {missing[:3]}"
        )
    model.load_state_dict(mapped, strict=False)
    return sorted(mapped)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A torch checkpoint (tensors, numbers and dicts only: nothing is executed while loading)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for corrupt or foreign files
        raise WeightsFormatError(f"{path}: cannot read the checkpoint ({error})") from None
    if not isinstance(checkpoint, dict):
        raise WeightsFormatError(f"{path}: expected a dict of weights, found {type(checkpoint).__name__}")
    return checkpoint


def load_official_cameractrl(model: BaselineModel, path: str | Path) -> list[str]:
    """Loads CameraCtrl.ckpt's camera encoder and merge layers into a CameraCtrl model of the official size."""
    if model.config.camera_control != "cameractrl":
        raise ValueError(f"a {model.config.method} model cannot take CameraCtrl weights")
    mapped = map_official_cameractrl(read_checkpoint(path))
    return load_mapped(model, mapped, model.camera_control.is_own_parameter)


def load_official_motionctrl(model: BaselineModel, path: str | Path) -> list[str]:
    """Loads the CMCM checkpoint's motion modules (cc_projection included) into a MotionCtrl model."""
    if model.config.camera_control != "motionctrl":
        raise ValueError(f"a {model.config.method} model cannot take MotionCtrl weights")
    mapped = map_official_motionctrl(read_checkpoint(path))
    return load_mapped(model, mapped, lambda name: ".cc_projection." in name)


OFFICIAL_LOADERS = {
    "cameractrl": load_official_cameractrl,
    "cameractrl+ic": load_official_cameractrl,
    "motionctrl": load_official_motionctrl,
}


def convert_official_checkpoint(
    method: str,
    checkpoint: str | Path,
    output: str | Path,
    sd15_dir: str | Path | None = None,
    motion_adapter_dir: str | Path | None = None,
    clip_dir: str | Path | None = None,
    weights_root: str | Path | None = None,
) -> Path:
    """A baseline checkpoint folder from an official release: SD1.5 (unet/, vae/), the AnimateDiff v3
    motion adapter the official models were trained with, CLIP ViT-L/14 (the image condition of every
    model here), and the official camera weights. Folders not given are the registered ones under the
    weights root.

    The official models are text-to-video: here they are conditioned on CLIP image tokens (and, for
    cameractrl+ic, the reference latent), so the converted folder is a starting point for fine-tuning
    on image-to-video, as the paper trains every baseline on RealEstate10K."""
    if method not in OFFICIAL_LOADERS:
        raise KeyError(f"no official checkpoint for {method!r}; known: {', '.join(OFFICIAL_LOADERS)}")
    config = baseline_config(method, "full")
    components: MotionFlowComponents = load_components(
        config.backbone,
        sd15_dir=sd15_dir,
        motion_adapter_dir=resolve_folder(MOTION_ADAPTER_V3.name, motion_adapter_dir, weights_root),
        clip_dir=clip_dir,
        weights_root=weights_root,
    )
    model = BaselineModel(config, components)
    OFFICIAL_LOADERS[method](model, checkpoint)
    return model.save_pretrained(output)
