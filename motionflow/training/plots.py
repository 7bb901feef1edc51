"""The training curve of a run as a picture: loss per step of every phase, raw and smoothed
(the autoencoder phase logs its reconstruction loss, the others the epsilon loss of Eq. 2)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from motionflow.training.trainer import LOSSES_FILE
from motionflow.utils.io import atomic_path

SMOOTHING_WINDOW = 25


def plot_training_curve(run_directory: str | Path, path: str | Path, title: str = "") -> Path:
    """Writes a PNG of OUT/losses.csv: the phases one after another on a shared step axis."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    with (Path(run_directory) / LOSSES_FILE).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise ValueError(f"{run_directory}: {LOSSES_FILE} has no steps")
    phases = list(dict.fromkeys(row["phase"] for row in rows))
    figure, axis = pyplot.subplots(figsize=(8, 4), dpi=110)
    offset = 0
    for phase in phases:
        losses = np.array([float(row["loss"]) for row in rows if row["phase"] == phase])
        steps = offset + np.arange(1, len(losses) + 1)
        line = axis.plot(steps, losses, alpha=0.25, linewidth=0.8)[0]
        window = min(SMOOTHING_WINDOW, len(losses))
        smoothed = np.convolve(losses, np.ones(window) / window, mode="valid")
        axis.plot(
            steps[window - 1 :], smoothed, color=line.get_color(), label=f"{phase} ({len(losses)} steps)"
        )
        offset += len(losses)
    axis.set_xlabel("optimizer step (phases in order)")
    axis.set_ylabel("loss (autoencoder: L1 + KL; others: epsilon MSE)")
    axis.set_title(title or f"training curve ({SMOOTHING_WINDOW}-step moving average)")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    pyplot.close(figure)
    return path
