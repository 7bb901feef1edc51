"""Failure lists: every record that has no value, with its reason, grouped by status."""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape

import pandas as pd

from bench.runs.layout import VideoKey

LISTED_STATUSES = {
    "failed": "Failed (the input is a recorded failure; counted in the failure rates)",
    "not_computed": "Not computed (the metric could not run here)",
    "undefined": "Undefined (valid inputs, but the metric has no value for them)",
}
IDENTITY_COLUMNS = ("dataset", "trajectory_set", "clip", "method", "estimator", "trial", "metric")
OPEN_LIMIT = 40
"""Lists longer than this start collapsed."""


def failure_records(records: pd.DataFrame, status: str) -> pd.DataFrame:
    """The records of `status`, sorted by what identifies them."""
    selected = records[records["status"] == status]
    return selected.sort_values(list(IDENTITY_COLUMNS), kind="stable").reset_index(drop=True)


def failures_html(records: pd.DataFrame, clip_anchors: Mapping[VideoKey, str]) -> str:
    """One section per status in LISTED_STATUSES: counts by metric and reason, then every record.
    Records of clips shown on the page link to their clip."""
    sections = []
    for status, title in LISTED_STATUSES.items():
        selected = failure_records(records, status)
        if selected.empty:
            sections.append(f"<h3>{escape(title)}</h3><p>none</p>")
            continue
        by_reason = (
            selected.groupby(["metric", "reason"], sort=True, dropna=False).size().reset_index(name="records")
        )
        summary_rows = "".join(
            f"<tr><td>{escape(_text(row.metric))}</td><td>{escape(_text(row.reason))}</td><td>{row.records}</td></tr>"
            for row in by_reason.itertuples()
        )
        header = "".join(f"<th>{escape(column)}</th>" for column in (*IDENTITY_COLUMNS, "reason"))
        rows = "".join(_record_row(record, clip_anchors) for record in selected.itertuples())
        opened = " open" if len(selected) <= OPEN_LIMIT else ""
        sections.append(
            f"<h3>{escape(title)}: {len(selected)} record(s)</h3>"
            f'<table class="reasons"><thead><tr><th>metric</th><th>reason</th><th>records</th></tr></thead>'
            f"<tbody>{summary_rows}</tbody></table>"
            f'<details{opened} data-status="{escape(status)}"><summary>all {len(selected)} record(s)</summary>'
            f'<table class="failures"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table></details>'
        )
    return "".join(sections)


def _record_row(record: tuple, clip_anchors: Mapping[VideoKey, str]) -> str:
    anchor = clip_anchors.get(VideoKey(str(record.dataset), str(record.trajectory_set), str(record.clip)))
    cells = []
    for column in IDENTITY_COLUMNS:
        text = escape(_text(getattr(record, column)))
        if column == "clip" and anchor is not None:
            text = f'<a href="#{anchor}">{text}</a>'
        cells.append(f"<td>{text}</td>")
    cells.append(f'<td class="reason">{escape(_text(record.reason))}</td>')
    return "<tr>" + "".join(cells) + "</tr>"


def _text(value: object) -> str:
    """A cell's text; a missing value (None, NaN) is empty."""
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
