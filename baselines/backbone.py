"""The baselines' shared network: the AnimateDiff backbone MotionFlow's video network is built from,
conditioned on the reference image, with a camera module plugged into its motion modules.

reference image --CLIP--> image tokens (cross-attention context, as in MotionFlow's video network)
               --codec-> reference latent, concatenated to every frame's noisy latent when the
                         backbone's `image_latent_condition` is set (the "+IC" image condition)
camera input   --camera control (CameraCtrl, MotionCtrl; none for AnimateDiff)--> the motion modules
noisy video latents --UNetMotionModel--> noise

Every added weight starts so that a fresh model computes exactly what its base UNetMotionModel computes.
Each camera control declares its own camera input (`camera_input(trajectory, size)`): Plücker rays for
CameraCtrl, flattened relative [R|t] for MotionCtrl."""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import torch
from accelerate import init_empty_weights
from diffusers import UNetMotionModel
from torch import nn

from motionflow.camera.trajectory import Trajectory
from motionflow.errors import FrameCountError, MissingWeightsError
from motionflow.models.components import MotionFlowComponents
from motionflow.models.config import CONFIG_NAME, MotionFlowConfig
from motionflow.models.video_denoiser import (
    FROZEN_PREFIXES,
    WEIGHTS_NAME,
    VideoDenoiser,
    check_training_stage,
    drop_condition,
    with_reference_latent,
)
from motionflow.utils.io import atomic_write_text
from motionflow.utils.registry import Registry
from motionflow.weights import WeightsFormatError

_MOTION_BLOCK = re.compile(
    r"^(?:(?P<kind>down_blocks|up_blocks)\.(?P<index>\d+)|mid_block)\.motion_modules\.\d+\.transformer_blocks\.\d+$"
)


def motion_block_level(name: str, num_levels: int) -> int | None:
    """Resolution level (0 = latent grid) of a motion-module transformer block of a UNetMotionModel, from
    its module name; None for a name that is not one. Down block i runs at level i, up block i at level
    L-1-i, the mid block at the deepest level."""
    match = _MOTION_BLOCK.match(name)
    if match is None:
        return None
    if match["kind"] is None:
        return num_levels - 1
    index = int(match["index"])
    return index if match["kind"] == "down_blocks" else num_levels - 1 - index


def motion_blocks(video_unet: UNetMotionModel) -> list[tuple[str, int, nn.Module]]:
    """(module name, resolution level, block) of every transformer block of the motion modules."""
    num_levels = len(video_unet.config.block_out_channels)
    blocks = []
    for name, module in video_unet.named_modules():
        level = motion_block_level(name, num_levels)
        if level is not None:
            blocks.append((name, level, module))
    return blocks


class CameraBank:
    """The camera condition of the current forward pass, written by the model before the UNet runs and
    read by the camera hooks inside it (kept until the next forward: checkpointing may recompute)."""

    def __init__(self) -> None:
        self.camera: Any = None
        self.num_frames: int = 1

    def clear(self) -> None:
        self.__init__()

    def __deepcopy__(self, memo: dict) -> CameraBank:
        return CameraBank()


@dataclass
class BaselineConfig:
    """A baseline on the shared backbone.

    `backbone`: the MotionFlow config whose UNet, motion adapter, CLIP image encoder and latent codec
    the baseline is built from (its reference network and semantic encoder are not used; its
    `image_latent_condition` is the "+IC" image condition).
    `camera_control`: "cameractrl", "motionctrl", or None (AnimateDiff, no camera).
    `camera`: the camera control's own settings (see each control's `default_settings`)."""

    backbone: MotionFlowConfig
    camera_control: str | None = None
    camera: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.backbone, dict):
            self.backbone = MotionFlowConfig.from_dict(self.backbone)
        if self.backbone.use_semantic_encoder or self.backbone.use_reference_net:
            self.backbone = replace(self.backbone, use_semantic_encoder=False, use_reference_net=False)
        if self.camera_control is not None:
            control = CAMERA_CONTROLS.get(self.camera_control)
            self.camera = {**control.default_settings(self.backbone), **self.camera}
        elif self.camera:
            raise ValueError(f"camera settings {sorted(self.camera)} given without a camera control")

    @property
    def method(self) -> str:
        """The method registry name this configuration is."""
        name = self.camera_control or "animatediff"
        return f"{name}+ic" if self.backbone.image_latent_condition and self.camera_control else name

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["backbone"] = self.backbone.to_dict()
        return json.loads(json.dumps(values))

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> BaselineConfig:
        """A config from `to_dict`; also reads the earlier layout, with `image_latent_condition` beside
        the backbone instead of in it."""
        values = dict(values)
        known = {"backbone", "camera_control", "camera"}
        unknown = sorted(set(values) - known - {"image_latent_condition"})
        if unknown or not isinstance(values.get("backbone"), dict):
            raise ValueError(
                f"not a baseline config (unknown fields {unknown}, backbone given: {'backbone' in values})"
            )
        if "image_latent_condition" in values:
            values["backbone"] = {
                **values["backbone"],
                "image_latent_condition": values.pop("image_latent_condition"),
            }
        return cls(**values)

    def save(self, directory: str | Path) -> Path:
        return atomic_write_text(
            Path(directory) / CONFIG_NAME, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        )

    @classmethod
    def load(cls, directory: str | Path) -> BaselineConfig:
        path = Path(directory) / CONFIG_NAME
        if not path.is_file():
            raise MissingWeightsError(
                f"{path}: no baseline config (is {directory} a baseline checkpoint folder?)"
            )
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (ValueError, TypeError) as error:
            raise WeightsFormatError(f"{path}: {error}") from None


BASELINE_METHODS: dict[str, tuple[str | None, bool]] = {
    "animatediff": (None, True),
    "cameractrl": ("cameractrl", False),
    "cameractrl+ic": ("cameractrl", True),
    "motionctrl": ("motionctrl", False),
}
"""Method registry name -> (camera control, image-latent condition) of the baselines on this backbone."""

BACKBONE_SIZES = {"small": MotionFlowConfig.small, "full": MotionFlowConfig.full}
"""small: the CPU-size backbone of MotionFlow-small, so a comparison is at equal size and budget;
full: SD1.5 + AnimateDiff + CLIP ViT-L/14 (the paper's backbone)."""


def baseline_config(method: str, size: str = "small", **backbone_overrides: Any) -> BaselineConfig:
    """The configuration of a baseline method at "small" (MotionFlow-small's backbone) or "full" size."""
    if size not in BACKBONE_SIZES:
        raise ValueError(f"size must be 'small' or 'full', got {size!r}")
    return baseline_config_for(method, BACKBONE_SIZES[size](**backbone_overrides))


def baseline_config_for(method: str, backbone: MotionFlowConfig) -> BaselineConfig:
    """The configuration of a baseline method on a given backbone config."""
    if method not in BASELINE_METHODS:
        raise KeyError(f"unknown baseline {method!r}; known: {', '.join(BASELINE_METHODS)}")
    camera_control, image_latent_condition = BASELINE_METHODS[method]
    return BaselineConfig(replace(backbone, image_latent_condition=image_latent_condition), camera_control)


class CameraControl(nn.Module, ABC):
    """A camera module plugged into the motion modules of the backbone's UNetMotionModel."""

    name: ClassVar[str]
    input_kind: ClassVar[str] = "plucker"
    """Which camera input the control takes (`motionflow.models.inputs.CAMERA_INPUT_KINDS`)."""

    def __init__(self, config: BaselineConfig, bank: CameraBank):
        super().__init__()
        self.bank = bank
        self.settings = dict(config.camera)

    @classmethod
    @abstractmethod
    def default_settings(cls, backbone: MotionFlowConfig) -> dict[str, Any]:
        """The control's settings for a backbone (the official sizes where they apply)."""

    @abstractmethod
    def camera_input(self, trajectory: Trajectory, size: tuple[int, int]) -> torch.Tensor:
        """The per-frame camera representation [F, ...] of a trajectory (made relative to its first frame)
        for generation at `size` (H, W)."""

    @abstractmethod
    def check_input(self, camera: torch.Tensor, size: tuple[int, int]) -> None:
        """Raises ValueError unless `camera` is a batch [B, F, ...] of camera inputs for frames of `size`."""

    @abstractmethod
    def encode(self, camera: torch.Tensor) -> Any:
        """The camera condition of a video batch, computed once per video (reused at every step)."""

    @abstractmethod
    def attach(self, encoded: Any, batch_size: int, num_frames: int) -> None:
        """Puts the encoded condition into the bank in the layout the hooks read."""

    @abstractmethod
    def install(self, video_unet: UNetMotionModel) -> None:
        """Adds the control's layers and hooks to the UNet's motion modules."""

    @abstractmethod
    def is_own_parameter(self, name: str) -> bool:
        """Whether a model parameter belongs to the control (what its first training stage trains)."""

    @property
    def max_frames(self) -> int | None:
        """The longest video the control handles (None: no limit of its own)."""
        return None


CAMERA_CONTROLS: Registry[type[CameraControl]] = Registry("camera control")


@dataclass
class BaselineConditions:
    """Everything the denoiser needs besides the noisy latents and the timestep; computed once per video.

    image_tokens [B, T, D]; reference_latents [B, C, h, w] (None without the image-latent condition);
    camera: the camera control's encoding (None without a camera control); num_frames of the camera
    input (None without one)."""

    image_tokens: torch.Tensor
    reference_latents: torch.Tensor | None
    camera: Any
    num_frames: int | None

    @property
    def batch_size(self) -> int:
        return self.image_tokens.shape[0]


class BaselineModel(VideoDenoiser):
    """Noise predictor of a baseline: AnimateDiff backbone + image condition + camera control.

    `BaselineModel(config)` assembles it from randomly initialised components, `BaselineModel(config,
    components)` from given (e.g. pretrained) ones, `from_pretrained` from a folder written by
    `save_pretrained`. Same calling convention as MotionFlowModel, with the control's own camera input
    in place of Plücker rays."""

    def __init__(self, config: BaselineConfig, components: MotionFlowComponents | None = None):
        super().__init__()
        components = components if components is not None else MotionFlowComponents.random(config.backbone)
        components, backbone = self._fit_components(config.backbone, components)
        self.config = replace(config, backbone=backbone)
        self.bank = CameraBank()
        self._assemble_backbone(backbone, components)
        self.camera_control: CameraControl | None = None
        if config.camera_control is not None:
            self.camera_control = CAMERA_CONTROLS.get(config.camera_control)(self.config, self.bank)
            self.camera_control.install(self.video_unet)

    @classmethod
    def empty(cls, config: BaselineConfig) -> BaselineModel:
        """The model with its parameters on the meta device (no memory): for counting or loading."""
        with init_empty_weights():
            return cls(config, MotionFlowComponents.random(config.backbone))

    @property
    def backbone_config(self) -> MotionFlowConfig:
        return self.config.backbone

    def set_generation_defaults(self, image_size: tuple[int, int], num_frames: int) -> None:
        self.config.backbone = replace(
            self.config.backbone, image_size=tuple(image_size), num_frames=num_frames
        )

    # ----------------------------------------------------------------- persistence

    @classmethod
    def from_pretrained(
        cls, directory: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype | None = None
    ) -> BaselineModel:
        directory = Path(directory)
        config = BaselineConfig.load(directory)
        weights = directory / WEIGHTS_NAME
        if not weights.is_file():
            raise FileNotFoundError(f"{weights}: no baseline weights (write them with save_pretrained)")
        return cls.empty(config)._load_weights(weights, device, dtype)

    # ----------------------------------------------------------------- training groups

    def stage_named_parameters(self, stage: int) -> list[tuple[str, nn.Parameter]]:
        """The parameters each training stage updates.

        Stage 1, each method's own recipe: CameraCtrl its camera encoder and merge layers, MotionCtrl its
        cc_projection layers and the second temporal attention after them (as the official CMCM), the
        camera-free AnimateDiff its motion modules; plus conv_in where the image-latent channels were
        added to a base without them. Stage 2: everything but the frozen CLIP image encoder and latent codec."""
        check_training_stage(stage)
        return [
            (name, parameter)
            for name, parameter in self.named_parameters()
            if not name.startswith(FROZEN_PREFIXES) and (stage == 2 or self._in_stage_one(name))
        ]

    def _in_stage_one(self, name: str) -> bool:
        if self.conv_in_widened and name.startswith("video_unet.conv_in."):
            return True
        if self.camera_control is None:
            return ".motion_modules." in name
        return self.camera_control.is_own_parameter(name)

    # ----------------------------------------------------------------- forward

    @property
    def max_frames(self) -> int:
        """The longest video the motion modules (and the camera control) handle."""
        limits = [self.config.backbone.motion_adapter["motion_max_seq_length"]]
        if self.camera_control is not None and self.camera_control.max_frames is not None:
            limits.append(self.camera_control.max_frames)
        return min(limits)

    @property
    def camera_input_kind(self) -> str | None:
        """The training items' camera input this model takes (None: no camera control)."""
        return None if self.camera_control is None else self.camera_control.input_kind

    def camera_input(self, trajectory: Trajectory, size: tuple[int, int]) -> torch.Tensor | None:
        """The camera input [F, ...] this model takes for a trajectory at generation size (H, W); None for
        a model without camera control."""
        if self.camera_control is None:
            return None
        return self.camera_control.camera_input(trajectory, size)

    def encode_conditions(
        self,
        reference_image: torch.Tensor,
        camera: torch.Tensor | None = None,
        drop_image: torch.Tensor | None = None,
        drop_camera: torch.Tensor | None = None,
    ) -> BaselineConditions:
        """reference_image [B, 3, H, W] in [-1, 1]; camera [B, F, ...] from `camera_input` (a model without
        camera control ignores it, like the trainer's camera-free backbone).

        Classifier-free guidance: `drop_image` / `drop_camera` ([B] bool) replace a sample's reference
        image by zeros (mid-grey) and its camera input by zeros (MotionCtrl's null pose, no rays)."""
        if reference_image.ndim != 4 or reference_image.shape[1] != 3:
            raise ValueError(f"reference_image must be [B, 3, H, W], got {tuple(reference_image.shape)}")
        reference_image = drop_condition(reference_image.to(self.device, self.dtype), drop_image)
        with torch.no_grad():
            image_tokens = self.image_encoder(reference_image)
            reference_latents = (
                self.codec.encode(reference_image) if self.config.backbone.image_latent_condition else None
            )
        encoded, num_frames = None, None
        if self.camera_control is not None:
            if camera is None or camera.shape[0] != reference_image.shape[0]:
                raise ValueError(
                    f"camera input must be a batch of {reference_image.shape[0]}, got "
                    f"{None if camera is None else tuple(camera.shape)}"
                )
            self.camera_control.check_input(camera, tuple(reference_image.shape[-2:]))
            camera = drop_condition(camera.to(self.device, self.dtype), drop_camera)
            encoded, num_frames = self.camera_control.encode(camera), camera.shape[1]
        return BaselineConditions(image_tokens, reference_latents, encoded, num_frames)

    def forward(
        self,
        noisy_latents: torch.Tensor,
        timesteps: torch.Tensor | int,
        reference_image: torch.Tensor | None = None,
        camera: torch.Tensor | None = None,
        *,
        conditions: BaselineConditions | None = None,
        drop_image: torch.Tensor | None = None,
        drop_camera: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Noise prediction [B, C, F, h, w] for noisy_latents [B, C, F, h, w] at `timesteps` ([B] or scalar).

        Give either reference_image (+ camera) with the optional CFG drops, or precomputed `conditions`."""
        if conditions is None:
            if reference_image is None:
                raise ValueError("forward needs reference_image (and camera), or conditions")
            conditions = self.encode_conditions(reference_image, camera, drop_image, drop_camera)
        batch, _, num_frames, height, width = noisy_latents.shape
        if conditions.num_frames is not None and num_frames != conditions.num_frames:
            raise FrameCountError(f"latents have {num_frames} frames, the cameras {conditions.num_frames}")
        if num_frames > self.max_frames:
            raise FrameCountError(f"{num_frames} frames; this model handles at most {self.max_frames}")
        if batch != conditions.batch_size:
            raise ValueError(f"latents have batch {batch}, the conditions {conditions.batch_size}")
        timesteps = torch.as_tensor(timesteps, device=noisy_latents.device).reshape(-1).expand(batch)
        sample = noisy_latents.to(self.dtype)
        if conditions.reference_latents is not None:
            sample = with_reference_latent(sample, conditions.reference_latents)
        context = conditions.image_tokens.repeat_interleave(num_frames, dim=0)
        self.bank.clear()
        self.bank.num_frames = num_frames
        if self.camera_control is not None:
            self.camera_control.attach(conditions.camera, batch, num_frames)
        return self.video_unet(sample, timesteps, encoder_hidden_states=context).sample
