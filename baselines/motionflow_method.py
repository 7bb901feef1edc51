"""`motionflow`: a MotionFlow checkpoint folder behind the Method interface (the bundled small one by default).

A variant (an ablation of Table 4, another training run) is another checkpoint folder under another
name: `register_motionflow_variant("motionflow-no-refnet", "motionflow-small-no-refnet")`; the Table 4
ablations and the ray-bias model are registered here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, astuple
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

from baselines.base import METHODS, Method, MethodRequirements
from baselines.resize import fit_reference
from motionflow.camera.trajectory import Trajectory
from motionflow.checkpoints import DEFAULT_CHECKPOINT, checkpoint_path
from motionflow.checkpoints.depth import sampling_depth_hash, sampling_depth_net
from motionflow.models.config import MotionFlowConfig
from motionflow.models.video_denoiser import checkpoint_weights_hash
from motionflow.pipeline import (
    InitialNoise,
    MotionFlowPipeline,
    SamplingOptions,
)
from motionflow.utils.io import content_hash


def generation_size(
    model_size: tuple[int, int], frame_size: tuple[int, int], multiple: int
) -> tuple[int, int]:
    """The model's height and the width that keeps the frame's aspect ratio, both multiples of `multiple`."""
    height = max(multiple, round(model_size[0] / multiple) * multiple)
    width = max(multiple, round(height * frame_size[1] / frame_size[0] / multiple) * multiple)
    return height, width


class CheckpointFolder:
    """A method that runs a MotionFlow checkpoint folder (the one given, else `bundled_checkpoint`) on
    a device (the one given, else a GPU where there is one); its weights' hash is read once and
    identifies the outputs."""

    bundled_checkpoint = DEFAULT_CHECKPOINT

    def __init__(self, checkpoint_dir: str | Path | None = None, device: str | None = None):
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._weights_hash: str | None = None

    def folder(self) -> Path:
        """The checkpoint folder used (MissingWeightsError when a bundled one is absent)."""
        return (
            self.checkpoint_dir
            if self.checkpoint_dir is not None
            else checkpoint_path(self.bundled_checkpoint)
        )

    def weights_hash(self) -> str:
        if self._weights_hash is None:
            self._weights_hash = checkpoint_weights_hash(self.folder())
        return self._weights_hash

    def check_available(self) -> None:
        """The checkpoint's weights are there (a bundled one's shared file too, the one it names)."""
        self.weights_hash()


@METHODS.register("motionflow")
class MotionFlowMethod(CheckpointFolder, Method):
    """Generates at the checkpoint's resolution (aspect ratio of the requested frames) and resizes the
    video to the trajectory's frame size; the trajectory's intrinsics are rescaled to the generation size."""

    name = "motionflow"
    requirements = MethodRequirements()
    default_sampling: Mapping[str, Any] = MappingProxyType({})
    """This method's own `SamplingOptions` where it departs from the pipeline's defaults; an option given
    to the constructor replaces its entry."""

    def __init__(
        self,
        checkpoint_dir: str | Path | None = None,
        steps: int | None = None,
        guidance_scale: float | None = None,
        initial_noise: InitialNoise | None = None,
        camera_guidance_scale: float | None = None,
        strength: float | None = None,
        device: str | None = None,
    ):
        super().__init__(checkpoint_dir, device)
        given = {
            "steps": steps,
            "guidance_scale": guidance_scale,
            "initial_noise": initial_noise,
            "camera_guidance_scale": camera_guidance_scale,
            "strength": strength,
        }
        self.sampling = SamplingOptions(
            **{**self.default_sampling, **{key: value for key, value in given.items() if value is not None}}
        )
        self._pipeline: MotionFlowPipeline | None = None

    def model_takes_frame_latents(self) -> bool:
        """Whether the checkpoint is conditioned on depth-warped frames (read from its config)."""
        return MotionFlowConfig.load(self.folder()).depth_warped_condition

    def fingerprint(self) -> str:
        weights_hash = self.weights_hash()  # MissingWeightsError before the config is read
        depth_hash = sampling_depth_hash(self.sampling, self.model_takes_frame_latents())
        return content_hash(self.name, weights_hash, *astuple(self.sampling), depth_hash)

    def pipeline(self) -> MotionFlowPipeline:
        if self._pipeline is None:
            self._pipeline = MotionFlowPipeline.from_pretrained(self.folder(), device=self.device)
            self._pipeline.depth_estimator = sampling_depth_net(
                self.sampling, self.device, self._pipeline.model.takes_frame_latents
            )
        return self._pipeline

    def _generate(
        self, reference_image: np.ndarray, trajectory: Trajectory, seed: int, ground_truth: np.ndarray | None
    ) -> np.ndarray:
        pipeline = self.pipeline()
        model = pipeline.model
        height, width = generation_size(model.config.image_size, trajectory.image_size, model.size_multiple)
        video = pipeline(
            reference_image,
            trajectory,
            seed=seed,
            **asdict(self.sampling),
            height=height,
            width=width,
        )
        return np.stack([fit_reference(frame, trajectory.image_size) for frame in video])


def register_motionflow_variant(
    name: str, checkpoint: str, default_sampling: Mapping[str, Any] | None = None
) -> type[MotionFlowMethod]:
    """Registers method `name` running the bundled checkpoint folder `checkpoint`, sampled with
    `default_sampling` unless told otherwise."""
    variant = type(
        f"MotionFlowMethod_{checkpoint.replace('-', '_')}",
        (MotionFlowMethod,),
        {
            "name": name,
            "bundled_checkpoint": checkpoint,
            "default_sampling": MappingProxyType(dict(default_sampling or {})),
            "__doc__": f"MotionFlow from the bundled checkpoint {checkpoint}.",
        },
    )
    METHODS.register(name)(variant)
    return variant


ABLATIONS: dict[str, type[MotionFlowMethod]] = {
    name: register_motionflow_variant(name, checkpoint)
    for name, checkpoint in (
        ("motionflow-no-refnet", "motionflow-small-no-refnet"),
        ("motionflow-no-semantic", "motionflow-small-no-semantic"),
        ("motionflow-no-sd-init", "motionflow-small-no-sd-init"),
    )
}
"""Table 4: MotionFlow-small trained without the reference motion network, without the semantic
extractor, and with a reference motion network not initialised from Stable Diffusion."""

RAY_BIAS = register_motionflow_variant("motionflow-ray-bias", "motionflow-small-ray-bias")
"""MotionFlow-small with reference attention's ray bias (`MotionFlowConfig.reference_ray_bias`, not in
the paper), trained on mirrored camera motions on a CPU at 64x64, then at 128x128
(configs/cpu128-ray-bias-high-noise-fourth.toml). Not one of the bundle's equal-budget rows."""

DEPTH_CONDITION = register_motionflow_variant(
    "motionflow-depth-condition",
    "motionflow-small-depth-condition",
    {"initial_noise": "depth-warped", "strength": 0.4},
)
"""The ray-bias model fine-tuned with `MotionFlowConfig.depth_warped_condition` (not in the paper): each
frame is conditioned on the reference forward-warped into its camera through the bundled depth network's
estimate (configs/cpu128-ray-bias-depth-condition.toml): the bundled model that follows the camera. It
samples by default from those warped frames noised to t = 361 (the last 10 of 25 steps), where its
camera errors are below a still camera's on three samples of the standard suite (TRAINING.md, "The
depth-warped start as its default")."""
