"""FID Inception and FVD I3D loading paths, with weight files of the right architecture built here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from pytorch_fid import inception as fid_inception

from bench.metrics.i3d import (
    InceptionI3d,
    StyleGANVI3D,
    VideoGPTI3D,
    _same_padding,
    clips_to_tensor,
    video_clips,
    videogpt_preprocess,
)
from bench.metrics.inception import InceptionFID
from bench.metrics.weight_specs import INCEPTION_FID
from motionflow.errors import MissingWeightsError
from motionflow.weights import WeightsFormatError
from tests.metrics.conftest import random_video, write_stand_in_i3d


def test_fid_features_from_the_weights_root_equal_pytorch_fids_inception(
    fid_inception_file, isolated_weights_root, monkeypatch
):
    """pytorch-fid's own InceptionV3 (its download replaced by the same random state dict) is the reference."""
    target = isolated_weights_root / INCEPTION_FID.relative_path
    target.parent.mkdir(parents=True)
    target.symlink_to(fid_inception_file)
    state = torch.load(fid_inception_file, weights_only=True)
    monkeypatch.setattr(fid_inception, "load_state_dict_from_url", lambda *args, **kwargs: state)
    reference_model = fid_inception.InceptionV3([fid_inception.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
    video = random_video(2, 40, 56)
    ours = InceptionFID().features(video)
    with torch.no_grad():
        frames = torch.from_numpy(video).permute(0, 3, 1, 2).float() / 255.0
        expected = reference_model(frames)[0].squeeze(3).squeeze(2).double().numpy()
    assert ours.shape == (2, 2048)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


def test_fid_inception_rejects_another_architecture(tmp_path):
    path = tmp_path / "i3d.pth"
    torch.save(InceptionI3d().state_dict(), path)
    with pytest.raises(WeightsFormatError, match="is not pytorch-fid FID InceptionV3 weights"):
        InceptionFID(weights_file=path)


def test_missing_fid_weights():
    with pytest.raises(MissingWeightsError, match="pt_inception-2015-12-05-6726825d.pth"):
        InceptionFID()


def test_video_is_cut_into_non_overlapping_16_frame_clips():
    video = np.arange(35)[:, None, None, None].repeat(2, 1).repeat(3, 2).repeat(3, 3).astype(np.uint8)
    clips = video_clips(video)
    assert clips.shape == (2, 16, 2, 3, 3)
    assert clips[1, 0, 0, 0, 0] == 16 and clips[1, -1, 0, 0, 0] == 31
    assert video_clips(video[:15]).shape[0] == 0
    tensor = clips_to_tensor(clips)
    assert tensor.shape == (2, 3, 16, 2, 3) and tensor.max() == 31.0


def test_stylegan_v_i3d_is_called_as_stylegan_v_calls_it(isolated_weights_root):
    write_stand_in_i3d(isolated_weights_root)
    video = random_video(33, 20, 24)
    features = StyleGANVI3D().features(video)
    assert features.shape == (2, 400)
    np.testing.assert_array_equal(features[:, 1:6], [[1, 1, 1, 16, 3]] * 2)  # rescale, resize, features, T, C
    assert features[:, 0].max() == video[:32].max()  # values in [0, 255], not rescaled by us
    np.testing.assert_allclose(features[0, 6], video[:16].mean(), rtol=1e-5)
    assert StyleGANVI3D().features(video[:10]).shape == (0, 400)


def test_stylegan_v_i3d_rejects_a_state_dict(isolated_weights_root, tmp_path):
    path = tmp_path / "not_torchscript.pt"
    torch.save({"weight": torch.zeros(1)}, path)
    with pytest.raises(WeightsFormatError, match="not a TorchScript model"):
        StyleGANVI3D(weights_file=path)


def test_same_padding_gives_tensorflow_output_sizes():
    for size in range(5, 40):
        for kernel, stride in [(3, 1), (3, 2), (7, 2), (2, 2), (1, 1)]:
            front, back = _same_padding(size, kernel, stride)
            assert (size + front + back - kernel) // stride + 1 == -(-size // stride)
            assert back - front in (0, 1)


def test_videogpt_i3d_module_names_match_the_published_state_dict():
    keys = set(InceptionI3d().state_dict())
    for key in (
        "Conv3d_1a_7x7.conv3d.weight",
        "Conv3d_1a_7x7.bn.running_var",
        "Conv3d_2c_3x3.conv3d.weight",
        "Mixed_3b.b1b.conv3d.weight",
        "Mixed_4f.b3b.bn.bias",
        "Mixed_5c.b2b.conv3d.weight",
        "logits.conv3d.weight",
        "logits.conv3d.bias",
    ):
        assert key in keys
    assert not any(key.startswith(("MaxPool", "avg_pool")) for key in keys)
    assert InceptionI3d().state_dict()["Mixed_5c.b0.conv3d.weight"].shape == (384, 832, 1, 1, 1)


def test_videogpt_preprocessing_resizes_the_short_side_and_centre_crops():
    clips = torch.full((1, 3, 4, 30, 60), 51.0)
    clips[..., :15] = 255.0  # the left quarter is cropped away
    processed = videogpt_preprocess(clips)
    assert processed.shape == (1, 3, 4, 224, 224)
    assert processed.max() <= 0.5 and processed.min() >= -0.5
    np.testing.assert_allclose(processed[..., 100:124].numpy(), 51.0 / 255.0 - 0.5, atol=1e-6)


def test_videogpt_i3d_loads_strictly_and_extracts_time_averaged_logits(tmp_path):
    torch.manual_seed(0)
    model = InceptionI3d().eval()
    path = tmp_path / "i3d_random.pt"
    torch.save(model.state_dict(), path)
    extractor = VideoGPTI3D(weights_file=path)
    for key, value in model.state_dict().items():
        assert torch.equal(extractor.model.state_dict()[key], value)
    features = extractor.features(random_video(16, 24, 32))
    assert features.shape == (1, 400) and np.isfinite(features).all()
    incomplete = {key: value for key, value in model.state_dict().items() if not key.startswith("logits")}
    torch.save(incomplete, path)
    with pytest.raises(WeightsFormatError, match="Missing key"):
        VideoGPTI3D(weights_file=path)


def test_explicit_weights_file_must_exist(tmp_path: Path):
    with pytest.raises(MissingWeightsError, match="not found"):
        VideoGPTI3D(weights_file=tmp_path / "absent.pt")
