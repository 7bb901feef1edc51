"""The bundled depth network: it estimates held-out synthetic depth as its training run recorded, and
the methods load it when they sample from a depth-warped start."""

from __future__ import annotations

import json

import numpy as np
import pytest

from baselines import METHODS
from motionflow.checkpoints import CHECKPOINTS_ROOT
from motionflow.checkpoints.depth import DEPTH_CHECKPOINT, depth_weights_hash, load_depth_net
from motionflow.models.depth import DepthNet
from motionflow.training.config import HELD_OUT_SEED_OFFSET
from motionflow.training.depth import depth_errors, render_depth_views
from tests.models.helpers import orbit_trajectory


def test_the_bundled_depth_network_scores_what_its_run_recorded_on_held_out_scenes() -> None:
    folder = CHECKPOINTS_ROOT / DEPTH_CHECKPOINT
    summary = json.loads((folder / "summary.json").read_text())
    model = load_depth_net()
    held_out = render_depth_views(
        HELD_OUT_SEED_OFFSET,
        summary["settings"]["validation_scenes"],
        4,
        tuple(model.config.image_size),
        False,
    )
    errors = depth_errors(model, held_out)
    assert errors["abs_rel"] == pytest.approx(summary["held_out"]["abs_rel"], abs=2e-3)
    assert errors["abs_rel"] < 0.25 and errors["delta1"] > 0.6
    for name in ("losses.csv", "validation.csv", "training_curve.png"):
        assert (folder / name).is_file(), name


@pytest.mark.parametrize("name", ["motionflow", "cameractrl"])
def test_a_depth_warped_start_loads_the_bundled_depth_network(name: str) -> None:
    method = METHODS.get(name)(steps=2, initial_noise="depth-warped", strength=0.5)
    assert method.fingerprint() != METHODS.get(name)(steps=2, strength=0.5).fingerprint()
    assert isinstance(method.pipeline().depth_estimator, DepthNet)
    assert METHODS.get(name)(steps=2).pipeline().depth_estimator is None
    trajectory = orbit_trajectory(frames=4, image_size=(48, 64))
    reference = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    video = method.generate(reference, trajectory, num_frames=4, seed=0)
    assert video.shape == (4, 48, 64, 3) and video.std() > 0
    assert len(depth_weights_hash()) == 64
