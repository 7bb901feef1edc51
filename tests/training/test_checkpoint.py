import random

import numpy as np
import pytest
import torch
from diffusers.training_utils import EMAModel
from torch import nn

from motionflow.training.checkpoint import (
    TrainingProgress,
    checkpoint_folders,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)


def _trained_pair():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(5, 4)).pow(2).sum().backward()
        optimizer.step()
    return model, optimizer


def test_model_optimizer_rng_and_step_round_trip(tmp_path):
    model, optimizer = _trained_pair()
    torch.manual_seed(11)
    np.random.seed(12)
    random.seed(13)
    save_checkpoint(tmp_path / "checkpoint-3", model, optimizer, TrainingProgress(step=3, seconds=1.5))
    expected_draws = (torch.rand(3), np.random.rand(3), random.random())

    fresh = nn.Linear(4, 3)
    fresh_optimizer = torch.optim.Adam(fresh.parameters(), lr=1.0)
    progress = load_checkpoint(tmp_path / "checkpoint-3", fresh, fresh_optimizer)

    assert progress == TrainingProgress(step=3, seconds=1.5)
    assert torch.equal(fresh.weight, model.weight) and torch.equal(fresh.bias, model.bias)
    assert fresh_optimizer.param_groups[0]["lr"] == 1e-2
    for original, restored in zip(optimizer.state.values(), fresh_optimizer.state.values(), strict=True):
        assert all(torch.equal(original[key], restored[key]) for key in original)
    draws = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(draws[0], expected_draws[0])
    assert np.array_equal(draws[1], expected_draws[1]) and draws[2] == expected_draws[2]


def test_pruning_keeps_the_latest_checkpoints(tmp_path):
    model, optimizer = _trained_pair()
    for step in (1, 2, 10):
        save_checkpoint(tmp_path / f"checkpoint-{step}", model, optimizer, TrainingProgress(step, 0.0))
    (tmp_path / "checkpoint-20").mkdir()  # a half-written folder without its state file is ignored
    prune_checkpoints(tmp_path, keep=2)
    assert [path.name for path in checkpoint_folders(tmp_path)] == ["checkpoint-2", "checkpoint-10"]


def test_the_weight_average_round_trips_and_a_checkpoint_without_one_is_refused(tmp_path):
    model, optimizer = _trained_pair()
    average = EMAModel(model.parameters(), decay=0.9)
    for _ in range(3):
        with torch.no_grad():
            model.weight.add_(0.1)
        average.step(model.parameters())
    save_checkpoint(tmp_path / "with", model, optimizer, TrainingProgress(3, 0.0), average)
    save_checkpoint(tmp_path / "without", model, optimizer, TrainingProgress(3, 0.0))

    fresh = nn.Linear(4, 3)
    restored = EMAModel(fresh.parameters(), decay=0.5)
    load_checkpoint(tmp_path / "with", fresh, torch.optim.Adam(fresh.parameters()), ema=restored)
    assert restored.optimization_step == 3 and restored.decay == 0.9
    for expected, actual in zip(average.shadow_params, restored.shadow_params, strict=True):
        assert torch.equal(expected, actual)
    with pytest.raises(ValueError, match="holds none"):
        load_checkpoint(tmp_path / "without", fresh, torch.optim.Adam(fresh.parameters()), ema=restored)
