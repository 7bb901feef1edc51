"""`animatediff`: the shared AnimateDiff backbone without camera control, as an image-to-video model.

The reference image conditions it twice: its CLIP image tokens are the cross-attention context (as for
every model on this backbone) and its latent is concatenated to every frame's noisy latent (conv_in
widened by zero-initialised channels), the pixel-aligned first-frame condition of image-to-video
models. What it scores is what the backbone does from the reference image alone."""

from __future__ import annotations

from baselines.base import METHODS, MethodRequirements
from baselines.generation import BaselineCheckpointMethod, checkpoint_spec

ANIMATEDIFF_CHECKPOINT = checkpoint_spec("animatediff")


@METHODS.register("animatediff")
class AnimateDiffMethod(BaselineCheckpointMethod):
    name = "animatediff"
    weights = ANIMATEDIFF_CHECKPOINT
    bundled_checkpoint = "animatediff-small"
    requirements = MethodRequirements(weights=(ANIMATEDIFF_CHECKPOINT.name,), uses_camera=False)
