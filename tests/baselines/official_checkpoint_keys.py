"""Key names and shapes of the official checkpoints, written from the official code's module structure
(not from the mapping under test):

- CameraCtrl (github.com/hehao13/CameraCtrl, AnimateDiff version): `CameraPoseEncoder(downscale_factor,
  channels, nums_rb, cin=6*f^2, ksize=1, sk=True, use_conv=False, temporal_attention_nhead, attention_block_types
  ("Temporal_Self",), temporal_position_encoding=True, temporal_position_encoding_max_len)` in
  cameractrl/models/pose_adaptor.py, whose temporal attention is motion_module.TemporalTransformerBlock
  (attention_blocks / norms / ff / ff_norm, a PositionalEncoding `pe` buffer per attention), and the
  `PoseAdaptorAttnProcessor.qkv_merge` of attention_blocks.0 of every down/up motion-module block
  (unet.py `set_all_attn_processor`, temporal_attn_names '0'), saved as the UNet keys holding "merge".
- MotionCtrl (github.com/TencentARC/MotionCtrl, animatediff branch): AnimateDiff's VanillaTemporalModule
  (temporal_transformer.{norm, proj_in, transformer_blocks, proj_out}) in every UNet block, each
  TemporalTransformerBlock with ("Temporal_Self", "Temporal_Self") and the `cc_projection` added by
  train_camera_pose.py: Linear(dim + 12, dim).
"""

from __future__ import annotations

Shapes = dict[str, tuple[int, ...]]


def _temporal_attention(prefix: str, width: int, attention: int, max_len: int) -> Shapes:
    block = f"{prefix}.attention_blocks.{attention}"
    return {
        f"{block}.to_q.weight": (width, width),
        f"{block}.to_k.weight": (width, width),
        f"{block}.to_v.weight": (width, width),
        f"{block}.to_out.0.weight": (width, width),
        f"{block}.to_out.0.bias": (width,),
        f"{block}.pos_encoder.pe": (1, max_len, width),
        f"{prefix}.norms.{attention}.weight": (width,),
        f"{prefix}.norms.{attention}.bias": (width,),
    }


def _feed_forward(prefix: str, width: int) -> Shapes:
    return {
        f"{prefix}.ff.net.0.proj.weight": (8 * width, width),
        f"{prefix}.ff.net.0.proj.bias": (8 * width,),
        f"{prefix}.ff.net.2.weight": (width, 4 * width),
        f"{prefix}.ff.net.2.bias": (width,),
        f"{prefix}.ff_norm.weight": (width,),
        f"{prefix}.ff_norm.bias": (width,),
    }


def _motion_module_locations(
    channels: tuple[int, ...], layers_per_block: int, mid_block: bool
) -> list[tuple[str, int]]:
    """(motion module name, width) of every motion module of an AnimateDiff UNet."""
    locations = []
    for index, width in enumerate(channels):
        locations += [(f"down_blocks.{index}.motion_modules.{j}", width) for j in range(layers_per_block)]
    for index, width in enumerate(reversed(channels)):
        locations += [(f"up_blocks.{index}.motion_modules.{j}", width) for j in range(layers_per_block + 1)]
    if mid_block:
        locations.append(("mid_block.motion_modules.0", channels[-1]))
    return locations


def cameractrl_checkpoint_shapes(
    channels: tuple[int, ...],
    nums_rb: int,
    unet_layers_per_block: int,
    downscale_factor: int = 8,
    max_len: int = 16,
) -> dict[str, Shapes]:
    """{"pose_encoder_state_dict": ..., "attention_processor_state_dict": ...} key -> shape."""
    encoder: Shapes = {
        "encoder_conv_in.weight": (channels[0], 6 * downscale_factor**2, 3, 3),
        "encoder_conv_in.bias": (channels[0],),
    }
    for level, width in enumerate(channels):
        for j in range(nums_rb):
            in_width = channels[level - 1] if j == 0 and level > 0 else width
            resnet = f"encoder_down_conv_blocks.{level}.{j}"
            if in_width != width:
                encoder[f"{resnet}.in_conv.weight"] = (width, in_width, 1, 1)
                encoder[f"{resnet}.in_conv.bias"] = (width,)
            encoder[f"{resnet}.block1.weight"] = (width, width, 3, 3)
            encoder[f"{resnet}.block1.bias"] = (width,)
            encoder[f"{resnet}.block2.weight"] = (width, width, 1, 1)
            encoder[f"{resnet}.block2.bias"] = (width,)
            attention = f"encoder_down_attention_blocks.{level}.{j}"
            encoder.update(_temporal_attention(attention, width, 0, max_len))
            encoder.update(_feed_forward(attention, width))
    merges: Shapes = {}
    for module, width in _motion_module_locations(channels, unet_layers_per_block, mid_block=False):
        processor = f"{module}.temporal_transformer.transformer_blocks.0.attention_blocks.0.processor"
        merges[f"{processor}.qkv_merge.weight"] = (width, width)
        merges[f"{processor}.qkv_merge.bias"] = (width,)
    return {"pose_encoder_state_dict": encoder, "attention_processor_state_dict": merges}


def motionctrl_checkpoint_shapes(
    channels: tuple[int, ...], layers_per_block: int, mid_block: bool, max_len: int = 32
) -> Shapes:
    """The motion-module keys of the CMCM checkpoint's UNet state dict -> shape."""
    shapes: Shapes = {}
    for module, width in _motion_module_locations(channels, layers_per_block, mid_block):
        transformer = f"{module}.temporal_transformer"
        shapes[f"{transformer}.norm.weight"] = (width,)
        shapes[f"{transformer}.norm.bias"] = (width,)
        for part in ("proj_in", "proj_out"):
            shapes[f"{transformer}.{part}.weight"] = (width, width)
            shapes[f"{transformer}.{part}.bias"] = (width,)
        block = f"{transformer}.transformer_blocks.0"
        for attention in (0, 1):
            shapes.update(_temporal_attention(block, width, attention, max_len))
        shapes.update(_feed_forward(block, width))
        shapes[f"{block}.cc_projection.weight"] = (width, width + 12)
        shapes[f"{block}.cc_projection.bias"] = (width,)
    return shapes
