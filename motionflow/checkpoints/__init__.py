"""Checkpoints shipped with the package: MotionFlow folders written by `MotionFlowPipeline.save_pretrained`
(config.json, model.safetensors, scheduler/) and baseline folders (`BaselineModel.save_pretrained`), each
with its run's training_config.json, losses and summary (TRAINING.md beside them says how they were
trained); in the bundled form of `motionflow.checkpoints.bundle`, their frozen tensors in a shared folder
per backbone (small-shared/ for the eight equal-budget methods, ray-bias-shared/ for the CPU-trained
ray-bias model; neither is a checkpoint itself)."""

from __future__ import annotations

from pathlib import Path

from motionflow.errors import MissingWeightsError
from motionflow.models.motionflow import WEIGHTS_NAME

DEFAULT_CHECKPOINT = "motionflow-small"
CHECKPOINTS_ROOT = Path(__file__).resolve().parent


def bundled_checkpoints() -> list[str]:
    """Names of the checkpoint folders shipped with the package."""
    return sorted(
        path.name for path in CHECKPOINTS_ROOT.iterdir() if path.is_dir() and (path / WEIGHTS_NAME).is_file()
    )


def checkpoint_path(name: str = DEFAULT_CHECKPOINT) -> Path:
    """The folder of a bundled checkpoint; MissingWeightsError naming the ones that exist if absent."""
    folder = CHECKPOINTS_ROOT / name
    if not (folder / WEIGHTS_NAME).is_file():
        available = ", ".join(bundled_checkpoints()) or "none"
        raise MissingWeightsError(
            f"bundled checkpoint {name!r} not found: expected {folder / WEIGHTS_NAME} "
            f"(bundled checkpoints: {available}; train one with `mfbench train --config <config> --out DIR`)"
        )
    return folder
