"""Does a trained model use its camera input?

On held-out synthetic clips, noised at a few fixed timesteps, the model's noise prediction is compared
with the clip's own cameras, with another clip's cameras (the batch rolled by one) and with the camera
condition dropped. A model that follows the camera predicts differently for other cameras and has a
lower epsilon loss with its own; one that ignores it gives the same prediction whatever the cameras.
This separates "the camera path is not learnt yet" from "the generator is weak" before any SfM runs."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import default_collate

from motionflow.training.config import DataSettings
from motionflow.training.data import SyntheticClipItems, batch_inputs
from motionflow.training.losses import training_scheduler

DIAGNOSTIC_TIMESTEPS = (200, 500, 800)
HELD_OUT_SEED_OFFSET = 500
"""Scene seeds 500 on: below the training clips' 1000, apart from the evaluation suites' lowest seeds."""


@dataclass(frozen=True)
class CameraUse:
    """At one timestep: epsilon MSE with the clips' own cameras, another clip's, none; and the mean
    absolute change of the prediction under other cameras relative to its mean absolute value."""

    timestep: int
    loss_own: float
    loss_other: float
    loss_dropped: float
    prediction_change: float


def held_out_batch(num_clips: int, image_size: tuple[int, int], num_frames: int, seed: int = 0) -> dict:
    """A collated batch of synthetic clips no training run sees."""
    settings = DataSettings(
        image_size=image_size,
        num_frames=num_frames,
        seed_offset=HELD_OUT_SEED_OFFSET,
        num_clips=num_clips,
        num_workers=0,
    )
    items = SyntheticClipItems(settings, seed=seed)
    return default_collate([items[index] for index in range(num_clips)])


@torch.no_grad()
def measure_camera_use(
    model: nn.Module,
    batch: dict,
    timesteps: tuple[int, ...] = DIAGNOSTIC_TIMESTEPS,
    seed: int = 0,
) -> list[CameraUse]:
    """`model`: a trainee (`motionflow.training.models`) with a camera input; `batch` of 2 clips or more."""
    if model.camera_input_kind is None:
        raise ValueError("this model takes no camera input")
    if len(batch["frames"]) < 2:
        raise ValueError("the batch needs two clips or more (one's cameras are tried on the other)")
    model = model.eval()
    device = next(model.parameters()).device
    frames, cameras = batch_inputs(batch, device, model.camera_input_kind)
    latents = model.encode_video(frames)
    scheduler = training_scheduler()
    generator = torch.Generator("cpu").manual_seed(seed)
    size = len(frames)
    keep = torch.zeros(size, dtype=torch.bool, device=device)
    rows = []
    for timestep in timesteps:
        noise = torch.randn(latents.shape, generator=generator).to(device)
        steps = torch.full((size,), timestep, device=device)
        noisy = scheduler.add_noise(latents, noise, steps)
        own, other, dropped = (
            model(noisy, steps, frames[:, 0], camera, drop_image=keep, drop_camera=drop).float()
            for camera, drop in ((cameras, keep), (cameras.roll(1, dims=0), keep), (cameras, ~keep))
        )
        rows.append(
            CameraUse(
                timestep=timestep,
                loss_own=F.mse_loss(own, noise).item(),
                loss_other=F.mse_loss(other, noise).item(),
                loss_dropped=F.mse_loss(dropped, noise).item(),
                prediction_change=((own - other).abs().mean() / own.abs().mean()).item(),
            )
        )
    return rows
