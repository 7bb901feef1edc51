"""The bundled depth network: it estimates held-out synthetic depth as its training run recorded, and
the methods load it when they sample from a depth-warped start or run a model conditioned on
depth-warped frames."""

from __future__ import annotations

import json
from dataclasses import astuple

import numpy as np
import pytest

from baselines import METHODS
from baselines.motionflow_method import MotionFlowMethod
from motionflow.checkpoints import CHECKPOINTS_ROOT
from motionflow.checkpoints.depth import DEPTH_CHECKPOINT, depth_weights_hash, load_depth_net
from motionflow.models.depth import DepthNet
from motionflow.pipeline import MotionFlowPipeline
from motionflow.training.config import HELD_OUT_SEED_OFFSET
from motionflow.training.depth import depth_errors, render_depth_views
from motionflow.utils.io import content_hash
from tests.models.helpers import orbit_trajectory, tiny_model


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


def test_a_checkpoint_conditioned_on_depth_warped_frames_loads_the_bundled_depth_network(tmp_path) -> None:
    """Its config says so: the method loads the depth network whatever the start, and the network's
    weights hash enters the fingerprint (the videos depend on it)."""
    for conditioned in (False, True):
        model = tiny_model(
            image_latent_condition=True, depth_warped_condition=conditioned, image_size=(32, 32)
        )
        MotionFlowPipeline(model).save_pretrained(tmp_path / str(conditioned))
    plain, conditioned = (MotionFlowMethod(tmp_path / str(value), steps=2) for value in (False, True))
    assert plain.pipeline().depth_estimator is None
    assert isinstance(conditioned.pipeline().depth_estimator, DepthNet)
    assert conditioned.fingerprint() == content_hash(
        "motionflow", conditioned.weights_hash(), *astuple(conditioned.sampling), depth_weights_hash()
    )
    trajectory = orbit_trajectory(frames=4, image_size=(32, 32))
    reference = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    video = conditioned.generate(reference, trajectory, num_frames=4, seed=0)
    assert video.shape == (4, 32, 32, 3) and video.std() > 0
