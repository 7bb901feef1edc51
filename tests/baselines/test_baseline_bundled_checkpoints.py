"""Bundled baseline and MotionFlow checkpoints: one shared frozen file, methods found in the order
explicit folder > weights root > package, fingerprints covering the shared file, and the Table 4
ablations registered (missing until their checkpoints are trained)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from baseline_helpers import orbit_trajectory, randomize, reference_image
from baseline_helpers import tiny_model as tiny_baseline
from safetensors.torch import load_file

from baselines import METHODS
from baselines.backbone import BaselineModel
from baselines.motionflow_method import ABLATIONS, MotionFlowMethod
from bench.tables.build import ABLATION_METHODS
from motionflow import checkpoints
from motionflow.checkpoints.bundle import SHARED_FILE_NAME, bundle_checkpoint
from motionflow.errors import MissingWeightsError, MotionFlowError
from motionflow.models import MotionFlowModel
from motionflow.models.video_denoiser import FROZEN_PREFIXES, WEIGHTS_NAME
from motionflow.pipeline import MotionFlowPipeline
from motionflow.utils.io import sha256_file
from motionflow.weights import WEIGHTS_ENV
from tests.models.helpers import randomize_new_modules
from tests.models.helpers import tiny_model as tiny_motionflow


def frozen_state(folder: Path) -> dict[str, torch.Tensor]:
    return {
        name: tensor
        for name, tensor in load_file(folder / WEIGHTS_NAME).items()
        if name.startswith(FROZEN_PREFIXES)
    }


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Trained-looking MotionFlow and CameraCtrl folders on one backbone (identical frozen tensors)."""
    root = tmp_path_factory.mktemp("trained")
    motionflow = tiny_motionflow()
    randomize_new_modules(motionflow)
    MotionFlowPipeline(motionflow).save_pretrained(root / "motionflow")
    cameractrl, _ = tiny_baseline("cameractrl", seed=3)
    randomize(cameractrl, [name for name, _ in cameractrl.stage_named_parameters(1)], std=0.05)
    cameractrl.load_state_dict(frozen_state(root / "motionflow"), strict=False)
    cameractrl.save_pretrained(root / "cameractrl")
    (root / "cameractrl" / "TRAINING.md").write_text("trained\n")
    return {"motionflow": root / "motionflow", "cameractrl": root / "cameractrl"}


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty stand-in for motionflow/checkpoints, and an empty weights root."""
    monkeypatch.setattr(checkpoints, "CHECKPOINTS_ROOT", tmp_path / "package")
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "weights"))
    (tmp_path / "package").mkdir()
    return tmp_path / "package"


def bundle_both(sources: dict[str, Path], package: Path) -> dict[str, Path]:
    shared = package / "small-shared"
    return {
        "motionflow": bundle_checkpoint(sources["motionflow"], package / "motionflow-small", shared),
        "cameractrl": bundle_checkpoint(sources["cameractrl"], package / "cameractrl-small", shared),
    }


def test_motionflow_and_a_baseline_share_one_frozen_file(sources: dict[str, Path], package: Path) -> None:
    bundled = bundle_both(sources, package)
    assert checkpoints.bundled_checkpoints() == ["cameractrl-small", "motionflow-small"]
    assert (bundled["cameractrl"] / "TRAINING.md").read_text() == "trained\n"

    method = METHODS.get("cameractrl")(steps=1)
    method.check_available()
    assert method.checkpoint_path() == bundled["cameractrl"]
    model = method.pipeline().model
    original = load_file(sources["cameractrl"] / WEIGHTS_NAME)
    state = model.state_dict()
    assert {tensor.dtype for tensor in state.values()} == {torch.float32}
    for name, tensor in original.items():
        expected = tensor if name.startswith(FROZEN_PREFIXES) else tensor.half().float()
        assert torch.equal(state[name], expected), name
    video = method.generate(reference_image((32, 32)), orbit_trajectory(frames=2), num_frames=2)
    assert video.shape == (2, 32, 32, 3) and video.std() > 0

    motionflow = MotionFlowMethod()
    motionflow.check_available()
    assert motionflow.pipeline().model.dtype == torch.float32


def test_fingerprints_follow_the_shared_file(sources: dict[str, Path], package: Path, tmp_path: Path) -> None:
    bundled = bundle_both(sources, package)
    fingerprints = {
        "cameractrl": METHODS.get("cameractrl")().fingerprint(),
        "motionflow": MotionFlowMethod().fingerprint(),
    }
    for name, model_class in (("cameractrl", BaselineModel), ("motionflow", MotionFlowModel)):
        model = model_class.from_pretrained(sources[name])
        with torch.no_grad():
            model.image_encoder.encoder.vision_model.pre_layrnorm.bias.add_(1.0)
        model.save_pretrained(tmp_path / "other-backbone" / name)
        other = bundle_checkpoint(
            tmp_path / "other-backbone" / name, tmp_path / name, tmp_path / "other-shared"
        )
        assert sha256_file(other / WEIGHTS_NAME) == sha256_file(bundled[name] / WEIGHTS_NAME)
    assert METHODS.get("cameractrl")(tmp_path / "cameractrl").fingerprint() != fingerprints["cameractrl"]
    assert MotionFlowMethod(tmp_path / "motionflow").fingerprint() != fingerprints["motionflow"]

    shutil.copyfile(tmp_path / "other-shared" / SHARED_FILE_NAME, package / "small-shared" / SHARED_FILE_NAME)
    for method in (METHODS.get("cameractrl")(), MotionFlowMethod()):
        with pytest.raises(MotionFlowError, match=f"{SHARED_FILE_NAME}: SHA-256"):
            method.check_available()


def test_a_baseline_checkpoint_is_looked_for_in_the_folder_given_the_weights_root_then_the_package(
    sources: dict[str, Path], package: Path, tmp_path: Path
) -> None:
    cameractrl = METHODS.get("cameractrl")
    with pytest.raises(MissingWeightsError) as missing:
        cameractrl().checkpoint_path()
    assert str(tmp_path / "weights" / "baselines" / "cameractrl") in str(missing.value)
    assert str(package / "cameractrl-small" / WEIGHTS_NAME) in str(missing.value)

    bundled = bundle_both(sources, package)["cameractrl"]
    assert cameractrl().checkpoint_path() == bundled
    registered = shutil.copytree(sources["cameractrl"], tmp_path / "weights" / "baselines" / "cameractrl")
    assert cameractrl().checkpoint_path() == registered
    assert cameractrl(sources["cameractrl"]).checkpoint_path() == sources["cameractrl"]


@pytest.mark.parametrize(
    ("method", "bundled"),
    [
        ("animatediff", "animatediff-small"),
        ("cameractrl", "cameractrl-small"),
        ("cameractrl+ic", "cameractrl-ic-small"),
    ],
)
def test_each_baseline_declares_its_bundled_checkpoint(method: str, bundled: str) -> None:
    assert METHODS.get(method).bundled_checkpoint == bundled


def test_the_table4_ablations_are_methods_missing_until_trained(package: Path) -> None:
    assert set(ABLATIONS) | {"motionflow"} == set(ABLATION_METHODS)
    for name, variant in ABLATIONS.items():
        assert METHODS.get(name) is variant
        assert variant.bundled_checkpoint == name.replace("motionflow-", "motionflow-small-")
        with pytest.raises(
            MissingWeightsError, match=f"bundled checkpoint '{variant.bundled_checkpoint}' not found"
        ):
            variant().check_available()
