"""Does each trained model use its reference image and camera input? (motionflow.training.condition_use)

    python bench/condition_use.py                                  # every bundled checkpoint
    python bench/condition_use.py runs/motionflow-small/model --csv condition_use.csv

A folder's method comes from the `training_config.json` in it or beside it (a run's `model` folder).
Prints, per checkpoint, condition and timestep, the epsilon loss with the clips' own reference images /
cameras, another clip's and none, and how much the prediction changes under another clip's."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from bench.console_table import print_and_save
from motionflow.checkpoints import bundled_checkpoints, checkpoint_path
from motionflow.checkpoints.depth import frame_latents_depth_net
from motionflow.training.condition_use import held_out_batch, measure_condition_use
from motionflow.training.config import trained_method
from motionflow.training.models import load_trainee


def checkpoint_method(folder: Path) -> str:
    try:
        return trained_method(folder)
    except FileNotFoundError as error:
        raise SystemExit(str(error)) from None


def checkpoint_label(folder: Path) -> str:
    """A checkpoint's name: its folder's, or its run's for a run's `model` folder."""
    return folder.name if folder.name != "model" else folder.parent.name


def held_out_checkpoints_parser(description: str) -> argparse.ArgumentParser:
    """The arguments of a diagnostic over checkpoint folders on held-out synthetic clips: FOLDER ...
    (`checkpoint_folders`), --clips, --image-size, --frames and --csv."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--clips", type=int, default=4, help="held-out synthetic clips")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--csv", type=Path, default=None)
    return parser


def checkpoint_folders(args: argparse.Namespace) -> list[Path]:
    """The folders given, else every bundled checkpoint."""
    return args.folders or [checkpoint_path(name) for name in bundled_checkpoints()]


def main() -> None:
    parser = held_out_checkpoints_parser(__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    folders = checkpoint_folders(args)
    batch = held_out_batch(args.clips, (args.image_size, args.image_size), args.frames)
    rows = []
    for folder in folders:
        model = load_trainee(checkpoint_method(folder), folder).to(args.device)
        depth_net = frame_latents_depth_net(model, args.device)
        for result in measure_condition_use(model, batch, depth_estimator=depth_net):
            rows.append({"checkpoint": checkpoint_label(folder)} | result.as_dict())
    print_and_save(rows, args.csv)


if __name__ == "__main__":
    main()
