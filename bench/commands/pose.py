"""`mfbench pose`: re-estimate the cameras of every video in a directory with one pose estimator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bench.commands.failure import command_error
from bench.pose_runner import JobOutcome, PoseBatchError, discover_videos, estimate_videos
from bench.progress import stage_progress
from bench.runs.layout import RunLayout
from bench.runs.runner import run_video_sources
from bench.sfm_adapters import ESTIMATORS, EstimatorUnavailableError, create_estimator
from motionflow.errors import MotionFlowError

DEFAULT_OUTPUT_NAME = "poses"


def pose_command(
    videos: Annotated[
        Path | None,
        typer.Option(
            help="Directory of videos (MP4 files and/or folders of PNG frames), searched recursively."
        ),
    ] = None,
    run: Annotated[
        Path | None,
        typer.Option(help="A run directory: estimate its ground-truth and generated videos into RUN/poses."),
    ] = None,
    estimator: Annotated[
        str, typer.Option(help=f"Pose estimator: {', '.join(ESTIMATORS.names())}.")
    ] = "colmap",
    out: Annotated[
        Path | None, typer.Option(help=f"Output directory (default: VIDEOS/{DEFAULT_OUTPUT_NAME}).")
    ] = None,
    trials: Annotated[
        int, typer.Option(min=1, help="Trials (seeds) per video for stochastic estimators.")
    ] = 1,
    jobs: Annotated[
        int | None, typer.Option(min=1, help="Parallel worker processes (default: all cores).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of trial 0; trial k uses seed + k.")] = 0,
    known_intrinsics: Annotated[
        bool,
        typer.Option(
            "--known-intrinsics",
            help="Use each video's intrinsics from the RealEstate10K camera file beside it (clip.mp4 -> clip.txt).",
        ),
    ] = False,
    setting: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Estimator setting KEY=VALUE (VALUE parsed as JSON, else text); repeatable."
        ),
    ] = None,
) -> None:
    """Estimate camera poses of every video; per-video failures are recorded and summarised, and the
    command exits non-zero only when no estimate succeeded at all."""
    console = Console()
    if (videos is None) == (run is None):
        raise typer.BadParameter("give exactly one of --videos DIR and --run RUN")
    layout = None if run is None else RunLayout(run)
    if layout is not None:
        output_dir = out if out is not None else layout.poses_dir
    else:
        output_dir = out if out is not None else videos / DEFAULT_OUTPUT_NAME
    try:
        pose_estimator = create_estimator(estimator, **parse_settings(setting or []))
        pose_estimator.check_available()
        found = (
            run_video_sources(layout) if layout is not None else discover_videos(videos, exclude=[output_dir])
        )
        if not found:
            raise PoseBatchError(
                f"{run or videos}: no videos found (MP4/MOV/MKV/AVI/WebM files or folders of frames)"
            )
        with stage_progress(console) as progress:
            task = progress.add_task(f"{estimator} poses", total=None)
            outcomes = estimate_videos(
                found,
                pose_estimator,
                output_dir,
                trials=trials,
                jobs=jobs,
                base_seed=seed,
                use_known_intrinsics=known_intrinsics,
                on_planned=lambda total, cached: progress.update(task, total=total),
                on_done=lambda outcome: progress.advance(task),
            )
    except (EstimatorUnavailableError, MotionFlowError, KeyError, ValueError) as error:
        raise command_error(error) from None
    console.print(summary_table(outcomes, estimator))
    console.print(summary_line(outcomes, output_dir / estimator))
    if not any(outcome.ok for outcome in outcomes):
        raise command_error(
            f"no video registered with {estimator}: every estimate failed (reasons recorded in "
            f"{output_dir / estimator})"
        )


def parse_settings(items: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for item in items:
        key, separator, text = item.partition("=")
        if not separator or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="--set")
        try:
            settings[key] = json.loads(text)
        except ValueError:
            settings[key] = text
        if isinstance(settings[key], list):
            settings[key] = tuple(settings[key])
    return settings


def summary_table(outcomes: list[JobOutcome], estimator: str) -> Table:
    table = Table(title=f"Pose estimation ({estimator})")
    for column, justify in [("video", "left"), ("trial", "right"), ("registered", "right"), ("3D points", "right"),
                            ("seconds", "right"), ("status", "left")]:  # fmt: skip
        table.add_column(column, justify=justify)
    for outcome in outcomes:
        status = "[green]ok[/green]" if outcome.ok else f"[red]failed:[/red] {outcome.failure_reason}"
        if outcome.cached:
            status += " (cached)"
        table.add_row(
            outcome.video_name,
            str(outcome.trial),
            f"{outcome.num_registered}/{outcome.num_frames}",
            "-" if outcome.num_points is None else str(outcome.num_points),
            f"{outcome.seconds:.1f}",
            status,
        )
    return table


def summary_line(outcomes: list[JobOutcome], folder: Path) -> str:
    failures = sum(not outcome.ok for outcome in outcomes)
    cached = sum(outcome.cached for outcome in outcomes)
    rate = 100.0 * failures / len(outcomes) if outcomes else 0.0
    return (
        f"{len(outcomes)} estimates: {len(outcomes) - failures} ok, {failures} failed ({rate:.0f}%), "
        f"{cached} from cache. Pose files: {folder}"
    )
