"""`reference_latent_warp`: each frame's concatenated reference latent seen from its camera through the
rotation-only homography, read off the Plücker rays."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionflow.camera.homography import rotation_homographies, warp_by_homographies, warp_by_ray_directions
from motionflow.camera.poses import rotation_about_axis
from motionflow.camera.trajectory import Trajectory
from motionflow.models import MotionFlowModel, trajectory_plucker
from motionflow.models.config import MotionFlowConfig

from .helpers import randomize_new_modules, tiny_config

SIZE = (64, 64)
LATENT = (8, 8)


def _turning_trajectory(frames: int = 4) -> Trajectory:
    """A camera turning about a tilted axis and moving sideways, fx != fy, principal point off centre."""
    axis = np.array([0.3, 1.0, 0.1]) / np.linalg.norm([0.3, 1.0, 0.1])
    c2w = np.repeat(np.eye(4)[None], frames, axis=0)
    for index in range(frames):
        c2w[index, :3, :3] = rotation_about_axis(axis, 0.08 * index)
        c2w[index, :3, 3] = [0.1 * index, 0.0, 0.05 * index]
    intrinsics = np.array([[55.0, 0, 30.0], [0, 52.0, 33.0], [0, 0, 1.0]])
    return Trajectory(c2w=c2w, intrinsics=np.repeat(intrinsics[None], frames, axis=0), image_size=SIZE)


def _smooth_latent(seed: int = 0) -> torch.Tensor:
    latent = torch.randn(1, 4, *LATENT, generator=torch.Generator().manual_seed(seed))
    return torch.nn.functional.avg_pool2d(latent, 3, stride=1, padding=1, count_include_pad=False)


def test_the_ray_warp_is_the_rotation_homography() -> None:
    """From the rays alone, the same map as K_0 R_i K_i^-1 from the trajectory, frame 0 the reference
    itself (both to the precision of rays averaged over each 8x8-pixel cell: 1e-3 of values of about
    0.5); no rays: unwarped."""
    trajectory = _turning_trajectory()
    latent = _smooth_latent()
    plucker = trajectory_plucker(trajectory, SIZE)[None]
    from_rays = warp_by_ray_directions(latent, plucker)
    homographies = rotation_homographies(trajectory, LATENT)
    expected = warp_by_homographies(latent[0], homographies, padding="border").transpose(0, 1)[None]
    assert from_rays.shape == (1, 4, 4, *LATENT)
    torch.testing.assert_close(from_rays[:, :, 0], latent, atol=2e-3, rtol=0)
    assert (from_rays - expected).abs().max() < 5e-3
    assert (from_rays[:, :, 3] - latent).abs().mean() > 0.1  # the last frame has moved

    still = torch.zeros_like(plucker)
    torch.testing.assert_close(
        warp_by_ray_directions(latent, still), latent[:, :, None].expand(-1, -1, 4, -1, -1)
    )
    batch = warp_by_ray_directions(latent.repeat(2, 1, 1, 1), torch.cat([plucker, still]))
    torch.testing.assert_close(batch[0], from_rays[0])
    torch.testing.assert_close(batch[1], latent[0, :, None].expand(-1, 4, -1, -1))


def test_the_switch_needs_the_image_latent_condition() -> None:
    with pytest.raises(ValueError, match="needs image_latent_condition"):
        tiny_config(reference_latent_warp=True)
    config = tiny_config(image_latent_condition=True, reference_latent_warp=True)
    assert MotionFlowConfig.from_json(config.to_json()) == config


def _model(warp: bool) -> MotionFlowModel:
    torch.manual_seed(0)
    config = tiny_config(image_latent_condition=True, reference_latent_warp=warp, image_size=SIZE)
    model = MotionFlowModel(config).eval()
    randomize_new_modules(model)
    with torch.no_grad():  # the reference channels of conv_in start at zero; give them a say
        model.video_unet.conv_in.weight[:, model.latent_channels :].normal_(0, 0.1)
    return model


@torch.no_grad()
def test_each_frame_is_conditioned_on_its_own_view_of_the_reference() -> None:
    """Same weights: with a still camera the warped condition is the plain one, so the predictions are
    equal; a turning camera changes each later frame's condition, and the prediction."""
    plain, warped = _model(False), _model(True)
    warped.load_state_dict(plain.state_dict())
    reference = torch.rand(1, 3, *SIZE, generator=torch.Generator().manual_seed(1)) * 2 - 1
    noisy = torch.randn(1, plain.latent_channels, 4, 16, 16, generator=torch.Generator().manual_seed(2))
    still_trajectory = _turning_trajectory()
    still_trajectory = Trajectory(
        c2w=np.repeat(np.eye(4)[None], 4, axis=0), intrinsics=still_trajectory.intrinsics, image_size=SIZE
    )
    still = trajectory_plucker(still_trajectory, SIZE)[None]
    turning = trajectory_plucker(_turning_trajectory(), SIZE)[None]

    conditions = warped.encode_conditions(reference, turning)
    assert conditions.frame_reference_latents.shape == (1, plain.latent_channels, 4, 16, 16)
    assert plain.encode_conditions(reference, turning).frame_reference_latents is None
    torch.testing.assert_close(
        warped(noisy, 500, reference, still), plain(noisy, 500, reference, still), atol=5e-3, rtol=0
    )
    moved = (warped(noisy, 500, reference, turning) - plain(noisy, 500, reference, turning)).abs()
    assert moved[:, :, 3].mean() > 1e-3
