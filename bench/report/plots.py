"""Trajectory plots: ground truth vs. estimated camera paths, top view (x-z) and side view (z-y), as inline SVG.

Every path is made relative to its first (registered) frame and divided by its largest camera distance
from that frame, the scale rule of the `motionflow` metric preset, so paths from estimators with
arbitrary scale are comparable. A frame an estimator did not register has no position: the estimated
path has a gap there, and the frame is marked with an x in the estimate's colour on the ground-truth
path."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from motionflow.camera.poses import camera_centers, normalize_scale_by_max_distance

ESTIMATE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf", "#bcbd22")
REFERENCE_COLOUR = "#000000"
REQUESTED_COLOUR = "#7f7f7f"
_X, _Y, _Z = 0, 1, 2


@dataclass(frozen=True)
class Path3D:
    """A camera path to draw: c2w [F, 4, 4] (OpenCV axes) and which frames have a pose."""

    label: str
    c2w: np.ndarray
    registered: np.ndarray

    def normalized_positions(self) -> np.ndarray:
        """Camera centres [F, 3] relative to the anchor frame, largest distance 1; NaN where unregistered."""
        positions = np.full((len(self.registered), 3), np.nan)
        indices = np.flatnonzero(self.registered)
        if len(indices):
            positions[indices] = camera_centers(normalize_scale_by_max_distance(self.c2w[indices]))
        return positions


def full_path(label: str, c2w: np.ndarray) -> Path3D:
    """A path with a pose for every frame (an annotation or a requested trajectory)."""
    return Path3D(label, c2w, np.ones(len(c2w), dtype=bool))


def trajectory_plot_svg(
    title: str, reference: Path3D | None, estimates: list[Path3D], requested: Path3D | None = None
) -> str:
    """One figure, two panels (top view x-z, side view z-y), as an `<svg>` element for inline HTML."""
    views = (
        ("top view", _X, _Z, "x (right)", "z (forward)"),
        ("side view", _Z, _Y, "z (forward)", "y (down)"),
    )
    # A Figure without pyplot: no global backend or figure registry is touched.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": title, "font.size": 8}):
        figure = Figure(figsize=(6.4, 2.8))
        axes = figure.subplots(1, 2)
        for ax, (view, horizontal, vertical, horizontal_label, vertical_label) in zip(
            axes, views, strict=True
        ):
            _draw_view(ax, (horizontal, vertical), reference, estimates, requested)
            ax.set_title(view)
            ax.set_xlabel(horizontal_label)
            ax.set_ylabel(vertical_label)
            ax.set_aspect("equal", adjustable="datalim")
            ax.grid(True, linewidth=0.3)
            if vertical == _Y:
                ax.invert_yaxis()
        figure.suptitle(title, fontsize=9)
        handles, labels = axes[0].get_legend_handles_labels()
        if handles:
            figure.legend(handles, labels, loc="center right", fontsize=6.5, frameon=False)
        # Fixed margins: tight_layout would double the drawing time for the same look.
        figure.subplots_adjust(left=0.08, right=0.78, bottom=0.15, top=0.84, wspace=0.35)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return _inline_svg(buffer.getvalue())


def _draw_view(
    ax: Axes,
    axes_indices: tuple[int, int],
    reference: Path3D | None,
    estimates: list[Path3D],
    requested: Path3D | None,
) -> None:
    horizontal, vertical = axes_indices
    reference_positions = reference.normalized_positions() if reference is not None else None
    if reference is not None:
        ax.plot(
            reference_positions[:, horizontal],
            reference_positions[:, vertical],
            color=REFERENCE_COLOUR,
            linewidth=1.6,
            label=reference.label,
        )
    if requested is not None:
        positions = requested.normalized_positions()
        ax.plot(
            positions[:, horizontal],
            positions[:, vertical],
            color=REQUESTED_COLOUR,
            linestyle="--",
            linewidth=1.2,
            label=requested.label,
        )
    marked_unregistered = False
    for index, estimate in enumerate(estimates):
        colour = ESTIMATE_COLOURS[index % len(ESTIMATE_COLOURS)]
        positions = estimate.normalized_positions()
        ax.plot(
            positions[:, horizontal],
            positions[:, vertical],
            color=colour,
            linewidth=1.1,
            marker=".",
            markersize=3,
            label=estimate.label,
        )
        unregistered = np.flatnonzero(~estimate.registered)
        if reference_positions is not None:
            unregistered = unregistered[unregistered < len(reference_positions)]
            ax.plot(
                reference_positions[unregistered, horizontal],
                reference_positions[unregistered, vertical],
                linestyle="none",
                marker="x",
                markersize=6,
                color=colour,
            )
            marked_unregistered |= len(unregistered) > 0
    if marked_unregistered:
        ax.plot([], [], linestyle="none", marker="x", color=REQUESTED_COLOUR, label="frame not registered")
    if reference is not None:
        ax.plot(0, 0, marker="o", markersize=4, color=REFERENCE_COLOUR, linestyle="none")


def _inline_svg(document: str) -> str:
    """The `<svg>` element of an SVG document, without XML prolog, doctype and metadata."""
    start = document.index("<svg")
    svg = document[start:]
    return re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL).strip()
