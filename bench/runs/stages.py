"""The stages of a run that produce videos: ground truth from clip sources, then each method's output."""

from __future__ import annotations

import time

from baselines.base import Method
from bench.runs.artifacts import is_complete, read_video_folder, write_video_folder
from bench.runs.clips import ClipPlan, ClipSource, EvalClip
from bench.runs.layout import RunLayout, VideoKey
from motionflow.utils.io import content_hash


def video_key(plan: ClipPlan) -> VideoKey:
    return VideoKey(plan.source, plan.trajectory_set, plan.clip_id)


def clip_cache_key(plan: ClipPlan) -> str:
    return content_hash("clip", plan)


def materialize_clip(layout: RunLayout, source: ClipSource, plan: ClipPlan) -> tuple[EvalClip, float]:
    """The ground-truth clip of a plan, from the run directory when already there, else loaded (rendered
    or read from its dataset) and written; with the seconds spent loading it (0 when cached)."""
    directory = layout.clip_dir(video_key(plan))
    cache_key = clip_cache_key(plan)
    if is_complete(directory, cache_key):
        frames, trajectory = read_video_folder(directory)
        return EvalClip(plan.source, plan.clip_id, plan.trajectory_set, frames, trajectory), 0.0
    started = time.perf_counter()
    clip = source.load(plan)
    seconds = time.perf_counter() - started
    write_video_folder(
        directory,
        clip.frames,
        clip.trajectory,
        cache_key,
        {
            "source": plan.source,
            "family": source.family,
            "clip": plan.clip_id,
            "trajectory_set": plan.trajectory_set,
        },
    )
    return clip, seconds


def generation_cache_key(method: Method, plan: ClipPlan, seed: int) -> str:
    return content_hash("generate", method.fingerprint(), clip_cache_key(plan), seed)


def generate_for_clip(layout: RunLayout, method: Method, plan: ClipPlan, clip: EvalClip, seed: int) -> float:
    """Generates the method's video for a clip unless an up-to-date one exists; returns the seconds
    spent inside the method (0 when the cached video was kept).

    Every method gets the clip's first frame as the reference image and its trajectory to follow."""
    directory = layout.video_dir(method.name, video_key(plan))
    cache_key = generation_cache_key(method, plan, seed)
    if is_complete(directory, cache_key):
        return 0.0
    started = time.perf_counter()
    video = method.generate(
        clip.frames[0], clip.trajectory, len(clip.trajectory), seed, ground_truth=clip.frames
    )
    seconds = time.perf_counter() - started
    write_video_folder(
        directory,
        video,
        clip.trajectory,
        cache_key,
        {
            "method": method.name,
            "fingerprint": method.fingerprint(),
            "sampling": method.sampling_settings(),
            "seed": seed,
            "seconds": seconds,
            "clip": plan.clip_id,
            "source": plan.source,
            "trajectory_set": plan.trajectory_set,
        },
    )
    return seconds
