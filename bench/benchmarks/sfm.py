"""Speed of pose estimation with COLMAP (pycolmap, CPU): `python -m bench.benchmarks.sfm`.

Prints seconds per 16-frame 256x384 clip (the six bundled RealEstate10K clips), the harness's
overhead against the same pycolmap calls made directly (target: under 15%), and videos per minute
over a batch with two worker processes."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pycolmap

from bench.pose_runner import discover_videos, estimate_videos
from bench.sfm_adapters import create_estimator
from bench.sfm_adapters.colmap import quiet_colmap
from motionflow.data.video_io import frame_name, read_video, write_frames

ASSETS = Path(__file__).resolve().parents[2] / "motionflow" / "data" / "assets" / "re10k"


def direct_pycolmap(frames) -> float:
    """The same pipeline as the adapter's first attempt, without the harness: seconds."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workspace, quiet_colmap():
        images, database, output = (
            Path(workspace) / "images",
            Path(workspace) / "db.db",
            Path(workspace) / "sparse",
        )
        write_frames(images, frames)
        output.mkdir()
        reader = pycolmap.ImageReaderOptions()
        reader.camera_model = "SIMPLE_PINHOLE"
        extraction = pycolmap.FeatureExtractionOptions()
        extraction.num_threads = 1
        pycolmap.extract_features(
            database,
            images,
            image_names=[frame_name(i) for i in range(len(frames))],
            camera_mode=pycolmap.CameraMode.SINGLE,
            reader_options=reader,
            extraction_options=extraction,
            device=pycolmap.Device.cpu,
        )
        matching = pycolmap.FeatureMatchingOptions()
        matching.num_threads = 1
        pycolmap.match_sequential(database, matching_options=matching, device=pycolmap.Device.cpu)
        options = pycolmap.GlobalPipelineOptions()
        options.num_threads = 1
        pycolmap.global_mapping(database, images, output, options)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs per clip for the per-clip timings")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the batch figure")
    arguments = parser.parse_args()
    clips = sorted(ASSETS.glob("*.mp4"))
    estimator = create_estimator("colmap")
    harness, direct = [], []
    for _ in range(arguments.repeats):
        for clip in clips:
            frames = read_video(clip)
            started = time.perf_counter()
            estimate = estimator.estimate(frames)
            estimate.dumps()
            harness.append(time.perf_counter() - started)
            direct.append(direct_pycolmap(frames))
    overhead = (sum(harness) - sum(direct)) / sum(direct)
    print(f"clips: {len(clips)} x {arguments.repeats} runs, 16 frames 256x384, 1 thread each")
    print(
        f"harness seconds per clip: mean {statistics.mean(harness):.2f}, median {statistics.median(harness):.2f}"
    )
    print(
        f"direct pycolmap seconds per clip: mean {statistics.mean(direct):.2f}, median {statistics.median(direct):.2f}"
    )
    print(f"harness overhead vs direct pycolmap: {100 * overhead:+.1f}% (target < 15%)")
    with tempfile.TemporaryDirectory() as output:
        started = time.perf_counter()
        outcomes = estimate_videos(discover_videos(ASSETS), estimator, output, jobs=arguments.jobs)
        elapsed = time.perf_counter() - started
    print(
        f"batch of {len(outcomes)} videos with {arguments.jobs} workers: {elapsed:.1f} s, "
        f"{60 * len(outcomes) / elapsed:.1f} videos per minute (process start-up included)"
    )


if __name__ == "__main__":
    main()
