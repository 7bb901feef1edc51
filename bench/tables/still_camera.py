"""Each method's camera errors against a still camera's, paired on the videos both are scored on.

Table 1 averages a method over the videos its estimate registers and the still camera (identity poses,
bench.metrics.camera.still_camera_metrics) over every video whose reference registers, so its two rows
are means over different videos. This table pairs them: per video, the method's error minus the still
camera's, then the mean of those differences with a bootstrap 95% interval over videos, and the share of
videos on which the method's error is the lower. A method that follows the camera scores below 0 and
above 0.5; one no better than standing still scores about 0 and 0.5. The pairing keeps only the videos the
method's estimate registers, which are often the ones with little true motion, where standing still is
hard to beat: the still camera's mean error on them, next to its Table 1 mean over every video, shows how
much easier they are. Columns: each dataset (both trajectory sets pooled) and all datasets pooled, per
estimator and metric."""

from __future__ import annotations

import pandas as pd

from bench.metrics.aggregate import bootstrap_mean_ci
from bench.runs.layout import STILL_CAMERA
from bench.tables.build import CAMERA_METRICS
from bench.tables.layout import NOT_RUN, Cell, Table
from bench.tables.names import ESTIMATOR_LABELS, METRIC_LABELS, method_label, sort_methods

STILL_CAMERA_TABLE = "still_camera"
"""The table's file name in RUN/tables, without its suffix."""
ALL_DATASETS = "all datasets"
VIDEO_KEY = ["dataset", "trajectory_set", "clip"]
TITLE = "Camera errors against a still camera: method minus still camera, on the videos both are scored on"
NOTES = (
    "difference: mean over videos of the method's error minus the still camera's, with its 95% bootstrap "
    "interval (below 0: closer to the reference trajectory than no camera motion); lower on: the share of "
    "those videos on which the method's error is the lower.",
    "still on these: the still camera's mean error on those videos (its Table 1 row: on every video); "
    "lower than there: the method registers the videos with less motion, on which standing still is "
    "hard to beat.",
    "N: videos both are scored on; fail: videos the still camera is scored on and the method's estimate "
    "failed. A video estimated in several trials counts the mean of its successful trials.",
)
PARTS = ("difference", "lower on", "still on these")


def video_values(records: pd.DataFrame, method: str, estimator: str, metric: str) -> pd.DataFrame:
    """Per video (dataset, set, clip): `value`, the mean of the method's ok trials (NaN if none), and
    `failed`, whether every trial is a recorded failure."""
    rows = records[
        (records["method"] == method) & (records["estimator"] == estimator) & (records["metric"] == metric)
    ]
    rows = rows.assign(
        ok_value=rows["value"].where(rows["status"] == "ok"), failed=rows["status"] == "failed"
    )
    return rows.groupby(VIDEO_KEY).agg(value=("ok_value", "mean"), failed=("failed", "all"))


def paired_cells(method_videos: pd.DataFrame, still_videos: pd.DataFrame) -> tuple[Cell, Cell, Cell]:
    """(difference, lower-on share, the still camera's mean) over the videos both are scored on."""
    still = still_videos["value"].dropna()
    method = method_videos.reindex(still.index)
    scored = method["value"].notna()
    failures = int(method["failed"].fillna(False).astype(bool).sum())
    if not scored.any() and not failures:
        return Cell(note=NOT_RUN), Cell(note=NOT_RUN, digits=2), Cell(note=NOT_RUN)
    differences = (method["value"][scored] - still[scored]).to_numpy()
    n = len(differences)
    if not n:
        return (
            Cell(n=0, failures=failures),
            Cell(n=0, failures=failures, digits=2),
            Cell(n=0, failures=failures),
        )
    interval = bootstrap_mean_ci(differences)
    low, high = interval if interval is not None else (None, None)
    return (
        Cell(float(differences.mean()), low, high, n, failures),
        Cell(float((differences < 0).mean()), n=n, failures=failures, digits=2),
        Cell(float(still[scored].mean()), n=n, failures=failures),
    )


def still_camera_table(records: pd.DataFrame) -> Table | None:
    """The table, or None when the records have no still-camera rows (a run without camera metrics)."""
    still_rows = records[records["method"] == STILL_CAMERA]
    if still_rows.empty:
        return None
    estimators = sorted(set(still_rows["estimator"]))
    datasets = sorted(set(still_rows["dataset"]))
    groups = [(dataset, [dataset]) for dataset in datasets] + [(ALL_DATASETS, datasets)]
    metrics = [metric for metric in CAMERA_METRICS if metric in set(still_rows["metric"])]
    columns, keys = [], []
    for label, group in groups:
        for estimator in estimators:
            for metric in metrics:
                for part in PARTS:
                    columns.append(
                        (label, ESTIMATOR_LABELS.get(estimator, estimator), METRIC_LABELS[metric], part)
                    )
                keys.append((group, estimator, metric))
    table = Table(TITLE, columns, notes=list(NOTES))
    camera_rows = records[records["estimator"] != ""]
    methods = sort_methods([m for m in camera_rows["method"].unique() if m != STILL_CAMERA])
    for method in methods:
        cells: list[Cell] = []
        for group, estimator, metric in keys:
            in_group = records[records["dataset"].isin(group)]
            cells += paired_cells(
                video_values(in_group, method, estimator, metric),
                video_values(in_group, STILL_CAMERA, estimator, metric),
            )
        table.add_row(method_label(method), cells)
    table.drop_columns_not_run()
    return table
