"""Training the depth network: it learns, it writes a complete run directory, it refuses bad settings."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from bench.cli import app
from motionflow.checkpoints.depth import load_depth_net
from motionflow.training.config import HELD_OUT_SEED_OFFSET
from motionflow.training.depth import DepthTrainingSettings, depth_errors, render_depth_views, train_depth_net

TINY = DepthTrainingSettings(
    steps=60,
    batch_size=8,
    learning_rate=3e-3,
    image_size=(32, 32),
    channels=(8, 16, 32),
    scenes=8,
    views_per_scene=4,
    validation_scenes=2,
    validate_every=30,
)


def test_a_short_run_lowers_the_loss_and_writes_its_directory(tmp_path) -> None:
    model_folder = train_depth_net(TINY, tmp_path / "run", progress=False)
    losses = pd.read_csv(tmp_path / "run" / "losses.csv")
    assert list(losses["step"]) == list(range(1, 61))
    assert losses["loss"].tail(10).mean() < 0.7 * losses["loss"].head(10).mean()
    validation = pd.read_csv(tmp_path / "run" / "validation.csv")
    assert list(validation["step"]) == [30, 60]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["settings"]["steps"] == 60 and summary["seconds"] > 0
    assert (tmp_path / "run" / "training_curve.png").stat().st_size > 0

    model = load_depth_net(model_folder)
    held_out = render_depth_views(HELD_OUT_SEED_OFFSET, 2, 4, (32, 32), progress=False)
    assert depth_errors(model, held_out)["abs_rel"] == pytest.approx(summary["held_out"]["abs_rel"], abs=1e-4)
    with pytest.raises(FileExistsError, match="choose another --out"):
        train_depth_net(TINY, tmp_path / "run", progress=False)


def test_training_scenes_may_not_overlap_the_held_out_ones() -> None:
    with pytest.raises(ValueError, match="overlap the held-out scenes"):
        DepthTrainingSettings(seed_offset=HELD_OUT_SEED_OFFSET)
    with pytest.raises(ValueError, match="must be >= 1"):
        DepthTrainingSettings(steps=0)


def test_train_depth_command(tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["train-depth", "--out", str(tmp_path / "run"), "--steps", "2", "--scenes", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "trained depth network" in result.output and "abs_rel" in result.output
    again = CliRunner().invoke(
        app, ["train-depth", "--out", str(tmp_path / "run"), "--steps", "2", "--scenes", "2"]
    )
    assert again.exit_code == 1 and "error:" in again.output and "exists" in again.output
