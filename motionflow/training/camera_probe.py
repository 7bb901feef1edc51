"""Can a method's camera path learn at all? A probe that takes minutes on a CPU.

`condition_use` asks whether a trained model uses its cameras on ordinary clips, where the reference
image already predicts much of the motion and the camera adds little to the loss. The probe removes that
excuse: its clips share one reference frame (one synthetic scene seen from one start pose) and differ
only in the direction the camera moves, so the noise of their later frames can be predicted only from the
cameras. A model is fine-tuned on these clips alone and the loss gap between own and swapped cameras is
measured as it trains: a path that can carry the camera opens that gap within a few hundred steps; one
that stays at zero cannot learn the camera from this data, whatever else it learns."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import default_collate

from motionflow.camera.trajectory import Trajectory
from motionflow.data.synthetic import render_views, synthetic_setup
from motionflow.models.video_denoiser import VideoDenoiser
from motionflow.pipeline import DepthEstimator
from motionflow.training.condition_use import (
    DIAGNOSTIC_TIMESTEPS,
    frame_latent_keywords,
    measure_condition_use,
)
from motionflow.training.data import batch_inputs, batch_trajectories, to_training_item
from motionflow.training.losses import epsilon_loss, step_generator, training_scheduler

PROBE_DIRECTIONS = (("right", 0, 1.0), ("left", 0, -1.0), ("down", 1, 1.0), ("up", 1, -1.0))
"""(name, camera axis, sign): the camera translates along its own x (right) or y (down) axis."""


def shared_reference_batch(
    image_size: tuple[int, int], num_frames: int, step: float = 0.15, scene_seed: int = 500
) -> dict[str, torch.Tensor]:
    """A collated batch of four synthetic clips with the same first frame, the camera moving `step`
    scene units per frame right, left, down and up (indoor scene `scene_seed`, held out from training)."""
    if num_frames < 2:
        raise ValueError(f"the probe needs two frames or more, got {num_frames}")
    scene, source = synthetic_setup("indoor", "re10k", 2, image_size, seed=scene_seed)
    start = source.c2w[0]
    items = []
    for _, axis, sign in PROBE_DIRECTIONS:
        c2w = np.repeat(start[None], num_frames, axis=0)
        c2w[:, :3, 3] = start[:3, 3] + sign * step * np.arange(num_frames)[:, None] * start[:3, axis]
        trajectory = Trajectory(
            c2w=c2w, intrinsics=np.repeat(source.intrinsics[:1], num_frames, axis=0), image_size=image_size
        )
        items.append(to_training_item(render_views(scene, trajectory).frames, trajectory))
    return default_collate(items)


@dataclass(frozen=True)
class ProbePoint:
    """The camera's loss gap (own vs another clip's cameras, relative) at each probe timestep after
    `step` fine-tuning steps, and the loss with the own cameras."""

    step: int
    timesteps: tuple[int, ...]
    camera_gaps: tuple[float, ...]
    own_losses: tuple[float, ...]


def probe_camera_learning(
    model: VideoDenoiser,
    batch: dict[str, torch.Tensor],
    steps: int,
    learning_rate: float = 2e-4,
    measure_every: int = 50,
    timesteps: tuple[int, ...] = DIAGNOSTIC_TIMESTEPS,
    seed: int = 0,
    depth_estimator: DepthEstimator | None = None,
) -> list[ProbePoint]:
    """Fine-tunes a copy of `model` (every parameter, Adam, the training loss with 10% condition
    dropout) on `batch` for `steps` steps; measures the camera's loss gap before the first step, every
    `measure_every` steps and after the last. `model` itself is left as it was. A model conditioned on
    depth-warped frames sees each reference warped through `depth_estimator`'s depth."""
    if model.camera_input_kind is None:
        raise ValueError("the model has no camera input to probe")
    trainee = copy.deepcopy(model)
    parameters = trainee.set_trainable_stage(2)
    optimizer = torch.optim.Adam(parameters, lr=learning_rate)
    scheduler = training_scheduler()
    frames, cameras = batch_inputs(batch, trainee.device, trainee.camera_input_kind)
    latents = trainee.encode_video(frames)  # the codec is frozen: the same latents at every step
    with torch.no_grad():
        frame_keywords = frame_latent_keywords(
            trainee, frames[:, 0], batch_trajectories(batch), depth_estimator
        )
    points = []
    for step in range(steps + 1):
        if step % measure_every == 0 or step == steps:
            rows = [
                row
                for row in measure_condition_use(
                    trainee, batch, timesteps, seed=seed, depth_estimator=depth_estimator
                )
                if row.condition == "camera"
            ]
            points.append(
                ProbePoint(
                    step,
                    tuple(row.timestep for row in rows),
                    tuple(row.loss_gap for row in rows),
                    tuple(row.loss_own for row in rows),
                )
            )
        if step == steps:
            break
        trainee.train()
        loss = epsilon_loss(
            trainee,
            latents,
            frames[:, 0],
            cameras,
            scheduler,
            step_generator(seed, step),
            drop_image_probability=0.1,
            drop_camera_probability=0.1,
            **frame_keywords,
        )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return points
