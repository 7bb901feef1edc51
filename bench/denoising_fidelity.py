"""Where does a trained model lose the picture? PSNR along the chain a generated video passes.

On held-out synthetic clips, PSNR of the reference frame (frame 0) and of the later frames (1.., as the
suites score them) at each stage:

- `codec`: the frames encoded and decoded by the model's latent codec, the ceiling of anything generated
  in its latent space;
- `estimate`: the model's one-step clean estimate (x0 = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t)), decoded,
  from the clip's own latents noised to timestep t, with its own reference image and cameras: what the
  denoiser recovers when every earlier step was right;
- `sampled`: the method's video, generated with its sampling settings from the reference frame;
- `static`: the reference frame repeated, the bar a camera-following video has to pass.

    python bench/denoising_fidelity.py                                  # every bundled checkpoint
    python bench/denoising_fidelity.py runs/x/model --csv fidelity.csv

A folder's method comes from the `training_config.json` in it or beside it, as in bench/condition_use.py.

A codec far below the true frames caps every method; estimates near the codec at low t but a sampled
video far below them put the loss in the high-noise steps, where the layout under the camera motion is
decided, not in the rendering of detail."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from rich.progress import track
from torch.utils.data import default_collate

from baselines import create_method
from baselines.base import Method
from bench.condition_use import (
    checkpoint_folders,
    checkpoint_label,
    checkpoint_method,
    held_out_checkpoints_parser,
)
from bench.console_table import print_and_save
from bench.metrics.visual import psnr
from motionflow.camera.trajectory import Trajectory
from motionflow.checkpoints.depth import frame_latents_depth_net
from motionflow.models.inputs import video_to_uint8
from motionflow.pipeline import DepthEstimator
from motionflow.training.condition_use import frame_latent_keywords, held_out_items
from motionflow.training.data import batch_inputs, to_training_item
from motionflow.training.losses import training_scheduler
from motionflow.training.models import load_trainee

FIDELITY_TIMESTEPS = (50, 200, 500, 800, 950)

Clip = tuple[np.ndarray, Trajectory]


@dataclass(frozen=True)
class Fidelity:
    """PSNR (dB, averaged over the clips) of one stage of the chain; `timestep` only for estimates."""

    stage: str
    timestep: int | None
    psnr_reference_frame: float
    psnr_later_frames: float


def _fidelity(stage: str, timestep: int | None, videos: np.ndarray, truths: np.ndarray) -> Fidelity:
    """videos and truths uint8 [B, F, H, W, 3]."""
    per_frame = np.mean(
        [
            psnr(*(torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255 for frames in (video, truth)))
            for video, truth in zip(videos, truths, strict=True)
        ],
        axis=0,
    )
    return Fidelity(stage, timestep, float(per_frame[0]), float(per_frame[1:].mean()))


@torch.no_grad()
def denoising_fidelity(
    trainee: torch.nn.Module,
    clips: list[Clip],
    timesteps: tuple[int, ...] = FIDELITY_TIMESTEPS,
    sampled: Method | None = None,
    seed: int = 0,
    depth_estimator: DepthEstimator | None = None,
) -> list[Fidelity]:
    """Rows `codec`, one `estimate` per timestep, `sampled` (when a method is given: clip i generated with
    seed + i) and `static`. `trainee`: the model in training form (`motionflow.training.models`); one
    conditioned on depth-warped frames sees each reference warped through `depth_estimator`'s depth."""
    trainee = trainee.eval()
    truths = np.stack([frames for frames, _ in clips])
    batch = default_collate([to_training_item(*clip) for clip in clips])
    frames, cameras = batch_inputs(batch, trainee.device, trainee.camera_input_kind)
    references = frames[:, 0]
    latents = trainee.encode_video(frames)
    frame_keywords = frame_latent_keywords(
        trainee, references, [trajectory for _, trajectory in clips], depth_estimator
    )
    rows = [_fidelity("codec", None, video_to_uint8(trainee.decode_video(latents)), truths)]
    scheduler = training_scheduler()
    generator = torch.Generator("cpu").manual_seed(seed)
    keep = torch.zeros(len(clips), dtype=torch.bool, device=trainee.device)
    for timestep in timesteps:
        noise = torch.randn(latents.shape, generator=generator).to(latents)
        steps = torch.full((len(clips),), timestep, device=trainee.device)
        noisy = scheduler.add_noise(latents, noise, steps)
        predicted = trainee(
            noisy, steps, references, cameras, drop_image=keep, drop_camera=keep, **frame_keywords
        )
        signal = scheduler.alphas_cumprod[timestep].to(latents)
        estimate = (noisy - (1 - signal).sqrt() * predicted.to(latents)) / signal.sqrt()
        rows.append(_fidelity("estimate", timestep, video_to_uint8(trainee.decode_video(estimate)), truths))
    if sampled is not None:
        videos = np.stack(
            [
                sampled.generate(clip_frames[0], trajectory, len(trajectory), seed=seed + index)
                for index, (clip_frames, trajectory) in enumerate(track(clips, f"{sampled.name}: sampling"))
            ]
        )
        rows.append(_fidelity("sampled", None, videos, truths))
    static = np.repeat(truths[:, :1], truths.shape[1], axis=1)
    rows.append(_fidelity("static", None, static, truths))
    return rows


def main() -> None:
    parser = held_out_checkpoints_parser(__doc__.splitlines()[0])
    parser.add_argument("--no-sampling", action="store_true", help="skip the sampled videos (the slow row)")
    args = parser.parse_args()
    folders = checkpoint_folders(args)
    items = held_out_items(args.clips, (args.image_size, args.image_size), args.frames)
    clips = [items.clip(index) for index in range(len(items))]
    rows = []
    for folder in folders:
        method = checkpoint_method(folder)
        sampled = None if args.no_sampling else create_method(method, checkpoint_dir=folder)
        trainee = load_trainee(method, folder)
        depth_net = frame_latents_depth_net(trainee)
        for row in denoising_fidelity(trainee, clips, sampled=sampled, depth_estimator=depth_net):
            rows.append({"checkpoint": checkpoint_label(folder)} | asdict(row))
    print_and_save(rows, args.csv)


if __name__ == "__main__":
    main()
