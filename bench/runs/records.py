"""Long-format metric records of a run: building rows, atomic Parquet/CSV writes, idempotent shard merges."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from bench.metrics.result import MetricResult
from bench.runs.layout import RECORD_COLUMNS, RECORD_KEY, RunLayout
from motionflow.utils.io import atomic_path


def record_row(
    dataset: str,
    family: str,
    trajectory_set: str,
    clip: str,
    method: str,
    result: MetricResult,
    estimator: str = "",
    trial: int = 0,
    n: int = 0,
) -> dict:
    return {
        "dataset": dataset,
        "family": family,
        "trajectory_set": trajectory_set,
        "clip": clip,
        "method": method,
        "estimator": estimator,
        "trial": trial,
        "metric": result.name,
        "value": result.value if result.ok else float("nan"),
        "status": result.status,
        "reason": result.reason,
        "n": n,
    }


def records_frame(rows: Iterable[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows), columns=list(RECORD_COLUMNS))
    return frame.astype({"trial": "int64", "n": "int64", "value": "float64"})


def write_records(path: Path, records: pd.DataFrame) -> Path:
    with atomic_path(path) as temporary:
        records.to_parquet(temporary, index=False)
    return path


def read_records(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def merge_records(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Concatenates record frames; for a repeated key the later frame wins. Sorted, so merging the same
    shards again gives the same file."""
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return records_frame([])
    merged = pd.concat(frames, ignore_index=True).drop_duplicates(list(RECORD_KEY), keep="last")
    return merged.sort_values(list(RECORD_KEY), kind="stable").reset_index(drop=True)


def shard_files(layout: RunLayout) -> list[Path]:
    return sorted(layout.records_dir.glob("records.shard-*-of-*.parquet"))


def load_run_records(layout: RunLayout) -> pd.DataFrame:
    """The merged records of a run (raises FileNotFoundError naming the run when there are none)."""
    path = layout.records_file()
    if not path.is_file():
        raise FileNotFoundError(f"{layout.root} has no records ({path}); run `mfbench run` first")
    return read_records(path)
