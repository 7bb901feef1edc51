from pathlib import Path

import pytest

from motionflow.training.config import TrainingConfig, load_training_config, resolve_config_path
from tests.training.helpers import tiny_training_config

REPO_CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("path", sorted(REPO_CONFIGS.glob("*.toml")), ids=lambda path: path.stem)
def test_every_shipped_config_loads_and_builds_its_model_config(path):
    config = load_training_config(path)
    model_config = config.model.build_config()
    assert config.seed >= 0 and config.phases
    assert model_config.block_out_channels


def test_a_config_name_resolves_to_the_configs_folder():
    assert resolve_config_path("small") == REPO_CONFIGS / "small.toml"


def test_an_unknown_name_lists_where_it_was_looked_for():
    with pytest.raises(FileNotFoundError, match="no-such-config.toml"):
        resolve_config_path("no-such-config")


def test_unknown_settings_are_rejected_with_their_names(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "x"\nseed = 0\nlearnin_rate = 1\n[[phases]]\nname = "stage1"\nsteps = 1\nlearning_rate = 1e-4\n'
    )
    with pytest.raises(ValueError, match="learnin_rate"):
        load_training_config(path)


def test_phases_must_come_in_order():
    with pytest.raises(ValueError, match="order"):
        tiny_training_config(
            [
                {"name": "stage2", "steps": 1, "learning_rate": 1e-5},
                {"name": "stage1", "steps": 1, "learning_rate": 1e-4},
            ]
        )


def test_config_round_trips_through_its_dict():
    config = tiny_training_config([{"name": "stage1", "steps": 2, "learning_rate": 1e-4}])
    assert TrainingConfig.from_dict(config.to_dict()) == config
