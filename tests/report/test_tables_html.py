from __future__ import annotations

import re

import pandas as pd
import pytest

import bench.report.tables_html as tables_html
from bench.report.tables_html import report_table_html, run_tables, table_to_html
from bench.runs.layout import RECORD_COLUMNS
from bench.tables.layout import Cell, Table

from .html_parts import table_rows
from .run_builder import BuiltRun


def _table() -> Table:
    table = Table(
        title="Table 1: <errors> & more",
        columns=[
            ("Basic", "COLMAP", "T-Err"),
            ("Basic", "COLMAP", "R-Err"),
            ("Difficult", "COLMAP", "T-Err"),
        ],
        notes=["sums over frames"],
    )
    table.add_row(
        "MotionFlow", [Cell(1.25, 1.0, 1.5, n=4, failures=1), Cell(0.5, n=5), Cell(note="weights absent")]
    )
    table.add_row("CameraCtrl", [Cell(2.0), Cell(3.0), Cell(4.0)], published=True)
    return table


def test_grouped_headers_span_their_columns() -> None:
    html = table_to_html(_table())
    header_rows = re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>")[0])
    assert header_rows[0] == '<th rowspan="3">method</th><th colspan="2">Basic</th><th>Difficult</th>'
    assert header_rows[1] == '<th colspan="2">COLMAP</th><th>COLMAP</th>'
    assert header_rows[2] == "<th>T-Err</th><th>R-Err</th><th>T-Err</th>"


def test_cells_rows_and_notes() -> None:
    html = table_to_html(_table())
    assert "<caption>Table 1: &lt;errors&gt; &amp; more</caption>" in html
    assert table_rows(html) == [
        ["1.250 [1.000, 1.500] (N=4, fail 1/5)", "0.500 (N=5)", "n/a (weights absent)"],
        ["2.000", "3.000", "4.000"],
    ]
    assert '<td class="missing">n/a (weights absent)</td>' in html
    assert '<tr class="published"><th scope="row">CameraCtrl (published)</th>' in html
    assert '<ul class="notes"><li>sums over frames</li></ul>' in html


def test_a_table_the_builder_cannot_make_says_why(
    built_run: BuiltRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_build_table = tables_html.build_table

    def build_table_without_table_3(number: int, records: pd.DataFrame, with_paper: bool = False) -> Table:
        if number == 3:
            raise ValueError("no DL3DV-family records")
        return real_build_table(number, records, with_paper)

    monkeypatch.setattr(tables_html, "build_table", build_table_without_table_3)
    entries = run_tables(built_run.records)
    assert [entry.number for entry in entries] == [1, 2, 3, 4]
    assert entries[2].table is None
    assert report_table_html(entries[2]) == (
        '<p class="unavailable">table 3: not available (ValueError: no DL3DV-family records)</p>'
    )
    assert entries[0].table is not None and "<caption>" in report_table_html(entries[0])


def test_no_records_no_tables() -> None:
    entries = run_tables(pd.DataFrame(columns=list(RECORD_COLUMNS)), "records.parquet does not exist")
    assert [report_table_html(entry) for entry in entries] == [
        f'<p class="unavailable">table {number}: not available (records.parquet does not exist)</p>'
        for number in (1, 2, 3, 4)
    ]
