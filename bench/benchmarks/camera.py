"""Camera benchmark: Plücker embedding time at image and latent resolution, RealEstate10K parse time,
the bundled depth network's estimate, the forward warp of a reference through it, and the whole
depth-warped condition of one video at the bundled models' size (estimate, warp, VAE encode).

Run as `python -m bench.benchmarks.camera`. Times are medians over repeated runs on the CPU with the
current torch thread count (set it with OMP_NUM_THREADS or torch.set_num_threads)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import motionflow
from baselines.motionflow_method import DEPTH_CONDITION
from motionflow.camera.depth_warp import forward_warp
from motionflow.camera.plucker import plucker_embedding
from motionflow.camera.presets import make_preset
from motionflow.camera.re10k_format import read_re10k
from motionflow.checkpoints.depth import load_depth_net
from motionflow.models.inputs import image_to_tensor
from motionflow.pipeline import depth_warped_latents

RE10K_DIR = Path(motionflow.__file__).parent / "data" / "assets" / "re10k"
IMAGE_SIZE = (256, 384)
MODEL_SIZE = (128, 128)
LATENT_GRID = (32, 48)
NUM_FRAMES = 16


def median_seconds(function: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of `function` over `repeats` runs after `warmup` untimed ones."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    trajectory = make_preset("dolly_in+pan_left", num_frames=NUM_FRAMES, image_size=IMAGE_SIZE)
    c2w = torch.from_numpy(trajectory.c2w).float()
    intrinsics = torch.from_numpy(trajectory.intrinsics).float()
    print(f"torch {torch.__version__}, CPU, {torch.get_num_threads()} thread(s), float32")

    full = median_seconds(lambda: plucker_embedding(c2w, intrinsics, IMAGE_SIZE), repeats=9)
    print(
        f"Plücker embedding {NUM_FRAMES} x {IMAGE_SIZE[0]} x {IMAGE_SIZE[1]}: {full * 1e3:.1f} ms (median of 9)"
    )
    latent = median_seconds(
        lambda: plucker_embedding(c2w, intrinsics, IMAGE_SIZE, grid_size=LATENT_GRID), repeats=51
    )
    print(
        f"Plücker embedding {NUM_FRAMES} x {LATENT_GRID[0]} x {LATENT_GRID[1]} (latent grid): "
        f"{latent * 1e3:.2f} ms (median of 51)"
    )

    files = sorted(RE10K_DIR.glob("*.txt"))
    per_file = median_seconds(lambda: [read_re10k(path, IMAGE_SIZE) for path in files], repeats=21) / len(
        files
    )
    print(
        f"RealEstate10K parse: {per_file * 1e3:.2f} ms per file ({len(files)} files of 16 frames, median of 21)"
    )

    image = np.random.default_rng(0).integers(0, 256, (*IMAGE_SIZE, 3), dtype=np.uint8)
    depth_net = load_depth_net()
    estimate = median_seconds(lambda: depth_net.estimate_depth(image), repeats=9)
    print(
        f"depth estimate of one {IMAGE_SIZE[0]} x {IMAGE_SIZE[1]} image: {estimate * 1e3:.1f} ms (median of 9)"
    )
    depth = depth_net.estimate_depth(image)
    warp = median_seconds(lambda: forward_warp(image, depth, trajectory), repeats=5)
    print(
        f"forward warp into {NUM_FRAMES} frames of {IMAGE_SIZE[0]} x {IMAGE_SIZE[1]}: {warp * 1e3:.0f} ms "
        "(median of 5)"
    )

    codec = DEPTH_CONDITION().pipeline().model.codec
    reference = image_to_tensor(image, MODEL_SIZE)[None]
    small = [trajectory.resized(MODEL_SIZE)]
    with torch.no_grad():
        condition = median_seconds(
            lambda: depth_warped_latents(codec, reference, small, depth_net), repeats=5
        )
    print(
        f"depth-warped condition of one {NUM_FRAMES}-frame {MODEL_SIZE[0]} x {MODEL_SIZE[1]} video (estimate, "
        f"warp, {DEPTH_CONDITION.bundled_checkpoint} VAE encode): {condition * 1e3:.0f} ms (median of 5)"
    )


if __name__ == "__main__":
    main()
