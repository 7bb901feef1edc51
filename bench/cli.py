"""The `mfbench` command line. Thin: each command lives in bench/commands/ and calls library code."""

from __future__ import annotations

import typer

import motionflow
from bench.commands import check, dataset, generate, pose, report, run, train, weights

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


app.command("run")(run.run_command)
app.command("merge")(run.merge_command)
app.command("table")(run.table_command)
app.command("still-camera")(run.still_camera_command)
app.command("check")(check.check_command)
app.command("pose")(pose.pose_command)
app.command("report")(report.report_command)
app.command("generate")(generate.generate_command)
app.command("train")(train.train_command)
app.command("train-depth")(train.train_depth_command)
app.add_typer(dataset.app, name="dataset")
app.add_typer(weights.app, name="weights")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
