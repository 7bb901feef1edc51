"""The progress bar of the harness's long stages (generation, pose estimation, metrics)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import Progress

from motionflow.utils.progress import progress_columns


def stage_progress(console: Console) -> Progress:
    """Description, bar, done / total, elapsed and remaining time, on `console`."""
    return Progress(*progress_columns(), console=console)
