"""Does the camera visibly change a method's videos? Sampled, not a loss: the same reference image and
seed, a held-out synthetic clip's camera motion as sampled and mirrored left-right (`Trajectory.
mirrored_motion`, the two share their first camera); how much the two generated videos differ, frame by
frame, against how much the two true videos differ (mean absolute difference of 0-255 pixel values).
`static` scores 0 (it ignores the camera), `oracle` 1 (it returns the true frames). And which way: how much
closer each generated video is to its own true video than to the other clip's (the agreement, in units
of the true change: `oracle` 1; a method that ignores the camera generates the same video for both
clips of a pair, which is as far from one true video as from the other: exactly 0).

    python bench/camera_response.py                                    # bundled methods + reference rows
    python bench/camera_response.py --method motionflow=runs/x/model --image-size 64 --frames 8
    python bench/camera_response.py --method motionflow=runs/x/model --camera-guidance-scale 8

Both compare pixels: a method that moves the right way but renders other content scores a low agreement.
The `error` column, the mean absolute difference to the own true video, shows what a larger camera guidance
scale (`--camera-guidance-scale`, the camera condition's classifier-free guidance) costs in fidelity for the
response it adds.
Read them with the loss gaps of bench/condition_use.py and, where SfM registers the frames, RotErr /
TransErr."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.progress import track

from baselines import create_method
from baselines.base import Method, accepted_options
from bench.console_table import print_and_save
from bench.report.strip import render_frame_strip
from bench.runs.suites import BUNDLED_METHODS, BUNDLED_REFERENCE_ROWS
from motionflow.camera.trajectory import Trajectory
from motionflow.pipeline import INITIAL_NOISE_CHOICES
from motionflow.training.condition_use import held_out_items

MIRRORED_LEFT_RIGHT = 1
"""The motion variant (`DataSettings.motion_variants`) mirrored left-right."""


@dataclass(frozen=True)
class MirroredPair:
    """One held-out scene's clip with the camera motion as sampled and mirrored left-right."""

    name: str
    frames: tuple[np.ndarray, np.ndarray]
    trajectories: tuple[Trajectory, Trajectory]


@dataclass(frozen=True)
class CameraResponse:
    """Per frame, averaged over the pairs, mean absolute differences: between the two generated videos,
    the two true videos, and from each generated video to its own true video and to the other clip's;
    and the generated videos, a pair per pair."""

    generated: np.ndarray
    true: np.ndarray
    own_error: np.ndarray
    swapped_error: np.ndarray
    videos: tuple[tuple[np.ndarray, np.ndarray], ...]

    @property
    def ratio(self) -> float:
        """Over frames 1.. (frame 0 is the shared reference): generated change / true change."""
        return float(self.generated[1:].mean() / self.true[1:].mean())

    @property
    def agreement(self) -> float:
        """Over frames 1..: (error to the other clip's true video - error to the own) / true change."""
        return float((self.swapped_error[1:] - self.own_error[1:]).mean() / self.true[1:].mean())


def mirrored_pairs(
    scenes: int, image_size: tuple[int, int], num_frames: int, seed: int = 0
) -> list[MirroredPair]:
    """`scenes` held-out synthetic scenes (seeds from HELD_OUT_SEED_OFFSET on), two clips each."""
    items = held_out_items(2 * scenes, image_size, num_frames, MIRRORED_LEFT_RIGHT + 1, seed)
    pairs = []
    for scene in range(scenes):
        (frames, trajectory), (mirrored_frames, mirrored) = (
            items.clip(2 * scene + variant) for variant in (0, 1)
        )
        pairs.append(
            MirroredPair(items.clip_name(2 * scene), (frames, mirrored_frames), (trajectory, mirrored))
        )
    return pairs


def _mean_abs_difference(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return np.abs(first.astype(np.float64) - second.astype(np.float64)).mean(axis=(1, 2, 3))


def camera_response(method: Method, pairs: list[MirroredPair], seed: int = 0) -> CameraResponse:
    """Generates both clips of every pair from the pair's shared reference frame with one seed per pair."""
    generated, true, own, swapped, generated_videos = [], [], [], [], []
    for index, pair in enumerate(track(pairs, f"{method.name}: mirrored pairs")):
        videos = [
            method.generate(frames[0], trajectory, len(trajectory), seed=seed + index, ground_truth=frames)
            for frames, trajectory in zip(pair.frames, pair.trajectories, strict=True)
        ]
        generated_videos.append(tuple(videos))
        generated.append(_mean_abs_difference(*videos))
        true.append(_mean_abs_difference(*pair.frames))
        for video, own_truth, other_truth in zip(videos, pair.frames, pair.frames[::-1], strict=True):
            own.append(_mean_abs_difference(video, own_truth))
            swapped.append(_mean_abs_difference(video, other_truth))
    return CameraResponse(
        *(np.mean(values, axis=0) for values in (generated, true, own, swapped)), tuple(generated_videos)
    )


def write_response_strip(
    name: str,
    pairs: list[MirroredPair],
    response: CameraResponse,
    path: str | Path,
    pairs_shown: int = 2,
    columns: int = 8,
) -> Path:
    """A PNG frame strip of the first `pairs_shown` pairs: per pair, the true and the generated video of the
    motion as sampled, then of the mirrored motion (a method that follows the camera moves its two rows
    apart as the true rows do)."""
    rows = []
    for pair, videos in zip(pairs[:pairs_shown], response.videos[:pairs_shown], strict=True):
        for motion, truth, video in zip(("sampled", "mirrored"), pair.frames, videos, strict=True):
            rows += [(f"true, {motion}", truth), (f"{name}, {motion}", video)]
    return render_frame_strip(rows, path, columns)


def _method_argument(value: str) -> tuple[str, Path | None]:
    name, _, folder = value.partition("=")
    return name, Path(folder) if folder else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--method",
        action="append",
        type=_method_argument,
        help="NAME or NAME=CHECKPOINT_FOLDER (repeatable); default: the bundled methods and reference rows",
    )
    parser.add_argument("--scenes", type=int, default=4, help="held-out scenes (two clips each)")
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--steps", type=int, default=None, help="sampling steps of the learned methods")
    parser.add_argument("--guidance-scale", type=float, default=None, help="of the learned methods")
    parser.add_argument(
        "--camera-guidance-scale",
        type=float,
        default=None,
        help="of the learned methods' camera condition (default: --guidance-scale)",
    )
    parser.add_argument(
        "--initial-noise",
        choices=INITIAL_NOISE_CHOICES,
        default=None,
        help="what the learned methods' sampling starts from (default: theirs)",
    )
    parser.add_argument(
        "--strength",
        type=float,
        default=None,
        help="share of the learned methods' sampling steps that run (default: theirs)",
    )
    parser.add_argument("--csv", type=Path, default=None)
    parser.add_argument(
        "--strips", type=Path, default=None, help="folder for a frame strip per method (its first 2 pairs)"
    )
    args = parser.parse_args()
    sampling = {
        "steps": args.steps,
        "guidance_scale": args.guidance_scale,
        "camera_guidance_scale": args.camera_guidance_scale,
        "initial_noise": args.initial_noise,
        "strength": args.strength,
    }
    methods = args.method or [(name, None) for name in (*BUNDLED_METHODS, *BUNDLED_REFERENCE_ROWS)]
    pairs = mirrored_pairs(args.scenes, (args.image_size, args.image_size), args.frames)
    rows = []
    for name, folder in methods:
        method = create_method(name, checkpoint_dir=folder, **accepted_options(name, sampling))
        response = camera_response(method, pairs)
        if args.strips is not None:
            label = name if folder is None else "-".join((name, *folder.resolve().parts[-2:]))
            write_response_strip(name, pairs, response, args.strips / f"{label}.png")
        rows.append(
            {
                "method": name if folder is None else f"{name}={folder}",
                "response": response.ratio,
                "agreement": response.agreement,
                "generated_change": float(response.generated[1:].mean()),
                "true_change": float(response.true[1:].mean()),
                "error": float(response.own_error[1:].mean()),
            }
        )
    print_and_save(rows, args.csv)


if __name__ == "__main__":
    main()
