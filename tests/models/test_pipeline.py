from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from diffusers import EulerDiscreteScheduler

from motionflow.camera.depth_warp import forward_warp
from motionflow.camera.poses import rotation_about_axis
from motionflow.camera.trajectory import Trajectory
from motionflow.errors import FrameCountError
from motionflow.models import trajectory_plucker
from motionflow.pipeline import (
    MotionFlowPipeline,
    SamplingOptions,
    combine_guidance,
    depth_warped_latents,
    guidance_variants,
    initial_latents,
    sampling_timesteps,
)

from .helpers import orbit_trajectory, randomize_new_modules, tiny_model


@pytest.fixture(scope="module")
def pipeline() -> MotionFlowPipeline:
    model = tiny_model()
    randomize_new_modules(model, std=0.1)
    return MotionFlowPipeline(model)


@pytest.fixture(scope="module")
def reference_image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(40, 50, 3), dtype=np.uint8)


def test_same_seed_same_video_other_seed_other_video(pipeline, reference_image) -> None:
    trajectory = orbit_trajectory(frames=4)
    first = pipeline(reference_image, trajectory, num_frames=4, seed=7, steps=2)
    again = pipeline(reference_image, trajectory, num_frames=4, seed=7, steps=2)
    other = pipeline(reference_image, trajectory, num_frames=4, seed=8, steps=2)
    assert first.dtype == np.uint8 and first.shape == (4, 32, 32, 3)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_batched_generation_matches_single_videos(pipeline, reference_image) -> None:
    trajectories = [orbit_trajectory(frames=3), orbit_trajectory(frames=3, radius=4.0)]
    batch = pipeline([reference_image, reference_image[::-1]], trajectories, seed=[1, 2], steps=2)
    assert batch.shape == (2, 3, 32, 32, 3)
    single = pipeline(reference_image[::-1], trajectories[1], seed=2, steps=2)
    assert np.abs(batch[1].astype(int) - single).max() <= 1


def test_generation_size_and_any_scheduler(pipeline, reference_image) -> None:
    euler = MotionFlowPipeline(pipeline.model, EulerDiscreteScheduler.from_config(pipeline.scheduler.config))
    video = euler(reference_image, orbit_trajectory(frames=2), seed=0, steps=2, height=32, width=48)
    assert video.shape == (2, 32, 48, 3)


def test_initial_latents_noise_the_reference_to_the_first_step(pipeline) -> None:
    """ "reference": the forward process q(x_t | reference latent) at the first sampling timestep, for
    DDIM (sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) eps) and for a sigma-parameterised scheduler (x0 +
    sigma eps); "gaussian": the noise alone."""
    noise = torch.randn(2, 4, 3, 5, 6, generator=torch.Generator().manual_seed(0))
    reference = torch.randn(2, 4, 5, 6, generator=torch.Generator().manual_seed(1))
    ddim = pipeline.scheduler
    ddim.set_timesteps(25)
    alpha_bar = ddim.alphas_cumprod[961]
    expected = alpha_bar.sqrt() * reference[:, :, None] + (1 - alpha_bar).sqrt() * noise
    torch.testing.assert_close(initial_latents(noise, reference, ddim, "reference"), expected)
    assert abs(alpha_bar.sqrt().item() - 0.05) < 0.001  # the signal left at t = 961 (docstring)
    torch.testing.assert_close(initial_latents(noise, reference, ddim, "gaussian"), noise)

    euler = EulerDiscreteScheduler.from_config(ddim.config)
    euler.set_timesteps(25)
    sigma = euler.sigmas[0]
    expected = reference[:, :, None] + sigma * noise
    torch.testing.assert_close(initial_latents(noise, reference, euler, "reference"), expected)
    torch.testing.assert_close(
        initial_latents(noise, reference, euler, "gaussian"), noise * euler.init_noise_sigma
    )
    with pytest.raises(ValueError, match="reference, gaussian, warped"):
        initial_latents(noise, reference, ddim, "uniform")


def test_strength_runs_the_last_steps_of_the_schedule(pipeline) -> None:
    """strength s runs the last round(25 s) of 25 timesteps (at least one); the initial latent is noised
    to the first of them, also for a scheduler that looks its noise level up by step index."""
    ddim = pipeline.scheduler
    assert sampling_timesteps(ddim, 25, 1.0).tolist() == ddim.timesteps.tolist()
    assert ddim.timesteps[0] == 961 and len(ddim.timesteps) == 25
    partial = sampling_timesteps(ddim, 25, 0.6)
    assert partial.tolist() == ddim.timesteps[10:].tolist() and partial[0] == 561
    assert sampling_timesteps(ddim, 25, 0.001).tolist() == [1]

    noise = torch.randn(1, 4, 3, 5, 6, generator=torch.Generator().manual_seed(0))
    reference = torch.randn(1, 4, 5, 6, generator=torch.Generator().manual_seed(1))
    euler = EulerDiscreteScheduler.from_config(ddim.config)
    start = sampling_timesteps(euler, 25, 0.6)[:1]
    expected = reference[:, :, None] + euler.sigmas[10] * noise
    torch.testing.assert_close(
        initial_latents(noise, reference, euler, "reference", start_timestep=start), expected
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"strength": 0.0}, "strength must be in"),
        ({"strength": 1.5}, "strength must be in"),
        ({"strength": 0.5, "initial_noise": "gaussian"}, "use reference, warped or depth-warped"),
        ({"initial_noise": "uniform"}, "reference, gaussian, warped"),
    ],
)
def test_sampling_options_refuse_settings_out_of_range(settings, message) -> None:
    with pytest.raises(ValueError, match=message):
        SamplingOptions(**settings)


def test_a_low_strength_keeps_the_reference(pipeline, reference_image) -> None:
    """Started from the reference latent one step before the end, every frame stays the reference
    (through the codec); the full schedule moves the frames far from it."""
    trajectory = orbit_trajectory(frames=3)
    kept = pipeline(reference_image, trajectory, seed=5, steps=25, strength=0.04).astype(float)
    full = pipeline(reference_image, trajectory, seed=5, steps=25).astype(float)
    assert np.abs(kept - kept[0]).mean() < 8.0
    assert np.abs(full - full[0]).mean() > 10 * np.abs(kept - kept[0]).mean()
    with pytest.raises(ValueError, match="strength must be in"):
        pipeline(reference_image, trajectory, seed=5, steps=2, strength=2.0)


def _panning_trajectory(angles: list[float], size: tuple[int, int], focal: float) -> Trajectory:
    """A camera turning right about its y axis by each angle, K centred on a pixel centre."""
    c2w = np.repeat(np.eye(4)[None], len(angles), axis=0)
    c2w[:, :3, :3] = [rotation_about_axis(np.array([0.0, 1.0, 0.0]), angle) for angle in angles]
    intrinsics = np.array([[focal, 0, 4.5], [0, focal, 3.5], [0, 0, 1.0]])
    return Trajectory(c2w=c2w, intrinsics=np.repeat(intrinsics[None], len(angles), axis=0), image_size=size)


def test_warped_start_sees_the_reference_from_each_camera(pipeline) -> None:
    """ "warped": each frame starts from the reference latent as its camera sees it. A still camera
    starts every frame from the reference itself (as "reference" does); a camera turned right by
    atan(2 / f) sees at the image centre what lies 2 latent pixels right of it in the reference; a
    camera turned away from the whole reference sees its edge values, never zeros."""
    size, focal = (8, 10), 6.0
    scheduler = pipeline.scheduler
    scheduler.set_timesteps(25)
    signal = scheduler.alphas_cumprod[int(scheduler.timesteps[0])].sqrt()
    reference = torch.randn(1, 4, *size, generator=torch.Generator().manual_seed(2)) + 5.0
    noise = torch.randn(1, 4, 3, *size, generator=torch.Generator().manual_seed(3))

    still = _panning_trajectory([0.0, 0.0, 0.0], size, focal)
    torch.testing.assert_close(
        initial_latents(noise, reference, scheduler, "warped", [still]),
        initial_latents(noise, reference, scheduler, "reference"),
    )

    panning = _panning_trajectory([0.0, float(np.arctan(2 / focal)), 1.5], size, focal)
    clean = initial_latents(torch.zeros_like(noise), reference, scheduler, "warped", [panning]) / signal
    torch.testing.assert_close(clean[0, :, 0], reference[0])
    torch.testing.assert_close(clean[0, :, 1, 3, 4], reference[0, :, 3, 6])
    edges = torch.cat(
        [reference[0, :, :, 0], reference[0, :, :, -1], reference[0, :, 0], reference[0, :, -1]], 1
    )
    assert clean[0, :, 2].abs().min() > edges.abs().min() - 1e-4
    with pytest.raises(ValueError, match="one trajectory per video"):
        initial_latents(noise, reference, scheduler, "warped")


def test_initial_noise_choice_reaches_the_video(pipeline, reference_image) -> None:
    trajectory = orbit_trajectory(frames=3)
    from_reference = pipeline(reference_image, trajectory, seed=5, steps=2)
    assert np.array_equal(
        from_reference, pipeline(reference_image, trajectory, seed=5, steps=2, initial_noise="reference")
    )
    from_noise = pipeline(reference_image, trajectory, seed=5, steps=2, initial_noise="gaussian")
    assert not np.array_equal(from_reference, from_noise)
    from_warped = pipeline(reference_image, trajectory, seed=5, steps=2, initial_noise="warped")
    assert not np.array_equal(from_reference, from_warped)
    batch = pipeline([reference_image, reference_image[::-1]], [trajectory, trajectory], seed=[5, 6], steps=2)
    assert np.abs(batch[0].astype(int) - from_reference).max() <= 1
    assert (
        np.abs(batch[1].astype(int) - pipeline(reference_image[::-1], trajectory, seed=6, steps=2)).max() <= 1
    )


class ConstantDepth:
    """A depth estimator that sees a fronto-parallel wall at `depth`."""

    def __init__(self, depth: float):
        self.depth = depth
        self.images: list[np.ndarray] = []

    def estimate_depth(self, image: np.ndarray) -> np.ndarray:
        self.images.append(image)
        return np.full(image.shape[:2], self.depth, dtype=np.float32)


def test_depth_warped_start_is_the_encoded_forward_warp(pipeline, reference_image) -> None:
    """ "depth-warped": each frame starts from the codec's latent of the reference forward-warped into
    it through the estimated depth, seen at the generation size, noised to the first timestep."""
    model, scheduler = pipeline.model, pipeline.scheduler
    trajectory = orbit_trajectory(frames=3)
    reference = torch.from_numpy(reference_image[:32, :32]).permute(2, 0, 1).float() / 127.5 - 1
    depth = ConstantDepth(2.0)
    latents = depth_warped_latents(model.codec, reference[None], [trajectory], depth)
    assert depth.images[0].shape == (32, 32, 3)
    frames, _ = forward_warp(
        reference.permute(1, 2, 0).numpy(), np.full((32, 32), 2.0), trajectory.resized((32, 32))
    )
    expected = model.codec.encode(torch.from_numpy(frames).permute(0, 3, 1, 2)).transpose(0, 1)[None]
    torch.testing.assert_close(latents, expected)

    scheduler.set_timesteps(25)
    noise = torch.randn(latents.shape, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(
        initial_latents(noise, None, scheduler, "depth-warped", frame_latents=latents),
        scheduler.add_noise(latents, noise, scheduler.timesteps[:1]),
    )
    with pytest.raises(ValueError, match="needs frame latents"):
        initial_latents(noise, None, scheduler, "depth-warped")
    with pytest.raises(ValueError, match="need a depth estimator"):
        depth_warped_latents(model.codec, reference[None], [trajectory], None)


def test_the_depth_warped_start_reaches_the_video(pipeline, reference_image) -> None:
    trajectory = orbit_trajectory(frames=3)
    with pytest.raises(ValueError, match="need a depth estimator"):
        pipeline(reference_image, trajectory, seed=5, steps=2, initial_noise="depth-warped")
    with_depth = MotionFlowPipeline(pipeline.model, pipeline.scheduler, depth_estimator=ConstantDepth(3.0))
    from_depth = with_depth(reference_image, trajectory, seed=5, steps=2, initial_noise="depth-warped")
    assert from_depth.shape == (3, 32, 32, 3)
    assert not np.array_equal(from_depth, pipeline(reference_image, trajectory, seed=5, steps=2))


def test_world_frame_and_intrinsics_scale_do_not_matter() -> None:
    """The trajectory is made relative to frame 0, and K is rescaled to the generation size."""
    trajectory = orbit_trajectory(frames=4, image_size=(32, 32))
    world = np.eye(4)
    world[:3, :3] = rotation_about_axis(np.array([0.3, 1.0, 0.2]), 0.8)
    world[:3, 3] = [5.0, -2.0, 1.0]
    moved = replace(trajectory, c2w=world @ trajectory.c2w)
    bigger = replace(
        trajectory, intrinsics=trajectory.intrinsics * np.array([[2.0], [2.0], [1.0]]), image_size=(64, 64)
    )
    rays = trajectory_plucker(trajectory, (32, 32))
    torch.testing.assert_close(trajectory_plucker(moved, (32, 32)), rays, rtol=0, atol=1e-5)
    torch.testing.assert_close(trajectory_plucker(bigger, (32, 32)), rays, rtol=0, atol=1e-6)
    assert torch.allclose(rays[0, :3], torch.zeros(3, 32, 32))  # frame 0 at the origin: zero moment


def test_bad_requests_are_rejected(pipeline, reference_image) -> None:
    with pytest.raises(FrameCountError, match="trajectory has 4 frames, 5 requested"):
        pipeline(reference_image, orbit_trajectory(frames=4), num_frames=5, steps=1)
    with pytest.raises(ValueError, match="multiple of 8"):
        pipeline(reference_image, orbit_trajectory(frames=2), steps=1, height=36)
    with pytest.raises(FrameCountError, match="at most 32"):
        pipeline(reference_image, orbit_trajectory(frames=33), steps=1)
    with pytest.raises(ValueError, match="reference image must be uint8"):
        pipeline(reference_image.astype(np.float32), orbit_trajectory(frames=2), steps=1)


@pytest.mark.parametrize(
    ("image_scale", "camera_scale", "passes"), [(1.0, 1.0, 1), (3.0, 3.0, 2), (3.0, 1.5, 3)]
)
def test_guidance_combination(image_scale: float, camera_scale: float, passes: int) -> None:
    variants = guidance_variants(image_scale, camera_scale)
    assert len(variants) == passes
    assert (variants[-1].drop_image, variants[-1].drop_camera) == (False, False)
    predictions = {
        (True, True): torch.tensor(1.0),
        (False, True): torch.tensor(2.0),
        (False, False): torch.tensor(5.0),
    }
    combined = combine_guidance(
        [predictions[(v.drop_image, v.drop_camera)] for v in variants], image_scale, camera_scale
    )
    expected = 1.0 + image_scale * (2.0 - 1.0) + camera_scale * (5.0 - 2.0)
    assert combined.item() == pytest.approx(expected)


def test_pipeline_save_load_and_bfloat16(pipeline, reference_image, tmp_path) -> None:
    pipeline.save_pretrained(tmp_path)
    loaded = MotionFlowPipeline.from_pretrained(tmp_path)
    trajectory = orbit_trajectory(frames=2)
    expected = pipeline(reference_image, trajectory, seed=3, steps=2)
    assert np.array_equal(loaded(reference_image, trajectory, seed=3, steps=2), expected)
    half = MotionFlowPipeline.from_pretrained(tmp_path, dtype=torch.bfloat16)
    assert half.model.dtype == torch.bfloat16
    video = half(reference_image, trajectory, seed=3, steps=2)
    assert video.shape == expected.shape and np.abs(video.astype(int) - expected).mean() < 20
