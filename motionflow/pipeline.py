"""MotionFlowPipeline: reference image + camera trajectory -> video (uint8 [F, H, W, 3]).

The trajectory is made relative to its first frame and its intrinsics are rescaled from
`trajectory.image_size` to the generation size before the Plücker embedding; the reference image is
resized (whole frame, no crop) to the generation size. Sampling is DDIM by default (any diffusers
scheduler works) with classifier-free guidance on the image and camera conditions."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, get_args

import numpy as np
import torch
from diffusers import DDIMScheduler
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from rich.progress import Progress

from motionflow.camera.depth_warp import forward_warp
from motionflow.camera.homography import rotation_homographies, warp_by_homographies
from motionflow.camera.trajectory import Trajectory
from motionflow.errors import FrameCountError
from motionflow.models.inputs import image_to_tensor, trajectory_plucker, video_to_uint8
from motionflow.models.motionflow import MotionFlowModel

SCHEDULER_FOLDER = "scheduler"
DEFAULT_STEPS = 25
DEFAULT_GUIDANCE = 3.0

InitialNoise = Literal["reference", "gaussian", "warped", "depth-warped"]
INITIAL_NOISE_CHOICES: tuple[str, ...] = get_args(InitialNoise)
DEFAULT_INITIAL_NOISE: InitialNoise = "reference"
DEFAULT_STRENGTH = 1.0


def check_initial_noise(initial_noise: str) -> None:
    """ValueError naming the choices when `initial_noise` is not one of them."""
    if initial_noise not in INITIAL_NOISE_CHOICES:
        raise ValueError(
            f"initial_noise must be one of {', '.join(INITIAL_NOISE_CHOICES)}, got {initial_noise!r}"
        )


@dataclass(frozen=True)
class SamplingOptions:
    """The sampler settings a method holds and its videos depend on (part of its fingerprint); the
    keyword arguments of both pipelines' `__call__`."""

    steps: int = DEFAULT_STEPS
    guidance_scale: float = DEFAULT_GUIDANCE
    initial_noise: InitialNoise = DEFAULT_INITIAL_NOISE
    camera_guidance_scale: float | None = None
    """None: the same as `guidance_scale` (stored as that value, so that both spellings share a fingerprint)."""
    strength: float = DEFAULT_STRENGTH
    """Share of the `steps` timesteps that run (image-to-image's strength; not in the paper): 1 starts at
    the first; below 1 the first steps are skipped and sampling starts from the initial latent noised to
    a later timestep, which keeps more of it (with "warped" / "depth-warped": more of each frame's view of
    the reference)."""

    def __post_init__(self) -> None:
        """ValueError for a setting outside its range."""
        check_initial_noise(self.initial_noise)
        if not 0 < self.strength <= 1:
            raise ValueError(f"strength must be in (0, 1], got {self.strength}")
        if self.strength < 1 and self.initial_noise == "gaussian":
            raise ValueError(
                "strength below 1 keeps part of the initial latent; gaussian initial noise has none "
                "(use reference, warped or depth-warped)"
            )
        if self.camera_guidance_scale is None:
            object.__setattr__(self, "camera_guidance_scale", self.guidance_scale)


def noise_schedule_config() -> dict[str, Any]:
    """The noise schedule MotionFlow is trained and sampled with (AnimateDiff's: linear betas
    0.00085 -> 0.012 over 1000 steps, epsilon prediction). Training builds its DDPMScheduler from it."""
    return dict(
        num_train_timesteps=1000,
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="linear",
        prediction_type="epsilon",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )


@dataclass(frozen=True)
class GuidanceVariant:
    drop_image: bool
    drop_camera: bool


def guidance_variants(image_scale: float, camera_scale: float) -> list[GuidanceVariant]:
    """The condition variants one denoising step evaluates (batched together).

    eps = e(-,-) + s_img (e(img,-) - e(-,-)) + s_cam (e(img,cam) - e(img,-)); with s_img == s_cam this is
    e(-,-) + s (e(img,cam) - e(-,-)), two variants; with both 1 it is e(img,cam), one variant."""
    if image_scale == 1 and camera_scale == 1:
        return [GuidanceVariant(False, False)]
    if image_scale == camera_scale:
        return [GuidanceVariant(True, True), GuidanceVariant(False, False)]
    return [GuidanceVariant(True, True), GuidanceVariant(False, True), GuidanceVariant(False, False)]


def combine_guidance(
    predictions: list[torch.Tensor], image_scale: float, camera_scale: float
) -> torch.Tensor:
    """Combines the predictions of `guidance_variants(image_scale, camera_scale)`, in that order."""
    if len(predictions) == 1:
        return predictions[0]
    if len(predictions) == 2:
        unconditional, full = predictions
        return unconditional + image_scale * (full - unconditional)
    unconditional, image_only, full = predictions
    return unconditional + image_scale * (image_only - unconditional) + camera_scale * (full - image_only)


def sampling_timesteps(
    scheduler: SchedulerMixin, steps: int, strength: float, device: torch.device | str | None = None
) -> torch.Tensor:
    """Sets `steps` timesteps on `scheduler` and returns the ones that run: the last
    round(steps * strength), at least one. The scheduler keeps its whole schedule and is told where
    sampling begins (`set_begin_index`, for schedulers that index their noise levels by step)."""
    scheduler.set_timesteps(steps, device=device)
    start = steps - max(1, round(steps * strength))
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(start * scheduler.order)
    return scheduler.timesteps[start * scheduler.order :]


def initial_latents(
    noise: torch.Tensor,
    reference_latents: torch.Tensor,
    scheduler: SchedulerMixin,
    initial_noise: InitialNoise = DEFAULT_INITIAL_NOISE,
    trajectories: Sequence[Trajectory] | None = None,
    start_timestep: torch.Tensor | None = None,
    frame_latents: torch.Tensor | None = None,
) -> torch.Tensor:
    """The sample the first denoising step starts from (after `scheduler.set_timesteps`), at
    `start_timestep` (default: the schedule's first; `sampling_timesteps(...)[:1]`).

    noise [B, C, F, h, w] ~ N(0, I), reference_latents [B, C, h, w]. "gaussian": the noise alone
    (scaled by the scheduler's `init_noise_sigma`). "reference": the reference latent repeated over the
    frames and noised to the first sampling timestep (`scheduler.add_noise`). AnimateDiff's schedule
    never reaches zero signal: at t = 961, the first of 25 DDIM steps, the training inputs keep 5% of
    the clean latent, from which the model learns to read a video's mean colours and coarse layout;
    pure noise hands it a random one instead (the signal-leak bias of non-zero-SNR schedules). The
    reference image is the best available estimate of that signal for frame 0. "warped" (not in the
    paper) estimates it for every frame: the reference latent seen from each of the B `trajectories`'
    cameras through the rotation-only homography (`motionflow.camera.homography`; rays that leave the
    reference take its nearest edge), so that no frame starts from the first frame's layout.
    "depth-warped" (not in the paper) starts from `frame_latents` [B, C, F, h, w], the latents of the
    reference forward-warped into each frame through its estimated depth (`depth_warped_latents`), which
    show translation's parallax as well."""
    if initial_noise == "gaussian":
        return noise * scheduler.init_noise_sigma
    if initial_noise == "reference":
        clean = reference_latents[:, :, None].to(noise).expand_as(noise)
    elif initial_noise == "warped":
        if trajectories is None or len(trajectories) != len(noise):
            raise ValueError("the warped initial noise needs one trajectory per video")
        latent_size = tuple(noise.shape[-2:])
        clean = torch.stack(
            [
                warp_by_homographies(
                    latent.float(), rotation_homographies(trajectory, latent_size), padding="border"
                ).transpose(0, 1)
                for latent, trajectory in zip(reference_latents, trajectories, strict=True)
            ]
        ).to(noise)
    elif initial_noise == "depth-warped":
        if frame_latents is None or frame_latents.shape != noise.shape:
            raise ValueError(
                f"the depth-warped initial noise needs frame latents of shape {tuple(noise.shape)}, got "
                f"{None if frame_latents is None else tuple(frame_latents.shape)}"
            )
        clean = frame_latents.to(noise)
    else:
        check_initial_noise(initial_noise)
    return scheduler.add_noise(
        clean, noise, scheduler.timesteps[:1] if start_timestep is None else start_timestep
    )


class DepthEstimator(Protocol):
    """Monocular depth of a reference image, for the "depth-warped" initial noise and the models
    conditioned on depth-warped frames."""

    def estimate_depth(self, image: np.ndarray) -> np.ndarray:
        """z-depth float [H, W] of uint8 [H, W, 3] (np.inf where no surface is seen, e.g. the sky)."""


def depth_warped_latents(
    codec: Any,
    references: torch.Tensor,
    trajectories: Sequence[Trajectory],
    depth_estimator: DepthEstimator | None,
) -> torch.Tensor:
    """Latents [B, C, F, h, w] of the references [B, 3, H, W] (in [-1, 1], at the generation size)
    forward-warped into each frame of their trajectories through the depth `depth_estimator` sees
    (`motionflow.camera.depth_warp`; what no reference pixel lands on takes the nearest one's colour)."""
    if depth_estimator is None:
        raise ValueError("depth-warped frames need a depth estimator (none was given)")
    if len(trajectories) != len(references):
        raise ValueError("depth-warped frames need one trajectory per video")
    size = tuple(references.shape[-2:])
    latents = []
    for reference, trajectory in zip(references, trajectories, strict=True):
        depth = depth_estimator.estimate_depth(video_to_uint8(reference))
        image = reference.float().permute(1, 2, 0).cpu().numpy()
        frames, _ = forward_warp(image, depth, trajectory.resized(size))
        encoded = codec.encode(torch.from_numpy(frames).permute(0, 3, 1, 2).to(reference))
        latents.append(encoded.transpose(0, 1))
    return torch.stack(latents)


def scheduler_step_options(
    scheduler: SchedulerMixin, eta: float, generator: torch.Generator | list[torch.Generator]
) -> dict[str, Any]:
    """The keyword arguments of `scheduler.step` that this scheduler accepts (eta, generator)."""
    accepted = set(inspect.signature(scheduler.step).parameters)
    options: dict[str, Any] = {}
    if "eta" in accepted:
        options["eta"] = eta
    if "generator" in accepted:
        options["generator"] = generator
    return options


def denoise(
    model: torch.nn.Module,
    scheduler: SchedulerMixin,
    timesteps: torch.Tensor,
    latents: torch.Tensor,
    conditions: Any,
    guidance: tuple[float, float],
    step_options: dict[str, Any],
    progress: bool = False,
) -> torch.Tensor:
    """Runs `timesteps` (`sampling_timesteps`) from `latents` with classifier-free guidance (image
    scale, camera scale); `conditions` hold the variants of `guidance_variants(*guidance)` one after the
    other."""
    num_variants = len(guidance_variants(*guidance))
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("denoising", total=len(timesteps))
        for timestep in timesteps:
            model_input = scheduler.scale_model_input(latents, timestep).repeat(num_variants, 1, 1, 1, 1)
            prediction = model(model_input, timestep, conditions=conditions)
            guided = combine_guidance(list(prediction.chunk(num_variants)), *guidance)
            latents = scheduler.step(guided, timestep, latents, **step_options).prev_sample
            bar.advance(task)
    model.bank.clear()
    return latents


class MotionFlowPipeline:
    """Generates videos with a MotionFlowModel (which holds the latent codec: VAE or pixel space)."""

    def __init__(
        self,
        model: MotionFlowModel,
        scheduler: SchedulerMixin | None = None,
        device: str | torch.device | None = None,
        dtype: torch.dtype | None = None,
        depth_estimator: DepthEstimator | None = None,
    ):
        self.model = model.eval()
        if device is not None or dtype is not None:
            self.model.to(device=device, dtype=dtype)
        self.scheduler = scheduler if scheduler is not None else DDIMScheduler(**noise_schedule_config())
        self.depth_estimator = depth_estimator
        """Needed by the "depth-warped" initial noise and by a model that `takes_frame_latents`."""

    @classmethod
    def from_pretrained(
        cls, directory: str | Path, device: str | torch.device = "cpu", dtype: torch.dtype | None = None
    ) -> MotionFlowPipeline:
        """Model from `directory`; the scheduler from `directory/scheduler` if saved there, else DDIM."""
        directory = Path(directory)
        model = MotionFlowModel.from_pretrained(directory, device=device, dtype=dtype)
        scheduler = None
        if (directory / SCHEDULER_FOLDER).is_dir():
            scheduler = DDIMScheduler.from_pretrained(directory, subfolder=SCHEDULER_FOLDER)
        return cls(model, scheduler)

    def save_pretrained(self, directory: str | Path) -> Path:
        directory = Path(directory)
        self.model.save_pretrained(directory)
        self.scheduler.save_pretrained(directory / SCHEDULER_FOLDER)
        return directory

    @torch.no_grad()
    def __call__(
        self,
        reference_image: np.ndarray | torch.Tensor | Sequence[np.ndarray | torch.Tensor],
        trajectory: Trajectory | Sequence[Trajectory],
        num_frames: int | None = None,
        seed: int | Sequence[int] = 0,
        steps: int = DEFAULT_STEPS,
        guidance_scale: float = DEFAULT_GUIDANCE,
        camera_guidance_scale: float | None = None,
        height: int | None = None,
        width: int | None = None,
        eta: float = 0.0,
        initial_noise: InitialNoise = DEFAULT_INITIAL_NOISE,
        strength: float = DEFAULT_STRENGTH,
        progress: bool = False,
    ) -> np.ndarray:
        """One video uint8 [F, H, W, 3], or [B, F, H, W, 3] when given lists (or a [B, H, W, 3] array).

        reference_image: uint8 [H, W, 3] (or float [3, H, W] in [-1, 1]); trajectory: F cameras with
        intrinsics in pixels of `trajectory.image_size`. The output has the generation size
        (height, width), by default the config's `image_size`. `guidance_scale` scales the image
        condition and `camera_guidance_scale` (default: the same) the camera condition. A video depends
        only on its own seed (its initial noise comes from a generator seeded with it); `initial_noise`:
        what the first step starts from (`initial_latents`); `strength`: the share of the `steps` that
        run (`SamplingOptions.strength`)."""
        SamplingOptions(steps, guidance_scale, initial_noise, camera_guidance_scale, strength)  # range checks
        images, trajectories, seeds, batched = _as_batch(reference_image, trajectory, seed)
        size = (height or self.model.config.image_size[0], width or self.model.config.image_size[1])
        self._check_request(trajectories, num_frames, size)
        frames = len(trajectories[0])
        camera_guidance_scale = guidance_scale if camera_guidance_scale is None else camera_guidance_scale
        variants = guidance_variants(guidance_scale, camera_guidance_scale)

        device = self.model.device
        references = torch.stack([image_to_tensor(image, size) for image in images])
        pluckers = torch.stack([trajectory_plucker(item, size) for item in trajectories])
        batch = len(images)
        frame_latents = None
        if initial_noise == "depth-warped" or self.model.takes_frame_latents:
            frame_latents = depth_warped_latents(
                self.model.codec,
                references.to(device=device, dtype=self.model.dtype),
                trajectories,
                self.depth_estimator,
            )
        conditions = self.model.encode_conditions(
            references.repeat(len(variants), 1, 1, 1),
            pluckers.repeat(len(variants), 1, 1, 1, 1),
            drop_image=torch.tensor([v.drop_image for v in variants]).repeat_interleave(batch),
            drop_camera=torch.tensor([v.drop_camera for v in variants]).repeat_interleave(batch),
            frame_latents=None if frame_latents is None else frame_latents.repeat(len(variants), 1, 1, 1, 1),
        )

        generators = [torch.Generator("cpu").manual_seed(int(value)) for value in seeds]
        factor = self.model.codec.downsample_factor
        latent_shape = (self.model.latent_channels, frames, size[0] // factor, size[1] // factor)
        noise = torch.stack([torch.randn(latent_shape, generator=generator) for generator in generators])
        timesteps = sampling_timesteps(self.scheduler, steps, strength, device)
        latents = initial_latents(
            noise.to(device=device, dtype=self.model.dtype),
            conditions.reference_latents[-batch:],  # the last guidance variant keeps the image
            self.scheduler,
            initial_noise,
            trajectories,
            timesteps[:1],
            frame_latents,
        )
        latents = denoise(
            self.model,
            self.scheduler,
            timesteps,
            latents,
            conditions,
            (guidance_scale, camera_guidance_scale),
            scheduler_step_options(self.scheduler, eta, generators if len(generators) > 1 else generators[0]),
            progress,
        )
        video = video_to_uint8(self.model.decode_video(latents))
        return video if batched else video[0]

    def _check_request(
        self, trajectories: list[Trajectory], num_frames: int | None, size: tuple[int, int]
    ) -> None:
        lengths = {len(item) for item in trajectories}
        if len(lengths) != 1:
            raise FrameCountError(
                f"trajectories in one batch must have the same length, got {sorted(lengths)}"
            )
        frames = lengths.pop()
        if num_frames is not None and num_frames != frames:
            raise FrameCountError(f"trajectory has {frames} frames, {num_frames} requested")
        max_frames = self.model.config.motion_adapter["motion_max_seq_length"]
        if frames > max_frames:
            raise FrameCountError(
                f"{frames} frames requested; the motion modules handle at most {max_frames}"
            )
        multiple = self.model.size_multiple
        if size[0] % multiple or size[1] % multiple:
            raise ValueError(f"generation size {size[0]}x{size[1]} must be a multiple of {multiple}")


def _as_batch(
    reference_image: Any, trajectory: Trajectory | Sequence[Trajectory], seed: int | Sequence[int]
) -> tuple[list[Any], list[Trajectory], list[int], bool]:
    """Normalises single or batched inputs to lists; `batched` says which the caller gave."""
    batched = not isinstance(trajectory, Trajectory)
    trajectories = list(trajectory) if batched else [trajectory]
    stacked = isinstance(reference_image, np.ndarray | torch.Tensor) and reference_image.ndim == 4
    if stacked or isinstance(reference_image, list | tuple):
        images = list(reference_image)
    else:
        images = [reference_image]
    if len(images) == 1 and len(trajectories) > 1:
        images = images * len(trajectories)
    if len(images) != len(trajectories):
        raise ValueError(f"{len(images)} reference images for {len(trajectories)} trajectories")
    seeds = [seed] * len(trajectories) if isinstance(seed, int) else list(seed)
    if len(seeds) != len(trajectories):
        raise ValueError(f"{len(seeds)} seeds for {len(trajectories)} trajectories")
    return images, trajectories, seeds, batched
