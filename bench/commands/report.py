"""`mfbench report --run DIR`: the self-contained HTML page of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bench.commands.failure import command_error
from bench.report import DEFAULT_MAX_CLIPS, ReportError, write_report
from bench.report.strip import write_frame_strip
from bench.runs.layout import FRAMES_DIR, RunLayout, VideoKey
from motionflow.errors import MotionFlowError


def report_command(
    run: Annotated[Path, typer.Option("--run", help="Run directory (made by `mfbench run`).")],
    max_clips: Annotated[
        int, typer.Option("--max-clips", min=0, help="Clips shown with videos and plots (0: none).")
    ] = DEFAULT_MAX_CLIPS,
    out: Annotated[Path | None, typer.Option("--out", help="Output file (default RUN/report.html).")] = None,
    strip: Annotated[
        str | None,
        typer.Option(
            "--strip",
            help="Instead of the page, a PNG frame strip of one clip, DATASET/SET/CLIP (default RUN/strips/...png).",
        ),
    ] = None,
    methods: Annotated[
        str | None,
        typer.Option("--methods", help="Rows of the strip, comma-separated (default: every method)."),
    ] = None,
) -> None:
    """Write the HTML report of a run: tables, videos side by side, trajectory plots, failure lists."""
    try:
        if strip is not None:
            path = _write_strip(run, strip, methods, out)
        else:
            path = write_report(run, out=out, max_clips=max_clips, show_progress=True)
    except (ReportError, MotionFlowError, ValueError) as error:
        raise command_error(error) from None
    typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


def _write_strip(run: Path, clip: str, methods: str | None, out: Path | None) -> Path:
    parts = clip.split("/")
    if len(parts) != 3:
        raise ValueError(f"--strip takes DATASET/SET/CLIP, got {clip!r}")
    key = VideoKey(*parts)
    layout = RunLayout(run)
    if methods is None:
        names = sorted(
            path.name
            for path in (run / "videos").glob("*")
            if (layout.video_dir(path.name, key) / FRAMES_DIR).is_dir()
        )
    else:
        names = [name for name in methods.split(",") if name]
    target = out if out is not None else run / "strips" / f"{'-'.join(parts)}.png"
    return write_frame_strip(run, key, names, target)
