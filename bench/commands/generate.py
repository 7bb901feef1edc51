"""`mfbench generate`: videos from any registered method, for one image + trajectory file or for the
test clips of a dataset (held-out synthetic scenes, or the bundled RealEstate10K clips).

Each video is written to OUT/<name>/: video.mp4, frames/00000.png ..., cameras.txt (the RealEstate10K
camera file of the trajectory followed, intrinsics of the written frames), reference.png, and
ground_truth.mp4 when the clip has one; OUT/generations.json lists them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from PIL import Image
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from baselines import METHODS, Method, create_method
from bench.commands.failure import command_error
from bench.commands.sampling_options import (
    CameraGuidanceScale,
    GuidanceScale,
    InitialNoise,
    Steps,
    Strength,
    sampling_settings,
)
from bench.runs.clips import CLIP_SOURCES
from motionflow.camera.trajectory import Trajectory
from motionflow.camera.trajectory_files import load_trajectory, write_trajectory
from motionflow.data.video_io import read_image, write_frames, write_video
from motionflow.errors import MotionFlowError
from motionflow.utils.io import atomic_path, atomic_write_json

DATASET_SOURCES = {"synthetic": ("synthetic-indoor", "synthetic-outdoor"), "re10k": ("re10k-bundled",)}
"""--dataset choices and the clip sources they draw from. Synthetic test clips use scene seeds from
0 up, below every training config's `data.seed_offset`, so they are never seen in training."""
TEST_SPLIT = "test"
SYNTHETIC_SIZE = (256, 256)


@dataclass(frozen=True)
class GenerationRequest:
    name: str
    reference_image: np.ndarray
    trajectory: Trajectory
    ground_truth: np.ndarray | None = None


def image_request(image: Path, trajectory_file: Path) -> GenerationRequest:
    """A reference image and the trajectory file to follow (RealEstate10K intrinsics are read in the
    image's pixels)."""
    reference = read_image(image)
    trajectory = load_trajectory(trajectory_file, image_size=reference.shape[:2])
    return GenerationRequest(_safe_name(image.stem), reference, trajectory)


def dataset_requests(
    dataset: str, count: int, num_frames: int, trajectory_set: str
) -> list[GenerationRequest]:
    """The first `count` test clips of each source of `dataset`, sampled into `trajectory_set`."""
    requests = []
    for source_name in DATASET_SOURCES[dataset]:
        source = CLIP_SOURCES.get(source_name)()
        size = SYNTHETIC_SIZE if dataset == "synthetic" else None
        for plan in source.plan(count, trajectory_set, num_frames, size, seed=0):
            if plan.skip_reason:
                raise ValueError(f"{plan.key}: {plan.skip_reason}")
            clip = source.load(plan)
            requests.append(
                GenerationRequest(_safe_name(plan.key), clip.frames[0], clip.trajectory, clip.frames)
            )
    return requests


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def write_generation(folder: Path, request: GenerationRequest, video: np.ndarray) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    write_video(folder / "video.mp4", video)
    write_frames(folder / "frames", video)
    write_trajectory(folder / "cameras.txt", request.trajectory)
    with atomic_path(folder / "reference.png") as temporary:
        Image.fromarray(request.reference_image).save(temporary, format="PNG")
    if request.ground_truth is not None:
        write_video(folder / "ground_truth.mp4", request.ground_truth)
    return {"name": request.name, "folder": str(folder), "frames": len(video), "size": list(video.shape[1:3])}


def generate_videos(
    method: Method, requests: list[GenerationRequest], out: Path, seed: int, progress: bool = True
) -> list[dict[str, Any]]:
    """Generates and writes every request; returns the entries written to OUT/generations.json."""
    entries = []
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not progress) as bar:
        task = bar.add_task(f"generating ({method.name})", total=len(requests))
        for request in requests:
            needs_truth = method.requirements.needs_ground_truth
            video = method.generate(
                request.reference_image,
                request.trajectory,
                len(request.trajectory),
                seed=seed,
                ground_truth=request.ground_truth if needs_truth else None,
            )
            entries.append(write_generation(out / request.name, request, video))
            bar.advance(task)
    atomic_write_json(
        out / "generations.json",
        {
            "method": method.name,
            "fingerprint": method.fingerprint(),
            "seed": seed,
            "sampling": method.sampling_settings(),
            "videos": entries,
        },
    )
    return entries


def generate_command(
    method: Annotated[str, typer.Option(help=f"Method: {', '.join(METHODS.names())}.")] = "motionflow",
    image: Annotated[Path | None, typer.Option(help="Reference image (PNG/JPG); needs --trajectory.")] = None,
    trajectory: Annotated[
        Path | None,
        typer.Option(help="Trajectory file: RealEstate10K .txt, transforms.json or mfbench .json."),
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(help="Generate for the test clips of: synthetic (held-out scenes) or re10k (bundled)."),
    ] = None,
    split: Annotated[str, typer.Option(help="Dataset split (only 'test').")] = TEST_SPLIT,
    count: Annotated[int, typer.Option(min=1, help="Clips per dataset source.")] = 2,
    trajectory_set: Annotated[
        str, typer.Option(help="basic or difficult sampling of dataset clips.")
    ] = "basic",
    num_frames: Annotated[int, typer.Option(min=2, help="Frames per dataset clip.")] = 16,
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("generated"),
    seed: Annotated[int, typer.Option(help="Seed of the initial noise.")] = 0,
    steps: Steps = None,
    guidance_scale: GuidanceScale = None,
    camera_guidance_scale: CameraGuidanceScale = None,
    initial_noise: InitialNoise = None,
    strength: Strength = None,
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="Checkpoint folder of a method that loads one (default: its bundled one)."),
    ] = None,
) -> None:
    """Generate videos along camera trajectories: MP4 + PNG frames + the camera file used."""
    if (image is None) == (dataset is None):
        raise typer.BadParameter("give either --image with --trajectory, or --dataset")
    if image is not None and trajectory is None:
        raise typer.BadParameter("--image needs --trajectory")
    if dataset is not None and dataset not in DATASET_SOURCES:
        raise typer.BadParameter(f"--dataset must be one of {', '.join(DATASET_SOURCES)}")
    if split != TEST_SPLIT:
        raise typer.BadParameter(
            f"only the '{TEST_SPLIT}' split can be generated (training clips are not held out)"
        )
    sampling = sampling_settings(steps, guidance_scale, camera_guidance_scale, initial_noise, strength)
    try:
        chosen = create_method(method, checkpoint_dir=checkpoint, **sampling)
        if image is not None:
            requests = [image_request(image, trajectory)]
        else:
            requests = dataset_requests(dataset, count, num_frames, trajectory_set)
        if chosen.requirements.needs_ground_truth and any(item.ground_truth is None for item in requests):
            raise ValueError(f"method {method!r} needs a ground-truth video: use --dataset")
        entries = generate_videos(chosen, requests, out, seed)
    except (MotionFlowError, ValueError, KeyError, OSError) as error:
        raise command_error(error) from None
    for entry in entries:
        typer.echo(
            f"wrote {entry['folder']} ({entry['frames']} frames, {entry['size'][0]}x{entry['size'][1]})"
        )
