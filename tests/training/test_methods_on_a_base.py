"""Every method trains with the shared trainer on the backbone of a base run (equal budget, same start)."""

import pytest
import torch
from safetensors.torch import load_file

from baselines import METHODS
from baselines.backbone import BaselineModel
from motionflow.models import MotionFlowModel
from motionflow.training import TrainingError, train
from motionflow.training.config import TRAINABLE_METHODS
from tests.models.helpers import orbit_trajectory
from tests.training.helpers import TINY_MODEL, tiny_training_config

VAE_MODEL = {**TINY_MODEL, "latent_codec": "vae"}
STAND_INS = [
    {"name": "autoencoder", "steps": 2, "learning_rate": 1e-3},
    {"name": "pretrain", "steps": 2, "learning_rate": 1e-3},
]
STAGES = [
    {"name": "stage1", "steps": 2, "learning_rate": 1e-3},
    {"name": "stage2", "steps": 1, "learning_rate": 1e-3},
]


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("base") / "run"
    result = train(tiny_training_config(STAND_INS, model={"overrides": VAE_MODEL}), out, progress=False)
    assert result.complete and result.model is None  # a base run's product is its phase folders
    return out


@pytest.fixture(scope="module")
def conditioned_base_run(tmp_path_factory):
    """A base pretrained with the reference latent concatenated to the noisy latents."""
    out = tmp_path_factory.mktemp("conditioned-base") / "run"
    overrides = {**VAE_MODEL, "image_latent_condition": True}
    train(tiny_training_config(STAND_INS, model={"overrides": overrides}), out, progress=False)
    return out


def _method_config(method, base, phases=STAGES, **overrides):
    model = {"method": method, "base": str(base), "overrides": {**VAE_MODEL, **overrides}}
    return tiny_training_config(phases, model=model)


@pytest.mark.parametrize("method", [name for name in TRAINABLE_METHODS if name != "motionflow"])
def test_each_baseline_trains_on_the_base_and_its_checkpoint_generates(method, base_run, tmp_path):
    result = train(_method_config(method, base_run), tmp_path / method, progress=False)
    model = BaselineModel.from_pretrained(result.model)
    assert model.config.method == method
    base_unet = load_file(base_run / "pretrain" / "model" / "backbone.safetensors")
    stage1 = load_file(tmp_path / method / "stage1" / "model" / "model.safetensors")
    # stage 1 trains the method's own modules: the backbone's spatial layers are still the base's
    spatial = "video_unet.down_blocks.0.resnets.0.conv1.weight"
    assert torch.equal(stage1[spatial], base_unet[spatial])
    video = METHODS.get(method)(result.model, steps=2).generate(
        (torch.rand(32, 32, 3) * 255).byte().numpy(), orbit_trajectory(4, (32, 32)), num_frames=4, seed=0
    )
    assert video.shape == (4, 32, 32, 3)


@pytest.mark.parametrize(
    "overrides",
    [{"use_reference_net": False}, {"use_semantic_encoder": False}, {"reference_net_init": "random"}],
    ids=["no-refnet", "no-semantic", "no-sd-init"],
)
def test_each_ablation_trains_on_the_base(overrides, base_run, tmp_path):
    result = train(_method_config("motionflow", base_run, **overrides), tmp_path / "run", progress=False)
    model = MotionFlowModel.from_pretrained(result.model)
    for key, value in overrides.items():
        assert getattr(model.config, key) == value


def test_stages_on_a_base_run_equal_the_same_stages_in_one_run(base_run, tmp_path):
    """The stand-ins' results and every phase's random streams do not depend on where the phases ran."""
    combined = train(
        tiny_training_config(STAND_INS + STAGES[:1], model={"overrides": VAE_MODEL}),
        tmp_path / "one",
        progress=False,
    )
    split = train(_method_config("motionflow", base_run, STAGES[:1]), tmp_path / "two", progress=False)
    one = load_file(combined.model.parent / "stage1" / "model" / "model.safetensors")
    two = load_file(split.model.parent / "stage1" / "model" / "model.safetensors")
    assert one.keys() == two.keys()
    assert all(torch.equal(one[key], two[key]) for key in one)


@pytest.mark.parametrize(
    ("method", "keeps_reference_channels"),
    [("motionflow", True), ("cameractrl+ic", True), ("cameractrl", False)],
)
def test_methods_on_a_base_with_the_image_latent_input_start_from_its_conv_in(
    method, keeps_reference_channels, conditioned_base_run, tmp_path
):
    config = _method_config(method, conditioned_base_run, STAGES[:1], image_latent_condition=True)
    result = train(config, tmp_path / method, progress=False)
    base = load_file(conditioned_base_run / "pretrain" / "model" / "backbone.safetensors")
    stage1 = load_file(result.model / "model.safetensors")
    weight = "video_unet.conv_in.weight"
    latent_channels = base[weight].shape[1] // 2
    expected = base[weight] if keeps_reference_channels else base[weight][:, :latent_channels]
    assert torch.equal(stage1[weight], expected)


def test_a_base_with_another_backbone_or_without_its_phases_is_refused(base_run, tmp_path):
    wider = _method_config("motionflow", base_run, block_out_channels=[16, 48])
    with pytest.raises(TrainingError, match="backbone differs"):
        train(wider, tmp_path / "wider", progress=False)
    conditioned = _method_config("motionflow", base_run, image_latent_condition=True)
    with pytest.raises(TrainingError, match="backbone differs.*image_latent_condition"):
        train(conditioned, tmp_path / "conditioned", progress=False)
    with pytest.raises(TrainingError, match="not complete"):
        train(_method_config("motionflow", tmp_path / "no-base"), tmp_path / "missing", progress=False)


def test_stand_in_phases_cannot_run_on_a_base(base_run):
    with pytest.raises(ValueError, match="stands in for pretrained weights"):
        _method_config("motionflow", base_run, STAND_INS)
    with pytest.raises(ValueError, match="method must be one of"):
        _method_config("sora", base_run)
