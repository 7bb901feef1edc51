"""Held-out validation while training: validation.csv, its independence from the training, resume."""

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from motionflow.data.bundled import export_bundled_re10k
from motionflow.training import train
from motionflow.training.condition_use import held_out_batch, validation_batch
from motionflow.training.config import HELD_OUT_SEED_OFFSET, DataSettings, ValidationSettings
from motionflow.training.plots import plot_training_curve
from motionflow.training.trainer import VALIDATION_FILE
from tests.training.helpers import tiny_training_config

PHASES = [
    {"name": "stage1", "steps": 3, "learning_rate": 1e-3},
    {"name": "stage2", "steps": 2, "learning_rate": 1e-4},
]
VALIDATION = {"every": 2, "clips": 2, "timesteps": [300, 700]}


def _validation_rows(out):
    with (out / VALIDATION_FILE).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _losses_without_time(out):
    with (out / "losses.csv").open(newline="") as handle:
        return [
            {key: value for key, value in row.items() if key != "seconds"} for row in csv.DictReader(handle)
        ]


def _weights(result):
    return load_file(result.model / "model.safetensors")


def test_validation_is_logged_at_the_start_every_n_steps_and_at_each_phase_end(tmp_path):
    train(tiny_training_config(PHASES, validation=VALIDATION), tmp_path / "run", progress=False)
    rows = _validation_rows(tmp_path / "run")
    measured = [(row["phase"], int(row["step"]), row["condition"], int(row["timestep"])) for row in rows]
    expected_steps = {"stage1": [0, 2, 3], "stage2": [0, 2]}
    assert measured == [
        (phase, step, condition, timestep)
        for phase, steps in expected_steps.items()
        for step in steps
        for timestep in (300, 700)
        for condition in ("image", "camera")
    ]
    for row in rows:
        own, other = float(row["loss_own"]), float(row["loss_other"])
        assert own > 0 and float(row["loss_gap"]) == pytest.approx((other - own) / own, abs=2e-5)
    fresh_camera = [row for row in rows if row["step"] == "0" and row["phase"] == "stage1"][1]
    assert fresh_camera["condition"] == "camera" and float(fresh_camera["prediction_change"]) == 0.0


def test_validating_leaves_the_trained_parameters_and_losses_bit_identical(tmp_path):
    plain = train(tiny_training_config(PHASES), tmp_path / "plain", progress=False)
    validated = train(
        tiny_training_config(PHASES, validation=VALIDATION), tmp_path / "validated", progress=False
    )
    expected, actual = _weights(plain), _weights(validated)
    assert all(torch.equal(expected[key], actual[key]) for key in expected)
    assert _losses_without_time(tmp_path / "plain") == _losses_without_time(tmp_path / "validated")
    assert not (tmp_path / "plain" / VALIDATION_FILE).exists()


def test_a_resumed_run_logs_the_same_validation_rows_as_an_uninterrupted_one(tmp_path):
    config = tiny_training_config(PHASES, validation=VALIDATION)
    train(config, tmp_path / "whole", progress=False)
    train(config, tmp_path / "split", max_steps=1, progress=False)
    train(config, tmp_path / "split", resume=True, progress=False)
    assert _validation_rows(tmp_path / "split") == _validation_rows(tmp_path / "whole")


def test_a_run_started_before_validation_existed_resumes(tmp_path):
    config = tiny_training_config(PHASES[:1])
    train(config, tmp_path / "run", max_steps=1, progress=False)
    stored = tmp_path / "run" / "training_config.json"
    settings = json.loads(stored.read_text())
    del settings["validation"]
    stored.write_text(json.dumps(settings))
    assert train(config, tmp_path / "run", resume=True, progress=False).complete


def test_the_training_curve_shows_the_validation(tmp_path):
    train(tiny_training_config(PHASES), tmp_path / "plain", progress=False)
    train(tiny_training_config(PHASES, validation=VALIDATION), tmp_path / "validated", progress=False)
    plain = Image.open(plot_training_curve(tmp_path / "plain", tmp_path / "plain.png"))
    validated = Image.open(plot_training_curve(tmp_path / "validated", tmp_path / "validated.png"))
    assert validated.height > plain.height and validated.width == plain.width


def test_the_synthetic_validation_clips_are_the_held_out_scenes_with_their_motion_as_sampled():
    data = DataSettings(image_size=(32, 32), num_frames=4, motion_variants=4, cache="unused", num_workers=3)
    batch = validation_batch(data, 2, seed=1)
    held_out = held_out_batch(2, (32, 32), 4, seed=1)
    assert batch.keys() == held_out.keys()
    assert all(torch.equal(batch[key], held_out[key]) for key in batch)
    assert not torch.equal(batch["frames"][0, 0], batch["frames"][1, 0])


def test_a_folder_run_validates_on_its_split_and_needs_two_clips(tmp_path):
    export_bundled_re10k(tmp_path, split="test")
    data = DataSettings(
        source="folder", root=str(tmp_path), split="train", image_size=(32, 48), num_frames=2, num_workers=0
    )
    batch = validation_batch(data, 3, split="test")
    assert batch["frames"].shape[:2] == (3, 2)
    with pytest.raises(ValueError, match="no split 'val'"):
        validation_batch(data, 3, split="val")
    for extra in sorted((tmp_path / "test" / "cameras").glob("*.txt"))[1:]:
        extra.unlink()
    with pytest.warns(UserWarning, match="no camera file"), pytest.raises(ValueError, match="1 usable clip"):
        validation_batch(data, 3, split="test")


def test_validation_scenes_must_not_be_training_scenes():
    with pytest.raises(ValueError, match="training scenes"):
        tiny_training_config(PHASES, data={"seed_offset": HELD_OUT_SEED_OFFSET + 1}, validation=VALIDATION)
    tiny_training_config(PHASES, data={"seed_offset": HELD_OUT_SEED_OFFSET + 1})
    with pytest.raises(ValueError, match="validation.clips"):
        ValidationSettings(every=1, clips=1)
    with pytest.raises(ValueError, match="timesteps"):
        ValidationSettings(timesteps=(1000,))
    assert np.array_equal(ValidationSettings().timesteps, (200, 500, 800))
