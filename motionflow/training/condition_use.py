"""Does a trained model use its conditions, the reference image and the cameras?

On held-out synthetic clips, noised at a few fixed timesteps, the model's noise prediction with the clips'
own condition is compared with another clip's (the batch rolled by one) and with the condition dropped.
A model that follows a condition predicts differently with another clip's and has a lower epsilon loss
with its own; one that ignores it gives the same prediction whatever it is given. This separates "the
condition's path is not learnt yet" from "the generator is weak" before any video is sampled or SfM runs."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import default_collate

from motionflow.camera.trajectory import Trajectory
from motionflow.pipeline import DepthEstimator, depth_warped_latents
from motionflow.training.config import DIAGNOSTIC_TIMESTEPS, HELD_OUT_SEED_OFFSET, DataSettings
from motionflow.training.data import (
    ClipItems,
    FolderClipItems,
    SyntheticClipItems,
    UnusableClip,
    batch_inputs,
    batch_trajectories,
)
from motionflow.training.losses import training_scheduler


@dataclass(frozen=True)
class ConditionUse:
    """For one condition ("image" or "camera") at one timestep: epsilon MSE with the clips' own condition,
    another clip's, none; and the mean absolute change of the prediction under another clip's condition
    relative to its mean absolute value."""

    condition: str
    timestep: int
    loss_own: float
    loss_other: float
    loss_dropped: float
    prediction_change: float

    @property
    def loss_gap(self) -> float:
        """How much higher the loss is with another clip's condition, relative to the own condition's."""
        return (self.loss_other - self.loss_own) / self.loss_own

    def as_dict(self) -> dict[str, str | int | float]:
        """Every field and the loss gap: one row of a table."""
        return asdict(self) | {"loss_gap": self.loss_gap}


def held_out_items(
    num_clips: int, image_size: tuple[int, int], num_frames: int, motion_variants: int = 1, seed: int = 0
) -> SyntheticClipItems:
    """Synthetic clips no training run sees (scene seeds from HELD_OUT_SEED_OFFSET on), `motion_variants`
    per scene (`DataSettings.motion_variants`; 1: the motion as sampled)."""
    settings = DataSettings(
        image_size=image_size,
        num_frames=num_frames,
        seed_offset=HELD_OUT_SEED_OFFSET,
        num_clips=num_clips,
        num_workers=0,
        motion_variants=motion_variants,
    )
    return SyntheticClipItems(settings, seed=seed)


def held_out_batch(num_clips: int, image_size: tuple[int, int], num_frames: int, seed: int = 0) -> dict:
    """A collated batch of synthetic clips no training run sees."""
    return validation_batch(DataSettings(image_size=image_size, num_frames=num_frames), num_clips, seed)


def validation_batch(data: DataSettings, num_clips: int, seed: int = 0, split: str = "test") -> dict:
    """Up to `num_clips` held-out clips like those `data` trains on, collated: synthetic scenes from
    HELD_OUT_SEED_OFFSET on (with the motion as sampled), or the first clips of a dataset folder's `split`."""
    settings = replace(data, num_workers=0, cache="", cache_latents=False)
    items: ClipItems
    if data.source == "synthetic":
        settings = replace(settings, seed_offset=HELD_OUT_SEED_OFFSET, num_clips=num_clips, motion_variants=1)
        items = SyntheticClipItems(settings, seed=seed)
    else:
        items = FolderClipItems(replace(settings, split=split), seed=seed)
    usable = []
    for index in range(len(items)):
        if len(usable) == num_clips:
            break
        try:
            usable.append(items.item(index))
        except UnusableClip as error:
            warnings.warn(f"validation: skipping {error}", stacklevel=2)
    if len(usable) < 2:
        raise ValueError(
            f"{data.root}: split {split!r} has {len(usable)} usable clip(s); validation needs two or more"
        )
    return default_collate(usable)


def frame_latent_keywords(
    model: nn.Module,
    references: torch.Tensor,
    trajectories: list[Trajectory],
    depth_estimator: DepthEstimator | None,
) -> dict[str, torch.Tensor]:
    """The `frame_latents` keyword of a model conditioned on depth-warped frames (`takes_frame_latents`):
    the references [B, 3, H, W] warped into their trajectories' cameras through `depth_estimator`'s
    depth and encoded by the model's codec; no keyword for any other model."""
    if not model.takes_frame_latents:
        return {}
    return {"frame_latents": depth_warped_latents(model.codec, references, trajectories, depth_estimator)}


@torch.no_grad()
def measure_condition_use(
    model: nn.Module,
    batch: dict,
    timesteps: tuple[int, ...] = DIAGNOSTIC_TIMESTEPS,
    seed: int = 0,
    depth_estimator: DepthEstimator | None = None,
) -> list[ConditionUse]:
    """`model`: a trainee (`motionflow.training.models`); `batch` of 2 clips or more. Rows for the
    reference image, and for the cameras when the model takes a camera input. A model that
    `takes_frame_latents` sees each reference warped into each camera through `depth_estimator`'s depth
    (another clip's image or cameras: the warp of that pair)."""
    if len(batch["frames"]) < 2:
        raise ValueError("the batch needs two clips or more (one's conditions are tried on the other)")
    model = model.eval()
    device = next(model.parameters()).device
    frames, cameras = batch_inputs(batch, device, model.camera_input_kind)
    references = frames[:, 0]
    latents = model.encode_video(frames)
    scheduler = training_scheduler()
    generator = torch.Generator("cpu").manual_seed(seed)
    size = len(frames)
    keep = torch.zeros(size, dtype=torch.bool, device=device)
    conditions = ("image", "camera") if cameras is not None else ("image",)
    trajectories = batch_trajectories(batch)

    def frame_inputs(reference: torch.Tensor, camera_shift: int) -> dict[str, torch.Tensor]:
        """Each reference warped by the cameras of the clip `camera_shift` places before it."""
        shifted = (
            trajectories[-camera_shift:] + trajectories[:-camera_shift] if camera_shift else trajectories
        )
        return frame_latent_keywords(model, reference, shifted, depth_estimator)

    def prepared_call(
        reference: torch.Tensor,
        camera: torch.Tensor | None,
        drop_image: torch.Tensor,
        drop_camera: torch.Tensor,
        camera_shift: int,
    ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """The model on these inputs as a function of (noisy latents, timesteps): the inputs do not
        change with the timestep, so the warped frames are encoded once per pair."""
        frame_keywords = frame_inputs(reference, camera_shift)
        return lambda noisy, steps: model(
            noisy, steps, reference, camera, drop_image=drop_image, drop_camera=drop_camera, **frame_keywords
        ).float()

    own_call = prepared_call(references, cameras, keep, keep, 0)
    changed_calls = {
        condition: [
            prepared_call(*inputs) for inputs in _changed_inputs(condition, references, cameras, keep)
        ]
        for condition in conditions
    }
    rows = []
    for timestep in timesteps:
        noise = torch.randn(latents.shape, generator=generator).to(device)
        steps = torch.full((size,), timestep, device=device)
        noisy = scheduler.add_noise(latents, noise, steps)
        own = own_call(noisy, steps)
        for condition in conditions:
            other, dropped = (call(noisy, steps) for call in changed_calls[condition])
            rows.append(
                ConditionUse(
                    condition=condition,
                    timestep=timestep,
                    loss_own=F.mse_loss(own, noise).item(),
                    loss_other=F.mse_loss(other, noise).item(),
                    loss_dropped=F.mse_loss(dropped, noise).item(),
                    prediction_change=((own - other).abs().mean() / own.abs().mean()).item(),
                )
            )
    return rows


def _changed_inputs(
    condition: str, references: torch.Tensor, cameras: torch.Tensor | None, keep: torch.Tensor
) -> tuple[tuple, tuple]:
    """The model inputs (reference images, cameras, drop_image, drop_camera, how many clips back the
    cameras come from) with `condition` taken from another clip, and with it dropped."""
    if condition == "image":
        return (references.roll(1, dims=0), cameras, keep, keep, 0), (references, cameras, ~keep, keep, 0)
    return (references, cameras.roll(1, dims=0), keep, keep, 1), (references, cameras, keep, ~keep, 0)
