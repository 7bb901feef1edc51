"""Training and bundled-checkpoint benchmark (CPU unless a GPU is present).

- seconds per optimizer step of the `small` training config (batch 1, 16 frames at 128x128) in each
  phase: the pretraining stand-in (video backbone only), stage 1 (new modules; the backbone frozen but
  back-propagated through), stage 2 (everything);
- seconds per 16-frame video of the bundled `motionflow` method (its default sampling steps and
  guidance, generated at 128x128 and resized to the 256x256 frames asked for).

Median of a few steps after one warm-up step. Run as `python -m bench.benchmarks.training [--threads N]`
(one thread is the fastest setting on a shared, busy CPU)."""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from baselines.motionflow_method import MotionFlowMethod
from motionflow.data.synthetic import render_synthetic_clip
from motionflow.models import MotionFlowComponents, MotionFlowModel
from motionflow.training import BackboneDenoiser, epsilon_loss, load_training_config, training_scheduler
from motionflow.training.data import fit_to_size, to_training_item
from motionflow.training.losses import step_generator
from motionflow.training.trainer import model_config_for

CONFIG = "motionflow-small"
TIMED_STEPS = 3


def seconds_per_step(model: nn.Module, parameters: list[nn.Parameter], batch: dict, steps: int) -> float:
    optimizer = torch.optim.Adam(parameters, lr=1e-5)
    scheduler = training_scheduler()
    frames, plucker = batch["frames"][None], batch["plucker"][None]
    times = []
    for step in range(steps + 1):
        started = time.perf_counter()
        latents = model.encode_video(frames)
        loss = epsilon_loss(
            model, latents, frames[:, 0], plucker, scheduler, step_generator(0, step), 0.1, 0.1
        )
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--steps", type=int, default=TIMED_STEPS, help="timed steps per phase")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = load_training_config(CONFIG)
    model_config = model_config_for(config)
    clip = render_synthetic_clip("indoor", "re10k", config.data.num_frames, config.data.image_size, seed=0)
    batch = to_training_item(*fit_to_size(clip.frames, clip.trajectory, config.data.image_size))
    print(
        f"training config {CONFIG!r}: batch {config.optim.batch_size}, {config.data.num_frames} frames at "
        f"{config.data.image_size[0]}x{config.data.image_size[1]}, {torch.get_num_threads()} CPU thread(s)"
    )

    torch.manual_seed(0)
    backbone = BackboneDenoiser(model_config, MotionFlowComponents.random(model_config)).train()
    print(
        f"  pretrain  {seconds_per_step(backbone, backbone.trainable_parameters(), batch, args.steps):7.2f} s/step"
    )
    model = MotionFlowModel(model_config).train()
    for stage in (1, 2):
        parameters = model.set_trainable_stage(stage)
        print(
            f"  stage {stage}   {seconds_per_step(model, parameters, batch, args.steps):7.2f} s/step "
            f"({sum(p.numel() for p in parameters) / 1e6:.2f} M trained parameters)"
        )

    method = MotionFlowMethod()
    reference = render_synthetic_clip("indoor", "re10k", 16, (256, 256), seed=1)
    method.generate(reference.frames[0], reference.trajectory.select(range(2)), 2)
    started = time.perf_counter()
    method.generate(reference.frames[0], reference.trajectory, 16, seed=0)
    print(
        f"bundled motionflow: {time.perf_counter() - started:.1f} s per 16-frame video "
        f"({method.steps} DDIM steps, guidance {method.guidance_scale}, 256x256 output)"
    )


if __name__ == "__main__":
    main()
