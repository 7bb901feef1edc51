"""The networks the trainer trains, by method: MotionFlow (its ablations are config switches) and the
baselines on the same AnimateDiff backbone (`baselines.backbone.BaselineModel`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motionflow.models.components import MotionFlowComponents, load_components
from motionflow.models.config import MotionFlowConfig
from motionflow.models.motionflow import MotionFlowModel
from motionflow.models.video_denoiser import VideoDenoiser
from motionflow.pipeline import MotionFlowPipeline


def build_trainee(method: str, config: MotionFlowConfig, components: MotionFlowComponents) -> VideoDenoiser:
    """`method` assembled on `components` (its new modules initialised from torch's current seed)."""
    if method == "motionflow":
        return MotionFlowModel(config, components)
    from baselines.backbone import BaselineModel, baseline_config_for  # baselines build on this package

    return BaselineModel(baseline_config_for(method, config), components)


def pretrained_trainee(method: str, config: MotionFlowConfig) -> VideoDenoiser:
    """`method` on the local pretrained SD1.5 / AnimateDiff / DINO / CLIP folders."""
    return build_trainee(method, config, load_components(config))


def load_trainee(method: str, folder: str | Path, overrides: dict[str, Any] | None = None) -> VideoDenoiser:
    """A checkpoint folder of `method` (written by `save_trained` or a phase), in training mode;
    `overrides` replace fields of a MotionFlow checkpoint's config (`MotionFlowModel.from_pretrained`)."""
    if method == "motionflow":
        return MotionFlowModel.from_pretrained(folder, config_overrides=overrides).train()
    if overrides:
        raise ValueError(f"config overrides of a {method} checkpoint are not supported: {sorted(overrides)}")
    from baselines.backbone import BaselineModel

    return BaselineModel.from_pretrained(folder).train()


def save_trained(model: VideoDenoiser, folder: Path) -> None:
    """The final folder a method's generator loads: a MotionFlow pipeline folder, or a baseline folder."""
    if isinstance(model, MotionFlowModel):
        MotionFlowPipeline(model.eval()).save_pretrained(folder)
    else:
        model.eval().save_pretrained(folder)
