"""`depth_warped_condition`: each frame's concatenated reference latent is the reference forward-warped
into that frame's camera through a depth estimate, which the caller encodes and passes as
`frame_latents`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionflow.camera.poses import rotation_about_axis
from motionflow.camera.trajectory import Trajectory
from motionflow.models import MotionFlowModel, trajectory_plucker
from motionflow.models.config import MotionFlowConfig
from motionflow.pipeline import MotionFlowPipeline, depth_warped_latents

from .helpers import randomize_new_modules, tiny_config

SIZE = (64, 64)
FRAMES = 4


class ConstantDepth:
    def __init__(self, depth: float):
        self.depth = depth

    def estimate_depth(self, image: np.ndarray) -> np.ndarray:
        return np.full(image.shape[:2], self.depth, dtype=np.float32)


def _trajectory(moving: bool) -> Trajectory:
    c2w = np.repeat(np.eye(4)[None], FRAMES, axis=0)
    if moving:
        for index in range(FRAMES):
            c2w[index, :3, :3] = rotation_about_axis(np.array([0.0, 1.0, 0.0]), 0.05 * index)
            c2w[index, :3, 3] = [0.3 * index, 0.0, 0.1 * index]
    intrinsics = np.array([[60.0, 0, 32.0], [0, 60.0, 32.0], [0, 0, 1.0]])
    return Trajectory(c2w=c2w, intrinsics=np.repeat(intrinsics[None], FRAMES, axis=0), image_size=SIZE)


def _model(depth_condition: bool) -> MotionFlowModel:
    torch.manual_seed(0)
    config = tiny_config(
        image_latent_condition=True,
        depth_warped_condition=depth_condition,
        image_size=SIZE,
        num_frames=FRAMES,
    )
    model = MotionFlowModel(config).eval()
    randomize_new_modules(model)
    with torch.no_grad():  # the reference channels of conv_in start at zero; give them a say
        model.video_unet.conv_in.weight[:, model.latent_channels :].normal_(0, 0.1)
    return model


def _reference() -> torch.Tensor:
    image = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    return torch.nn.functional.interpolate(image, size=SIZE, mode="bilinear")


def test_the_switch_needs_the_image_latent_condition_and_excludes_the_rotation_warp() -> None:
    with pytest.raises(ValueError, match="needs image_latent_condition"):
        tiny_config(depth_warped_condition=True)
    with pytest.raises(ValueError, match="exclusive"):
        tiny_config(image_latent_condition=True, depth_warped_condition=True, reference_latent_warp=True)
    config = tiny_config(image_latent_condition=True, depth_warped_condition=True)
    assert MotionFlowConfig.from_json(config.to_json()) == config
    assert (
        MotionFlowModel(config).takes_frame_latents and not MotionFlowModel(tiny_config()).takes_frame_latents
    )


@torch.no_grad()
def test_each_frame_sees_its_latent_and_a_dropped_condition_the_unwarped_reference() -> None:
    model = _model(True)
    reference = _reference()
    plucker = trajectory_plucker(_trajectory(True), SIZE)[None].repeat(3, 1, 1, 1, 1)
    latent_size = [side // model.codec.downsample_factor for side in SIZE]
    frame_latents = torch.randn(
        3, model.latent_channels, FRAMES, *latent_size, generator=torch.Generator().manual_seed(3)
    )
    conditions = model.encode_conditions(
        reference.repeat(3, 1, 1, 1),
        plucker,
        drop_image=torch.tensor([False, True, False]),
        drop_camera=torch.tensor([False, False, True]),
        frame_latents=frame_latents,
    )
    frames = conditions.frame_reference_latents
    torch.testing.assert_close(frames[0], frame_latents[0])
    for dropped in (1, 2):
        unwarped = conditions.reference_latents[dropped, :, None].expand(-1, FRAMES, -1, -1)
        torch.testing.assert_close(frames[dropped], unwarped)
    assert not torch.allclose(
        conditions.reference_latents[1], conditions.reference_latents[2]
    )  # the null image

    with pytest.raises(ValueError, match="needs frame_latents"):
        model.encode_conditions(reference, plucker[:1])
    with pytest.raises(ValueError, match="frame_latents must be"):
        model.encode_conditions(reference, plucker[:1], frame_latents=frame_latents[:1, :, :2])


@torch.no_grad()
def test_a_still_camera_gives_the_plain_condition_and_a_moving_one_changes_the_prediction() -> None:
    """Same weights: warped into a still camera the reference is itself, so the prediction is the plain
    model's; a moving camera changes the later frames' condition, and the prediction."""
    plain, conditioned = _model(False), _model(True)
    conditioned.load_state_dict(plain.state_dict())
    reference = _reference()
    latent_size = [side // plain.codec.downsample_factor for side in SIZE]
    noisy = torch.randn(
        1, plain.latent_channels, FRAMES, *latent_size, generator=torch.Generator().manual_seed(2)
    )
    depth = ConstantDepth(2.0)
    for moving in (False, True):
        trajectory = _trajectory(moving)
        plucker = trajectory_plucker(trajectory, SIZE)[None]
        frame_latents = depth_warped_latents(conditioned.codec, reference, [trajectory], depth)
        change = (
            conditioned(noisy, 500, reference, plucker, frame_latents=frame_latents)
            - plain(noisy, 500, reference, plucker)
        ).abs()
        if moving:
            assert change[:, :, -1].mean() > 1e-3
        else:
            assert change.max() < 1e-4


def test_the_pipeline_warps_the_reference_for_a_conditioned_model() -> None:
    model = _model(True)
    image = ((_reference()[0].permute(1, 2, 0) + 1) * 127.5).round().to(torch.uint8).numpy()
    trajectory = _trajectory(True)
    with pytest.raises(ValueError, match="need a depth estimator"):
        MotionFlowPipeline(model)(image, trajectory, steps=2)
    near, far = (
        MotionFlowPipeline(model, depth_estimator=ConstantDepth(depth))(image, trajectory, seed=4, steps=2)
        for depth in (1.0, 50.0)
    )
    assert near.shape == (FRAMES, *SIZE, 3)
    assert not np.array_equal(near[-1], far[-1])  # the parallax the condition shows reaches the video
