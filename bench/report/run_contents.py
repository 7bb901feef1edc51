"""What a report shows, read from a run directory: manifest, records, videos, trajectories, pose estimates.

Reading is tolerant where the report can still say something useful (a missing video, an unreadable
pose file: shown as such on the page) and strict where it cannot (not a run directory, records that are
not a records table)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow

from bench.pose_runner import read_record
from bench.runs.layout import CAMERA_FILE, RECORD_COLUMNS, RunLayout, VideoKey
from motionflow.camera.json_format import read_trajectory_json
from motionflow.errors import MotionFlowError

RUN_MARKERS = ("manifest.json", "records", "clips", "videos")
"""A directory holding none of these was not made by `mfbench run`."""


class ReportError(MotionFlowError):
    """A run directory cannot be reported on."""


class NotARunError(ReportError):
    """The directory does not exist or was not made by `mfbench run`."""


@dataclass(frozen=True)
class Loaded:
    """A file's content, or why it could not be read (`value` is None then)."""

    value: Any
    problem: str = ""


@dataclass(frozen=True)
class PoseTrial:
    """One pose estimate file of one video."""

    estimator: str
    trial: int
    estimate: Loaded
    """Loaded(PoseEstimate) of the pose record, or the reason the file could not be read."""


@dataclass(frozen=True)
class RunContents:
    layout: RunLayout
    manifest: Loaded
    """Loaded(dict), Loaded(None) without a problem when the run has no manifest."""
    records: pd.DataFrame
    records_note: str
    """Why there are no records, when there are none."""
    keys: tuple[VideoKey, ...]
    methods: tuple[str, ...]
    estimators: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.layout.root.resolve().name


def check_run_dir(run_dir: str | Path) -> RunLayout:
    """The layout of `run_dir`; NotARunError when it is not a run directory."""
    root = Path(run_dir)
    if not root.is_dir():
        raise NotARunError(f"{root}: no such directory (expected a run directory made by `mfbench run`)")
    if not any((root / marker).exists() for marker in RUN_MARKERS):
        raise NotARunError(
            f"{root} is not a run directory: it holds none of {', '.join(RUN_MARKERS)} "
            "(make one with `mfbench run`)"
        )
    return RunLayout(root)


def load_run(run_dir: str | Path) -> RunContents:
    layout = check_run_dir(run_dir)
    records, records_note = read_records(layout)
    methods = _subdirectories(layout.root / "videos")
    keys = sorted(
        set(_video_keys(layout.root / "clips"))
        | {key for method in methods for key in _video_keys(layout.root / "videos" / method)},
        key=lambda key: key.parts,
    )
    return RunContents(
        layout=layout,
        manifest=read_manifest(layout),
        records=records,
        records_note=records_note,
        keys=tuple(keys),
        methods=tuple(methods),
        estimators=tuple(_subdirectories(layout.poses_dir)),
    )


def read_manifest(layout: RunLayout) -> Loaded:
    if not layout.manifest.is_file():
        return Loaded(None)
    try:
        payload = json.loads(layout.manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return Loaded(None, f"{layout.manifest} is unreadable: {error}")
    if not isinstance(payload, dict):
        return Loaded(None, f"{layout.manifest} is not a JSON object")
    return Loaded(payload)


def read_records(layout: RunLayout) -> tuple[pd.DataFrame, str]:
    """The merged records table and, when it is empty, why. ReportError when the file is not a records
    table (corrupt Parquet, missing columns): the failure lists would silently be wrong otherwise."""
    path = layout.records_file()
    if not path.is_file():
        shards = sorted(layout.records_dir.glob(f"{path.stem}.shard-*{path.suffix}"))
        why = (
            f"{len(shards)} shard file(s) but no merged records: run `mfbench merge --run {layout.root}`"
            if shards
            else "nothing scored yet"
        )
        return pd.DataFrame(columns=list(RECORD_COLUMNS)), f"{path} does not exist ({why})"
    try:
        records = pd.read_parquet(path)
    except (OSError, ValueError, pyarrow.ArrowException) as error:
        raise ReportError(f"{path}: cannot read the records ({error})") from None
    missing = [column for column in RECORD_COLUMNS if column not in records.columns]
    if missing:
        raise ReportError(f"{path}: not a records table, missing column(s) {', '.join(missing)}")
    return records, "" if len(records) else f"{path} holds no records"


def read_trajectory(path: Path) -> Loaded:
    """Loaded(Trajectory) of a camera.json, Loaded(None) without a problem when there is no file."""
    if not path.is_file():
        return Loaded(None)
    try:
        return Loaded(read_trajectory_json(path))
    except MotionFlowError as error:
        return Loaded(None, str(error))


def ground_truth_trajectory(layout: RunLayout, key: VideoKey) -> Loaded:
    return read_trajectory(layout.clip_dir(key) / CAMERA_FILE)


def requested_trajectory(layout: RunLayout, method: str, key: VideoKey) -> Loaded:
    return read_trajectory(layout.video_dir(method, key) / CAMERA_FILE)


def pose_trials(layout: RunLayout, source: str, key: VideoKey) -> list[PoseTrial]:
    """Every pose estimate of the video of `source` (a method or `gt`), by estimator then trial."""
    trials = []
    for estimator in _subdirectories(layout.poses_dir):
        pattern = _pose_file_pattern(layout, estimator, source, key)
        folder = layout.pose_file(estimator, source, key, 0).parent
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            match = pattern.fullmatch(path.name)
            if match:
                trials.append(PoseTrial(estimator, int(match.group(1)), _read_pose(path)))
    return sorted(trials, key=lambda trial: (trial.estimator, trial.trial))


def _pose_file_pattern(layout: RunLayout, estimator: str, source: str, key: VideoKey) -> re.Pattern[str]:
    """The file names of a video's trials, taken from the layout (which alone names run files): the
    name of a sentinel trial number with that number replaced by a digit group."""
    sentinel = "918273645"
    before, after = layout.pose_file(estimator, source, key, int(sentinel)).name.split(sentinel)
    return re.compile(re.escape(before) + r"(\d+)" + re.escape(after))


def _read_pose(path: Path) -> Loaded:
    try:
        return Loaded(read_record(path).estimate)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        return Loaded(None, f"{path.name} is unreadable: {error}")


def _subdirectories(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(path.name for path in folder.iterdir() if path.is_dir() and not path.name.startswith("."))


def _video_keys(folder: Path) -> list[VideoKey]:
    """The <dataset>/<set>/<clip> folders under `folder`."""
    return [
        VideoKey(dataset, trajectory_set, clip)
        for dataset in _subdirectories(folder)
        for trajectory_set in _subdirectories(folder / dataset)
        for clip in _subdirectories(folder / dataset / trajectory_set)
    ]
