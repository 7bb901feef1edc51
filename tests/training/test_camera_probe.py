import numpy as np
import pytest
import torch

from motionflow.checkpoints.depth import load_depth_net
from motionflow.training.camera_probe import PROBE_DIRECTIONS, probe_camera_learning, shared_reference_batch
from tests.training.helpers import DEPTH_WARPED_CONDITION, tiny_trainee


@pytest.fixture(scope="module")
def batch():
    return shared_reference_batch((32, 32), num_frames=4)


def test_the_probe_clips_share_their_first_frame_and_differ_only_by_the_camera(batch):
    frames, c2w = batch["frames"], batch["c2w"].double()
    assert frames.shape == (len(PROBE_DIRECTIONS), 4, 3, 32, 32)
    assert all(torch.equal(frames[0, 0], clip[0]) for clip in frames)
    assert all(not torch.equal(frames[0, 1], clip[1]) for clip in frames[1:])
    torch.testing.assert_close(c2w[:, 0], torch.eye(4, dtype=torch.float64).expand(4, 4, 4))
    torch.testing.assert_close(c2w[:, :, :3, :3], torch.eye(3, dtype=torch.float64).expand(4, 4, 3, 3))
    for clip, (_, axis, sign) in enumerate(PROBE_DIRECTIONS):
        step = c2w[clip, 1, :3, 3].numpy()
        assert np.sign(step[axis]) == sign and abs(step[axis]) > 10 * np.abs(np.delete(step, axis)).max()
        np.testing.assert_allclose(c2w[clip, 3, :3, 3].numpy(), 3 * step, rtol=1e-5, atol=1e-7)


def test_the_probe_trains_a_copy_and_measures_the_camera_gap_as_it_goes(batch):
    model = tiny_trainee()
    before = {name: value.clone() for name, value in model.state_dict().items()}
    points = probe_camera_learning(
        model, batch, steps=5, learning_rate=1e-3, measure_every=2, timesteps=(300, 700)
    )
    assert [point.step for point in points] == [0, 2, 4, 5]
    assert all(point.timesteps == (300, 700) for point in points)
    assert points[0].camera_gaps == (0.0, 0.0)  # two zero-initialised projections in series
    assert points[-1].own_losses != points[0].own_losses
    assert all(torch.equal(value, before[name]) for name, value in model.state_dict().items())


def test_a_model_without_a_camera_input_is_refused(batch):
    with pytest.raises(ValueError, match="no camera input"):
        probe_camera_learning(tiny_trainee("animatediff"), batch, steps=1)


def test_a_single_frame_is_refused():
    with pytest.raises(ValueError, match="two frames"):
        shared_reference_batch((32, 32), num_frames=1)


def test_a_model_conditioned_on_depth_warped_frames_is_probed_with_its_warped_references(batch):
    model = tiny_trainee(**DEPTH_WARPED_CONDITION)
    with pytest.raises(ValueError, match="depth estimator"):
        probe_camera_learning(model, batch, steps=1)
    points = probe_camera_learning(
        model,
        batch,
        steps=2,
        learning_rate=1e-3,
        measure_every=2,
        timesteps=(500,),
        depth_estimator=load_depth_net(),
    )
    assert [point.step for point in points] == [0, 2]
    assert points[-1].own_losses != points[0].own_losses
