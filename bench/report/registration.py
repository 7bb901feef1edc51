"""The registration table: how much of each video the pose estimator registers, and where along the
video it stops.

Table 1 counts a video as a failure when its estimate misses frame 0 or half its frames, which hides
the difference between a video that loses its last frames and one that registers nothing. This table
reads the pose files of a run and gives, per method, trajectory set and estimator, the share of a
video's frames registered over the whole video and over each quarter of it (frames split in order into
four nearly equal runs): mean over the estimates (videos x pose trials) with a 95% bootstrap interval.
A generated video whose later quarters fall behind its first one loses the camera as it moves away
from the reference image. Datasets are pooled within a trajectory set."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from bench.metrics.aggregate import bootstrap_mean_ci
from bench.report.run_contents import RunContents, pose_trials
from bench.runs.layout import GROUND_TRUTH
from bench.tables.layout import NOT_RUN, Cell, Table
from bench.tables.names import ESTIMATOR_LABELS, TRAJECTORY_SET_LABELS, method_label, sort_methods

REGISTRATION_TABLE = "registration"
"""The table's file name in RUN/tables, without its suffix."""
PARTS = ("all frames", "first quarter", "second quarter", "third quarter", "last quarter")
GROUND_TRUTH_LABEL = "ground-truth video"
TITLE = "Registered frames: share of each video's frames the pose estimator registers (higher is better)"
NOTES = (
    "Mean over estimates (videos x pose trials) with its 95% bootstrap interval; datasets pooled within a "
    "trajectory set; a quarter is a quarter of the frames in order.",
    "A camera metric needs frame 0 and half the frames registered in both the video's estimate and the "
    "ground truth's, so a video can register most of its frames and still be a Table 1 failure.",
    "fail k/n: pose files that could not be read.",
)


@dataclass(frozen=True)
class Registration:
    """One pose estimate's registered-frame mask, or None where its file could not be read."""

    source: str
    trajectory_set: str
    estimator: str
    registered: np.ndarray | None


def run_registrations(run: RunContents) -> list[Registration]:
    """The registration mask of every pose estimate of the run: ground truth and each method."""
    registrations = []
    for source in (GROUND_TRUTH, *run.methods):
        for key in run.keys:
            for trial in pose_trials(run.layout, source, key):
                estimate = trial.estimate.value
                mask = None if estimate is None else np.asarray(estimate.registered, dtype=bool)
                registrations.append(Registration(source, key.trajectory_set, trial.estimator, mask))
    return registrations


def part_shares(registered: np.ndarray) -> tuple[float | None, ...]:
    """The share of frames registered over the whole mask and over each quarter of it, in PARTS order
    (None for a quarter with no frames, as in a video of fewer than four)."""
    quarters = np.array_split(registered, 4)
    return (float(registered.mean()),) + tuple(
        float(quarter.mean()) if len(quarter) else None for quarter in quarters
    )


def registration_table(registrations: list[Registration]) -> Table:
    """Rows: the ground-truth video, then each method; columns: (trajectory set, estimator, part)."""
    groups: dict[tuple[str, str, str], list[Registration]] = defaultdict(list)
    for registration in registrations:
        groups[(registration.source, registration.trajectory_set, registration.estimator)].append(
            registration
        )
    sets = sorted({key[1] for key in groups}, key=_set_order)
    estimators = sorted({key[2] for key in groups})
    table = Table(
        TITLE,
        [
            (
                TRAJECTORY_SET_LABELS.get(trajectory_set, trajectory_set),
                ESTIMATOR_LABELS.get(estimator, estimator),
                part,
            )
            for trajectory_set in sets
            for estimator in estimators
            for part in PARTS
        ],
        notes=list(NOTES),
    )
    methods = sort_methods(sorted({key[0] for key in groups} - {GROUND_TRUTH}))
    sources = ([GROUND_TRUTH] if any(key[0] == GROUND_TRUTH for key in groups) else []) + methods
    for source in sources:
        cells = []
        for trajectory_set in sets:
            for estimator in estimators:
                cells += _part_cells(groups.get((source, trajectory_set, estimator), []))
        table.add_row(GROUND_TRUTH_LABEL if source == GROUND_TRUTH else method_label(source), cells)
    return table


def _part_cells(registrations: list[Registration]) -> list[Cell]:
    if not registrations:
        return [Cell(note=NOT_RUN) for _ in PARTS]
    unreadable = sum(registration.registered is None for registration in registrations)
    shares = [
        part_shares(registration.registered)
        for registration in registrations
        if registration.registered is not None
    ]
    cells = []
    for index in range(len(PARTS)):
        values = [share[index] for share in shares if share[index] is not None]
        if not values:
            cells.append(Cell(n=0, failures=unreadable))
            continue
        interval = bootstrap_mean_ci(values)
        low, high = interval if interval is not None else (None, None)
        cells.append(Cell(float(np.mean(values)), low, high, len(values), unreadable, digits=2))
    return cells


def _set_order(trajectory_set: str) -> tuple[int, str]:
    known = list(TRAJECTORY_SET_LABELS)
    return (known.index(trajectory_set) if trajectory_set in known else len(known), trajectory_set)
