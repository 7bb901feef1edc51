"""LPIPS reads AlexNet weights from the weights root and equals the lpips package's own call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import motionflow.weights
from bench.metrics.base import video_to_unit_tensor
from bench.metrics.perceptual import LPIPS
from bench.metrics.weight_specs import ALEXNET_LPIPS
from motionflow.errors import MissingWeightsError
from motionflow.utils.io import sha256_file
from motionflow.weights import WeightsChecksumError, WeightsFormatError, WeightSpec, weights_path
from tests.metrics.conftest import alexnet_state_of, package_lpips_with_random_backbone, random_video


@pytest.fixture
def package_model_and_file(tmp_path: Path):
    model = package_lpips_with_random_backbone(seed=3)
    path = tmp_path / "alexnet_random.pth"
    torch.save(alexnet_state_of(model), path)
    return model, path


def test_equals_the_package_call_on_inputs_in_minus_one_to_one(package_model_and_file):
    package_model, path = package_model_and_file
    generated, reference = random_video(3, 64, 80, seed=1), random_video(3, 64, 80, seed=2)
    a, b = video_to_unit_tensor(generated), video_to_unit_tensor(reference)
    ours = LPIPS(weights_file=path, batch_size=2).per_frame(a, b)
    with torch.no_grad():
        expected = package_model(a * 2 - 1, b * 2 - 1).flatten().numpy()
        expected_normalize = package_model(a, b, normalize=True).flatten().numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours, expected_normalize, rtol=1e-5, atol=1e-7)
    assert ours.shape == (3,) and (ours > 0).all()


def test_identical_frames_score_zero(package_model_and_file):
    _, path = package_model_and_file
    frames = video_to_unit_tensor(random_video(2, 48, 48))
    np.testing.assert_allclose(LPIPS(weights_file=path).per_frame(frames, frames), 0.0, atol=1e-7)


def test_missing_file_names_the_file_and_where_to_put_it(isolated_weights_root):
    with pytest.raises(MissingWeightsError, match="alexnet-owt-7be5be79.pth") as error:
        LPIPS()
    assert str(isolated_weights_root) in str(error.value) and "mfbench weights where" in str(error.value)


def test_a_file_that_is_not_torchvisions_release_fails_the_sha256_prefix(
    package_model_and_file, isolated_weights_root
):
    _, path = package_model_and_file
    target = isolated_weights_root / ALEXNET_LPIPS.relative_path
    target.parent.mkdir(parents=True)
    target.write_bytes(path.read_bytes())
    with pytest.raises(WeightsChecksumError, match="7be5be79"):
        LPIPS()


def test_a_spec_with_the_files_hash_verifies_and_a_changed_file_is_rejected(
    package_model_and_file, isolated_weights_root, monkeypatch
):
    _, path = package_model_and_file
    target = isolated_weights_root / "metrics" / "test_alexnet.pth"
    target.parent.mkdir(parents=True)
    target.write_bytes(path.read_bytes())
    spec = WeightSpec(
        "test_alexnet",
        "metrics/test_alexnet.pth",
        "test",
        "test",
        sha256=sha256_file(target),
        size_bytes=target.stat().st_size,
    )
    monkeypatch.setitem(motionflow.weights._REGISTRY, spec.name, spec)
    verified = weights_path("test_alexnet")
    assert LPIPS(weights_file=verified).per_frame(
        torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    ).shape == (1,)
    with open(target, "r+b") as handle:
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 0xFF]))
    with pytest.raises(WeightsChecksumError, match="SHA-256"):
        weights_path("test_alexnet")


def test_wrong_architecture_and_non_state_dict_files_are_rejected(tmp_path):
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(3, 3)}, wrong)
    with pytest.raises(WeightsFormatError, match="not torchvision AlexNet weights"):
        LPIPS(weights_file=wrong)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsFormatError, match="not a readable PyTorch state dict"):
        LPIPS(weights_file=garbage)
