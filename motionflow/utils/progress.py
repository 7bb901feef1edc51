"""The columns of every long-running progress bar (training phases, the harness's stages)."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def progress_columns(*after_count: ProgressColumn) -> tuple[ProgressColumn, ...]:
    """Description, bar, done / total, then `after_count` (a loss, say), elapsed and remaining time."""
    return (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *after_count,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
