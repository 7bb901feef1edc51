"""The latent cache: what a training step would encode, encoded once per codec, the same training."""

from __future__ import annotations

import csv

import pytest
import torch

from motionflow.checkpoints.depth import depth_weights_hash, load_depth_net
from motionflow.models.video_denoiser import AnimateDiffBackbone
from motionflow.pipeline import depth_warped_latents
from motionflow.training import Trainer, TrainingError, train
from motionflow.training.condition_use import validation_batch
from motionflow.training.config import DataSettings
from motionflow.training.data import batch_trajectories, frames_to_model_range
from motionflow.training.latent_cache import LatentClipItems, codec_fingerprint
from motionflow.training.models import load_trainee
from tests.training.helpers import DEPTH_WARPED_CONDITION, TINY_MODEL, tiny_training_config

VAE_MODEL = {"overrides": {**TINY_MODEL, "latent_codec": "vae"}}
PHASES = [
    {"name": "autoencoder", "steps": 2, "learning_rate": 1e-3},
    {"name": "pretrain", "steps": 2, "learning_rate": 1e-3},
    {"name": "stage1", "steps": 2, "learning_rate": 1e-3},
]


def _config(cache, cache_latents: bool, phases=PHASES):
    data = {"num_clips": 6, "cache": str(cache), "cache_latents": cache_latents}
    return tiny_training_config(phases, model=VAE_MODEL, data=data, optim={"batch_size": 2})


def _losses(out) -> dict[tuple[str, int], float]:
    with (out / "losses.csv").open(newline="") as handle:
        return {(row["phase"], int(row["step"])): float(row["loss"]) for row in csv.DictReader(handle)}


def test_cached_latents_are_what_a_training_step_encodes_and_are_encoded_once(tmp_path, monkeypatch):
    trainer = Trainer(_config(tmp_path, True, PHASES[1:]), tmp_path / "run", progress=False)
    model = trainer.start_model(0)
    items = LatentClipItems(trainer.items, model, progress=False)
    for index in (0, 5):
        item = items[index]
        expected = model.encode_video(frames_to_model_range(item["frames"])[None])[0]
        assert item["latents"].dtype == torch.float32
        torch.testing.assert_close(item["latents"], expected, rtol=1e-4, atol=1e-5)

    def no_encoding(*args, **kwargs):
        raise AssertionError("the latents were encoded already")

    monkeypatch.setattr(type(model), "encode_video", no_encoding)
    again = LatentClipItems(trainer.items, model, progress=False)
    assert again.paths == items.paths and torch.equal(again[3]["latents"], items[3]["latents"])

    with torch.no_grad():
        next(model.codec.parameters()).add_(0.01)
    assert codec_fingerprint(model.codec) not in items.paths["latents"].name
    with pytest.raises(AssertionError, match="encoded already"):
        LatentClipItems(trainer.items, model, progress=False)


def test_a_run_on_cached_latents_trains_as_one_that_encodes_every_step(tmp_path, monkeypatch):
    cached = train(_config(tmp_path / "cache", True), tmp_path / "cached", progress=False)
    encoded = train(_config(tmp_path / "cache", False), tmp_path / "encoded", progress=False)
    assert cached.complete and encoded.complete
    expected, actual = _losses(tmp_path / "encoded"), _losses(tmp_path / "cached")
    assert expected.keys() == actual.keys() and ("stage1", 2) in actual
    for key, loss in expected.items():
        assert actual[key] == pytest.approx(loss, rel=1e-3), key

    def no_encoding(*args, **kwargs):
        raise AssertionError("a step encoded its frames")

    monkeypatch.setattr(AnimateDiffBackbone, "encode_video", no_encoding)
    again = train(_config(tmp_path / "cache", True), tmp_path / "again", progress=False)
    assert again.complete and _losses(tmp_path / "again") == actual


def test_cached_latents_need_the_clip_cache_and_the_validation_clips_do_without(tmp_path):
    with pytest.raises(ValueError, match="data.cache"):
        DataSettings(cache_latents=True)
    settings = DataSettings(
        image_size=(32, 32), num_frames=4, source_frames=40, cache=str(tmp_path), cache_latents=True
    )
    assert validation_batch(settings, 2)["frames"].shape == (2, 4, 3, 32, 32)


def test_a_model_conditioned_on_depth_warped_frames_trains_from_their_cached_latents(tmp_path):
    """The warped frames' latents are the bundled depth network's warp of each clip's first frame,
    encoded once next to the clip latents; the held-out checks warp each pair they try; without the
    latent cache the run is refused."""
    model = {"overrides": {**TINY_MODEL, **DEPTH_WARPED_CONDITION}}
    phases = [{"name": "stage2", "steps": 2, "learning_rate": 1e-3}]
    data = {"num_clips": 4, "cache": str(tmp_path / "cache"), "cache_latents": True}
    config = tiny_training_config(
        phases, model=model, data=data, optim={"batch_size": 2}, validation={"every": 1, "clips": 2}
    )
    result = train(config, tmp_path / "run", progress=False)
    assert result.complete
    trainer = Trainer(config, tmp_path / "unused", progress=False)
    trained = load_trainee("motionflow", result.model)
    items = LatentClipItems(trainer.items, trained, False, load_depth_net(), depth_weights_hash())
    assert sorted(items.paths) == ["frame_latents", "latents"]
    item = items[2]
    reference = frames_to_model_range(item["frames"][:1])
    expected = depth_warped_latents(
        trained.codec,
        reference,
        batch_trajectories({k: item[k][None] for k in ("frames", "c2w", "intrinsics")}),
        load_depth_net(),
    )[0]
    torch.testing.assert_close(item["frame_latents"], expected, rtol=1e-4, atol=1e-5)
    with (tmp_path / "run" / "validation.csv").open(newline="") as handle:
        cameras = [row for row in csv.DictReader(handle) if row["condition"] == "camera"]
    assert cameras and all(float(row["loss_other"]) > 0 for row in cameras)

    uncached = tiny_training_config(phases, model=model, data={"num_clips": 4})
    with pytest.raises(TrainingError, match="data.cache_latents"):
        train(uncached, tmp_path / "uncached", progress=False)
