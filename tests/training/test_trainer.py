import csv
import json

import pytest
import torch
from safetensors.torch import load_file

from motionflow.errors import MissingWeightsError
from motionflow.models import MotionFlowModel
from motionflow.pipeline import MotionFlowPipeline
from motionflow.training import Trainer, TrainingError, epsilon_loss, train, training_scheduler
from motionflow.training.data import batch_inputs, build_training_items
from motionflow.training.losses import step_generator
from motionflow.training.models import load_trainee
from tests.training.helpers import TINY_MODEL, tiny_training_config

PHASES = [
    {"name": "pretrain", "steps": 2, "learning_rate": 1e-3},
    {"name": "stage1", "steps": 2, "learning_rate": 1e-3},
    {"name": "stage2", "steps": 2, "learning_rate": 1e-4},
]
DECODER_PREFIXES = ("codec.vae.decoder.", "codec.vae.post_quant_conv.")


def _losses(out):
    with (out / "losses.csv").open(newline="") as handle:
        return [(row["phase"], int(row["step"]), row["loss"]) for row in csv.DictReader(handle)]


def read_losses_column(out, column: str) -> list[float]:
    with (out / "losses.csv").open(newline="") as handle:
        return [float(row[column]) for row in csv.DictReader(handle)]


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


@pytest.mark.parametrize("method", ["motionflow", "cameractrl"])
def test_a_run_continuing_another_sizes_model_generates_at_its_own_size(method, tmp_path):
    one_step = [{"name": "stage2", "steps": 1, "learning_rate": 1e-4}]
    small = train(
        tiny_training_config(one_step, model={"method": method}), tmp_path / "small", progress=False
    )
    larger = tiny_training_config(
        one_step,
        model={"method": method, "init": str(small.model)},
        data={"image_size": [48, 48], "num_frames": 6},
    )
    result = train(larger, tmp_path / "larger", progress=False)
    assert load_trainee(method, small.model).backbone_config.image_size == (32, 32)
    continued = load_trainee(method, result.model).backbone_config
    assert (continued.image_size, continued.num_frames) == ((48, 48), 6)


def test_init_overrides_switch_a_loaded_checkpoint_and_are_refused_where_they_cannot_apply(tmp_path):
    """`model.init_overrides` replace fields of the `init` checkpoint's config (the run's model keeps
    them); an override that changes the weights fails to load, naming the keys; without a checkpoint
    folder, or for a baseline, they are refused."""
    one_step = [{"name": "stage2", "steps": 1, "learning_rate": 1e-4}]
    conditioned = {"overrides": {**TINY_MODEL, "image_latent_condition": True}}
    first = train(tiny_training_config(one_step, model=conditioned), tmp_path / "first", progress=False)
    switched = {**conditioned, "init": str(first.model), "init_overrides": {"reference_latent_warp": True}}
    result = train(tiny_training_config(one_step, model=switched), tmp_path / "switched", progress=False)
    assert not load_trainee("motionflow", first.model).config.reference_latent_warp
    assert load_trainee("motionflow", result.model).config.reference_latent_warp
    with pytest.raises(RuntimeError, match="Unexpected key"):
        load_trainee("motionflow", first.model, {"use_semantic_encoder": False})
    with pytest.raises(ValueError, match="model.init must be its folder"):
        tiny_training_config(one_step, model={"init_overrides": {"reference_latent_warp": True}})
    with pytest.raises(ValueError, match="apply to MotionFlow checkpoints"):
        tiny_training_config(one_step, model={**switched, "method": "cameractrl"})
    with pytest.raises(ValueError, match="warp_latent not MotionFlowConfig fields"):
        tiny_training_config(one_step, model={**switched, "init_overrides": {"warp_latent": True}})


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


def test_an_existing_vae_replaces_the_autoencoder_phase_for_the_run_and_the_methods_on_it(tmp_path):
    vae_model = {"overrides": {**TINY_MODEL, "latent_codec": "vae"}}
    source = tiny_training_config(
        [{"name": "autoencoder", "steps": 2, "learning_rate": 1e-3}], model=vae_model
    )
    train(source, tmp_path / "vae-run", progress=False)
    vae_folder = tmp_path / "vae-run" / "autoencoder" / "model"
    base = tiny_training_config(
        [PHASES[0]], model={**vae_model, "autoencoder": str(vae_folder)}, validation={"every": 0}
    )
    train(base, tmp_path / "base", progress=False)
    marker = json.loads((tmp_path / "base" / "autoencoder" / "model" / "phase.json").read_text())
    assert marker["steps"] == 0 and marker["source"] == str(vae_folder)
    method = tiny_training_config(
        [PHASES[1]], model={**vae_model, "base": str(tmp_path / "base")}, validation={"every": 0}
    )
    result = train(method, tmp_path / "method", progress=False)
    expected = load_file(vae_folder / "vae" / "diffusion_pytorch_model.safetensors")
    codec = MotionFlowPipeline.from_pretrained(result.model).model.codec.vae.state_dict()
    assert all(torch.equal(value, codec[name]) for name, value in expected.items())


def test_an_unusable_autoencoder_source_is_refused_by_name(tmp_path):
    vae_model = {"overrides": {**TINY_MODEL, "latent_codec": "vae"}}
    with pytest.raises(ValueError, match="one or the other"):
        tiny_training_config(
            [{"name": "autoencoder", "steps": 1, "learning_rate": 1e-3}],
            model={**vae_model, "autoencoder": "bundled"},
        )
    missing = tiny_training_config([PHASES[0]], model={**vae_model, "autoencoder": str(tmp_path / "nowhere")})
    with pytest.raises(MissingWeightsError, match="nowhere"):
        train(missing, tmp_path / "missing", progress=False)
    other_size = tiny_training_config([PHASES[0]], model={**vae_model, "autoencoder": "bundled"})
    with pytest.raises(TrainingError, match="block_out_channels"):
        train(other_size, tmp_path / "other", progress=False)


def test_the_decoder_phase_fine_tunes_only_the_vae_decoder_of_the_trained_model(tmp_path):
    phases = [
        {"name": "autoencoder", "steps": 2, "learning_rate": 1e-3},
        PHASES[1],
        {"name": "decoder", "steps": 4, "learning_rate": 1e-3},
    ]
    config = tiny_training_config(phases, model={"overrides": {**TINY_MODEL, "latent_codec": "vae"}})
    result = train(config, tmp_path / "run", progress=False)
    before = load_trainee("motionflow", tmp_path / "run" / "stage1" / "model").state_dict()
    after = MotionFlowPipeline.from_pretrained(result.model).model.state_dict()
    changed = {name for name, value in after.items() if not torch.equal(value, before[name])}
    assert before.keys() == after.keys()
    assert changed and all(name.startswith(DECODER_PREFIXES) for name in changed)
    assert any(name.startswith("codec.vae.decoder.") for name in changed)
    assert [phase for phase, _, _ in _losses(tmp_path / "run")].count("decoder") == 4


def test_the_decoder_phase_resumes_exactly_and_starts_from_model_init(tmp_path):
    vae_model = {"overrides": {**TINY_MODEL, "latent_codec": "vae"}}
    source = tiny_training_config(
        [{"name": "autoencoder", "steps": 2, "learning_rate": 1e-3}, PHASES[1]], model=vae_model
    )
    trained = train(source, tmp_path / "source", progress=False).model
    decoder = [{"name": "decoder", "steps": 3, "learning_rate": 1e-3}]
    config = tiny_training_config(decoder, model={**vae_model, "init": str(trained)})
    whole = load_file(train(config, tmp_path / "whole", progress=False).model / "model.safetensors")
    train(config, tmp_path / "split", max_steps=2, progress=False)
    split = load_file(
        train(config, tmp_path / "split", resume=True, progress=False).model / "model.safetensors"
    )
    initial = load_file(trained / "model.safetensors")
    assert all(torch.equal(whole[name], split[name]) for name in whole)
    assert any(not torch.equal(whole[name], initial[name]) for name in whole)
    assert all(
        torch.equal(whole[name], initial[name]) for name in whole if not name.startswith(DECODER_PREFIXES)
    )


def test_a_pixel_space_config_cannot_have_a_decoder_phase():
    with pytest.raises(ValueError, match="decoder phase needs a VAE"):
        tiny_training_config([{"name": "decoder", "steps": 1, "learning_rate": 1e-3}])


def test_new_modules_can_learn_at_a_multiple_of_the_stage_2_rate(tmp_path):
    learning_rate, scale = 1e-4, 10.0
    phase = {"name": "stage2", "steps": 1, "learning_rate": learning_rate}
    config = tiny_training_config([phase], optim={"new_module_lr_scale": scale})
    initial = Trainer(config, tmp_path / "unused", progress=False).start_model(0)
    new_modules = {name for name, _ in initial.stage_named_parameters(1)}
    before = {name: value.clone() for name, value in initial.state_dict().items()}
    result = train(config, tmp_path / "run", progress=False)
    after = MotionFlowModel.from_pretrained(result.model).state_dict()
    # Adam's first step moves every parameter with a gradient by its group's learning rate.
    steps = {name: (after[name] - before[name]).abs().max().item() for name in after}
    moved_new = [steps[name] for name in new_modules if steps[name] > 0]
    moved_rest = [step for name, step in steps.items() if name not in new_modules and step > 0]
    assert moved_new and moved_rest
    assert max(moved_new) == pytest.approx(learning_rate * scale, rel=1e-3)
    assert max(moved_rest) == pytest.approx(learning_rate, rel=1e-3)


def test_the_new_module_rate_is_checked():
    with pytest.raises(ValueError, match="new_module_lr_scale"):
        tiny_training_config([PHASES[2]], optim={"new_module_lr_scale": 0})


def test_a_run_with_a_weight_average_saves_the_average_and_resumes_exactly(tmp_path):
    def phase(steps: int) -> list[dict]:
        return [{"name": "stage2", "steps": steps, "learning_rate": 1e-3}]

    one = load_file(
        train(tiny_training_config(phase(1)), tmp_path / "one", progress=False).model / "model.safetensors"
    )
    two = load_file(
        train(tiny_training_config(phase(2)), tmp_path / "two", progress=False).model / "model.safetensors"
    )
    averaged = tiny_training_config(phase(2), optim={"ema_decay": 0.99})
    result = train(averaged, tmp_path / "averaged", progress=False)
    actual = load_file(result.model / "model.safetensors")
    # diffusers' EMAModel: its first update copies the weights, its second keeps 2 / 11 of the average.
    moved = [name for name in two if not torch.equal(one[name], two[name])]
    assert moved
    for name in moved:
        torch.testing.assert_close(actual[name], 2 / 11 * one[name] + 9 / 11 * two[name])

    train(averaged, tmp_path / "split", max_steps=1, progress=False)
    resumed = train(averaged, tmp_path / "split", resume=True, progress=False)
    split = load_file(resumed.model / "model.safetensors")
    assert all(torch.equal(actual[name], split[name]) for name in actual)


def test_the_weight_average_decay_is_checked():
    with pytest.raises(ValueError, match="ema_decay"):
        tiny_training_config([PHASES[2]], optim={"ema_decay": 1.0})
