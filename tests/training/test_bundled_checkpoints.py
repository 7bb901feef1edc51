"""Every bundled method loads from its checkpoint in the package and generates on a CPU."""

import json

import numpy as np
import pytest

from baselines import METHODS
from baselines.motionflow_method import DEPTH_CONDITION, RAY_BIAS
from bench.runs.suites import BUNDLED_METHODS
from motionflow.checkpoints import CHECKPOINTS_ROOT
from motionflow.pipeline import SamplingOptions
from motionflow.training.config import load_training_config
from tests.models.helpers import orbit_trajectory


@pytest.mark.parametrize("name", (*BUNDLED_METHODS, RAY_BIAS.name, DEPTH_CONDITION.name))
def test_each_bundled_method_generates_a_short_video(name):
    method = METHODS.get(name)(steps=2)
    method.check_available()
    trajectory = orbit_trajectory(frames=4, image_size=(48, 64))
    reference = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    video = method.generate(reference, trajectory, num_frames=4, seed=0)
    assert video.shape == (4, 48, 64, 3) and video.dtype == np.uint8
    assert video.std() > 0


def test_the_bundled_methods_share_one_backbone_and_budget_and_record_how_they_were_trained():
    folders = [
        path.parent
        for path in CHECKPOINTS_ROOT.glob("*/model.safetensors")
        if path.parent.name not in (RAY_BIAS.bundled_checkpoint, DEPTH_CONDITION.bundled_checkpoint)
    ]
    assert len(folders) == len(BUNDLED_METHODS)
    budgets = set()
    for folder in folders:
        shared = json.loads((folder / "shared_weights.json").read_text())
        assert (folder / shared["path"]).resolve() == (
            CHECKPOINTS_ROOT / "small-shared" / "frozen.safetensors"
        )
        settings = json.loads((folder / "training_config.json").read_text())
        summary = json.loads((folder / "summary.json").read_text())
        assert (
            {phase["name"] for phase in settings["phases"]} == set(summary["phases"]) == {"stage1", "stage2"}
        )
        budgets.add(tuple((phase["name"], phase["steps"]) for phase in settings["phases"]))
    assert len(budgets) == 1, f"the bundled methods were trained at different budgets: {budgets}"
    total = sum(path.stat().st_size for path in CHECKPOINTS_ROOT.rglob("*") if path.is_file())
    assert total < 95e6  # the ten video models, their shared tensors and the 8 MB depth network


def test_the_ray_bias_checkpoint_generates_at_the_benchmark_size_it_was_trained_on_last():
    folder = RAY_BIAS().folder()
    model_config = json.loads((folder / "config.json").read_text())
    settings = json.loads((folder / "training_config.json").read_text())
    assert model_config["reference_ray_bias"] and settings["model"]["overrides"]["reference_ray_bias"]
    assert (model_config["image_size"], model_config["num_frames"]) == ([128, 128], 16)
    assert (settings["data"]["image_size"], settings["data"]["num_frames"]) == ([128, 128], 16)
    assert settings["name"] == "cpu128-ray-bias-high-noise-fourth"
    shared = json.loads((folder / "shared_weights.json").read_text())
    assert (folder / shared["path"]).resolve() == CHECKPOINTS_ROOT / "ray-bias-shared" / "frozen.safetensors"


def test_the_bundled_vae_is_the_codec_the_bundled_checkpoints_decode_through():
    import torch

    from motionflow.checkpoints.bundle import bundled_vae
    from motionflow.pipeline import MotionFlowPipeline

    vae = bundled_vae()
    codec = MotionFlowPipeline.from_pretrained(CHECKPOINTS_ROOT / "motionflow-small").model.codec.vae
    assert vae.config.scaling_factor == codec.config.scaling_factor != 1.0
    state = codec.state_dict()
    assert vae.state_dict().keys() == state.keys()
    assert all(torch.equal(value, state[name]) for name, value in vae.state_dict().items())


def test_the_depth_condition_checkpoint_is_the_ray_bias_model_fine_tuned_on_depth_warped_frames():
    folder = DEPTH_CONDITION().folder()
    model_config = json.loads((folder / "config.json").read_text())
    settings = json.loads((folder / "training_config.json").read_text())
    assert model_config["depth_warped_condition"] and model_config["reference_ray_bias"]
    assert not model_config["reference_latent_warp"]
    assert (model_config["image_size"], model_config["num_frames"]) == ([128, 128], 16)
    assert settings["name"] == "cpu128-ray-bias-depth-condition-continued"
    assert settings["model"]["init"] == "runs/cpu128-ray-bias-depth-condition/model"
    first_run = load_training_config("cpu128-ray-bias-depth-condition")
    assert first_run.model.init == "motionflow/checkpoints/motionflow-small-ray-bias"
    assert first_run.model.init_overrides["depth_warped_condition"]
    shared = json.loads((folder / "shared_weights.json").read_text())
    assert (folder / shared["path"]).resolve() == CHECKPOINTS_ROOT / "ray-bias-shared" / "frozen.safetensors"
    assert DEPTH_CONDITION().sampling == SamplingOptions(initial_noise="depth-warped", strength=0.4)
