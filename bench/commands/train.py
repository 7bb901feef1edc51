"""`mfbench train --config NAME|PATH --out DIR [--resume]`: a MotionFlow training run from a config file.

On several GPUs or nodes, start the same command through accelerate, e.g.
`accelerate launch --multi_gpu --num_processes 8 $(which mfbench) train --config paper --out runs/paper`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from bench.commands.failure import command_error
from bench.console_table import print_table
from motionflow.errors import MotionFlowError
from motionflow.training import load_training_config, train
from motionflow.training.depth import DepthTrainingSettings, train_depth_net
from motionflow.training.trainer import VALIDATION_FILE


def train_command(
    config: Annotated[
        str, typer.Option(help="Config name (configs/<name>.toml) or path to a TOML/JSON file.")
    ],
    out: Annotated[
        Path, typer.Option(help="Run directory: checkpoints, losses.csv, the trained model in OUT/model.")
    ],
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in OUT from its latest checkpoint.")
    ] = False,
    max_steps: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Stop (after a checkpoint) once this many steps ran in this session; continue with --resume.",
        ),
    ] = None,
) -> None:
    """Train MotionFlow: the configured phases (pretraining stand-in, stage 1, stage 2) in order."""
    try:
        settings = load_training_config(config)
        result = train(settings, out, resume=resume, max_steps=max_steps)
    except (MotionFlowError, ValueError, FileNotFoundError) as error:
        raise command_error(error) from None
    if not result.complete:
        typer.echo(f"stopped after {result.steps_this_session} steps; continue with --resume --out {out}")
    elif result.model is None:
        typer.echo(f"base run complete: {out} (other configs start from it with model.base)")
    else:
        typer.echo(f"trained model: {result.model}")
    print_last_validation(out)


def print_last_validation(out: Path) -> None:
    """The run's latest held-out measurement (validation.csv), as a table, when it validated."""
    path = out / VALIDATION_FILE
    if not path.is_file():
        return
    rows = pd.read_csv(path)
    if rows.empty:
        return
    last = rows[(rows["phase"] == rows["phase"].iloc[-1]) & (rows["step"] == rows["step"].iloc[-1])]
    typer.echo(f"held-out condition use, {last['phase'].iloc[0]} step {last['step'].iloc[0]} ({path}):")
    print_table(last[["condition", "timestep", "loss_own", "loss_other", "loss_gap", "prediction_change"]])


def train_depth_command(
    out: Annotated[
        Path, typer.Option(help="Run directory: OUT/model, losses.csv, validation.csv, summary.json.")
    ],
    steps: Annotated[int, typer.Option(min=1, help="Adam steps.")] = DepthTrainingSettings.steps,
    scenes: Annotated[
        int, typer.Option(min=1, help="Synthetic training scenes rendered.")
    ] = DepthTrainingSettings.scenes,
    seed: Annotated[
        int, typer.Option(help="Seed of the initialisation and the batches.")
    ] = DepthTrainingSettings.seed,
) -> None:
    """Train the small monocular depth network of the depth-warped start and the depth-warp row on
    synthetic scenes (the defaults reproduce the bundled motionflow/checkpoints/depth-small)."""
    try:
        model = train_depth_net(DepthTrainingSettings(steps=steps, scenes=scenes, seed=seed), out)
    except (MotionFlowError, ValueError, FileExistsError) as error:
        raise command_error(error) from None
    typer.echo(f"trained depth network: {model}")
    print_table(pd.read_csv(out / VALIDATION_FILE).tail(1))
