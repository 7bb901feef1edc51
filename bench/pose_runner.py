"""Estimating the cameras of many videos: discovery, trials, caching, parallel workers, pose files.

Every (video, estimator, trial) gives one JSON file, `<out>/<estimator>/<video name>.trial<k>.json`
(a :class:`PoseRecord`), written atomically by the process that computed it, so an interrupted batch
keeps what it finished. The file stores its cache key: the SHA-256 of the video's bytes (or of its
frame files), the estimator name and settings, the trial's seed, and the known intrinsics if any. A
file with the same key is not recomputed; a changed video or setting recomputes and replaces it.

A video that cannot be read is a recorded failure like any SfM failure. Only what prevents the
whole batch (no such directory, no videos, the estimator unavailable) raises."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.pose_files import record_path
from bench.sfm_adapters import ESTIMATORS, EstimatorSettings, PoseEstimate, PoseEstimator
from bench.sfm_adapters.base import empty_estimate
from motionflow.camera.re10k_format import read_re10k
from motionflow.data.video_io import read_video
from motionflow.errors import MotionFlowError, VideoError
from motionflow.utils.io import atomic_write_text, content_hash, sha256_file
from motionflow.utils.processes import empty_main_module

RECORD_FORMAT = "mfbench-pose-record/1"
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm")
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg")
CAMERA_FILE_SUFFIX = ".txt"
"""Known intrinsics of `clip.mp4` are read from `clip.txt` (RealEstate10K camera format)."""


class PoseBatchError(MotionFlowError, ValueError):
    """A batch cannot start: missing directory, no videos, bad option."""


@dataclass(frozen=True)
class VideoSource:
    """One video: an MP4 (or other container) file, or a folder of PNG/JPG frames.

    `name` is its path relative to the directory it was found in, without suffix, '/'-separated."""

    name: str
    path: Path

    def fingerprint(self) -> str:
        """SHA-256 of the file, or of the frame names and bytes of a frame folder."""
        if self.path.is_file():
            return sha256_file(self.path)
        digest = hashlib.sha256()
        for frame in _frame_files(self.path):
            digest.update(frame.name.encode())
            digest.update(bytes.fromhex(sha256_file(frame)))
        return digest.hexdigest()

    @property
    def camera_file(self) -> Path:
        base = self.path if self.path.is_dir() else self.path.with_suffix("")
        return base.with_name(base.name + CAMERA_FILE_SUFFIX)


def _frame_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES)


def discover_videos(root: str | Path, exclude: Sequence[str | Path] = ()) -> list[VideoSource]:
    """Every video under `root` (recursively): video files, and folders that directly hold frames.

    Paths under any of `exclude` (e.g. the output folder) are skipped."""
    root = Path(root)
    if not root.is_dir():
        raise PoseBatchError(f"{root}: not a directory of videos")
    excluded = [Path(path).resolve() for path in exclude]
    found: list[VideoSource] = []
    for directory, subdirectories, files in os.walk(root):
        current = Path(directory)
        if any(current.resolve().is_relative_to(path) for path in excluded):
            subdirectories.clear()
            continue
        subdirectories.sort()
        relative = current.relative_to(root)
        if current != root and any(name.lower().endswith(FRAME_SUFFIXES) for name in files):
            found.append(VideoSource(relative.as_posix(), current))
            subdirectories.clear()
            continue
        for name in sorted(files):
            path = current / name
            if path.suffix.lower() in VIDEO_SUFFIXES:
                found.append(VideoSource((relative / path.stem).as_posix(), path))
    return sorted(found, key=lambda video: video.name)


@dataclass
class PoseRecord:
    """The content of one pose file: which video, which trial, the cache key and the estimate."""

    video_name: str
    video_path: str
    video_sha256: str
    trial: int
    seed: int
    cache_key: str
    estimate: PoseEstimate

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "video": {"name": self.video_name, "path": self.video_path, "sha256": self.video_sha256},
            "trial": self.trial,
            "seed": self.seed,
            "cache_key": self.cache_key,
            "estimate": self.estimate.to_json(),
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> PoseRecord:
        if payload.get("format") != RECORD_FORMAT:
            raise ValueError(
                f"not a pose record: format {payload.get('format')!r}, expected {RECORD_FORMAT!r}"
            )
        video = payload["video"]
        return cls(
            video_name=video["name"],
            video_path=video["path"],
            video_sha256=video["sha256"],
            trial=int(payload["trial"]),
            seed=int(payload["seed"]),
            cache_key=payload["cache_key"],
            estimate=PoseEstimate.from_json(payload["estimate"]),
        )


def read_record(path: str | Path) -> PoseRecord:
    return PoseRecord.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def write_record(path: Path, record: PoseRecord) -> Path:
    return atomic_write_text(path, json.dumps(record.to_json(), indent=2) + "\n")


@dataclass(frozen=True)
class PoseJob:
    video: VideoSource
    video_sha256: str
    trial: int
    seed: int
    intrinsics: np.ndarray | None
    intrinsics_problem: str | None
    output: Path
    cache_key: str


@dataclass(frozen=True)
class JobOutcome:
    """What the summary shows for one job."""

    video_name: str
    trial: int
    cached: bool
    ok: bool
    failure_reason: str | None
    num_registered: int
    num_frames: int
    num_points: int | None
    seconds: float
    path: Path

    @classmethod
    def of(cls, job: PoseJob, record: PoseRecord, cached: bool) -> JobOutcome:
        estimate = record.estimate
        return cls(
            video_name=job.video.name,
            trial=job.trial,
            cached=cached,
            ok=estimate.ok,
            failure_reason=estimate.failure_reason,
            num_registered=estimate.num_registered,
            num_frames=estimate.num_frames,
            num_points=estimate.num_points,
            seconds=estimate.seconds,
            path=job.output,
        )


def known_intrinsics(video: VideoSource) -> tuple[np.ndarray | None, str | None]:
    """K [F, 3, 3] of a video from its camera file, or the problem that prevents it."""
    camera_file = video.camera_file
    if not camera_file.is_file():
        return None, f"known intrinsics requested but there is no camera file {camera_file}"
    try:
        frames = read_video(video.path)
        trajectory = read_re10k(camera_file, (frames.shape[1], frames.shape[2]))
    except MotionFlowError as error:
        return None, f"known intrinsics unusable: {error}"
    if len(trajectory) != len(frames):
        return None, f"{camera_file} has {len(trajectory)} cameras for {len(frames)} frames"
    return trajectory.intrinsics, None


def trials_of(estimator: type[PoseEstimator], trials: int) -> int:
    """How many trials an estimator runs: `trials` for a stochastic one, 1 for a deterministic one."""
    return trials if estimator.is_stochastic else 1


def plan_jobs(
    videos: Sequence[VideoSource],
    estimator: PoseEstimator,
    output_dir: Path,
    trials: int = 1,
    base_seed: int = 0,
    use_known_intrinsics: bool = False,
) -> list[PoseJob]:
    """One job per (video, trial); deterministic estimators get one trial whatever `trials` says."""
    if trials < 1:
        raise PoseBatchError(f"trials must be at least 1, got {trials}")
    trial_count = trials_of(type(estimator), trials)
    settings = estimator.settings.to_dict()
    jobs = []
    for video in videos:
        fingerprint = video.fingerprint()
        intrinsics, problem = known_intrinsics(video) if use_known_intrinsics else (None, None)
        for trial in range(trial_count):
            seed = base_seed + trial
            key = content_hash(
                fingerprint, estimator.name, settings, seed, use_known_intrinsics, intrinsics, problem
            )
            jobs.append(
                PoseJob(
                    video=video,
                    video_sha256=fingerprint,
                    trial=trial,
                    seed=seed,
                    intrinsics=intrinsics,
                    intrinsics_problem=problem,
                    output=record_path(output_dir, estimator.name, video.name, trial),
                    cache_key=key,
                )
            )
    return jobs


def cached_record(job: PoseJob) -> PoseRecord | None:
    """The record already on disk for this job's cache key, or None (absent, stale or unreadable)."""
    if not job.output.is_file():
        return None
    try:
        record = read_record(job.output)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if record.cache_key == job.cache_key else None


def run_job(job: PoseJob, estimator: PoseEstimator) -> PoseRecord:
    """Estimates one job and writes its pose file; a video that cannot be read is a recorded failure."""
    estimate = _estimate_video(job, estimator)
    record = PoseRecord(
        video_name=job.video.name,
        video_path=str(job.video.path),
        video_sha256=job.video_sha256,
        trial=job.trial,
        seed=job.seed,
        cache_key=job.cache_key,
        estimate=estimate,
    )
    write_record(job.output, record)
    return record


def _estimate_video(job: PoseJob, estimator: PoseEstimator) -> PoseEstimate:
    try:
        frames = read_video(job.video.path)
    except VideoError as error:
        return _unreadable(estimator, job, f"cannot read video: {error}")
    if job.intrinsics_problem is not None:
        return _unreadable(estimator, job, job.intrinsics_problem, frames)
    return estimator.estimate(frames, job.intrinsics, seed=job.seed)


def _unreadable(
    estimator: PoseEstimator, job: PoseJob, reason: str, frames: np.ndarray | None = None
) -> PoseEstimate:
    num_frames, image_size = (0, (0, 0)) if frames is None else (len(frames), frames.shape[1:3])
    estimate = empty_estimate(estimator.name, num_frames, image_size, reason)
    estimate.settings = {**estimator.settings.to_dict(), "seed": job.seed}
    return estimate


_worker_estimator: PoseEstimator | None = None


def _init_worker(estimator_name: str, settings: EstimatorSettings) -> None:
    global _worker_estimator
    _worker_estimator = ESTIMATORS.get(estimator_name)(settings)


def _run_in_worker(job: PoseJob) -> PoseRecord:
    assert _worker_estimator is not None, "worker used before its initializer ran"
    return run_job(job, _worker_estimator)


ProgressCallback = Callable[[JobOutcome], None]


def estimate_videos(
    videos: Sequence[VideoSource],
    estimator: PoseEstimator,
    output_dir: str | Path,
    trials: int = 1,
    jobs: int | None = None,
    base_seed: int = 0,
    use_known_intrinsics: bool = False,
    on_planned: Callable[[int, int], None] | None = None,
    on_done: ProgressCallback | None = None,
) -> list[JobOutcome]:
    """Estimates every (video, trial) not already cached under `output_dir`; returns one outcome per job.

    `jobs` worker processes (default: all cores) run CPU estimators in parallel over videos; an
    estimator that holds a GPU model runs in this process. `on_planned(total, cached)` is called once
    and `on_done(outcome)` after each job, for a progress display."""
    estimator.check_available()
    output_dir = Path(output_dir)
    planned = plan_jobs(videos, estimator, output_dir, trials, base_seed, use_known_intrinsics)
    outcomes: list[JobOutcome] = []
    pending: list[PoseJob] = []
    for job in planned:
        record = cached_record(job)
        if record is None:
            pending.append(job)
        else:
            outcomes.append(JobOutcome.of(job, record, cached=True))
    if on_planned is not None:
        on_planned(len(planned), len(outcomes))
    for outcome in outcomes:
        if on_done is not None:
            on_done(outcome)
    workers = min(jobs or os.cpu_count() or 1, len(pending)) if estimator.parallel_processes else 1
    for job, record in _execute(pending, estimator, workers):
        outcome = JobOutcome.of(job, record, cached=False)
        outcomes.append(outcome)
        if on_done is not None:
            on_done(outcome)
    order = {(job.video.name, job.trial): index for index, job in enumerate(planned)}
    return sorted(outcomes, key=lambda outcome: order[(outcome.video_name, outcome.trial)])


def _execute(pending: list[PoseJob], estimator: PoseEstimator, workers: int):
    """Yields (job, record) as jobs finish: in this process for one worker, else in a process pool
    (spawned, so no worker inherits threads or GPU state from this process)."""
    if workers <= 1:
        for job in pending:
            yield job, run_job(job, estimator)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(estimator.name, estimator.settings),
    ) as pool:
        with empty_main_module():
            futures = {pool.submit(_run_in_worker, job): job for job in pending}
        try:
            remaining = set(futures)
            while remaining:
                finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield futures[future], future.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
