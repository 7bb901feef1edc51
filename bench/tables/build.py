"""Tables 1-4 of the paper laid out from a run's long-format records (bench.runs.layout.RECORD_COLUMNS).

Each measured cell is the mean over videos with its bootstrap 95% CI, N and failures
(bench.metrics.aggregate). A video estimated in several trials contributes the mean of its successful
trials, and is a failure only when every trial failed. Set-level metrics (FID, KID, FVD) are one value
computed over N samples. With `with_paper`, the published rows (bench/tables/paper/*.csv) are added and
marked as published; they were not measured here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bench.metrics.aggregate import aggregate_results
from bench.metrics.result import MetricResult
from bench.runs.layout import STILL_CAMERA
from bench.tables.layout import NOT_RUN, Cell, Table
from bench.tables.names import (
    ABLATION_LABELS,
    ESTIMATOR_LABELS,
    METHOD_LABELS,
    METRIC_LABELS,
    TRAJECTORY_SET_LABELS,
    method_label,
    sort_methods,
)

PAPER_DIR = Path(__file__).parent / "paper"
CAMERA_METRICS = ("TransErr", "RotErr")
VISUAL_METRICS = ("lpips", "psnr", "ssim", "fid", "fvd")
SET_LEVEL_METRICS = ("fid", "kid", "fvd")
POOLED_SET = "all"
"""The trajectory_set of set-level records computed over both trajectory sets of a dataset."""
PAPER_ESTIMATORS = ("dust3r", "vggsfm", "particlesfm")
ABLATION_METHODS = ("motionflow-no-refnet", "motionflow-no-semantic", "motionflow-no-sd-init", "motionflow")
DIGITS = {"psnr": 2, "fid": 2, "kid": 4, "fvd": 1}

Column = tuple[str, ...]
CellKey = dict[str, str]


def video_results(rows: pd.DataFrame, metric: str) -> list[MetricResult]:
    """One MetricResult per video: the mean of its ok trials, or its failure / not-computed reason."""
    results = []
    for _, video in rows.groupby(["dataset", "trajectory_set", "clip"], sort=True):
        ok = video[video["status"] == "ok"]
        if len(ok):
            results.append(MetricResult(metric, float(ok["value"].mean())))
        else:
            first = video.iloc[0]
            results.append(
                MetricResult(metric, None, first["status"], str(first["reason"]) or first["status"])
            )
    return results


def measured_cell(records: pd.DataFrame, metric: str, **where: str) -> Cell:
    """The cell of `metric` over the records matching `where` (column == value)."""
    rows = records[records["metric"] == metric]
    for column, value in where.items():
        rows = rows[rows[column] == value]
    digits = DIGITS.get(metric, 3)
    if rows.empty:
        return Cell(note=NOT_RUN, digits=digits)
    if metric in SET_LEVEL_METRICS:
        if "trajectory_set" not in where:
            rows = rows[rows["trajectory_set"] == POOLED_SET]
        if len(rows) > 1:
            raise ValueError(f"{len(rows)} set-level {metric} records match {where}; expected one")
        if rows.empty:
            return Cell(note=NOT_RUN, digits=digits)
        row = rows.iloc[0]
        if row["status"] != "ok":
            return Cell(note=str(row["reason"]), digits=digits)
        return Cell(float(row["value"]), n=int(row["n"]), digits=digits)
    aggregate = aggregate_results(video_results(rows, metric), metric)
    return Cell(
        aggregate.mean,
        aggregate.ci_low,
        aggregate.ci_high,
        aggregate.n,
        aggregate.n_failed,
        aggregate.not_computed_reason,
        digits,
    )


def _paper_frame(name: str) -> pd.DataFrame:
    return pd.read_csv(PAPER_DIR / name)


def _paper_cell(frame: pd.DataFrame, metric: str, **where: str) -> Cell:
    rows = frame
    for column, value in where.items():
        rows = rows[rows[column] == value]
    column = metric.lower()
    if rows.empty or column not in rows:
        return Cell(note="not published")
    return Cell(float(rows.iloc[0][column]), digits=DIGITS.get(metric, 3))


def _methods(records: pd.DataFrame, exclude: tuple[str, ...] = ()) -> list[str]:
    return sort_methods([method for method in records["method"].unique() if method not in exclude])


def _visual_methods(records: pd.DataFrame) -> list[str]:
    """The methods with visual records (not the camera-only still-camera row)."""
    return _methods(records[records["metric"].isin(VISUAL_METRICS)])


def _add_rows(
    table: Table,
    records: pd.DataFrame,
    methods: list[str],
    keys: list[CellKey],
    label: Callable[[str], str] = method_label,
) -> None:
    for method in methods:
        table.add_row(label(method), [measured_cell(records, method=method, **key) for key in keys])


def _datasets(records: pd.DataFrame, family: str | None = None) -> list[str]:
    rows = records if family is None else records[records["family"] == family]
    return sorted(rows["dataset"].unique())


def _prefix(datasets: list[str], dataset: str) -> Column:
    """Datasets become the top header level only when there is more than one."""
    return (dataset,) if len(datasets) > 1 else ()


def table1(records: pd.DataFrame, with_paper: bool = False) -> Table:
    """Camera alignment (TransErr, RotErr) per trajectory set x estimator, RealEstate10K-family datasets."""
    records = records[records["family"] == "re10k"]
    datasets = _datasets(records)
    estimators = sorted(set(records.loc[records["estimator"] != "", "estimator"]))
    if with_paper:
        estimators = [e for e in PAPER_ESTIMATORS if e not in estimators] + estimators
    columns: list[Column] = []
    keys: list[CellKey] = []
    for dataset in datasets or [""]:
        for trajectory_set in ("basic", "difficult"):
            for estimator in estimators:
                for metric in CAMERA_METRICS:
                    columns.append(
                        _prefix(datasets, dataset)
                        + (
                            TRAJECTORY_SET_LABELS[trajectory_set],
                            ESTIMATOR_LABELS.get(estimator, estimator),
                            METRIC_LABELS[metric],
                        )
                    )
                    keys.append(
                        {
                            "dataset": dataset,
                            "trajectory_set": trajectory_set,
                            "estimator": estimator,
                            "metric": metric,
                        }
                    )
    table = Table("Table 1: camera trajectory alignment (TransErr, RotErr; lower is better)", columns)
    for method in _methods(records[records["estimator"] != ""]):
        table.add_row(
            method_label(method), [measured_cell(records, **{**key, "method": method}) for key in keys]
        )
    if with_paper:
        paper = _paper_frame("table1_pose.csv")
        for method in paper["method"].unique():
            cells = [
                _paper_cell(
                    paper,
                    key["metric"].replace("TransErr", "trans_err").replace("RotErr", "rot_err"),
                    method=method,
                    trajectory=key["trajectory_set"],
                    estimator=key["estimator"],
                )
                for key in keys
            ]
            table.add_row(method, cells, published=True)
    table.notes.append(
        "RotErr in radians and TransErr as defined by the run's camera preset; sums over frames."
    )
    if STILL_CAMERA in set(records["method"]):
        table.notes.append(
            f"{method_label(STILL_CAMERA)}: identity poses scored against each video's reference, the errors "
            "of a camera that does not move; static's videos show no motion and cannot be registered. It scores "
            "every video whose reference registers, a method only those its estimate registers too."
        )
    return table


def _visual_table(
    title: str,
    records: pd.DataFrame,
    groups: list[tuple[Column, CellKey]],
    methods: list[str],
    label: Callable[[str], str] = method_label,
) -> tuple[Table, list[CellKey]]:
    columns: list[Column] = []
    keys: list[CellKey] = []
    for header, key in groups:
        for metric in VISUAL_METRICS:
            columns.append(header + (METRIC_LABELS[metric],))
            keys.append({**key, "metric": metric})
    table = Table(title, columns)
    for method in methods:
        table.add_row(label(method), [measured_cell(records, method=method, **key) for key in keys])
    return table, keys


def table2(records: pd.DataFrame, with_paper: bool = False) -> Table:
    """Visual quality per trajectory set, RealEstate10K-family datasets."""
    records = records[records["family"] == "re10k"]
    datasets = _datasets(records)
    groups = [
        (
            _prefix(datasets, dataset) + (TRAJECTORY_SET_LABELS[trajectory_set],),
            {"dataset": dataset, "trajectory_set": trajectory_set},
        )
        for dataset in datasets or [""]
        for trajectory_set in ("basic", "difficult")
    ]
    table, keys = _visual_table("Table 2: visual quality", records, groups, _visual_methods(records))
    if with_paper:
        paper = _paper_frame("table2_visual.csv")
        for method in paper["method"].unique():
            table.add_row(
                method,
                [
                    _paper_cell(paper, key["metric"], method=method, trajectory=key["trajectory_set"])
                    for key in keys
                ],
                published=True,
            )
    return table


def table3(records: pd.DataFrame, with_paper: bool = False) -> Table:
    """Generalisation: visual quality per dataset, RealEstate10K family vs. DL3DV family (outdoor)."""
    datasets = sorted(
        records["dataset"].unique(), key=lambda d: (records.loc[records["dataset"] == d, "family"].iloc[0], d)
    )
    groups = []
    for dataset in datasets:
        family = records.loc[records["dataset"] == dataset, "family"].iloc[0]
        groups.append(((f"{dataset} ({family})",), {"dataset": dataset}))
    table, keys = _visual_table(
        "Table 3: generalisation to outdoor scenes", records, groups, _visual_methods(records)
    )
    if with_paper:
        paper = _paper_frame("table3_generalization.csv")
        families = [records.loc[records["dataset"] == key["dataset"], "family"].iloc[0] for key in keys]
        for method in paper["method"].unique():
            table.add_row(
                method,
                [
                    _paper_cell(paper, key["metric"], method=method, dataset=family)
                    for key, family in zip(keys, families, strict=True)
                ],
                published=True,
            )
    table.notes.append("Visual metrics pool both trajectory sets of a dataset.")
    return table


def table4(records: pd.DataFrame, with_paper: bool = False) -> Table:
    """Ablations of MotionFlow: visual quality and camera alignment, RealEstate10K-family datasets."""
    records = records[records["family"] == "re10k"]
    methods = [method for method in ABLATION_METHODS if method in set(records["method"])]
    datasets = _datasets(records)
    estimators = sorted(set(records.loc[records["estimator"] != "", "estimator"]))
    columns: list[Column] = []
    keys: list[CellKey] = []
    for dataset in datasets or [""]:
        prefix = _prefix(datasets, dataset)
        for metric in VISUAL_METRICS:
            columns.append(prefix + ("Visual Quality", METRIC_LABELS[metric]))
            keys.append({"dataset": dataset, "metric": metric})
        for estimator in estimators:
            for metric in CAMERA_METRICS:
                columns.append(
                    prefix + (f"Camera ({ESTIMATOR_LABELS.get(estimator, estimator)})", METRIC_LABELS[metric])
                )
                keys.append({"dataset": dataset, "metric": metric, "estimator": estimator})
    table = Table("Table 4: ablation study", columns)
    _add_rows(table, records, methods, keys, label=lambda m: ABLATION_LABELS.get(m, METHOD_LABELS.get(m, m)))
    if with_paper:
        paper = _paper_frame("table4_ablation.csv")
        paper_metric = {"TransErr": "trans_err", "RotErr": "rot_err"}
        for variant in paper["variant"]:
            table.add_row(
                variant,
                [
                    _paper_cell(paper, paper_metric.get(key["metric"], key["metric"]), variant=variant)
                    for key in keys
                ],
                published=True,
            )
        table.notes.append("The paper does not name the estimator of Table 4's camera errors.")
    return table


TABLES: dict[int, Callable[[pd.DataFrame, bool], Table]] = {1: table1, 2: table2, 3: table3, 4: table4}


def build_table(number: int, records: pd.DataFrame, with_paper: bool = False) -> Table:
    """Table `number` (1-4) of the paper from a run's records."""
    if number not in TABLES:
        raise ValueError(f"there are tables 1-4, not {number}")
    table = TABLES[number](records, with_paper)
    table.drop_columns_not_run()
    table.footnote_long_notes()
    return table
