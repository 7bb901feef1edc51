from dataclasses import replace
from pathlib import Path

import pytest

from motionflow.training.config import TrainingConfig, load_training_config, resolve_config_path
from tests.training.helpers import tiny_training_config

REPO_CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("path", sorted(REPO_CONFIGS.glob("*.toml")), ids=lambda path: path.stem)
def test_every_shipped_config_loads_and_builds_its_model_config(path):
    config = load_training_config(path)
    model_config = config.model.build_config()
    assert config.seed >= 0 and config.phases
    assert model_config.block_out_channels


def test_a_config_name_resolves_to_the_configs_folder():
    assert resolve_config_path("small-base") == REPO_CONFIGS / "small-base.toml"


def test_a_config_extends_another_table_by_table_and_replaces_its_phases(tmp_path):
    (tmp_path / "parent.toml").write_text(
        'name = "parent"\nseed = 4\n[model.overrides]\nlayers_per_block = 1\nattention_heads = 2\n'
        '[data]\nnum_frames = 8\n[[phases]]\nname = "pretrain"\nsteps = 5\nlearning_rate = 1e-3\n'
    )
    (tmp_path / "child.toml").write_text(
        'extends = "parent"\nname = "child"\n[model]\nmethod = "motionctrl"\n'
        '[model.overrides]\nattention_heads = 4\n[[phases]]\nname = "stage1"\nsteps = 2\nlearning_rate = 1e-4\n'
    )
    config = load_training_config(tmp_path / "child.toml")
    assert (config.name, config.seed, config.model.method) == ("child", 4, "motionctrl")
    assert config.model.overrides == {"layers_per_block": 1, "attention_heads": 4}
    assert config.data.num_frames == 8
    assert [phase.name for phase in config.phases] == ["stage1"]


def test_configs_that_extend_each_other_in_a_cycle_are_refused(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b"\nname = "a"\n')
    (tmp_path / "b.toml").write_text('extends = "a"\nname = "b"\n')
    with pytest.raises(ValueError, match="cycle"):
        load_training_config(tmp_path / "a.toml")


def test_the_shipped_method_configs_share_the_base_and_the_budget():
    base = load_training_config("small-base")
    methods = [load_training_config(path) for path in sorted(REPO_CONFIGS.glob("*-small*.toml"))]
    assert {config.model.method for config in methods} == {
        "motionflow",
        "cameractrl",
        "cameractrl+ic",
        "motionctrl",
        "animatediff",
    }
    for config in methods:
        assert config.model.base == "runs/small-base"
        assert config.data == methods[0].data and config.optim == base.optim and config.seed == base.seed
        assert config.phases == methods[0].phases
        assert config.model.overrides["camera_value_init"] == "normal"
    assert methods[0].data.motion_variants == 4
    assert replace(methods[0].data, num_clips=base.data.num_clips, motion_variants=1) == base.data


def test_an_unknown_name_lists_where_it_was_looked_for():
    with pytest.raises(FileNotFoundError, match="no-such-config.toml"):
        resolve_config_path("no-such-config")


def test_unknown_settings_are_rejected_with_their_names(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "x"\nseed = 0\nlearnin_rate = 1\n[[phases]]\nname = "stage1"\nsteps = 1\nlearning_rate = 1e-4\n'
    )
    with pytest.raises(ValueError, match="learnin_rate"):
        load_training_config(path)


def test_phases_must_come_in_order():
    with pytest.raises(ValueError, match="order"):
        tiny_training_config(
            [
                {"name": "stage2", "steps": 1, "learning_rate": 1e-5},
                {"name": "stage1", "steps": 1, "learning_rate": 1e-4},
            ]
        )


def test_config_round_trips_through_its_dict():
    config = tiny_training_config([{"name": "stage1", "steps": 2, "learning_rate": 1e-4}])
    assert TrainingConfig.from_dict(config.to_dict()) == config


def test_a_checkpoint_folder_names_the_method_it_was_trained_as(tmp_path):
    from motionflow.checkpoints import checkpoint_path
    from motionflow.training.config import trained_method

    assert trained_method(checkpoint_path("cameractrl-ic-small")) == "cameractrl+ic"
    (tmp_path / "run" / "model").mkdir(parents=True)
    (tmp_path / "run" / "training_config.json").write_text('{"model": {"method": "motionctrl"}}')
    assert trained_method(tmp_path / "run" / "model") == "motionctrl"
    with pytest.raises(FileNotFoundError, match="training_config.json"):
        trained_method(tmp_path)


def test_the_cpu_configs_are_the_shipped_schedule_at_cpu_sizes_on_the_bundled_vae():
    base, method = load_training_config("cpu64-base"), load_training_config("cpu64-motionflow")
    shipped = load_training_config("motionflow-small")
    assert base.model.autoencoder == "bundled" and [phase.name for phase in base.phases] == ["pretrain"]
    assert method.model.base == "runs/cpu64-base"
    assert method.model.overrides == shipped.model.overrides
    assert method.data.image_size == (64, 64) and method.data.num_frames == 8
    assert method.data.motion_variants == shipped.data.motion_variants
    assert [phase.name for phase in method.phases] == ["stage1", "stage2"]


def test_the_128_cpu_config_continues_the_64_run_in_stage_2_at_the_benchmark_size():
    low, high = load_training_config("cpu64-motionflow"), load_training_config("cpu128-motionflow")
    assert high.model.base == "" and high.model.init == "runs/cpu64-motionflow/model"
    assert high.model.overrides == low.model.overrides and high.model.method == low.model.method
    assert high.data.image_size == (128, 128) and high.data.num_frames == 16
    assert high.data.cache != low.data.cache
    assert [phase.name for phase in high.phases] == ["stage2"]


def _assert_continues(first_name: str, continued_name: str, init: str, **optim_changes: float):
    """The continued config is the first one up to its name, its start model, its phases and the named
    optimiser settings; returns its phases."""
    first, continued = load_training_config(first_name), load_training_config(continued_name)
    assert continued.model.init == init
    assert replace(continued.model, init=first.model.init) == first.model
    assert continued.optim == replace(first.optim, **optim_changes)
    assert (
        replace(continued, name=first.name, model=first.model, optim=first.optim, phases=first.phases)
        == first
    )
    return continued.phases


def test_the_continued_128_cpu_config_is_the_128_run_with_its_model_as_start():
    phases = _assert_continues(
        "cpu128-motionflow", "cpu128-motionflow-continued", "runs/cpu128-motionflow/model"
    )
    assert [(phase.name, phase.steps) for phase in phases] == [("stage2", 1250)]


def test_the_decaying_64_cpu_config_differs_from_the_constant_one_in_stage_2_rate_and_average_only():
    constant, decaying = (
        load_training_config("cpu64-motionflow"),
        load_training_config("cpu64-motionflow-decay"),
    )
    assert decaying.optim == replace(constant.optim, ema_decay=0.999)
    assert decaying.phases[0] == constant.phases[0]
    assert decaying.phases[1] == replace(constant.phases[1], decay="cosine")
    assert replace(decaying, name=constant.name, optim=constant.optim, phases=constant.phases) == constant


def test_the_ray_bias_128_cpu_config_starts_from_the_bundled_ray_bias_model_with_a_settling_rate():
    (phase,) = _assert_continues(
        "cpu128-motionflow",
        "cpu128-ray-bias",
        "runs/cpu64-motionflow-decay-bundled",
        ema_decay=0.998,
    )
    assert (phase.name, phase.steps, phase.decay, phase.final_learning_rate) == (
        "stage2",
        2200,
        "cosine",
        2e-5,
    )


def test_the_continued_ray_bias_config_restarts_a_lower_settling_rate_from_the_ray_bias_run():
    (phase,) = _assert_continues("cpu128-ray-bias", "cpu128-ray-bias-continued", "runs/cpu128-ray-bias/model")
    assert (phase.steps, phase.learning_rate, phase.decay, phase.final_learning_rate) == (
        2000,
        1e-4,
        "cosine",
        1e-5,
    )


def test_the_settled_ray_bias_config_trains_the_shipped_run_on_at_half_its_rate():
    (phase,) = _assert_continues(
        "cpu128-ray-bias-continued", "cpu128-ray-bias-settled", "runs/cpu128-ray-bias-continued/model"
    )
    assert (phase.steps, phase.learning_rate, phase.decay, phase.final_learning_rate) == (
        1500,
        5e-5,
        "cosine",
        5e-6,
    )


def test_the_high_noise_ray_bias_config_trains_the_shipped_run_on_with_timesteps_drawn_towards_high_noise():
    (phase,) = _assert_continues(
        "cpu128-ray-bias-continued",
        "cpu128-ray-bias-high-noise",
        "runs/cpu128-ray-bias-continued/model",
        timestep_power=2.0,
    )
    assert (phase.steps, phase.learning_rate, phase.decay, phase.final_learning_rate) == (
        2400,
        1e-4,
        "cosine",
        1e-5,
    )


@pytest.mark.parametrize(
    ("previous", "continued"),
    [
        ("cpu128-ray-bias-high-noise", "cpu128-ray-bias-high-noise-continued"),
        ("cpu128-ray-bias-high-noise-continued", "cpu128-ray-bias-high-noise-third"),
        ("cpu128-ray-bias-high-noise-third", "cpu128-ray-bias-high-noise-fourth"),
        ("cpu128-ray-bias-high-noise-fourth", "cpu128-ray-bias-high-noise-fifth"),
    ],
)
def test_each_further_high_noise_config_repeats_that_run_from_the_previous_model(previous, continued):
    first = load_training_config("cpu128-ray-bias-high-noise")
    (phase,) = _assert_continues(previous, continued, f"runs/{previous}/model")
    assert phase == first.phases[0]


def test_the_decoder_config_fine_tunes_the_shipped_runs_decoder_only():
    (phase,) = _assert_continues(
        "cpu128-ray-bias-high-noise-continued",
        "cpu128-ray-bias-decoder",
        "runs/cpu128-ray-bias-high-noise-continued/model",
    )
    assert (phase.name, phase.steps, phase.learning_rate, phase.final_learning_rate) == (
        "decoder",
        1500,
        3e-4,
        3e-5,
    )


def test_the_warp_latent_config_fine_tunes_the_shipped_ray_bias_checkpoint_with_the_switch_on():
    shipped = "motionflow/checkpoints/motionflow-small-ray-bias"
    first = load_training_config("cpu128-ray-bias-high-noise-fourth")
    continued = load_training_config("cpu128-ray-bias-warp-latent")
    assert continued.model.init_overrides == {"reference_latent_warp": True}
    assert (REPO_CONFIGS.parent / shipped / "model.safetensors").is_file()
    assert replace(continued.model, init_overrides={}) == replace(first.model, init=shipped)
    assert continued.optim == first.optim and continued.data == first.data
    (phase,) = continued.phases
    assert (phase.name, phase.steps, phase.learning_rate, phase.final_learning_rate) == (
        "stage2",
        1200,
        1e-4,
        1e-5,
    )


def test_the_depth_condition_config_fine_tunes_the_shipped_ray_bias_checkpoint_on_depth_warped_frames():
    warp_latent = load_training_config("cpu128-ray-bias-warp-latent")
    depth = load_training_config("cpu128-ray-bias-depth-condition")
    assert depth.model.init_overrides == {"reference_latent_warp": False, "depth_warped_condition": True}
    assert replace(depth.model, init_overrides={}) == replace(warp_latent.model, init_overrides={})
    assert depth.optim == warp_latent.optim and depth.data == warp_latent.data and depth.data.cache_latents
    (phase,) = depth.phases
    assert (phase.name, phase.steps, phase.learning_rate, phase.final_learning_rate) == (
        "stage2",
        800,
        1e-4,
        1e-5,
    )
