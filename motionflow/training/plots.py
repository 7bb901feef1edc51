"""The training curve of a run as a picture: loss per step of every phase, raw and smoothed (the
autoencoder phase logs its reconstruction loss, the others the epsilon loss of Eq. 2), and, for a run
that validated, the held-out loss and how much it rises under another clip's reference image / cameras."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from motionflow.training.trainer import LOSSES_FILE, VALIDATION_FILE, read_log_rows
from motionflow.utils.io import atomic_path

SMOOTHING_WINDOW = 25


def _mean_by_step(rows: list[dict[str, str]], column: str) -> tuple[np.ndarray, np.ndarray]:
    """Steps and the mean of `column` over the rows (timesteps) of each step."""
    steps = sorted({int(row["step"]) for row in rows})
    means = [np.mean([float(row[column]) for row in rows if int(row["step"]) == step]) for step in steps]
    return np.array(steps), np.array(means)


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend (imported late: only plotting needs it)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _run_logs(run_directory: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The rows of a run's losses.csv (ValueError when it has none) and of its validation.csv."""
    rows = read_log_rows(run_directory / LOSSES_FILE)
    if not rows:
        raise ValueError(f"{run_directory}: {LOSSES_FILE} is missing or has no steps")
    return rows, read_log_rows(run_directory / VALIDATION_FILE)


def _save_figure(figure, path: str | Path) -> Path:
    figure.tight_layout()
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    _pyplot().close(figure)
    return path


def _plot_raw_and_smoothed(axis, steps: np.ndarray, losses: np.ndarray, label: str | None = None) -> str:
    """The losses per step, faint, and their `SMOOTHING_WINDOW`-step moving average in the same colour
    (returned), labelled `label`."""
    color = axis.plot(steps, losses, alpha=0.25, linewidth=0.8)[0].get_color()
    window = min(SMOOTHING_WINDOW, len(losses))
    smoothed = np.convolve(losses, np.ones(window) / window, mode="valid")
    axis.plot(steps[window - 1 :], smoothed, color=color, label=label)
    return color


def plot_training_curve(run_directory: str | Path, path: str | Path, title: str = "") -> Path:
    """Writes a PNG of OUT/losses.csv (and OUT/validation.csv when there is one): the phases one after
    another on a shared step axis."""
    pyplot = _pyplot()
    run_directory = Path(run_directory)
    rows, validation = _run_logs(run_directory)
    phases = list(dict.fromkeys(row["phase"] for row in rows))
    panels = 2 if validation else 1
    figure, axes = pyplot.subplots(panels, 1, figsize=(8, 4 * panels), dpi=110, sharex=True, squeeze=False)
    loss_axis = axes[0, 0]
    offset = 0
    for phase in phases:
        losses = np.array([float(row["loss"]) for row in rows if row["phase"] == phase])
        steps = offset + np.arange(1, len(losses) + 1)
        color = _plot_raw_and_smoothed(loss_axis, steps, losses, f"{phase} ({len(losses)} steps)")
        phase_rows = [row for row in validation if row["phase"] == phase]
        if phase_rows:
            held_out_steps, held_out = _mean_by_step(
                [row for row in phase_rows if row["condition"] == "image"], "loss_own"
            )
            loss_axis.plot(
                offset + held_out_steps, held_out, "o--", color=color, markersize=3, label=f"{phase} held out"
            )
            for condition, marker in (("image", "s-"), ("camera", "^-")):
                condition_rows = [row for row in phase_rows if row["condition"] == condition]
                if condition_rows:
                    gap_steps, gaps = _mean_by_step(condition_rows, "loss_gap")
                    axes[1, 0].plot(
                        offset + gap_steps,
                        100 * gaps,
                        marker,
                        color=color,
                        markersize=3,
                        label=f"{phase}: {condition}",
                    )
        offset += len(losses)
    axes[-1, 0].set_xlabel("optimizer step (phases in order)")
    loss_axis.set_ylabel("loss (autoencoder: L1 + KL; others: epsilon MSE)")
    loss_axis.set_title(title or f"training curve ({SMOOTHING_WINDOW}-step moving average)")
    if validation:
        axes[1, 0].set_ylabel("held-out loss rise under another\nclip's condition (%, mean over t)")
        axes[1, 0].axhline(0.0, color="grey", linewidth=0.8)
    for axis in axes[:, 0]:
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    return _save_figure(figure, path)


def plot_depth_curve(run_directory: str | Path, path: str | Path) -> Path:
    """Writes a PNG of a depth run (`motionflow.training.depth`): its L1 loss on inverse depth per step,
    raw and smoothed, and the held-out AbsRel and delta1."""
    rows, validation = _run_logs(Path(run_directory))
    figure, (loss_axis, error_axis) = _pyplot().subplots(2, 1, figsize=(8, 7), dpi=110, sharex=True)
    steps = np.array([int(row["step"]) for row in rows])
    losses = np.array([float(row["loss"]) for row in rows])
    _plot_raw_and_smoothed(loss_axis, steps, losses)
    loss_axis.set_ylabel("L1 loss on inverse depth (1/m)")
    loss_axis.set_title(f"depth network ({SMOOTHING_WINDOW}-step moving average)")
    held_out_steps = [int(row["step"]) for row in validation]
    for column, marker in (("abs_rel", "o-"), ("delta1", "s-")):
        error_axis.plot(held_out_steps, [float(row[column]) for row in validation], marker, label=column)
    error_axis.set_ylabel("held-out scenes")
    error_axis.set_xlabel("optimizer step")
    for axis in (loss_axis, error_axis):
        axis.grid(alpha=0.3)
    error_axis.legend(fontsize=8)
    return _save_figure(figure, path)
