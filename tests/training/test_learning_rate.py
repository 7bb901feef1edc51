"""A phase's learning-rate schedule: linear warm-up, then constant or decaying to a final rate."""

import pytest
import torch
from diffusers.optimization import get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup

from motionflow.training import train
from motionflow.training.config import PhaseConfig
from tests.training.helpers import tiny_training_config
from tests.training.test_trainer import read_losses_column


def _diffusers_rates(make_schedule, steps: int, warmup: int, learning_rate: float) -> list[float]:
    """The rate of each optimizer step under diffusers' schedule, one step later: diffusers starts its
    warm-up at a rate of 0, the phases at learning_rate / warmup_steps."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=learning_rate)
    schedule = make_schedule(optimizer, num_warmup_steps=warmup, num_training_steps=steps)
    rates = []
    for _ in range(steps):
        optimizer.step()
        schedule.step()
        rates.append(optimizer.param_groups[0]["lr"])
    return rates


@pytest.mark.parametrize(
    ("decay", "make_schedule"),
    [("cosine", get_cosine_schedule_with_warmup), ("linear", get_linear_schedule_with_warmup)],
)
def test_a_decaying_rate_follows_the_diffusers_schedule_to_zero(decay, make_schedule):
    phase = PhaseConfig("stage2", steps=40, learning_rate=2e-4, warmup_steps=5, decay=decay)
    rates = [phase.learning_rate_at(step) for step in range(40)]
    assert rates == pytest.approx(_diffusers_rates(make_schedule, 40, 5, 2e-4), abs=1e-12)
    assert rates[4] == pytest.approx(2e-4) and rates[-1] == pytest.approx(0.0, abs=1e-12)


def test_the_rate_decays_to_the_final_rate_and_is_constant_by_default():
    cosine = PhaseConfig("stage2", steps=10, learning_rate=1e-3, decay="cosine", final_learning_rate=1e-4)
    assert cosine.learning_rate_at(0) < 1e-3
    assert cosine.learning_rate_at(4) == pytest.approx(5.5e-4)
    assert cosine.learning_rate_at(9) == pytest.approx(1e-4)
    constant = PhaseConfig("stage2", steps=10, learning_rate=1e-3, warmup_steps=4)
    assert [constant.learning_rate_at(step) for step in (0, 3, 4, 9)] == pytest.approx(
        [2.5e-4, 1e-3, 1e-3, 1e-3]
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"decay": "step"}, "decay must be one of constant, cosine, linear"),
        ({"decay": "cosine", "final_learning_rate": 2e-3}, "final_learning_rate"),
        ({"decay": "cosine", "warmup_steps": 10}, "warmup_steps < steps"),
    ],
)
def test_an_unusable_schedule_is_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        PhaseConfig("stage2", steps=10, learning_rate=1e-3, **settings)


def test_the_trainer_steps_at_the_scheduled_rates(tmp_path):
    phase = {"name": "stage2", "steps": 4, "learning_rate": 1e-3, "warmup_steps": 1, "decay": "linear"}
    train(tiny_training_config([phase]), tmp_path / "run", progress=False)
    assert read_losses_column(tmp_path / "run", "learning_rate") == pytest.approx(
        [1e-3, 2 / 3e3, 1 / 3e3, 0.0]
    )
