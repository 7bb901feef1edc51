import pytest
import torch
import torch.nn.functional as F
from torch import nn

from motionflow.training import losses, train
from motionflow.training.config import NUM_TRAIN_TIMESTEPS, OptimSettings
from motionflow.training.losses import (
    epsilon_loss,
    sample_timesteps,
    step_generator,
    timestep_weights,
    training_scheduler,
)
from tests.training.helpers import tiny_training_config


class ConstantPrediction(nn.Module):
    """Predicts zero noise whatever the input: its loss is the mean square of the drawn noise."""

    def forward(self, noisy, timesteps, reference, camera, drop_image=None, drop_camera=None):
        return torch.zeros_like(noisy)


def test_min_snr_weights_follow_their_definition():
    scheduler = training_scheduler()
    timesteps = torch.tensor([0, 50, 300, 999])
    alphas = scheduler.alphas_cumprod[timesteps].float()
    snr = alphas / (1 - alphas)
    weights = timestep_weights(scheduler, timesteps, "min_snr", min_snr_gamma=5.0)
    torch.testing.assert_close(weights, torch.minimum(snr, torch.tensor(5.0)) / snr)
    assert weights[0] < weights[1] < 1 and weights[-1] == 1
    assert torch.equal(timestep_weights(scheduler, timesteps, "none"), torch.ones(4))
    with pytest.raises(ValueError, match="loss weighting"):
        timestep_weights(scheduler, timesteps, "snr+1")


def test_v_weights_turn_the_epsilon_error_into_the_v_prediction_error_of_diffusers():
    scheduler = training_scheduler()
    generator = torch.Generator().manual_seed(0)
    timesteps = torch.tensor([0, 200, 600, 999])
    clean, noise, predicted = (torch.randn(4, 4, 2, 8, 8, generator=generator) for _ in range(3))
    noisy = scheduler.add_noise(clean, noise, timesteps)
    alphas = scheduler.alphas_cumprod[timesteps].float().reshape(-1, 1, 1, 1, 1)
    predicted_clean = (noisy - (1 - alphas).sqrt() * predicted) / alphas.sqrt()
    predicted_v = scheduler.get_velocity(predicted_clean, predicted, timesteps)
    v_error = (predicted_v - scheduler.get_velocity(clean, noise, timesteps)).square().flatten(1).mean(1)
    epsilon_error = (predicted - noise).square().flatten(1).mean(1)
    weights = timestep_weights(scheduler, timesteps, "v")
    torch.testing.assert_close(weights * epsilon_error, v_error, rtol=1e-4, atol=1e-6)
    assert torch.all(weights[1:] > weights[:-1])


def test_the_weighted_loss_is_the_mean_of_weighted_per_sample_errors():
    scheduler, model = training_scheduler(), ConstantPrediction()
    latents = torch.zeros(3, 4, 2, 8, 8)
    plain = epsilon_loss(model, latents, None, None, scheduler, step_generator(5))
    weighted = epsilon_loss(model, latents, None, None, scheduler, step_generator(5), weighting="min_snr")
    generator = step_generator(5)
    noise = torch.randn(latents.shape, generator=generator)
    timesteps = torch.randint(0, scheduler.config.num_train_timesteps, (3,), generator=generator)
    per_sample = noise.square().flatten(1).mean(dim=1)
    torch.testing.assert_close(plain, F.mse_loss(torch.zeros_like(noise), noise))
    torch.testing.assert_close(
        weighted, (per_sample * timestep_weights(scheduler, timesteps, "min_snr")).mean()
    )


def test_a_run_trains_with_min_snr_weighting_and_refuses_an_unknown_one(tmp_path):
    config = tiny_training_config(
        [{"name": "stage2", "steps": 2, "learning_rate": 1e-3}], optim={"loss_weighting": "min_snr"}
    )
    assert train(config, tmp_path / "run", progress=False).complete
    with pytest.raises(ValueError, match="loss_weighting"):
        OptimSettings(loss_weighting="uniform")


def test_timesteps_are_uniform_by_default_and_lean_to_high_noise_with_a_power():
    scheduler = training_scheduler()
    total = scheduler.config.num_train_timesteps
    uniform = sample_timesteps(scheduler, 8, step_generator(0, 1))
    assert torch.equal(uniform, torch.randint(0, total, (8,), generator=step_generator(0, 1)))
    for power in (1.0, 2.0, 3.0):
        drawn = sample_timesteps(scheduler, 40_000, step_generator(1, 2), power).double()
        assert drawn.min() >= 0 and drawn.max() <= total - 1
        # density proportional to t^(power - 1): mean T p / (p + 1), share above T / 2 of 1 - 2^-p
        assert drawn.mean() / total == pytest.approx(power / (power + 1), abs=0.01)
        assert (drawn >= total / 2).double().mean() == pytest.approx(1 - 0.5**power, abs=0.01)
    with pytest.raises(ValueError, match="timestep_power"):
        OptimSettings(timestep_power=0)


def test_a_timestep_limit_keeps_every_training_step_below_it():
    scheduler = training_scheduler()
    assert scheduler.config.num_train_timesteps == NUM_TRAIN_TIMESTEPS
    for power in (1.0, 2.0):
        drawn = sample_timesteps(scheduler, 40_000, step_generator(1, 2), power, limit=400).double()
        assert drawn.min() >= 0 and drawn.max() <= 399
        assert drawn.mean() / 400 == pytest.approx(power / (power + 1), abs=0.01)
    whole = sample_timesteps(scheduler, 8, step_generator(0, 1), limit=NUM_TRAIN_TIMESTEPS)
    assert torch.equal(whole, sample_timesteps(scheduler, 8, step_generator(0, 1)))
    for limit in (0, NUM_TRAIN_TIMESTEPS + 1):
        with pytest.raises(ValueError, match="timestep_limit"):
            OptimSettings(timestep_limit=limit)
        with pytest.raises(ValueError, match="timestep limit"):
            sample_timesteps(scheduler, 8, step_generator(0, 1), limit=limit)


def test_a_run_trains_on_the_steps_below_its_timestep_limit(tmp_path, monkeypatch):
    drawn = []

    def recording(*args, **kwargs):
        timesteps = sample_timesteps(*args, **kwargs)
        drawn.append(timesteps)
        return timesteps

    monkeypatch.setattr(losses, "sample_timesteps", recording)
    config = tiny_training_config(
        [{"name": "stage2", "steps": 3, "learning_rate": 1e-3}], optim={"timestep_limit": 40}
    )
    assert train(config, tmp_path / "run", progress=False).complete
    assert len(drawn) == 3 and int(torch.cat(drawn).max()) < 40
