import csv

import pytest
import torch
from safetensors.torch import load_file

from motionflow.models import MotionFlowModel
from motionflow.pipeline import MotionFlowPipeline
from motionflow.training import Trainer, TrainingError, epsilon_loss, train, training_scheduler
from motionflow.training.data import batch_inputs, build_training_items
from motionflow.training.losses import step_generator
from tests.training.helpers import TINY_MODEL, tiny_training_config

PHASES = [
    {"name": "pretrain", "steps": 2, "learning_rate": 1e-3},
    {"name": "stage1", "steps": 2, "learning_rate": 1e-3},
    {"name": "stage2", "steps": 2, "learning_rate": 1e-4},
]


def _losses(out):
    with (out / "losses.csv").open(newline="") as handle:
        return [(row["phase"], int(row["step"]), row["loss"]) for row in csv.DictReader(handle)]


def test_a_few_steps_decrease_the_loss_on_a_tiny_batch():
    config = tiny_training_config([{"name": "stage2", "steps": 1, "learning_rate": 1e-3}])
    trainer = Trainer(config, "unused", progress=False)
    model = trainer.start_model(0).train()
    item = build_training_items(config.data, config.seed)[0]
    batch = {key: value[None] for key, value in item.items()}
    frames, plucker = batch_inputs(batch, torch.device("cpu"), "plucker")
    latents = model.encode_video(frames)
    scheduler = training_scheduler()
    optimizer = torch.optim.Adam(model.set_trainable_stage(2), lr=2e-3)

    def loss() -> torch.Tensor:
        return epsilon_loss(model, latents, frames[:, 0], plucker, scheduler, step_generator(0))

    with torch.no_grad():
        before = loss().item()
    for _ in range(12):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    with torch.no_grad():
        after = loss().item()
    assert after < 0.9 * before


def test_stage1_leaves_the_frozen_parameters_bit_identical(tmp_path):
    config = tiny_training_config([{"name": "stage1", "steps": 4, "learning_rate": 1e-2}])
    initial = Trainer(config, tmp_path / "unused", progress=False).start_model(0).state_dict()
    result = train(config, tmp_path / "run", progress=False)
    trained = MotionFlowModel.from_pretrained(tmp_path / "run" / "stage1" / "model")
    stage_one = {name for name, _ in trained.stage_named_parameters(1)}
    changed = {name for name, value in trained.state_dict().items() if not torch.equal(value, initial[name])}
    assert result.model is not None
    assert changed, "stage 1 changed nothing"
    assert changed <= stage_one
    assert any(name.startswith("trajectory_encoder.") for name in changed)
    assert not any(
        name.startswith(("video_unet.", "reference_net.")) and ".processor." not in name for name in changed
    )


def test_an_interrupted_run_resumes_to_exactly_the_uninterrupted_result(tmp_path):
    config = tiny_training_config(PHASES[:2])
    whole = train(config, tmp_path / "whole", progress=False)

    first = train(config, tmp_path / "split", max_steps=3, progress=False)
    assert first.model is None and first.steps_this_session == 3
    resumed = train(config, tmp_path / "split", resume=True, progress=False)
    assert resumed.steps_this_session == 1

    expected = load_file(whole.model / "model.safetensors")
    actual = load_file(resumed.model / "model.safetensors")
    assert expected.keys() == actual.keys()
    assert all(torch.equal(expected[key], actual[key]) for key in expected)
    assert _losses(tmp_path / "whole") == _losses(tmp_path / "split")


def test_the_trained_run_loads_as_a_pipeline(tmp_path):
    config = tiny_training_config(PHASES[1:2])
    result = train(config, tmp_path / "run", progress=False)
    pipeline = MotionFlowPipeline.from_pretrained(result.model)
    assert pipeline.model.config.image_size == (32, 32)
    assert (tmp_path / "run" / "summary.json").is_file()


def test_an_existing_run_is_not_overwritten_without_resume(tmp_path):
    config = tiny_training_config([{"name": "stage1", "steps": 1, "learning_rate": 1e-4}])
    train(config, tmp_path / "run", progress=False)
    with pytest.raises(TrainingError, match="--resume"):
        train(config, tmp_path / "run", progress=False)


def test_resuming_with_other_settings_is_refused(tmp_path):
    train(
        tiny_training_config([{"name": "stage1", "steps": 1, "learning_rate": 1e-4}]),
        tmp_path / "run",
        progress=False,
    )
    other = tiny_training_config([{"name": "stage1", "steps": 2, "learning_rate": 1e-4}])
    with pytest.raises(TrainingError, match="other settings"):
        train(other, tmp_path / "run", resume=True, progress=False)


def test_the_autoencoder_phase_trains_the_vae_the_later_phases_use(tmp_path):
    phases = [{"name": "autoencoder", "steps": 3, "learning_rate": 1e-3}, PHASES[1]]
    config = tiny_training_config(phases, model={"overrides": {**TINY_MODEL, "latent_codec": "vae"}})
    result = train(config, tmp_path / "run", progress=False)
    losses = [float(loss) for phase, _, loss in _losses(tmp_path / "run") if phase == "autoencoder"]
    vae = load_file(
        tmp_path / "run" / "autoencoder" / "model" / "vae" / "diffusion_pytorch_model.safetensors"
    )
    model = MotionFlowPipeline.from_pretrained(result.model).model
    assert losses[-1] < losses[0]
    assert model.codec.vae.config.scaling_factor != 1.0
    assert model.config.latent_codec["vae"]["scaling_factor"] == model.codec.vae.config.scaling_factor
    assert all(torch.equal(value, model.codec.vae.state_dict()[key]) for key, value in vae.items())


def test_a_pixel_space_config_cannot_have_an_autoencoder_phase():
    with pytest.raises(ValueError, match="VAE"):
        tiny_training_config([{"name": "autoencoder", "steps": 1, "learning_rate": 1e-3}])
