import numpy as np
import pytest

from baselines import METHODS, create_method
from baselines.motionflow_method import MotionFlowMethod, generation_size, register_motionflow_variant
from motionflow.checkpoints import DEFAULT_CHECKPOINT, bundled_checkpoints, checkpoint_path
from motionflow.errors import MissingWeightsError
from motionflow.models.motionflow import WEIGHTS_NAME
from motionflow.models.video_denoiser import checkpoint_weights_hash
from motionflow.pipeline import DEFAULT_GUIDANCE, SamplingOptions
from tests.models.helpers import orbit_trajectory


def test_the_bundled_checkpoint_loads_and_generates_a_short_video():
    method = METHODS.get("motionflow")(steps=2)
    trajectory = orbit_trajectory(frames=4, image_size=(48, 64))
    reference = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    video = method.generate(reference, trajectory, num_frames=4, seed=0)
    again = method.generate(reference, trajectory, num_frames=4, seed=0)
    assert video.shape == (4, 48, 64, 3) and video.dtype == np.uint8
    assert np.array_equal(video, again)
    assert video.std() > 0


def test_the_bundled_checkpoint_is_small_enough_to_ship():
    folder = checkpoint_path()
    assert DEFAULT_CHECKPOINT in bundled_checkpoints()
    assert (folder / WEIGHTS_NAME).stat().st_size < 50e6
    for name in ("config.json", "training_config.json", "summary.json", "scheduler/scheduler_config.json"):
        assert (folder / name).is_file(), name
    assert (folder.parent / "TRAINING.md").is_file()


def test_the_fingerprint_follows_the_checkpoint_and_the_sampling_settings():
    weights_hash = checkpoint_weights_hash(checkpoint_path())
    assert MotionFlowMethod().fingerprint() == MotionFlowMethod().fingerprint()
    assert MotionFlowMethod(steps=3).fingerprint() != MotionFlowMethod().fingerprint()
    assert MotionFlowMethod(camera_guidance_scale=8).fingerprint() != MotionFlowMethod().fingerprint()
    assert (
        MotionFlowMethod(camera_guidance_scale=DEFAULT_GUIDANCE).fingerprint()
        == MotionFlowMethod().fingerprint()
    )
    assert MotionFlowMethod().weights_hash() == weights_hash


def test_a_variant_keeps_its_own_sampling_defaults_under_the_options_given():
    variant = register_motionflow_variant(
        "motionflow-test-sampling", "no-such-checkpoint", {"initial_noise": "depth-warped", "strength": 0.4}
    )
    assert variant().sampling == SamplingOptions(initial_noise="depth-warped", strength=0.4)
    assert variant(guidance_scale=2.0).sampling == SamplingOptions(
        guidance_scale=2.0, initial_noise="depth-warped", strength=0.4
    )
    assert variant(initial_noise="reference", strength=1.0).sampling == SamplingOptions()
    assert create_method("motionflow-test-sampling", strength=None).sampling.strength == 0.4
    assert MotionFlowMethod().sampling == SamplingOptions()


def test_a_variant_is_a_name_and_a_checkpoint_folder():
    variant = register_motionflow_variant("motionflow-test-variant", "no-such-checkpoint")
    assert METHODS.get("motionflow-test-variant") is variant
    with pytest.raises(MissingWeightsError, match="no-such-checkpoint"):
        variant().fingerprint()


@pytest.mark.parametrize(
    ("frame_size", "expected"), [((256, 256), (128, 128)), ((256, 384), (128, 192)), ((90, 160), (128, 224))]
)
def test_generation_keeps_the_model_height_and_the_frame_aspect(frame_size, expected):
    assert generation_size((128, 128), frame_size, 32) == expected
