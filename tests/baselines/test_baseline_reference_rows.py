"""The reference rows against cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import binary_erosion

from baselines import METHODS
from baselines.warp import warp_reference
from motionflow.camera.depth_warp import forward_warp
from motionflow.camera.homography import rotation_homographies
from motionflow.data.synthetic import render_synthetic_clip
from motionflow.errors import MissingWeightsError
from motionflow.models.depth import DepthNet

FRAMES = 6


@pytest.fixture(scope="module")
def rotation_clip():
    """A camera turning in place (no translation, so no parallax) in a textured indoor scene."""
    clip = render_synthetic_clip(
        scene="indoor", path="rotation", num_frames=FRAMES, image_size=(72, 96), seed=0
    )
    assert np.abs(clip.trajectory.relative().c2w[:, :3, 3]).max() < 1e-9
    return clip


def test_warp_of_a_pure_rotation_matches_the_rendered_frames(rotation_clip) -> None:
    frames, trajectory = rotation_clip.frames, rotation_clip.trajectory
    warped = METHODS.get("warp")().generate(frames[0], trajectory, FRAMES)
    static = METHODS.get("static")().generate(frames[0], trajectory, FRAMES)
    inside = warp_reference(np.full_like(frames[0], 255), rotation_homographies(trajectory))[..., 0] == 255
    assert np.array_equal(warped[0], frames[0])
    for index in range(1, FRAMES):
        compared = binary_erosion(inside[index], iterations=3)  # off the borders of the valid region
        assert compared.mean() > 0.2
        warp_error = np.abs(warped[index].astype(float) - frames[index])[compared].mean()
        static_error = np.abs(static[index].astype(float) - frames[index])[compared].mean()
        assert warp_error < 4.0, (index, warp_error)
        assert static_error > 3 * warp_error, (index, static_error, warp_error)


def test_static_repeats_the_reference(rotation_clip) -> None:
    frames, trajectory = rotation_clip.frames, rotation_clip.trajectory
    video = METHODS.get("static")().generate(frames[2], trajectory, FRAMES)
    assert video.shape == frames.shape
    assert all(np.array_equal(frame, frames[2]) for frame in video)


def test_oracle_returns_the_ground_truth(rotation_clip) -> None:
    frames, trajectory = rotation_clip.frames, rotation_clip.trajectory
    method = METHODS.get("oracle")()
    assert method.requirements.needs_ground_truth
    video = method.generate(frames[0], trajectory, FRAMES, ground_truth=frames)
    assert np.array_equal(video, frames) and video is not frames
    with pytest.raises(ValueError, match="ground-truth"):
        method.generate(frames[0], trajectory, FRAMES)


def test_autoencoder_reconstructs_the_ground_truth_through_the_bundled_codec(tmp_path) -> None:
    clip = render_synthetic_clip(scene="indoor", path="re10k", num_frames=4, image_size=(128, 192), seed=3)
    method = METHODS.get("autoencoder")()
    assert method.requirements.needs_ground_truth
    video = method.generate(clip.frames[0], clip.trajectory, 4, ground_truth=clip.frames)
    assert video.shape == clip.frames.shape
    error = np.abs(video.astype(float) - clip.frames).mean(axis=(1, 2, 3))
    static_error = np.abs(clip.frames[:1].astype(float) - clip.frames).mean(axis=(1, 2, 3))
    assert 0 < error.max() < 20, error  # lossy, but close: its frames differ where the true ones do
    assert (error[1:] < static_error[1:]).all(), (error, static_error)
    with pytest.raises(ValueError, match="ground-truth"):
        method.generate(clip.frames[0], clip.trajectory, 4)
    with pytest.raises(MissingWeightsError):
        METHODS.get("autoencoder")(checkpoint_dir=tmp_path).check_available()
    assert METHODS.get("autoencoder")().fingerprint() == method.fingerprint()


@pytest.fixture(scope="module")
def sideways_clip():
    """A camera moving sideways through a textured room: translation, so parallax."""
    return render_synthetic_clip(
        scene="indoor", path="sideways", num_frames=FRAMES, image_size=(72, 96), seed=3
    )


def test_the_true_depth_warp_shows_the_parallax_the_rotation_warp_misses(sideways_clip) -> None:
    """Forward-warped through the rendered depth, the reference reproduces the rendered later frames
    where it sees them; the rotation-only warp and the still frame do not."""
    frames, trajectory = sideways_clip.frames, sideways_clip.trajectory
    depth_warped, covered = forward_warp(frames[0], sideways_clip.depth[0], trajectory)
    rotation_warped = METHODS.get("warp")().generate(frames[0], trajectory, FRAMES)
    for index in range(2, FRAMES):
        compared = binary_erosion(covered[index], iterations=2)
        assert compared.mean() > 0.3
        errors = {
            name: np.abs(video[index].astype(float) - frames[index])[compared].mean()
            for name, video in (
                ("depth", depth_warped),
                ("rotation", rotation_warped),
                ("still", frames[[0] * FRAMES]),
            )
        }
        assert errors["depth"] < 0.3 * min(errors["rotation"], errors["still"]), (index, errors)


def test_depth_warp_runs_the_depth_network_it_is_given(sideways_clip, tmp_path) -> None:
    frames, trajectory = sideways_clip.frames, sideways_clip.trajectory
    with pytest.raises(MissingWeightsError, match="depth network weights not found"):
        METHODS.get("depth-warp")(depth_model_dir=str(tmp_path / "none")).check_available()
    DepthNet(channels=(8, 16), groups=4, image_size=(32, 32)).save_pretrained(tmp_path / "depth")
    method = METHODS.get("depth-warp")(depth_model_dir=str(tmp_path / "depth"))
    video = method.generate(frames[0], trajectory, FRAMES)
    assert video.shape == frames.shape and np.array_equal(video[0], frames[0])
    assert method.fingerprint() != METHODS.get("depth-warp")().fingerprint()
