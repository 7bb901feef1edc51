"""Tiny training configs that run a step in well under a second on a CPU."""

from __future__ import annotations

from typing import Any

import torch

from motionflow.training import Trainer
from motionflow.training.config import TrainingConfig

TINY_MODEL = dict(
    block_out_channels=[16, 32],
    layers_per_block=1,
    attention_heads=2,
    cross_attention_dim=16,
    norm_num_groups=4,
    latent_factor=4,
    encoder_width=16,
    trajectory_attention_head_dim=8,
)

DEPTH_WARPED_CONDITION = dict(latent_codec="vae", image_latent_condition=True, depth_warped_condition=True)
"""Model overrides of a MotionFlow conditioned on depth-warped frames (on top of TINY_MODEL)."""


def tiny_training_config(phases: list[dict[str, Any]], **sections: Any) -> TrainingConfig:
    """32x32 synthetic clips of 4 frames, one thread, no data workers, a checkpoint every step."""
    values: dict[str, Any] = {
        "name": "tiny",
        "seed": 3,
        "model": {"preset": "small", "overrides": TINY_MODEL},
        "data": {"image_size": [32, 32], "num_frames": 4, "source_frames": 40, "num_workers": 0},
        "optim": {"checkpoint_every": 1, "keep_checkpoints": 2, "cpu_threads": 1},
        "phases": phases,
    }
    for key, value in sections.items():
        values[key] = {**values.get(key, {}), **value}
    return TrainingConfig.from_dict(values)


def tiny_trainee(method: str = "motionflow", **overrides: Any) -> torch.nn.Module:
    """`method` fresh on a random tiny backbone, as a trainer's first phase starts it; `overrides`
    replace fields of TINY_MODEL's config."""
    config = tiny_training_config(
        [{"name": "stage2", "steps": 1, "learning_rate": 1e-3}],
        model={"method": method, "overrides": {**TINY_MODEL, **overrides}},
    )
    return Trainer(config, "unused", progress=False).start_model(0)
