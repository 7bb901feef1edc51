"""The training objective: epsilon prediction (the paper's Eq. 2) with condition dropout for guidance."""

from __future__ import annotations

import inspect

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDPMScheduler
from torch import nn

from motionflow.pipeline import noise_schedule_config
from motionflow.training.config import LOSS_WEIGHTINGS


def training_scheduler() -> DDPMScheduler:
    """The forward noising process the pipeline's sampler inverts (same betas and timesteps); the
    sampler-only settings of the shared schedule are left out."""
    accepted = set(inspect.signature(DDPMScheduler.__init__).parameters)
    return DDPMScheduler(**{key: value for key, value in noise_schedule_config().items() if key in accepted})


def step_generator(*stream: int) -> torch.Generator:
    """A CPU generator fixed by integers (seed, phase, step, process): a step's noise, timesteps and
    condition drops depend on nothing else, which is what makes a resumed run exact."""
    seed = int(np.random.SeedSequence([int(value) for value in stream]).generate_state(1, dtype=np.uint64)[0])
    return torch.Generator("cpu").manual_seed(seed)


def timestep_weights(
    scheduler: DDPMScheduler, timesteps: torch.Tensor, weighting: str, min_snr_gamma: float = 5.0
) -> torch.Tensor:
    """Per-sample loss weights [B]. "none": 1 (the paper's Eq. 2). "min_snr": min(SNR, gamma) / SNR
    (Hang et al. 2023, for epsilon prediction): the low-noise steps, whose epsilon error dominates the
    plain loss, are weighted down, so the high-noise steps, where the layout (and the camera motion) is
    decided, count relatively more. "v": (1 + SNR) / SNR = 1 / alpha_bar, the v-prediction loss
    (Salimans & Ho 2022) of the same epsilon-predicting network: the high-noise steps, where the plain
    loss is smallest, weigh up to 1 / alpha_bar_T (633 on this schedule)."""
    if weighting not in LOSS_WEIGHTINGS:
        raise ValueError(f"loss weighting must be one of {', '.join(LOSS_WEIGHTINGS)}, got {weighting!r}")
    if weighting == "none":
        return torch.ones(timesteps.shape, device=timesteps.device)
    alphas = scheduler.alphas_cumprod.to(timesteps.device)[timesteps].float()
    if weighting == "v":
        return 1 / alphas
    snr = alphas / (1 - alphas)
    return snr.clamp(max=min_snr_gamma) / snr


def sample_timesteps(
    scheduler: DDPMScheduler,
    batch: int,
    generator: torch.Generator,
    power: float = 1.0,
    limit: int | None = None,
) -> torch.Tensor:
    """[B] training timesteps below T = `limit` (None: all of the schedule's): uniform for power 1 (the
    paper's), else T u^(1 / power) with u uniform, whose density grows as t^(power - 1) (power 2: a step
    at t = 800 is drawn 4 times as often as one at t = 200)."""
    total = scheduler.config.num_train_timesteps
    if limit is not None:
        if not 1 <= limit <= total:
            raise ValueError(f"the timestep limit must be in 1..{total}, got {limit}")
        total = limit
    if power == 1:
        return torch.randint(0, total, (batch,), generator=generator)
    uniform = torch.rand(batch, generator=generator, dtype=torch.float64)
    return (total * uniform ** (1 / power)).long().clamp(max=total - 1)


def epsilon_loss(
    model: nn.Module,
    latents: torch.Tensor,
    reference_image: torch.Tensor,
    plucker: torch.Tensor,
    scheduler: DDPMScheduler,
    generator: torch.Generator,
    drop_image_probability: float = 0.0,
    drop_camera_probability: float = 0.0,
    weighting: str = "none",
    min_snr_gamma: float = 5.0,
    timestep_power: float = 1.0,
    frame_latents: torch.Tensor | None = None,
    timestep_limit: int | None = None,
) -> torch.Tensor:
    """E w(t) ||eps - eps_theta(z_t, t, image, cameras)||^2 with t uniform over the training timesteps
    unless `timestep_power` or `timestep_limit` say otherwise (`sample_timesteps`) and w:
    `timestep_weights`, 1 unless `weighting` says otherwise.

    latents [B, C, F, h, w] (clean video latents), reference_image [B, 3, H, W], plucker [B, F, 6, H, W].
    Each sample's image / camera condition is replaced by the null condition with the given
    probabilities (classifier-free guidance at sampling). `frame_latents` [B, C, F, h, w]: the
    depth-warped reference latents of a model that `takes_frame_latents`."""
    batch = latents.shape[0]
    device = latents.device
    noise = torch.randn(latents.shape, generator=generator, dtype=torch.float32).to(device, latents.dtype)
    timesteps = sample_timesteps(scheduler, batch, generator, timestep_power, timestep_limit).to(device)
    drop_image = (torch.rand(batch, generator=generator) < drop_image_probability).to(device)
    drop_camera = (torch.rand(batch, generator=generator) < drop_camera_probability).to(device)
    noisy = scheduler.add_noise(latents, noise, timesteps)
    extra = {} if frame_latents is None else {"frame_latents": frame_latents}
    prediction = model(
        noisy, timesteps, reference_image, plucker, drop_image=drop_image, drop_camera=drop_camera, **extra
    )
    if weighting == "none":
        return F.mse_loss(prediction.float(), noise.float())
    per_sample = F.mse_loss(prediction.float(), noise.float(), reduction="none").flatten(1).mean(dim=1)
    return (per_sample * timestep_weights(scheduler, timesteps, weighting, min_snr_gamma)).mean()
