import json
import time

import pytest
import torch
from safetensors.torch import load_file

from bench.train_timed import parse_assignments, train_until
from motionflow.training import train
from tests.training.helpers import tiny_training_config


def test_assignments_become_nested_settings_with_json_values():
    settings = parse_assignments(
        ["optim.batch_size=64", "optim.timestep_power=2.5", "data.cache=runs/c", "data.image_size=[64,64]"]
    )
    assert settings == {
        "optim": {"batch_size": 64, "timestep_power": 2.5},
        "data": {"cache": "runs/c", "image_size": [64, 64]},
    }
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        parse_assignments(["optim.batch_size"])


def test_a_run_past_its_deadline_ends_at_its_latest_checkpoint_as_the_shorter_run_would(tmp_path):
    phases = [
        {"name": "stage1", "steps": 2, "learning_rate": 1e-3},
        {"name": "stage2", "steps": 100, "learning_rate": 1e-4},
    ]
    config = tiny_training_config(phases, optim={"checkpoint_every": 2})
    train_until(config, tmp_path / "cut", deadline=time.monotonic())

    stored = json.loads((tmp_path / "cut" / "training_config.json").read_text())
    assert [(phase["name"], phase["steps"]) for phase in stored["phases"]] == [("stage1", 2), ("stage2", 2)]
    shorter = tiny_training_config([phases[0], {**phases[1], "steps": 2}], optim={"checkpoint_every": 2})
    whole = train(shorter, tmp_path / "whole", progress=False)
    expected = load_file(whole.model / "model.safetensors")
    actual = load_file(tmp_path / "cut" / "model" / "model.safetensors")
    assert expected.keys() == actual.keys()
    assert all(torch.equal(expected[key], actual[key]) for key in expected)
