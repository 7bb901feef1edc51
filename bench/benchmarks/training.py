"""Training and bundled-checkpoint benchmark.

- seconds per optimizer step of a training config (`--config`, by default `motionflow-small`: 16 frames
  at 128x128) in each phase, at a chosen batch size, device and precision, encoding the frames in every
  step or, with `--cached-latents`, on latents encoded once (`data.cache_latents`): the pretraining
  stand-in (video backbone only),
  stage 1 (new modules; the backbone frozen but back-propagated through), stage 2 (everything), with
  the peak GPU memory of each on a GPU;
- seconds per 16-frame video of the bundled `motionflow` method on the CPU (its default sampling steps
  and guidance, generated at 128x128 and resized to the 256x256 frames asked for).

Median of a few steps after one warm-up step. Run as
`python -m bench.benchmarks.training [--config NAME] [--threads N] [--device cuda --batch-size 32 --precision bf16]`
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
from motionflow.training.data import batch_inputs, fit_to_size, to_training_item
from motionflow.training.losses import step_generator
from motionflow.training.trainer import model_config_for

CONFIG = "motionflow-small"
TIMED_STEPS = 3


PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def seconds_per_step(
    model: nn.Module,
    parameters: list[nn.Parameter],
    batch: dict,
    steps: int,
    precision: str,
    cached_latents: bool = False,
) -> tuple[float, float]:
    """(median seconds per step, peak GPU memory in GiB; 0 on the CPU). With `cached_latents` the
    frames are encoded once, before the timed steps, as a run with `data.cache_latents` does."""
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(parameters, lr=1e-5)
    scheduler = training_scheduler()
    frames, plucker = batch_inputs(batch, device, "plucker")
    dtype = PRECISIONS[precision]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    stored_latents = model.encode_video(frames) if cached_latents else None
    times = []
    for step in range(steps + 1):
        started = time.perf_counter()
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            latents = stored_latents if cached_latents else model.encode_video(frames)
            loss = epsilon_loss(
                model, latents, frames[:, 0], plucker, scheduler, step_generator(0, step), 0.1, 0.1
            )
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - started)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else 0.0
    return statistics.median(times[1:]), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=CONFIG, help="training config name or path")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--steps", type=int, default=TIMED_STEPS, help="timed steps per phase")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--precision", choices=sorted(PRECISIONS), default="fp32")
    parser.add_argument("--training-only", action="store_true", help="skip the generation timing")
    parser.add_argument(
        "--cached-latents", action="store_true", help="steps on stored latents (data.cache_latents)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    config = load_training_config(args.config)
    model_config = model_config_for(config)
    clip = render_synthetic_clip("indoor", "re10k", config.data.num_frames, config.data.image_size, seed=0)
    item = to_training_item(*fit_to_size(clip.frames, clip.trajectory, config.data.image_size))
    batch = {key: value.expand(args.batch_size, *value.shape) for key, value in item.items()}
    print(
        f"training config {args.config!r}: batch {args.batch_size}, {config.data.num_frames} frames at "
        f"{config.data.image_size[0]}x{config.data.image_size[1]}, {device}, {args.precision}, "
        f"{torch.get_num_threads()} CPU thread(s)" + (", cached latents" if args.cached_latents else "")
    )

    def report(label: str, model: nn.Module, parameters: list[nn.Parameter]) -> None:
        seconds, peak = seconds_per_step(
            model, parameters, batch, args.steps, args.precision, args.cached_latents
        )
        memory = f", peak {peak:.1f} GiB" if device.type == "cuda" else ""
        trained = sum(parameter.numel() for parameter in parameters) / 1e6
        print(f"  {label:9s} {seconds:8.3f} s/step ({trained:.2f} M trained parameters{memory})")

    torch.manual_seed(0)
    backbone = BackboneDenoiser(model_config, MotionFlowComponents.random(model_config)).to(device).train()
    report("pretrain", backbone, backbone.trainable_parameters())
    del backbone
    model = MotionFlowModel(model_config).to(device).train()
    for stage in (1, 2):
        report(f"stage {stage}", model, model.set_trainable_stage(stage))
    if args.training_only:
        return

    method = MotionFlowMethod()
    reference = render_synthetic_clip("indoor", "re10k", 16, (256, 256), seed=1)
    method.generate(reference.frames[0], reference.trajectory.select(range(2)), 2)
    started = time.perf_counter()
    method.generate(reference.frames[0], reference.trajectory, 16, seed=0)
    print(
        f"bundled motionflow: {time.perf_counter() - started:.1f} s per 16-frame video "
        f"({method.sampling.steps} DDIM steps, guidance {method.sampling.guidance_scale}, 256x256 output)"
    )


if __name__ == "__main__":
    main()
