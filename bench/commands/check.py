"""`mfbench check`: re-run a suite and compare its numbers with the ones stored in the repository."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bench.regression import compare, read_stored, summarize, update_stored
from bench.runs.records import load_run_records
from bench.runs.runner import run_suite
from bench.runs.suites import SUITES


def check_command(
    suite: Annotated[str, typer.Option(help="Suite whose stored numbers to check.")] = "smoke",
    run: Annotated[
        Path | None, typer.Option(help="Run directory to use (default: a fresh temporary one).")
    ] = None,
    update: Annotated[
        bool, typer.Option(help="Store the measured numbers instead of checking them.")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why the stored numbers change (required with --update).")] = "",
) -> None:
    """Fail with a readable diff when a number of the suite moved beyond its tolerance."""
    console = Console(stderr=True)
    if update and not reason.strip():
        raise typer.BadParameter("--update needs --reason")
    with tempfile.TemporaryDirectory(prefix=f"mfbench-check-{suite}-") as scratch:
        layout = run_suite(SUITES.get(suite), run or Path(scratch), console=console)
        measured = summarize(load_run_records(layout))
    if update:
        console.print(f"stored {len(measured)} numbers in {update_stored(suite, measured, reason)}")
        return
    differences = compare(read_stored(suite), measured)
    if differences:
        console.print(f"[red]{len(differences)} number(s) of suite {suite!r} moved:[/red]")
        for difference in differences:
            console.print(f"  {difference.line()}")
        console.print(
            "If the change is deliberate: mfbench check --update --reason '...' and commit the stored file."
        )
        raise typer.Exit(1)
    console.print(f"[green]all {len(measured)} numbers of suite {suite!r} within tolerance[/green]")
