"""MotionFlowConfig: every size and switch of the model, with a JSON round trip.

The pretrained parts keep their own libraries' config dicts (`unet` for diffusers'
UNet2DConditionModel, `motion_adapter` for MotionAdapter, `semantic_encoder` / `image_encoder` for
transformers' ViT-or-DINOv2 / CLIPVisionConfig, `latent_codec` for the VAE or pixel space), so a
model assembled from real checkpoints records exactly what it was built from."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

from motionflow.utils.io import atomic_write_text

ReferenceNetInit = Literal["pretrained", "random"]
ReferenceTimestep = Literal["denoising", "zero"]
CameraValueInit = Literal["zero", "normal"]

CONFIG_NAME = "config.json"
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _json_normalized(value: Any) -> Any:
    """Tuples become lists (what JSON gives back), so a config equals its reloaded self."""
    return json.loads(json.dumps(value))


@dataclass
class MotionFlowConfig:
    """Sizes and switches of a MotionFlow model.

    `image_size` / `num_frames`: the default generation size (H, W) and frame count (the model runs at
    any size divisible by the latent factor times 2**(levels-1) and any frame count up to the motion
    modules' `motion_max_seq_length`). `lambda_c` weighs the camera term of Eq. 4.

    `camera_value_init`: V_c of Eq. 4 starts at zero (the paper's zero-initialised new modules: the
    reference network then computes exactly its base cross-attention) or normal with std
    1/sqrt(camera channels). The video network's prediction is unchanged at initialisation either way
    (reference attention's output projection starts at zero), but with "zero" two zero projections sit
    in series on the camera branch: the trajectory encoder and K_c get no gradient until both have moved.

    Ablations of Table 4: `use_reference_net=False` feeds the trajectory encoder's features straight
    into reference attention; `use_semantic_encoder=False` removes the semantic addition, object
    attention and semantic mask; `reference_net_init="random"` starts the reference motion network
    from random weights instead of the UNet the video network is built from.

    `reference_timestep`: "denoising" runs the reference motion network at the current denoising step
    (its maps change along the sampling), "zero" at t=0 (the maps are computed once per video).

    `image_latent_condition`: the reference image's latent is concatenated to every frame's noisy latent
    (the UNet's conv_in takes twice the latent channels; `unet["in_channels"]` follows this switch), the
    pixel-aligned image condition of SVD-style image-to-video backbones. Not in the paper, whose SD1.5 +
    AnimateDiff backbone sees the reference only through CLIP tokens and the reference motion network;
    the small configuration's backbone is pretrained with it (motionflow/checkpoints/TRAINING.md: without
    it, the small models barely depend on the reference image). The reference motion network, a copy of
    the same UNet, then sees the reference latent in both input slots.

    `reference_ray_bias`: reference attention also weighs each key by how close the ray it sees is to the
    query's ray (`motionflow.models.attention.ray_biased_attention`): a frame's token attends most to the
    reference-map token that looks in the same world direction, which is where that token's content sits
    in the reference view for a rotating camera (the homography K R K^-1) and for distant content under
    translation. Not in the paper, whose reference attention has no positional term, so that mapping a
    camera to pixel displacements has to be learnt from the Plücker features alone.

    `reference_latent_warp` (with `image_latent_condition`): each frame's concatenated reference latent is
    the reference latent as that frame's camera sees it through the rotation-only homography, read off
    its Plücker rays (`motionflow.camera.homography.warp_by_ray_directions`), instead of the same latent
    for every frame: the pixel-aligned condition then already shows where the reference's content lies
    in each frame under rotation. No weights change; a camera-free sample (the dropped condition) sees
    the reference unwarped. Not in the paper.

    `depth_warped_condition` (with `image_latent_condition`; instead of `reference_latent_warp`): each
    frame's concatenated reference latent is the latent of the reference forward-warped into that frame's
    camera through a monocular depth estimate (`motionflow.pipeline.depth_warped_latents`), which the
    caller computes and passes as `frame_latents`: the condition then shows translation's parallax too,
    not only rotation's. A sample whose camera or image is dropped sees the reference unwarped. Not in
    the paper (point-cloud renders as a condition, as in ViewCrafter)."""

    unet: dict[str, Any]
    motion_adapter: dict[str, Any]
    semantic_encoder: dict[str, Any]
    image_encoder: dict[str, Any]
    latent_codec: dict[str, Any]
    image_size: tuple[int, int] = (256, 384)
    num_frames: int = 16
    trajectory_layers_per_level: int = 2
    trajectory_attention_head_dim: int = 64
    lambda_c: float = 1.0
    camera_value_init: CameraValueInit = "zero"
    use_reference_net: bool = True
    use_semantic_encoder: bool = True
    reference_net_init: ReferenceNetInit = "pretrained"
    reference_timestep: ReferenceTimestep = "denoising"
    image_latent_condition: bool = False
    reference_ray_bias: bool = False
    reference_latent_warp: bool = False
    depth_warped_condition: bool = False
    image_encoder_mean: tuple[float, float, float] = CLIP_MEAN
    image_encoder_std: tuple[float, float, float] = CLIP_STD
    semantic_encoder_mean: tuple[float, float, float] = IMAGENET_MEAN
    semantic_encoder_std: tuple[float, float, float] = IMAGENET_STD
    name: str = field(default="custom")

    def __post_init__(self) -> None:
        for item in ("unet", "motion_adapter", "semantic_encoder", "image_encoder", "latent_codec"):
            setattr(self, item, _json_normalized(getattr(self, item)))
        for item in (
            "image_size",
            "image_encoder_mean",
            "image_encoder_std",
            "semantic_encoder_mean",
            "semantic_encoder_std",
        ):
            setattr(self, item, tuple(getattr(self, item)))
        self.image_size = tuple(int(v) for v in self.image_size)
        for name, choices in (
            ("reference_net_init", ReferenceNetInit),
            ("camera_value_init", CameraValueInit),
            ("reference_timestep", ReferenceTimestep),
        ):
            value = getattr(self, name)
            if value not in get_args(choices):
                raise ValueError(f"{name} must be {' or '.join(map(repr, get_args(choices)))}, got {value!r}")
        if self.semantic_encoder.get("model_type") not in ("vit", "dinov2"):
            raise ValueError(
                f"semantic_encoder model_type must be 'vit' or 'dinov2', got {self.semantic_encoder.get('model_type')!r}"
            )
        if self.reference_latent_warp and not self.image_latent_condition:
            raise ValueError(
                "reference_latent_warp warps the concatenated reference latent: it needs image_latent_condition"
            )
        if self.depth_warped_condition and not self.image_latent_condition:
            raise ValueError(
                "depth_warped_condition replaces the concatenated reference latent: it needs image_latent_condition"
            )
        if self.depth_warped_condition and self.reference_latent_warp:
            raise ValueError(
                "depth_warped_condition and reference_latent_warp are exclusive: each frame has one"
            )
        if len(self.motion_adapter.get("block_out_channels", [])) != len(self.unet["block_out_channels"]):
            raise ValueError("motion_adapter.block_out_channels must have one entry per UNet block")
        self.unet["in_channels"] = self._unet_in_channels()

    def _unet_in_channels(self) -> int:
        """The UNet's input channels the image-latent switch asks for; a config whose UNet takes neither
        the latent channels nor twice them is refused."""
        latent_channels = int(self.latent_codec["latent_channels"])
        given = int(self.unet.get("in_channels", latent_channels))
        if given not in (latent_channels, 2 * latent_channels):
            raise ValueError(
                f"unet in_channels {given} is neither the latent channels ({latent_channels}) nor twice them "
                "(the reference latent concatenated)"
            )
        return 2 * latent_channels if self.image_latent_condition else latent_channels

    @property
    def block_out_channels(self) -> tuple[int, ...]:
        return tuple(self.unet["block_out_channels"])

    @property
    def cross_attention_dim(self) -> int:
        return int(self.unet["cross_attention_dim"])

    def to_dict(self) -> dict[str, Any]:
        return _json_normalized(asdict(self))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> MotionFlowConfig:
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown MotionFlowConfig fields: {', '.join(unknown)}")
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> MotionFlowConfig:
        return cls.from_dict(json.loads(text))

    def save(self, directory: str | Path) -> Path:
        return atomic_write_text(Path(directory) / CONFIG_NAME, self.to_json())

    @classmethod
    def load(cls, directory: str | Path) -> MotionFlowConfig:
        path = Path(directory) / CONFIG_NAME
        try:
            return cls.from_json(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{path}: no MotionFlow config (is this a MotionFlow checkpoint folder?)"
            ) from None

    @classmethod
    def full(cls, **overrides: Any) -> MotionFlowConfig:
        """The paper's configuration: SD1.5 UNet and VAE, AnimateDiff v1-5-2 motion modules, DINO ViT-S/16,
        CLIP ViT-L/14 image encoder, 16 frames at 256x384. Loading real weights replaces the sub-configs
        by the ones found in the folders (see `MotionFlowModel.from_pretrained_components`)."""
        values: dict[str, Any] = dict(
            name="full",
            unet=sd15_unet_config(),
            motion_adapter=motion_adapter_config(
                (320, 640, 1280, 1280), layers_per_block=2, heads=8, groups=32
            ),
            semantic_encoder=vit_config(hidden=384, layers=12, heads=6, image_size=224, patch=16),
            image_encoder=clip_vision_config(
                hidden=1024, layers=24, heads=16, image_size=224, patch=14, projection=768
            ),
            latent_codec=sd_vae_codec_config(),
            image_size=(256, 384),
            num_frames=16,
            trajectory_layers_per_level=2,
        )
        values.update(overrides)
        return cls(**values)

    @classmethod
    def small(
        cls,
        block_out_channels: tuple[int, ...] = (64, 128, 256),
        layers_per_block: int = 1,
        attention_heads: int = 4,
        cross_attention_dim: int = 64,
        norm_num_groups: int = 16,
        latent_codec: Literal["pixel_unshuffle", "vae"] = "pixel_unshuffle",
        latent_factor: int = 8,
        encoder_width: int = 64,
        **overrides: Any,
    ) -> MotionFlowConfig:
        """The same architecture at CPU size: 16 frames at 128x128, a 16x16 latent grid.

        The default latent space is pixel space folded by pixel-unshuffle (lossless, nothing to train);
        `latent_codec="vae"` uses a small AutoencoderKL with the same downsampling (to be trained)."""
        codec = (
            pixel_unshuffle_codec_config(latent_factor)
            if latent_codec == "pixel_unshuffle"
            else small_vae_codec_config(latent_factor, norm_num_groups)
        )
        latent_channels = codec["latent_channels"]
        values: dict[str, Any] = dict(
            name="small",
            unet=unet_config(
                block_out_channels,
                layers_per_block=layers_per_block,
                heads=attention_heads,
                cross_attention_dim=cross_attention_dim,
                groups=norm_num_groups,
                latent_channels=latent_channels,
                sample_size=128 // latent_factor,
            ),
            motion_adapter=motion_adapter_config(
                block_out_channels,
                layers_per_block=layers_per_block,
                heads=attention_heads,
                groups=norm_num_groups,
            ),
            semantic_encoder=vit_config(hidden=encoder_width, layers=2, heads=4, image_size=64, patch=8),
            image_encoder=clip_vision_config(
                hidden=encoder_width,
                layers=2,
                heads=4,
                image_size=64,
                patch=8,
                projection=cross_attention_dim,
            ),
            latent_codec=codec,
            image_size=(128, 128),
            num_frames=16,
            trajectory_layers_per_level=1,
            trajectory_attention_head_dim=16,
        )
        values.update(overrides)
        return cls(**values)


def unet_config(
    block_out_channels: tuple[int, ...],
    layers_per_block: int,
    heads: int,
    cross_attention_dim: int,
    groups: int,
    latent_channels: int,
    sample_size: int,
) -> dict[str, Any]:
    """An SD-style UNet2DConditionModel config: cross-attention in every block but the deepest."""
    levels = len(block_out_channels)
    return dict(
        sample_size=sample_size,
        in_channels=latent_channels,
        out_channels=latent_channels,
        down_block_types=["CrossAttnDownBlock2D"] * (levels - 1) + ["DownBlock2D"],
        up_block_types=["UpBlock2D"] + ["CrossAttnUpBlock2D"] * (levels - 1),
        block_out_channels=list(block_out_channels),
        layers_per_block=layers_per_block,
        attention_head_dim=heads,
        cross_attention_dim=cross_attention_dim,
        norm_num_groups=groups,
    )


def sd15_unet_config() -> dict[str, Any]:
    """stable-diffusion-v1-5/unet/config.json (architecture fields)."""
    config = unet_config(
        (320, 640, 1280, 1280),
        layers_per_block=2,
        heads=8,
        cross_attention_dim=768,
        groups=32,
        latent_channels=4,
        sample_size=64,
    )
    config.update(
        act_fn="silu",
        center_input_sample=False,
        downsample_padding=1,
        flip_sin_to_cos=True,
        freq_shift=0,
        mid_block_scale_factor=1,
        norm_eps=1e-5,
    )
    return config


def motion_adapter_config(
    block_out_channels: tuple[int, ...], layers_per_block: int, heads: int, groups: int
) -> dict[str, Any]:
    """A MotionAdapter config (AnimateDiff v1-5-2 with the SD1.5 sizes)."""
    return dict(
        block_out_channels=list(block_out_channels),
        motion_layers_per_block=layers_per_block,
        motion_mid_block_layers_per_block=1,
        motion_num_attention_heads=heads,
        motion_norm_num_groups=groups,
        motion_max_seq_length=32,
        use_motion_mid_block=True,
        conv_in_channels=None,
    )


def vit_config(hidden: int, layers: int, heads: int, image_size: int, patch: int) -> dict[str, Any]:
    """A transformers ViTConfig dict (DINO ViT-S/16: 384 wide, 12 layers, 6 heads, 224 px, 16 px patches)."""
    return dict(
        model_type="vit",
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=4 * hidden,
        image_size=image_size,
        patch_size=patch,
        qkv_bias=True,
        layer_norm_eps=1e-6,
    )


def clip_vision_config(
    hidden: int, layers: int, heads: int, image_size: int, patch: int, projection: int
) -> dict[str, Any]:
    """A transformers CLIPVisionConfig dict (ViT-L/14: 1024 wide, 24 layers, 16 heads, projection 768)."""
    return dict(
        model_type="clip_vision_model",
        hidden_size=hidden,
        intermediate_size=4 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        image_size=image_size,
        patch_size=patch,
        projection_dim=projection,
        hidden_act="quick_gelu",
    )


def sd_vae_codec_config() -> dict[str, Any]:
    """stable-diffusion-v1-5/vae: AutoencoderKL, 8x downsampling, 4 latent channels, scale 0.18215."""
    vae = dict(
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        block_out_channels=[128, 256, 512, 512],
        layers_per_block=2,
        act_fn="silu",
        latent_channels=4,
        norm_num_groups=32,
        sample_size=512,
        scaling_factor=0.18215,
    )
    return dict(type="vae", latent_channels=4, downsample_factor=8, vae=vae)


def small_vae_codec_config(factor: int, groups: int) -> dict[str, Any]:
    """A small AutoencoderKL with `factor`x downsampling (factor a power of two), 4 latent channels."""
    levels = factor.bit_length()
    if 2 ** (levels - 1) != factor:
        raise ValueError(f"VAE downsampling factor must be a power of two, got {factor}")
    width = [32, 64, 64, 64, 64][:levels]
    vae = dict(
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * levels,
        up_block_types=["UpDecoderBlock2D"] * levels,
        block_out_channels=width,
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=min(groups, 32),
        sample_size=128,
        scaling_factor=1.0,
    )
    return dict(type="vae", latent_channels=4, downsample_factor=factor, vae=vae)


def pixel_unshuffle_codec_config(factor: int) -> dict[str, Any]:
    """Pixel space folded into channels: [3, H, W] <-> [3 * factor**2, H / factor, W / factor]."""
    return dict(type="pixel_unshuffle", latent_channels=3 * factor * factor, downsample_factor=factor)
