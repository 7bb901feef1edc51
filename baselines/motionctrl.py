"""MotionCtrl's camera motion control module (CMCM; Wang et al., 2024) on the shared AnimateDiff backbone.

Camera input: per frame the 12 numbers of the world-to-camera [R|t] relative to the first camera,
row-major (`RT_i = w2c_i inv(w2c_0)`, the official `create_relative`; frame 0 is [I|0]); the
intrinsics are not used. In every transformer block of every motion module, between its first and
second temporal self-attention (the official `Adapted_TemporalTransformerBlock_forward`):

    h' = cc_projection(concat(h, RT))          cc_projection: Linear(width + 12, width)

and the second attention and its residual take h'. cc_projection starts as [I | 0] with zero bias, so a
fresh model is its base UNet (the official code leaves the 12 pose columns at PyTorch's default init;
they are zero here so that this holds exactly). The null camera of classifier-free guidance is RT = 0,
as in the official training.

diffusers' BasicTransformerBlock runs norm2 -> attn2 -> residual in its own forward, so the projection
is applied by two hooks: norm2's input becomes h', and attn2's output gains h' - h, so the residual
adds up to h' + attn2(norm2(h'))."""

from __future__ import annotations

from typing import Any

import torch
from diffusers import UNetMotionModel
from torch import nn

from baselines.backbone import CAMERA_CONTROLS, CameraBank, CameraControl, motion_blocks
from baselines.base import METHODS, MethodRequirements
from baselines.generation import BaselineCheckpointMethod, checkpoint_spec
from motionflow.camera.trajectory import Trajectory
from motionflow.models.config import MotionFlowConfig
from motionflow.models.inputs import POSE_VECTOR_CHANNELS, pose_vector_input


def identity_projection(width: int) -> nn.Linear:
    """Linear(width + 12, width) computing the first `width` inputs unchanged."""
    projection = nn.Linear(width + POSE_VECTOR_CHANNELS, width)
    with torch.no_grad():
        projection.weight.zero_()
        projection.weight.diagonal().fill_(1.0)
        projection.bias.zero_()
    return projection


class PoseProjectionHooks:
    """Applies a block's cc_projection between its two temporal attentions (see the module docstring)."""

    def __init__(self, bank: CameraBank, projection: nn.Linear):
        self.bank = bank
        self.projection = projection
        self.change: torch.Tensor | None = None

    def project_norm_input(self, module: nn.Module, args: tuple) -> tuple:
        """Forward pre-hook of norm2: h -> h' (and remembers h' - h)."""
        hidden = args[0]
        pose = self.bank.camera
        rows = hidden.shape[0] // pose.shape[0]
        pose_rows = pose.to(hidden.dtype).repeat_interleave(rows, dim=0)
        projected = self.projection(torch.cat([hidden, pose_rows], dim=-1))
        self.change = projected - hidden
        return (projected, *args[1:])

    def add_to_attention_output(self, module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        """Forward hook of attn2: output + (h' - h), so the block's residual starts from h'."""
        change, self.change = self.change, None
        return output + change


@CAMERA_CONTROLS.register("motionctrl")
class MotionCtrlControl(CameraControl):
    name = "motionctrl"
    input_kind = "pose_vectors"

    @classmethod
    def default_settings(cls, backbone: MotionFlowConfig) -> dict[str, Any]:
        return {}

    def camera_input(self, trajectory: Trajectory, size: tuple[int, int]) -> torch.Tensor:
        return pose_vector_input(trajectory, size)

    def check_input(self, camera: torch.Tensor, size: tuple[int, int]) -> None:
        if camera.ndim != 3 or camera.shape[2] != POSE_VECTOR_CHANNELS:
            raise ValueError(f"MotionCtrl takes relative poses [B, F, 12], got {tuple(camera.shape)}")

    def encode(self, camera: torch.Tensor) -> torch.Tensor:
        return camera

    def attach(self, encoded: torch.Tensor, batch_size: int, num_frames: int) -> None:
        self.bank.camera = encoded

    def install(self, video_unet: UNetMotionModel) -> None:
        for name, _, block in motion_blocks(video_unet):
            if block.attn2 is None:
                raise ValueError(
                    f"{name}: MotionCtrl needs two temporal self-attentions per motion-module block"
                )
            projection = identity_projection(block.norm2.normalized_shape[0])
            block.add_module("cc_projection", projection)
            hooks = PoseProjectionHooks(self.bank, projection)
            block.norm2.register_forward_pre_hook(hooks.project_norm_input)
            block.attn2.register_forward_hook(hooks.add_to_attention_output)

    def is_own_parameter(self, name: str) -> bool:
        """cc_projection, and the second temporal attention and its norm (trained with it officially)."""
        return ".motion_modules." in name and any(
            part in name for part in (".cc_projection.", ".attn2.", ".norm2.")
        )


MOTIONCTRL_CHECKPOINT = checkpoint_spec("motionctrl")


@METHODS.register("motionctrl")
class MotionCtrlMethod(BaselineCheckpointMethod):
    name = "motionctrl"
    weights = MOTIONCTRL_CHECKPOINT
    bundled_checkpoint = "motionctrl-small"
    requirements = MethodRequirements(weights=(MOTIONCTRL_CHECKPOINT.name,))
