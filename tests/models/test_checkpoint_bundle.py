"""Bundled checkpoints: float16 trained tensors per folder, the frozen ones once in a shared file; they
load back in float32 (or the dtype asked for), strictly, and only with the shared file they were bundled
with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from motionflow import checkpoints
from motionflow.checkpoints import bundled_checkpoints
from motionflow.checkpoints.bundle import SHARED_FILE_NAME, bundle_checkpoint
from motionflow.errors import MissingWeightsError
from motionflow.models import MotionFlowModel
from motionflow.models.video_denoiser import (
    FROZEN_PREFIXES,
    SHARED_WEIGHTS_NAME,
    WEIGHTS_NAME,
    checkpoint_weights_hash,
)
from motionflow.pipeline import MotionFlowPipeline
from motionflow.utils.io import sha256_file
from motionflow.weights import WeightsChecksumError, WeightsFormatError
from tests.models.helpers import randomize_new_modules, tiny_model


def trained_folder(folder: Path, seed: int = 0) -> Path:
    """A MotionFlow pipeline folder as training leaves it (with a TRAINING.md)."""
    model = tiny_model(seed=seed)
    randomize_new_modules(model, seed=seed + 1)
    MotionFlowPipeline(model).save_pretrained(folder)
    (folder / "TRAINING.md").write_text("how it was trained\n")
    return folder


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained_folder(tmp_path_factory.mktemp("trained") / "model")


def test_a_bundled_pipeline_loads_float16_rounded_trained_and_exact_frozen_weights(
    source: Path, tmp_path: Path
) -> None:
    bundled = bundle_checkpoint(source, tmp_path / "motionflow-small", tmp_path / "small-shared")
    for name in ("config.json", "TRAINING.md", "scheduler/scheduler_config.json", SHARED_WEIGHTS_NAME):
        assert (bundled / name).is_file(), name
    assert (bundled / "TRAINING.md").read_text() == "how it was trained\n"
    reference = json.loads((bundled / SHARED_WEIGHTS_NAME).read_text())
    assert reference["path"] == f"../small-shared/{SHARED_FILE_NAME}"

    original = load_file(source / WEIGHTS_NAME)
    stored = load_file(bundled / WEIGHTS_NAME)
    shared = load_file(tmp_path / "small-shared" / SHARED_FILE_NAME)
    assert shared.keys() == {name for name in original if name.startswith(FROZEN_PREFIXES)}
    assert stored.keys() == original.keys() - shared.keys()
    assert {tensor.dtype for tensor in stored.values()} == {torch.float16}
    assert (bundled / WEIGHTS_NAME).stat().st_size < 0.6 * (source / WEIGHTS_NAME).stat().st_size

    loaded = MotionFlowPipeline.from_pretrained(bundled)
    state = loaded.model.state_dict()
    assert state.keys() == original.keys()
    assert {tensor.dtype for tensor in state.values()} == {torch.float32}
    for name, tensor in original.items():
        expected = tensor if name in shared else tensor.half().float()
        assert torch.equal(state[name], expected), name
    assert loaded.scheduler.config == MotionFlowPipeline.from_pretrained(source).scheduler.config

    half = MotionFlowModel.from_pretrained(bundled, dtype=torch.bfloat16)
    assert {parameter.dtype for parameter in half.parameters()} == {torch.bfloat16}


def test_bundling_a_bundled_folder_gives_the_same_files(source: Path, tmp_path: Path) -> None:
    first = bundle_checkpoint(source, tmp_path / "first", tmp_path / "shared")
    again = bundle_checkpoint(first, tmp_path / "again", tmp_path / "other-shared")
    assert sha256_file(again / WEIGHTS_NAME) == sha256_file(first / WEIGHTS_NAME)
    assert checkpoint_weights_hash(again) == checkpoint_weights_hash(first)


@pytest.fixture
def bundled(source: Path, tmp_path: Path) -> Path:
    return bundle_checkpoint(source, tmp_path / "bundled", tmp_path / "shared")


def test_a_changed_shared_file_is_refused_by_name(bundled: Path, tmp_path: Path) -> None:
    shared_file = tmp_path / "shared" / SHARED_FILE_NAME
    data = bytearray(shared_file.read_bytes())
    data[-1] ^= 1
    shared_file.write_bytes(bytes(data))
    with pytest.raises(WeightsChecksumError, match=rf"{SHARED_FILE_NAME}: SHA-256 .* does not match"):
        MotionFlowModel.from_pretrained(bundled)
    with pytest.raises(WeightsChecksumError, match=SHARED_FILE_NAME):
        checkpoint_weights_hash(bundled)


def test_a_missing_shared_file_is_named(bundled: Path, tmp_path: Path) -> None:
    (tmp_path / "shared" / SHARED_FILE_NAME).unlink()
    with pytest.raises(MissingWeightsError, match=rf"shared weights .*{SHARED_FILE_NAME} not found"):
        MotionFlowModel.from_pretrained(bundled)


def test_without_its_shared_reference_a_bundled_folder_lacks_keys(bundled: Path) -> None:
    (bundled / SHARED_WEIGHTS_NAME).unlink()
    with pytest.raises(RuntimeError, match="Missing key"):
        MotionFlowModel.from_pretrained(bundled)


def test_a_malformed_shared_reference_is_named(bundled: Path) -> None:
    (bundled / SHARED_WEIGHTS_NAME).write_text('{"path": "x"}')
    with pytest.raises(WeightsFormatError, match=SHARED_WEIGHTS_NAME):
        MotionFlowModel.from_pretrained(bundled)


def test_a_shared_folder_takes_only_checkpoints_on_its_backbone(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, sources = tmp_path / "checkpoints", tmp_path / "sources"
    monkeypatch.setattr(checkpoints, "CHECKPOINTS_ROOT", root)
    shared_file = root / "small-shared" / SHARED_FILE_NAME
    bundle_checkpoint(source, root / "first", root / "small-shared")
    digest = sha256_file(shared_file)

    retrained = MotionFlowModel.from_pretrained(trained_folder(sources / "retrained", seed=5))
    retrained.load_state_dict(load_file(shared_file), strict=False)
    retrained.save_pretrained(sources / "retrained")
    bundle_checkpoint(sources / "retrained", root / "second", root / "small-shared")

    other = trained_folder(sources / "other", seed=7)
    with pytest.raises(ValueError, match="not trained on the same backbone"):
        bundle_checkpoint(other, root / "third", root / "small-shared")
    assert not (root / "third").exists()
    assert sha256_file(shared_file) == digest
    assert bundled_checkpoints() == ["first", "second"]


def test_the_weights_hash_follows_the_shared_file(source: Path, tmp_path: Path) -> None:
    assert checkpoint_weights_hash(source) == sha256_file(source / WEIGHTS_NAME)
    first = bundle_checkpoint(source, tmp_path / "first", tmp_path / "shared")
    model = MotionFlowModel.from_pretrained(source)
    with torch.no_grad():
        model.image_encoder.encoder.vision_model.pre_layrnorm.bias.add_(1.0)
    other_backbone = model.save_pretrained(tmp_path / "other-backbone")
    second = bundle_checkpoint(other_backbone, tmp_path / "second", tmp_path / "other-shared")
    assert sha256_file(first / WEIGHTS_NAME) == sha256_file(second / WEIGHTS_NAME)
    assert checkpoint_weights_hash(first) != checkpoint_weights_hash(second)


def test_bundling_never_overwrites_a_folder(source: Path, tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(FileExistsError, match="taken"):
        bundle_checkpoint(source, tmp_path / "taken", tmp_path / "shared")
