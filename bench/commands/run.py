"""`mfbench run` and `mfbench table`: a suite into a run directory, and the paper's tables from it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console

from bench.commands.failure import command_error
from bench.commands.sampling_options import (
    CameraGuidanceScale,
    GuidanceScale,
    InitialNoise,
    Steps,
    Strength,
    sampling_settings,
)
from bench.runs.layout import RunLayout
from bench.runs.pooling import pool_run_records
from bench.runs.records import load_run_records
from bench.runs.runner import RunError, finalize_run, run_suite
from bench.runs.suites import SUITES
from bench.tables import build_table
from bench.tables.layout import RENDERERS
from bench.tables.still_camera import still_camera_table
from motionflow.errors import MotionFlowError
from motionflow.utils.registry import UnknownNameError


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """ "i/n" -> (i, n)."""
    if text is None:
        return None
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise typer.BadParameter(f"expected i/n (e.g. 0/4), got {text!r}") from None
    if not 0 <= index < count:
        raise typer.BadParameter(f"need 0 <= i < n, got {text!r}")
    return index, count


def _split(values: str | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(value.strip() for value in values.split(",") if value.strip())


def parse_checkpoints(values: list[str] | None) -> dict[str, str] | None:
    """["METHOD=FOLDER", ...] -> {method: absolute folder}; each folder must exist."""
    if not values:
        return None
    checkpoints = {}
    for value in values:
        name, separator, folder = value.partition("=")
        if not separator or not name.strip() or not folder.strip():
            raise typer.BadParameter(f"expected METHOD=FOLDER, got {value!r}")
        path = Path(folder.strip()).expanduser()
        if not path.is_dir():
            raise typer.BadParameter(f"checkpoint folder {path} of {name.strip()!r} not found")
        checkpoints[name.strip()] = str(path.resolve())
    return checkpoints


def run_command(
    suite: Annotated[str, typer.Option(help=f"Suite: {', '.join(SUITES.names())}.")] = "smoke",
    out: Annotated[Path, typer.Option(help="Run directory (created, or resumed if it exists).")] = Path(
        "runs/smoke"
    ),
    methods: Annotated[
        str | None, typer.Option(help="Comma-separated methods (default: the suite's).")
    ] = None,
    estimators: Annotated[
        str | None, typer.Option(help="Comma-separated pose estimators (default: the suite's).")
    ] = None,
    preset: Annotated[
        str | None, typer.Option(help="Camera-metric preset (default: the suite's, motionflow).")
    ] = None,
    trials: Annotated[
        int | None, typer.Option(min=1, help="Trials per video for stochastic estimators.")
    ] = None,
    shard: Annotated[
        str | None, typer.Option(help="Run only shard i of n (i/n); merge with `mfbench merge`.")
    ] = None,
    jobs: Annotated[
        int | None, typer.Option(min=1, help="Parallel pose-estimation processes (default: all cores).")
    ] = None,
    checkpoint: Annotated[
        list[str] | None,
        typer.Option(
            help="METHOD=FOLDER: run METHOD from this checkpoint folder (a training run's model) instead of "
            "its default weights; repeatable."
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Seed of the suite (default: the suite's, 0): synthetic test scenes are seeds SEED.. (kept "
            "below the held-out validation scenes), and the initial noise and set metrics draw from it. "
            "Another seed gives another independent sample of the same suite.",
        ),
    ] = None,
    steps: Steps = None,
    guidance_scale: GuidanceScale = None,
    camera_guidance_scale: CameraGuidanceScale = None,
    initial_noise: InitialNoise = None,
    strength: Strength = None,
) -> None:
    """Generate -> pose (generated and ground truth) -> metrics -> tables for a suite. Sampler options
    apply to every method that samples (default: each method's own)."""
    console = Console(stderr=True)
    sampling = sampling_settings(steps, guidance_scale, camera_guidance_scale, initial_noise, strength)
    try:
        chosen = SUITES.get(suite).with_overrides(
            methods=_split(methods),
            estimators=_split(estimators),
            camera_preset=preset,
            trials=trials,
            seed=seed,
            checkpoints=parse_checkpoints(checkpoint),
            sampling=sampling or None,
        )
        layout = run_suite(chosen, out, parse_shard(shard), jobs, console)
    except (MotionFlowError, UnknownNameError, FileNotFoundError, ValueError) as error:
        raise command_error(error, 2) from None
    if shard is None:
        console.print(f"records: {layout.records_file()}\ntables: {layout.tables_dir}")
    else:
        console.print(
            f"shard records: {layout.records_file(parse_shard(shard))}; run `mfbench merge --run {out}`"
        )


def merge_command(
    run: Annotated[Path, typer.Option(help="Run directory whose shard records to merge.")],
) -> None:
    """Merge shard records (idempotent), add set-level metrics, write records and tables."""
    console = Console(stderr=True)
    try:
        layout = finalize_run(run, console)
    except (RunError, FileNotFoundError) as error:
        raise command_error(error, 2) from None
    console.print(f"records: {layout.records_file()}")


def _renderer(format: str) -> Callable[..., str]:
    if format not in RENDERERS:
        raise typer.BadParameter(f"format must be one of {', '.join(RENDERERS)}")
    return RENDERERS[format]


PooledRuns = Annotated[
    list[Path],
    typer.Option(help="Run directory; repeat it to pool runs of one suite drawn with other --seed."),
]


def _run_records(runs: list[Path]) -> pd.DataFrame:
    """One run's records, or several runs' pooled per video (`pool_run_records`); exit 2 with the
    reason when they cannot be read or pooled."""
    try:
        return load_run_records(RunLayout(runs[0])) if len(runs) == 1 else pool_run_records(runs)
    except (RunError, FileNotFoundError) as error:
        raise command_error(error, 2) from None


def table_command(
    number: Annotated[int, typer.Argument(min=1, max=4, help="Table 1, 2, 3 or 4 of the paper.")],
    run: PooledRuns,
    format: Annotated[str, typer.Option(help="md, latex or csv.")] = "md",
    with_paper: Annotated[
        bool, typer.Option(help="Add the paper's published rows (marked, not measured).")
    ] = False,
    ci: Annotated[bool, typer.Option(help="Show 95% confidence intervals.")] = False,
) -> None:
    """Print one of the paper's tables from a run's records, or from several runs of one suite with
    different seeds pooled per video (FID / KID / FVD, computed over one run's videos, are left out)."""
    render = _renderer(format)
    records = _run_records(run)
    typer.echo(render(build_table(number, records, with_paper), with_ci=ci), nl=False)


def still_camera_command(
    run: PooledRuns,
    format: Annotated[str, typer.Option(help="md, latex or csv.")] = "md",
) -> None:
    """Print each method's camera errors minus a still camera's, paired per video, over the videos of
    one run or pooled over several runs of one suite with different seeds."""
    render = _renderer(format)
    table = still_camera_table(_run_records(run))
    if table is None:
        raise command_error("the runs hold no still-camera records", 2)
    typer.echo(render(table, with_ci=True), nl=False)
