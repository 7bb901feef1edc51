"""Where pose estimates are filed: `<output>/<estimator>/<video name>.trial<k>.json`.

A module of its own so that code which only locates pose files (run layouts, reports) does not import
the estimators."""

from __future__ import annotations

from pathlib import Path


def record_path(output_dir: Path, estimator: str, video_name: str, trial: int) -> Path:
    return output_dir / estimator / f"{video_name}.trial{trial}.json"
