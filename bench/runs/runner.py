"""`mfbench run`: drives a suite through generate -> pose -> metrics -> tables in one run directory.

Every stage skips what an earlier (interrupted) run already finished: clips and videos by their cache
key (bench.runs.artifacts), poses by the pose runner's cache, records by being rebuilt from those. A
shard (i of n) takes every n-th planned clip and writes its own records file; `finalize_run` merges the
shard files (idempotently), computes the set-level metrics (FID, KID, FVD) over all videos on disk and
writes the tables."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from accelerate import PartialState
from rich.console import Console

from baselines import Method, create_method
from baselines.base import accepted_options
from bench.metrics.camera import camera_metrics, still_camera_metrics
from bench.metrics.presets import CameraProtocol, camera_preset
from bench.metrics.result import MetricResult
from bench.metrics.suite import VisualMetricSuite
from bench.pose_runner import VideoSource, estimate_videos, read_record, trials_of
from bench.progress import stage_progress
from bench.report import load_run, write_report
from bench.report.registration import REGISTRATION_TABLE, registration_table, run_registrations
from bench.runs.artifacts import read_video_folder
from bench.runs.clips import ClipPlan, ClipSource, make_source
from bench.runs.layout import FRAMES_DIR, GROUND_TRUTH, SET_LEVEL_CLIP, STILL_CAMERA, RunLayout, VideoKey
from bench.runs.records import (
    load_run_records,
    merge_records,
    read_records,
    record_row,
    records_frame,
    shard_files,
    write_records,
)
from bench.runs.stages import generate_for_clip, materialize_clip, video_key
from bench.runs.suites import SourceSpec, Suite
from bench.sfm_adapters import ESTIMATORS, create_estimator
from bench.tables import build_table
from bench.tables.build import POOLED_SET
from bench.tables.layout import RENDERERS
from bench.tables.still_camera import STILL_CAMERA_TABLE, still_camera_table
from motionflow.errors import MotionFlowError
from motionflow.utils.io import atomic_write_json, atomic_write_text

TABLE_FORMATS = {"md": "md", "latex": "tex", "csv": "csv"}
PAIRED_FIRST_FRAME = 1
"""Paired metrics (PSNR, SSIM, LPIPS) score frames 1..F-1: frame 0 is the reference image every method
is given, so it would reward copying the input (and make PSNR infinite for a method that does)."""


class RunError(MotionFlowError, RuntimeError):
    """A run cannot start or go on: settings that differ from the run directory's, an unknown name."""


@dataclass(frozen=True)
class PlannedClip:
    source: ClipSource
    plan: ClipPlan


def plan_suite(suite: Suite) -> list[PlannedClip]:
    """Every clip of the suite, in a fixed order (so shards are stable)."""
    planned = []
    for spec in suite.sources:
        source = make_source(spec.source)
        for trajectory_set in suite.trajectory_sets:
            for plan in source.plan(
                spec.count, trajectory_set, suite.num_frames, spec.image_size, suite.seed
            ):
                planned.append(PlannedClip(source, plan))
    return planned


def select_shard(planned: list[PlannedClip], shard: tuple[int, int] | None) -> list[PlannedClip]:
    if shard is None:
        return planned
    index, count = shard
    if not 0 <= index < count:
        raise RunError(f"shard {index}/{count}: need 0 <= i < n")
    return planned[index::count]


def _versions() -> dict[str, str]:
    import diffusers
    import pycolmap
    import torch

    import motionflow

    return {
        "mfbench": motionflow.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "pycolmap": pycolmap.__version__,
    }


EXTENDABLE_SETTINGS = ("methods", "estimators")
"""Suite settings a run directory may gain entries of: cached work is keyed by content, so what ran
before is kept and only the new methods / estimators run."""


def write_manifest(layout: RunLayout, suite: Suite) -> Suite:
    """Creates the manifest, or checks an existing run's: the same suite settings resume it, more methods
    or estimators extend it (the returned suite covers the union, old entries first); any other
    difference is refused."""
    settings = json.loads(json.dumps(suite.to_dict()))
    if not layout.manifest.is_file():
        atomic_write_json(
            layout.manifest,
            {
                "suite": settings,
                "versions": _versions(),
                "created": datetime.now(timezone.utc).isoformat(),
                "platform": platform.platform(),
            },
        )
        return suite
    manifest = json.loads(layout.manifest.read_text())
    existing = _with_defaults(manifest.get("suite", {}))
    fixed = {key: value for key, value in settings.items() if key not in EXTENDABLE_SETTINGS}
    if {key: value for key, value in existing.items() if key not in EXTENDABLE_SETTINGS} != fixed:
        raise RunError(
            f"{layout.root} holds a run with other settings (suite {existing.get('name')!r}); use another "
            f"--out, or the same suite and options to resume it (only {' and '.join(EXTENDABLE_SETTINGS)} "
            "may be added)"
        )
    union = {key: list(dict.fromkeys([*existing[key], *settings[key]])) for key in EXTENDABLE_SETTINGS}
    if union != {key: existing[key] for key in EXTENDABLE_SETTINGS}:
        atomic_write_json(layout.manifest, {**manifest, "suite": {**existing, **union}})
    return suite.with_overrides(**{key: tuple(values) for key, values in union.items()})


@dataclass(frozen=True)
class Participants:
    """The suite's methods and estimators that can run here, and why the others cannot.

    A method without its weights or checkout, or an estimator without its package, does not stop a
    run: its metrics are recorded as not computed, with the reason, so every table says why."""

    methods: dict[str, Method]
    estimators: tuple[str, ...]
    unavailable_methods: dict[str, str]
    unavailable_estimators: dict[str, str]

    @property
    def sources(self) -> list[str]:
        return [GROUND_TRUTH, *self.methods]


def check_participants(suite: Suite) -> Participants:
    methods, unavailable_methods = {}, {}
    for name in suite.methods:
        method = create_method(
            name, checkpoint_dir=suite.checkpoints.get(name), **accepted_options(name, suite.sampling)
        )
        try:
            method.check_available()
        except MotionFlowError as error:
            unavailable_methods[name] = f"not computed: method {name!r} unavailable: {error}"
        else:
            methods[name] = method
    estimators, unavailable_estimators = [], {}
    for name in suite.estimators:
        try:
            create_estimator(name).check_available()
        except MotionFlowError as error:
            unavailable_estimators[name] = f"not computed: {error}"
        else:
            estimators.append(name)
    return Participants(methods, tuple(estimators), unavailable_methods, unavailable_estimators)


@dataclass
class StageTiming:
    """Wall seconds of a stage, the seconds inside the work it exists for (model, estimator or metric
    calls) and in loading the ground truth (rendering synthetic scenes, decoding dataset videos); the
    rest is the harness's own cost (I/O, encoding, hashing, process start-up, bookkeeping)."""

    wall: float = 0.0
    inner: float = 0.0
    data: float = 0.0


class Timings(dict[str, StageTiming]):
    @contextmanager
    def stage(self, name: str) -> Iterator[StageTiming]:
        timing = self.setdefault(name, StageTiming())
        started = time.perf_counter()
        try:
            yield timing
        finally:
            timing.wall += time.perf_counter() - started

    def to_json(self) -> dict:
        return {
            name: {"wall_seconds": t.wall, "inner_seconds": t.inner, "data_seconds": t.data}
            for name, t in self.items()
        }


@contextmanager
def _inner(timing: StageTiming) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timing.inner += time.perf_counter() - started


def generate_stage(
    layout: RunLayout,
    suite: Suite,
    participants: Participants,
    clips: list[PlannedClip],
    console: Console,
    timings: Timings,
) -> None:
    methods = list(participants.methods.values())
    runnable = [item for item in clips if not item.plan.skip_reason]
    with stage_progress(console) as progress, timings.stage("generate") as timing:
        task = progress.add_task("clips and videos", total=len(runnable) * (1 + len(methods)))
        for item in runnable:
            clip, load_seconds = materialize_clip(layout, item.source, item.plan)
            timing.data += load_seconds
            progress.advance(task)
            for method in methods:
                timing.inner += generate_for_clip(layout, method, item.plan, clip, suite.seed)
                progress.advance(task)


def run_video_sources(layout: RunLayout) -> list[VideoSource]:
    """Every finished video of a run (ground truth and generated), named as the run's pose files expect."""
    sources = []
    for meta in sorted([*layout.clip_meta_files(), *layout.video_meta_files()]):
        parts = meta.parent.relative_to(layout.root).parts
        source, key = (GROUND_TRUTH, parts[1:]) if parts[0] == "clips" else (parts[1], parts[2:])
        sources.append(VideoSource(layout.pose_video_name(source, VideoKey(*key)), meta.parent / FRAMES_DIR))
    return sources


def pose_stage(
    layout: RunLayout,
    suite: Suite,
    participants: Participants,
    clips: list[PlannedClip],
    console: Console,
    jobs: int | None,
    timings: Timings,
) -> None:
    videos = [
        VideoSource(
            layout.pose_video_name(source, video_key(item.plan)),
            layout.source_dir(source, video_key(item.plan)) / FRAMES_DIR,
        )
        for item in clips
        if not item.plan.skip_reason
        for source in participants.sources
    ]
    for name in participants.estimators:
        estimator = create_estimator(name)
        with stage_progress(console) as progress, timings.stage("pose") as timing:
            task = progress.add_task(f"poses ({name})", total=None)
            outcomes = estimate_videos(
                videos,
                estimator,
                layout.poses_dir,
                trials=suite.trials,
                jobs=jobs,
                base_seed=suite.seed,
                on_planned=lambda total, cached, task=task: progress.update(task, total=total),
                on_done=lambda outcome, task=task: progress.advance(task),
            )
            workers = (
                max(1, min(jobs or os.cpu_count() or 1, len(videos))) if estimator.parallel_processes else 1
            )
            timing.inner += sum(outcome.seconds for outcome in outcomes if not outcome.cached) / workers


def _not_computed_rows(
    item: PlannedClip, method: str, names: tuple[str, ...], reason: str, estimator: str = ""
) -> Iterator[dict]:
    for name in names:
        yield _clip_row(item, method, MetricResult(name, None, "not_computed", reason), estimator)


def _clip_row(
    item: PlannedClip, method: str, result: MetricResult, estimator: str = "", trial: int = 0
) -> dict:
    """The record of one metric result of `method` on a planned clip."""
    key = video_key(item.plan)
    return record_row(
        key.dataset, item.source.family, key.trajectory_set, key.clip, method, result, estimator, trial
    )


def _estimator_trials(suite: Suite, participants: Participants) -> Iterator[tuple[str, int]]:
    for estimator in participants.estimators:
        for trial in range(trials_of(ESTIMATORS.get(estimator), suite.trials)):
            yield estimator, trial


def _reference_trajectory(
    layout: RunLayout, preset: CameraProtocol, estimator: str, key: VideoKey, trial: int, trajectory
) -> tuple[np.ndarray, np.ndarray]:
    """The trajectory a video's estimate is compared with under `preset`, and its registered mask."""
    if preset.reference == "annotation":
        return trajectory.c2w, np.ones(len(trajectory), dtype=bool)
    reference = read_record(layout.pose_file(estimator, GROUND_TRUTH, key, trial)).estimate
    return reference.c2w, reference.registered


def _camera_rows(
    layout: RunLayout, suite: Suite, participants: Participants, item: PlannedClip, method: str, trajectory
) -> Iterator[dict]:
    preset = camera_preset(suite.camera_preset)
    key = video_key(item.plan)
    for estimator, reason in participants.unavailable_estimators.items():
        yield from _not_computed_rows(item, method, preset.metrics, reason, estimator)
    for estimator, trial in _estimator_trials(suite, participants):
        reference_c2w, reference_registered = _reference_trajectory(
            layout, preset, estimator, key, trial, trajectory
        )
        if method == STILL_CAMERA:
            metrics = still_camera_metrics(reference_c2w, reference_registered, preset)
            failure_reason = ""
        else:
            estimate = read_record(layout.pose_file(estimator, method, key, trial)).estimate
            metrics = camera_metrics(
                estimate.c2w, estimate.registered, reference_c2w, reference_registered, preset
            )
            failure_reason = estimate.failure_reason
        for result in metrics.results.values():
            if failure_reason and result.status == "failed":
                result = MetricResult(result.name, None, "failed", f"{result.reason} ({failure_reason})")
            yield _clip_row(item, method, result, estimator, trial)


def metrics_stage(
    layout: RunLayout,
    suite: Suite,
    participants: Participants,
    clips: list[PlannedClip],
    visual: VisualMetricSuite,
    console: Console,
    timings: Timings,
) -> pd.DataFrame:
    rows: list[dict] = []
    runnable = [item for item in clips if not item.plan.skip_reason]
    with stage_progress(console) as progress, timings.stage("metrics") as timing:
        task = progress.add_task("metrics", total=len(runnable) * len(suite.methods))
        for item in runnable:
            key = video_key(item.plan)
            ground_truth, trajectory = read_video_folder(layout.clip_dir(key))
            for method in suite.methods:
                if method in participants.unavailable_methods:
                    reason = participants.unavailable_methods[method]
                    rows.extend(_not_computed_rows(item, method, suite.paired_metrics, reason))
                    for estimator in suite.estimators:
                        rows.extend(
                            _not_computed_rows(
                                item, method, camera_preset(suite.camera_preset).metrics, reason, estimator
                            )
                        )
                    progress.advance(task)
                    continue
                generated, _ = read_video_folder(layout.video_dir(method, key))
                with _inner(timing):
                    rows.extend(_camera_rows(layout, suite, participants, item, method, trajectory))
                    scored = slice(PAIRED_FIRST_FRAME, None)
                    paired = visual.score_pair(generated[scored], ground_truth[scored])
                rows.extend(_clip_row(item, method, result) for result in paired.values())
                progress.advance(task)
            rows.extend(_camera_rows(layout, suite, participants, item, STILL_CAMERA, trajectory))
    return records_frame(rows)


def run_suite(
    suite: Suite,
    run_dir: str | Path,
    shard: tuple[int, int] | None = None,
    jobs: int | None = None,
    console: Console | None = None,
) -> RunLayout:
    """Runs (or resumes) a suite into `run_dir`; without a shard, also finalizes it.

    Under `accelerate launch`, every process generates its share of the clips (on its own device);
    the main process then estimates poses, scores and finalizes."""
    console = console or Console(stderr=True)
    layout = RunLayout(Path(run_dir))
    clips = select_shard(plan_suite(suite), shard)
    suite = write_manifest(layout, suite)
    for item in clips:
        if item.plan.skip_reason:
            console.print(f"[yellow]skipped {item.plan.key}: {item.plan.skip_reason}")
    timings = Timings()
    participants = check_participants(suite)
    for name, reason in {**participants.unavailable_methods, **participants.unavailable_estimators}.items():
        console.print(f"[yellow]{name}: {reason}")
    processes = PartialState()
    own_clips = clips[processes.process_index :: processes.num_processes]
    generate_stage(layout, suite, participants, own_clips, console, timings)
    processes.wait_for_everyone()
    if not processes.is_main_process:
        return layout
    pose_stage(layout, suite, participants, clips, console, jobs, timings)
    visual = VisualMetricSuite(paired=suite.paired_metrics, distribution=suite.set_metrics, seed=suite.seed)
    records = metrics_stage(layout, suite, participants, clips, visual, console, timings)
    write_records(layout.records_file(shard), records)
    if shard is None:
        finalize_run(layout.root, console, timings)
    atomic_write_json(layout.timings_file(shard), timings.to_json())
    return layout


def set_level_rows(layout: RunLayout, suite: Suite, console: Console, timing: StageTiming) -> list[dict]:
    """FID / KID / FVD per (dataset, trajectory set, method) and pooled over both sets, from videos on disk."""
    visual = VisualMetricSuite(paired=(), distribution=suite.set_metrics, seed=suite.seed)
    participants = check_participants(suite)
    planned = [item for item in plan_suite(suite) if not item.plan.skip_reason]
    features: dict[tuple[str, str, str], list[dict]] = {}
    with stage_progress(console) as progress:
        task = progress.add_task("set-level features", total=len(planned) * len(participants.sources))
        for item in planned:
            key = video_key(item.plan)
            for source in participants.sources:
                frames, _ = read_video_folder(layout.source_dir(source, key))
                with _inner(timing):
                    video_features = visual.features(frames)
                features.setdefault((key.dataset, key.trajectory_set, source), []).append(video_features)
                progress.advance(task)
    families = {item.plan.source: item.source.family for item in planned}
    rows = []
    for dataset in sorted({dataset for dataset, _, _ in features}):
        sets = sorted({s for d, s, _ in features if d == dataset})
        for trajectory_set in [*sets, POOLED_SET]:
            chosen = sets if trajectory_set == POOLED_SET else [trajectory_set]
            reference = [f for s in chosen for f in features[(dataset, s, GROUND_TRUTH)]]
            for method in suite.methods:
                if method in participants.unavailable_methods:
                    reason = participants.unavailable_methods[method]
                    for name in suite.set_metrics:
                        rows.append(
                            record_row(
                                dataset,
                                families[dataset],
                                trajectory_set,
                                SET_LEVEL_CLIP,
                                method,
                                MetricResult(name, None, "not_computed", reason),
                            )
                        )
                    continue
                generated = [f for s in chosen for f in features[(dataset, s, method)]]
                with _inner(timing):
                    scores = visual.score_features(generated, reference)
                for result in scores.values():
                    n = (
                        int(result.details.get("n_generated", len(generated)))
                        if result.ok
                        else len(generated)
                    )
                    rows.append(
                        record_row(
                            dataset, families[dataset], trajectory_set, SET_LEVEL_CLIP, method, result, n=n
                        )
                    )
    return rows


def finalize_run(
    run_dir: str | Path, console: Console | None = None, timings: Timings | None = None
) -> RunLayout:
    """Merges shard records, adds set-level metrics, writes records.parquet/.csv, the tables and the report."""
    console = console or Console(stderr=True)
    timings = Timings() if timings is None else timings
    layout = RunLayout(Path(run_dir))
    suite = read_suite(layout)
    per_video = [read_records(path) for path in shard_files(layout)]
    if layout.records_file().is_file():
        existing = read_records(layout.records_file())
        per_video.insert(0, existing[existing["clip"] != SET_LEVEL_CLIP])
    with timings.stage("set-level metrics") as timing:
        set_level = records_frame(set_level_rows(layout, suite, console, timing))
    with timings.stage("records, tables, report"):
        records = merge_records([*per_video, set_level])
        write_records(layout.records_file(), records)
        atomic_write_text(layout.records_dir / "records.csv", records.to_csv(index=False))
        write_tables(layout)
        write_report(layout.root)
    return layout


def write_tables(layout: RunLayout, with_paper: bool = False) -> list[Path]:
    """Tables 1-4 and the still-camera table of the records and the registration table of the pose files,
    in every format."""
    records = load_run_records(layout)
    tables = {f"table{number}": build_table(number, records, with_paper) for number in (1, 2, 3, 4)}
    tables[REGISTRATION_TABLE] = registration_table(run_registrations(load_run(layout.root)))
    still_camera = still_camera_table(records)
    if still_camera is not None:
        tables[STILL_CAMERA_TABLE] = still_camera
    written = []
    for name, table in tables.items():
        for format_name, suffix in TABLE_FORMATS.items():
            path = layout.tables_dir / f"{name}.{suffix}"
            atomic_write_text(path, RENDERERS[format_name](table, with_ci=True))
            written.append(path)
    return written


def read_suite(layout: RunLayout) -> Suite:
    """The suite a run directory was run with, from its manifest."""
    if not layout.manifest.is_file():
        raise RunError(f"{layout.root} is not a run directory (no manifest.json)")
    try:
        return Suite(**_suite_fields(json.loads(layout.manifest.read_text())["suite"]))
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise RunError(
            f"{layout.manifest} is not a run manifest ({type(error).__name__}: {error})"
        ) from error


def _suite_fields(payload: dict) -> dict:
    """Suite fields from the manifest's JSON (lists back to tuples)."""
    values = _with_defaults(payload)
    values["sources"] = tuple(
        SourceSpec(
            spec["source"], spec["count"], None if spec["image_size"] is None else tuple(spec["image_size"])
        )
        for spec in payload["sources"]
    )
    for name in ("methods", "estimators", "trajectory_sets", "paired_metrics", "set_metrics"):
        values[name] = tuple(payload[name])
    return values


def _with_defaults(payload: dict) -> dict:
    """A manifest's suite settings with the defaults of fields added to `Suite` after it was written, so
    that older run directories still resume and merge."""
    defaults = {
        field.name: field.default if field.default_factory is MISSING else field.default_factory()
        for field in fields(Suite)
        if field.default is not MISSING or field.default_factory is not MISSING
    }
    return {**json.loads(json.dumps(defaults)), **payload}
