"""MotionFlow model benchmark.

- small configuration on the CPU: seconds per 16-frame 128x128 video (25 DDIM steps, guidance on, so
  two condition variants per step), for both reference-network timestep modes;
- full configuration: parameter counts per module, built on the meta device (no memory), beside the
  sizes of the paper's pretrained components;
- on a CUDA GPU only: peak memory and seconds per 16-frame 256x384 video of the full configuration in
  float16 (random weights: the speed does not depend on their values).

Run as `python -m bench.benchmarks.model`."""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from motionflow.camera.presets import make_preset
from motionflow.models import MotionFlowConfig, MotionFlowModel
from motionflow.pipeline import MotionFlowPipeline

STEPS = 25
NUM_FRAMES = 16
PAPER_COMPONENTS = {
    "SD1.5 UNet (reference motion network)": 859.5e6,
    "AnimateDiff v1-5-2 motion modules": 453.2e6,
    "DINO ViT-S/16": 21.7e6,
    "CLIP ViT-L/14 vision + projection": 303.2e6,
    "SD VAE": 83.7e6,
}


def count(parameters) -> int:
    return sum(parameter.numel() for parameter in parameters)


def count_where(module: nn.Module, new_modules: bool) -> int:
    """Parameters of the new MotionFlow attention modules (processors), or of everything else."""
    return count(p for name, p in module.named_parameters() if (".processor." in name) == new_modules)


def module_counts(model: MotionFlowModel) -> dict[str, int]:
    """Parameters per part; the new MotionFlow modules (processors) are counted apart from their UNets."""
    video = model.video_unet
    counts = {
        "video UNet: spatial (SD1.5 layers)": count(
            p
            for name, p in video.named_parameters()
            if "motion_modules" not in name and ".processor." not in name
        ),
        "video UNet: motion modules (AnimateDiff)": count(
            p for name, p in video.named_parameters() if "motion_modules" in name
        ),
        "video UNet: reference + object attention, masks (new)": count_where(video, new_modules=True),
        "trajectory encoder (new)": count(model.trajectory_encoder.parameters()),
        "image encoder (CLIP, frozen)": count(model.image_encoder.parameters()),
        "latent codec (frozen)": count(model.codec.parameters()),
    }
    if model.reference_net is not None:
        counts["reference motion network (SD1.5 UNet, trimmed)"] = count_where(model.reference_net, False)
        counts["reference network: Eq. 4 camera K/V (new)"] = count_where(model.reference_net, True)
    if model.semantic_encoder is not None:
        counts["semantic encoder (DINO)"] = count(model.semantic_encoder.parameters())
        counts["semantic -> latent projection (new)"] = count(model.semantic_to_latent.parameters())
    counts["total"] = count(model.parameters())
    counts["stage 1 trained"] = count(model.stage_parameters(1))
    counts["stage 2 trained"] = count(model.stage_parameters(2))
    return counts


def print_counts(title: str, counts: dict[str, int]) -> None:
    print(title)
    for name, value in counts.items():
        print(f"  {name:<55} {value / 1e6:10.2f} M")


def time_video(pipeline: MotionFlowPipeline, size: tuple[int, int], repeats: int = 1) -> float:
    """Seconds per video (median of `repeats` after nothing: the first video includes warm-up)."""
    reference = np.random.default_rng(0).integers(0, 256, size=(*size, 3), dtype=np.uint8)
    trajectory = make_preset("orbit_left", num_frames=NUM_FRAMES, image_size=size)
    times = []
    for seed in range(repeats):
        start = time.perf_counter()
        pipeline(reference, trajectory, num_frames=NUM_FRAMES, seed=seed, steps=STEPS)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def materialize_random(model: MotionFlowModel, device: str, dtype: torch.dtype) -> MotionFlowModel:
    """Random values for the meta parameters of an `empty` model, allocated directly on `device`."""
    state = {
        name: torch.randn(tensor.shape, device=device, dtype=dtype) * 0.02
        for name, tensor in model.state_dict().items()
        if tensor.is_meta
    }
    model.load_state_dict(state, strict=False, assign=True)
    return model.to(device=device, dtype=dtype)


def small_cpu_benchmark() -> None:
    print(
        f"small configuration, CPU, {torch.get_num_threads()} thread(s), float32, {STEPS} DDIM steps, guidance 3"
    )
    for mode in ("denoising", "zero"):
        torch.manual_seed(0)
        config = MotionFlowConfig.small(reference_timestep=mode)
        pipeline = MotionFlowPipeline(MotionFlowModel(config))
        seconds = time_video(pipeline, config.image_size)
        height, width = config.image_size
        print(
            f"  reference_timestep={mode:<9}: {seconds:6.1f} s per {NUM_FRAMES}-frame {height}x{width} video "
            f"({seconds / STEPS:.2f} s per step)"
        )
    print_counts("small configuration parameters", module_counts(MotionFlowModel(MotionFlowConfig.small())))


def full_counts() -> None:
    model = MotionFlowModel.empty(MotionFlowConfig.full())
    print_counts("full configuration parameters (meta device)", module_counts(model))
    print("paper's pretrained components, for comparison")
    for name, value in PAPER_COMPONENTS.items():
        print(f"  {name:<55} {value / 1e6:10.2f} M")


def full_gpu_benchmark() -> None:
    if not torch.cuda.is_available():
        print("full configuration on GPU: no GPU")
        return
    config = MotionFlowConfig.full()
    model = materialize_random(MotionFlowModel.empty(config), "cuda", torch.float16)
    pipeline = MotionFlowPipeline(model)
    torch.cuda.reset_peak_memory_stats()
    time_video(pipeline, config.image_size)  # warm-up
    seconds = time_video(pipeline, config.image_size, repeats=3)
    peak = torch.cuda.max_memory_allocated() / 2**30
    height, width = config.image_size
    print(
        f"full configuration, {torch.cuda.get_device_name()}, float16: {seconds:.1f} s per {NUM_FRAMES}-frame "
        f"{height}x{width} video ({STEPS} steps, guidance 3), peak memory {peak:.1f} GiB"
    )


def main() -> None:
    full_counts()
    small_cpu_benchmark()
    full_gpu_benchmark()


if __name__ == "__main__":
    main()
