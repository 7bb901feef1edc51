"""Tables 1-4 in the report: an HTML rendering of `bench.tables.layout.Table`, and the tables of a run."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import pandas as pd

from bench.tables import build_table
from bench.tables.layout import Table, row_label

TABLE_NUMBERS = (1, 2, 3, 4)


@dataclass(frozen=True)
class ReportTable:
    """Table `number` of a run, or why it is not available."""

    number: int
    table: Table | None
    reason: str = ""


def table_to_html(table: Table, with_ci: bool = True) -> str:
    """A `<table>` with grouped column headers (one header row per level, equal neighbours spanned)."""
    depth = max((len(column) for column in table.columns), default=1)
    header_rows = []
    for level in range(depth):
        cells = [f'<th rowspan="{depth}">method</th>'] if level == 0 else []
        for name, width in _header_spans(table.columns, level, depth):
            span = f' colspan="{width}"' if width > 1 else ""
            cells.append(f"<th{span}>{escape(name)}</th>")
        header_rows.append("<tr>" + "".join(cells) + "</tr>")
    body_rows = []
    for row in table.rows:
        css = ' class="published"' if row.published else ""
        cells = "".join(
            f'<td class="missing">{escape(cell.text(with_ci))}</td>'
            if cell.missing
            else f"<td>{escape(cell.text(with_ci))}</td>"
            for cell in row.cells
        )
        body_rows.append(f'<tr{css}><th scope="row">{escape(row_label(row))}</th>{cells}</tr>')
    notes = "".join(f"<li>{escape(note)}</li>" for note in table.notes)
    return (
        f'<div class="table-scroll"><table class="results"><caption>{escape(table.title)}</caption>'
        f"<thead>{''.join(header_rows)}</thead><tbody>{''.join(body_rows)}</tbody></table></div>"
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
    )


def _header_spans(columns: list[tuple[str, ...]], level: int, depth: int) -> list[tuple[str, int]]:
    """Names of header row `level` with how many columns each spans: neighbours that share every header
    level down to this one are merged, except on the last level, where each column stands alone."""
    spans: list[tuple[str, int, tuple[str, ...]]] = []
    for column in columns:
        name = column[level] if level < len(column) else ""
        prefix = column[: level + 1]
        if spans and level < depth - 1 and spans[-1][2] == prefix:
            spans[-1] = (name, spans[-1][1] + 1, prefix)
        else:
            spans.append((name, 1, prefix))
    return [(name, width) for name, width, _ in spans]


def run_tables(records: pd.DataFrame, records_note: str = "") -> list[ReportTable]:
    """Tables 1-4 of the records, each with the reason it is not available where it is not."""
    if records.empty:
        return [ReportTable(number, None, records_note or "no records") for number in TABLE_NUMBERS]
    tables = []
    for number in TABLE_NUMBERS:
        try:
            table = build_table(number, records)
        # The builder's errors (rows a table needs are missing, ...) must not lose the rest of the report:
        # the reason is shown in place of the table.
        except Exception as error:
            tables.append(ReportTable(number, None, f"{type(error).__name__}: {error}"))
            continue
        if not table.rows:
            tables.append(ReportTable(number, None, "the records have no rows for it"))
        else:
            tables.append(ReportTable(number, table))
    return tables


def report_table_html(entry: ReportTable) -> str:
    if entry.table is None:
        return f'<p class="unavailable">table {entry.number}: not available ({escape(entry.reason)})</p>'
    return table_to_html(entry.table)
