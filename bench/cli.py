"""The `mfbench` command line. Thin: each command lives in bench/commands/ and calls library code."""

from __future__ import annotations

import typer

import motionflow

app = typer.Typer(
    name="mfbench",
    help="Benchmark camera-controlled video generation: generate, re-estimate poses, score, tabulate.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def root() -> None:
    """mfbench: generate -> pose -> metrics -> tables."""


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"mfbench {motionflow.__version__}")


def main() -> None:
    app()
