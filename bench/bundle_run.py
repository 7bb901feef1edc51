"""Writes a training run's model as a bundled checkpoint folder (float16, its frozen tensors in a shared
folder, `motionflow.checkpoints.bundle`) with the run's settings, losses, validation, summary and curve.

    python bench/bundle_run.py runs/cpu128-ray-bias-high-noise-fourth motionflow/checkpoints/motionflow-small-ray-bias \\
        --shared motionflow/checkpoints/ray-bias-shared

`--image-size` / `--frames` set the size the checkpoint generates at, where it is not the size it was
trained at (a convolutional model whose attention sees rays, not positions, carries over, as the 64x64
run configs/cpu128-ray-bias.toml starts from); its training_config.json keeps the training size."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from motionflow.checkpoints.bundle import bundle_checkpoint
from motionflow.models.config import CONFIG_NAME
from motionflow.training.config import TRAINING_CONFIG_FILE
from motionflow.training.plots import plot_training_curve
from motionflow.training.trainer import LOSSES_FILE, MODEL_FOLDER, SUMMARY_FILE, VALIDATION_FILE
from motionflow.utils.io import atomic_write_json

RUN_RECORDS = (TRAINING_CONFIG_FILE, LOSSES_FILE, SUMMARY_FILE)


def bundle_run(
    run: Path, target: Path, shared: Path, generation_size: tuple[int, int, int] | None = None
) -> Path:
    """`run`'s model bundled into the new folder `target`; `generation_size` (height, width, frames)
    replaces the model config's image size and frame count."""
    bundle_checkpoint(run / MODEL_FOLDER, target, shared)
    for name in RUN_RECORDS:
        shutil.copy2(run / name, target / name)
    if (run / VALIDATION_FILE).is_file():
        shutil.copy2(run / VALIDATION_FILE, target / VALIDATION_FILE)
    settings = json.loads((run / TRAINING_CONFIG_FILE).read_text())
    phases = " and ".join(phase["name"] for phase in settings["phases"])
    base = settings["model"]["base"] or settings["model"]["init"]
    plot_training_curve(run, target / "training_curve.png", title=f"{run.name}: {phases} on {base}")
    if generation_size is not None:
        config = json.loads((target / CONFIG_NAME).read_text())
        height, width, frames = generation_size
        atomic_write_json(
            target / CONFIG_NAME, {**config, "image_size": [height, width], "num_frames": frames}
        )
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a training run folder (its model/ complete)")
    parser.add_argument("target", type=Path, help="the new checkpoint folder")
    parser.add_argument("--shared", type=Path, required=True, help="folder of the shared frozen tensors")
    parser.add_argument("--image-size", type=int, default=None, help="generate at this square size")
    parser.add_argument("--frames", type=int, default=None, help="generate this many frames")
    args = parser.parse_args()
    if (args.image_size is None) != (args.frames is None):
        parser.error("--image-size and --frames go together")
    size = None if args.image_size is None else (args.image_size, args.image_size, args.frames)
    print(bundle_run(args.run, args.target, args.shared, size))


if __name__ == "__main__":
    main()
