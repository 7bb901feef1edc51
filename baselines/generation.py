"""Sampling a BaselineModel, and the Method that runs a baseline checkpoint folder.

The sampler is MotionFlow's (DDIM on AnimateDiff's noise schedule, classifier-free guidance on the
image and camera conditions, `motionflow.pipeline`), with the camera input each model declares
(`BaselineModel.camera_input`) in place of Plücker rays."""

from __future__ import annotations

from dataclasses import asdict, astuple
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from diffusers import DDIMScheduler
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from baselines.backbone import WEIGHTS_NAME, BaselineConfig, BaselineModel
from baselines.base import Method
from baselines.resize import fit_reference
from motionflow.camera.trajectory import Trajectory
from motionflow.checkpoints import checkpoint_path
from motionflow.checkpoints.depth import sampling_depth_hash, sampling_depth_net
from motionflow.errors import FrameCountError, MissingWeightsError
from motionflow.models.config import CONFIG_NAME
from motionflow.models.inputs import image_to_tensor, video_to_uint8
from motionflow.models.video_denoiser import checkpoint_weights_hash
from motionflow.pipeline import (
    DEFAULT_GUIDANCE,
    DEFAULT_INITIAL_NOISE,
    DEFAULT_STEPS,
    DEFAULT_STRENGTH,
    DepthEstimator,
    InitialNoise,
    SamplingOptions,
    denoise,
    depth_warped_latents,
    guidance_variants,
    initial_latents,
    noise_schedule_config,
    sampling_timesteps,
    scheduler_step_options,
)
from motionflow.utils.io import content_hash
from motionflow.weights import (
    WeightsFormatError,
    WeightSpec,
    expected_path,
    missing_message,
    register_weights,
)


class BaselinePipeline:
    """reference image + trajectory -> video (uint8 [F, H, W, 3] at the generation size)."""

    def __init__(
        self,
        model: BaselineModel,
        scheduler: SchedulerMixin | None = None,
        depth_estimator: DepthEstimator | None = None,
    ):
        self.model = model.eval()
        self.scheduler = scheduler if scheduler is not None else DDIMScheduler(**noise_schedule_config())
        self.depth_estimator = depth_estimator
        """Needed by the "depth-warped" initial noise only."""

    @torch.no_grad()
    def __call__(
        self,
        reference_image: np.ndarray,
        trajectory: Trajectory,
        seed: int = 0,
        steps: int = DEFAULT_STEPS,
        guidance_scale: float = DEFAULT_GUIDANCE,
        camera_guidance_scale: float | None = None,
        size: tuple[int, int] | None = None,
        eta: float = 0.0,
        initial_noise: InitialNoise = DEFAULT_INITIAL_NOISE,
        strength: float = DEFAULT_STRENGTH,
        progress: bool = False,
    ) -> np.ndarray:
        """`trajectory`: F cameras, intrinsics in pixels of `trajectory.image_size`; `size` (H, W): the
        generation size, by default the backbone's `image_size`. `guidance_scale` scales the image
        condition, `camera_guidance_scale` (default: the same) the camera condition. The initial noise
        comes from a generator seeded with `seed` only; `initial_noise`: what the first step starts from
        (`motionflow.pipeline.initial_latents`); `strength`: the share of the `steps` that run
        (`motionflow.pipeline.SamplingOptions.strength`)."""
        SamplingOptions(steps, guidance_scale, initial_noise, camera_guidance_scale, strength)  # range checks
        model = self.model
        size = tuple(size or model.config.backbone.image_size)
        frames = len(trajectory)
        if frames > model.max_frames:
            raise FrameCountError(
                f"{frames} frames requested; {model.config.method} handles at most {model.max_frames}"
            )
        if size[0] % model.size_multiple or size[1] % model.size_multiple:
            raise ValueError(
                f"generation size {size[0]}x{size[1]} must be a multiple of {model.size_multiple}"
            )
        camera_guidance_scale = guidance_scale if camera_guidance_scale is None else camera_guidance_scale
        if model.camera_control is None:
            camera_guidance_scale = guidance_scale
        variants = guidance_variants(guidance_scale, camera_guidance_scale)

        reference = image_to_tensor(reference_image, size)[None]
        camera = model.camera_input(trajectory, size)
        if camera is not None:
            camera = camera[None].repeat(len(variants), *[1] * camera.ndim)
        conditions = model.encode_conditions(
            reference.repeat(len(variants), 1, 1, 1),
            camera,
            drop_image=torch.tensor([variant.drop_image for variant in variants]),
            drop_camera=torch.tensor([variant.drop_camera for variant in variants]),
        )

        generator = torch.Generator("cpu").manual_seed(int(seed))
        factor = model.codec.downsample_factor
        shape = (1, model.latent_channels, frames, size[0] // factor, size[1] // factor)
        noise = torch.randn(shape, generator=generator).to(device=model.device, dtype=model.dtype)
        timesteps = sampling_timesteps(self.scheduler, steps, strength, model.device)
        reference = reference.to(device=model.device, dtype=model.dtype)
        reference_latent = model.codec.encode(reference)
        frame_latents = None
        if initial_noise == "depth-warped":
            frame_latents = depth_warped_latents(model.codec, reference, [trajectory], self.depth_estimator)
        latents = initial_latents(
            noise, reference_latent, self.scheduler, initial_noise, [trajectory], timesteps[:1], frame_latents
        )
        latents = denoise(
            model,
            self.scheduler,
            timesteps,
            latents,
            conditions,
            (guidance_scale, camera_guidance_scale),
            scheduler_step_options(self.scheduler, eta, generator),
            progress,
        )
        return video_to_uint8(model.decode_video(latents))[0]


def checkpoint_spec(method: str) -> WeightSpec:
    """The registered checkpoint folder of a baseline on the shared backbone."""
    return register_weights(
        WeightSpec(
            name=f"baseline-{method}",
            relative_path=f"baselines/{method}",
            source=(
                "a baseline checkpoint folder (config.json + model.safetensors, BaselineModel.save_pretrained): "
                "trained with the shared trainer, or converted from the official release with "
                "baselines.checkpoint_keys.convert_official_checkpoint"
            ),
            used_by=f"baseline {method}",
        )
    )


class BaselineCheckpointMethod(Method):
    """A baseline on the shared backbone, generated from its checkpoint folder: the folder given, else the
    registered one under the weights root, else the one shipped with the package. Subclasses set `name`,
    `weights`, `requirements` and, when one is shipped, `bundled_checkpoint`."""

    weights: ClassVar[WeightSpec]

    def __init__(
        self,
        checkpoint_dir: str | Path | None = None,
        steps: int = DEFAULT_STEPS,
        guidance_scale: float = DEFAULT_GUIDANCE,
        initial_noise: InitialNoise = DEFAULT_INITIAL_NOISE,
        camera_guidance_scale: float | None = None,
        strength: float = DEFAULT_STRENGTH,
        device: str = "cpu",
    ):
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir).expanduser()
        self.sampling = SamplingOptions(steps, guidance_scale, initial_noise, camera_guidance_scale, strength)
        self.device = device
        self._pipeline: BaselinePipeline | None = None
        self._fingerprint: str | None = None

    def checkpoint_path(self) -> Path:
        """The checkpoint folder; MissingWeightsError naming the places looked in when there is none."""
        if self.checkpoint_dir is not None:
            if not self.checkpoint_dir.is_dir():
                raise MissingWeightsError(
                    f"{self.name} checkpoint folder {self.checkpoint_dir} not found ({self.weights.source})"
                )
            return self.checkpoint_dir
        registered = expected_path(self.weights.name)
        if registered.exists():
            return registered
        if self.bundled_checkpoint is None:
            raise MissingWeightsError(missing_message(self.weights, registered))
        try:
            return checkpoint_path(self.bundled_checkpoint)
        except MissingWeightsError as error:
            raise MissingWeightsError(
                f"{missing_message(self.weights, registered)} Also looked in the package: {error}"
            ) from None

    def check_available(self) -> None:
        """The folder holds a checkpoint of this method: its config, its weights and, for a bundled
        checkpoint, the shared file it names (what the fingerprint reads)."""
        self.fingerprint()

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            folder = self.checkpoint_path()
            config = BaselineConfig.load(folder)
            if config.method != self.name:
                raise WeightsFormatError(f"{folder} holds a {config.method!r} checkpoint, not {self.name!r}")
            if not (folder / WEIGHTS_NAME).is_file():
                raise MissingWeightsError(f"{folder / WEIGHTS_NAME} not found ({self.weights.source})")
            self._fingerprint = content_hash(
                self.name,
                (folder / CONFIG_NAME).read_text(),
                checkpoint_weights_hash(folder),
                *astuple(self.sampling),
                sampling_depth_hash(self.sampling),
            )
        return self._fingerprint

    def pipeline(self) -> BaselinePipeline:
        if self._pipeline is None:
            self.check_available()
            self._pipeline = BaselinePipeline(
                BaselineModel.from_pretrained(self.checkpoint_path(), device=self.device),
                depth_estimator=sampling_depth_net(self.sampling, self.device),
            )
        return self._pipeline

    def _generate(
        self, reference_image: np.ndarray, trajectory: Trajectory, seed: int, ground_truth: np.ndarray | None
    ) -> np.ndarray:
        video = self.pipeline()(
            reference_image,
            trajectory,
            seed=seed,
            **asdict(self.sampling),
        )
        return np.stack([fit_reference(frame, trajectory.image_size) for frame in video])
