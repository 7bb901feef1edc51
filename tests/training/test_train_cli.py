import json

from typer.testing import CliRunner

from bench.cli import app
from tests.training.helpers import tiny_training_config

runner = CliRunner()


def _config_file(tmp_path, **sections):
    config = tiny_training_config([{"name": "stage1", "steps": 2, "learning_rate": 1e-3}], **sections)
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(config.to_dict()))
    return path


def test_train_writes_the_model_and_prints_the_last_held_out_measurement(tmp_path):
    config = _config_file(tmp_path, validation={"every": 1, "clips": 2, "timesteps": [500]})
    result = runner.invoke(app, ["train", "--config", str(config), "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert f"trained model: {tmp_path / 'run' / 'model'}" in result.output
    assert "held-out condition use, stage1 step 2" in result.output
    assert "camera" in result.output and "image" in result.output


def test_train_stops_after_max_steps_and_refuses_to_overwrite_a_run(tmp_path):
    config, out = _config_file(tmp_path), str(tmp_path / "run")
    stopped = runner.invoke(app, ["train", "--config", str(config), "--out", out, "--max-steps", "1"])
    assert stopped.exit_code == 0 and "continue with --resume" in stopped.output
    assert "held-out" not in stopped.output
    refused = runner.invoke(app, ["train", "--config", str(config), "--out", out])
    assert refused.exit_code == 1 and "--resume" in refused.output
    resumed = runner.invoke(app, ["train", "--config", str(config), "--out", out, "--resume"])
    assert resumed.exit_code == 0 and "trained model" in resumed.output
