import numpy as np
import pytest
import torch

from baselines import create_method
from bench.denoising_fidelity import denoising_fidelity
from bench.metrics.visual import psnr
from motionflow.checkpoints import checkpoint_path
from motionflow.checkpoints.depth import load_depth_net
from motionflow.pipeline import depth_warped_latents
from motionflow.training.condition_use import held_out_items
from motionflow.training.data import batch_inputs, frames_to_model_range, to_training_item
from motionflow.training.losses import training_scheduler
from motionflow.training.models import load_trainee
from tests.training.helpers import DEPTH_WARPED_CONDITION, tiny_trainee

TIMESTEPS = (50, 500, 950)


@pytest.fixture(scope="module")
def clips():
    items = held_out_items(2, (32, 32), 4)
    return [items.clip(index) for index in range(len(items))]


def by_stage(rows, stage):
    return [row for row in rows if row.stage == stage]


def test_a_denoiser_that_predicts_the_true_noise_recovers_the_codec_reconstruction(clips):
    model = tiny_trainee()
    frames, _ = batch_inputs(
        {"frames": torch.stack([to_training_item(*clip)["frames"] for clip in clips])}, model.device, None
    )
    clean = model.encode_video(frames)
    signal = training_scheduler().alphas_cumprod

    def exact_noise(noisy, timesteps, *inputs, **options):
        kept = signal[timesteps].view(-1, 1, 1, 1, 1).to(noisy)
        return (noisy - kept.sqrt() * clean) / (1 - kept).sqrt()

    model.forward = exact_noise
    rows = denoising_fidelity(model, clips, TIMESTEPS)
    assert [(row.stage, row.timestep) for row in rows] == [
        ("codec", None),
        *(("estimate", timestep) for timestep in TIMESTEPS),
        ("static", None),
    ]
    codec = by_stage(rows, "codec")[0]
    for estimate in by_stage(rows, "estimate"):
        assert estimate.psnr_reference_frame == pytest.approx(codec.psnr_reference_frame, abs=0.05)
        assert estimate.psnr_later_frames == pytest.approx(codec.psnr_later_frames, abs=0.05)


def test_static_reproduces_the_reference_frame_and_is_scored_on_the_later_ones(clips):
    static = by_stage(denoising_fidelity(tiny_trainee(), clips, (500,)), "static")[0]
    assert static.psnr_reference_frame == np.inf
    expected = np.mean(
        [
            psnr(
                *(
                    torch.from_numpy(video).permute(0, 3, 1, 2).float() / 255
                    for video in (frames[[0] * 3], frames[1:])
                )
            )
            for frames, _ in clips
        ]
    )
    assert static.psnr_later_frames == pytest.approx(expected)


def test_the_bundled_motionflow_recovers_more_from_less_noise_and_its_videos_are_scored(clips):
    trainee = load_trainee("motionflow", checkpoint_path("motionflow-small"))
    rows = denoising_fidelity(trainee, clips, (50, 950), sampled=create_method("motionflow", steps=2))
    low, high = by_stage(rows, "estimate")
    assert low.psnr_later_frames > high.psnr_later_frames
    sampled = by_stage(rows, "sampled")[0]
    assert np.isfinite(sampled.psnr_reference_frame) and np.isfinite(sampled.psnr_later_frames)
    assert [row.stage for row in rows][-2:] == ["sampled", "static"]


def test_a_model_conditioned_on_depth_warped_frames_is_estimated_from_each_reference_warped(clips):
    """The one-step estimates get the references warped into their clips' cameras through the depth
    network, as the pipeline's sampling does."""
    model = tiny_trainee(**DEPTH_WARPED_CONDITION)
    depth_net = load_depth_net()
    seen = []
    forward = model.forward

    def recording_forward(*inputs, **options):
        seen.append(options["frame_latents"])
        return forward(*inputs, **options)

    model.forward = recording_forward
    rows = denoising_fidelity(model, clips, (500,), depth_estimator=depth_net)
    assert [row.stage for row in rows] == ["codec", "estimate", "static"]
    references = frames_to_model_range(torch.stack([to_training_item(*clip)["frames"][0] for clip in clips]))
    expected = depth_warped_latents(
        model.codec, references, [trajectory for _, trajectory in clips], depth_net
    )
    torch.testing.assert_close(seen[0], expected)
