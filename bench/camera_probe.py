"""Can each method's camera path learn? (motionflow.training.camera_probe)

    python bench/camera_probe.py motionflow/checkpoints/motionflow-small     # a trained checkpoint
    python bench/camera_probe.py --config configs/motionflow-small.toml      # a method fresh on its base
    python bench/camera_probe.py --config a.toml --config b.toml --steps 300 --csv probe.csv

Fine-tunes a copy of each model on four clips that share one reference frame and differ only in the
camera's direction, and prints the camera's loss gap (own vs another clip's cameras) as it trains. A
`--config` model is what the trainer's first phase starts from: the method's new modules initialised on
the config's `model.base`; run it at the size that base was trained at (`--image-size`, `--frames`)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from bench.condition_use import checkpoint_label, checkpoint_method
from bench.console_table import print_and_save
from motionflow.checkpoints.depth import frame_latents_depth_net
from motionflow.models.video_denoiser import VideoDenoiser
from motionflow.training import Trainer
from motionflow.training.camera_probe import probe_camera_learning, shared_reference_batch
from motionflow.training.config import load_training_config
from motionflow.training.models import load_trainee


def probed_models(folders: list[Path], configs: list[str]) -> list[tuple[str, VideoDenoiser]]:
    models = [
        (checkpoint_label(folder), load_trainee(checkpoint_method(folder), folder)) for folder in folders
    ]
    for name in configs:
        config = load_training_config(name)
        models.append((f"{config.name} (fresh)", Trainer(config, "unused", progress=False).start_model(0)))
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, help="trained checkpoint folders")
    parser.add_argument("--config", action="append", default=[], help="training config: its method, fresh")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    parser.add_argument("--measure-every", type=int, default=50)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--csv", type=Path, default=None)
    args = parser.parse_args()
    if not args.folders and not args.config:
        parser.error("give checkpoint folders or --config")
    if args.threads:
        torch.set_num_threads(args.threads)
    batch = shared_reference_batch((args.image_size, args.image_size), args.frames)
    rows = []
    for name, model in probed_models(args.folders, args.config):
        start = time.perf_counter()
        points = probe_camera_learning(
            model.to(args.device),
            batch,
            args.steps,
            args.learning_rate,
            args.measure_every,
            depth_estimator=frame_latents_depth_net(model, args.device),
        )
        seconds = time.perf_counter() - start
        for point in points:
            for timestep, gap, own in zip(point.timesteps, point.camera_gaps, point.own_losses, strict=True):
                rows.append(
                    {
                        "model": name,
                        "step": point.step,
                        "timestep": timestep,
                        "camera_gap": gap,
                        "loss_own": own,
                    }
                )
        print(f"{name}: {args.steps} steps in {seconds:.0f} s")
    print_and_save(rows, args.csv)


if __name__ == "__main__":
    main()
