"""`mfbench report --run DIR`: the self-contained HTML page of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bench.report import DEFAULT_MAX_CLIPS, ReportError, write_report


def report_command(
    run: Annotated[Path, typer.Option("--run", help="Run directory (made by `mfbench run`).")],
    max_clips: Annotated[
        int, typer.Option("--max-clips", min=0, help="Clips shown with videos and plots (0: none).")
    ] = DEFAULT_MAX_CLIPS,
    out: Annotated[Path | None, typer.Option("--out", help="Output file (default RUN/report.html).")] = None,
) -> None:
    """Write the HTML report of a run: tables, videos side by side, trajectory plots, failure lists."""
    try:
        path = write_report(run, out=out, max_clips=max_clips, show_progress=True)
    except ReportError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
