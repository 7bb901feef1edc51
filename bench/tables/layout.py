"""A table as data (grouped columns, rows of cells) and its Markdown, LaTeX and CSV renderings."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field, replace

FOOTNOTE_AFTER = 24
NOT_RUN = "not run"


@dataclass(frozen=True)
class Cell:
    """One table entry: a mean with its 95% CI over N videos and the failures among them,
    a published number (no CI, no N), or a reason it was not computed."""

    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    failures: int = 0
    note: str = ""
    digits: int = 3

    @property
    def missing(self) -> bool:
        return self.value is None or (isinstance(self.value, float) and math.isnan(self.value))

    def text(self, with_ci: bool = False) -> str:
        if self.missing:
            reasons = [self.note] if self.note else []
            if self.failures:
                reasons.append(f"fail {self.failures}/{self.failures + (self.n or 0)}")
            return f"n/a ({'; '.join(reasons)})" if reasons else "n/a"
        text = f"{self.value:.{self.digits}f}"
        if with_ci and self.ci_low is not None and self.ci_high is not None:
            text += f" [{self.ci_low:.{self.digits}f}, {self.ci_high:.{self.digits}f}]"
        if self.n is not None:
            total = self.n + self.failures
            text += f" (N={self.n}" + (f", fail {self.failures}/{total}" if self.failures else "") + ")"
        return text


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]
    published: bool = False


@dataclass
class Table:
    """`columns` are tuples of header levels, e.g. ("Basic", "Dust3R", "T-Err")."""

    title: str
    columns: list[tuple[str, ...]]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add_row(self, label: str, cells: list[Cell], published: bool = False) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"row {label!r} has {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(Row(label, tuple(cells), published))

    def drop_columns_not_run(self) -> None:
        """Removes columns in which no row has anything but "not run" (a set no source provides)."""
        keep = [
            index
            for index in range(len(self.columns))
            if any(row.cells[index].note != NOT_RUN for row in self.rows)
        ]
        self.columns = [self.columns[index] for index in keep]
        self.rows = [replace(row, cells=tuple(row.cells[index] for index in keep)) for row in self.rows]

    def footnote_long_notes(self, max_length: int = FOOTNOTE_AFTER) -> None:
        """Replaces cell notes longer than `max_length` (e.g. why a metric was not computed) by numbered
        footnotes listed once in `notes`, so a reason shared by many cells is printed once."""
        numbers: dict[str, int] = {}
        for index, row in enumerate(self.rows):
            cells = []
            for cell in row.cells:
                if len(cell.note) > max_length:
                    number = numbers.setdefault(cell.note, len(numbers) + 1)
                    cell = replace(cell, note=f"see [{number}]")
                cells.append(cell)
            self.rows[index] = replace(row, cells=tuple(cells))
        self.notes.extend(f"[{number}] {note}" for note, number in numbers.items())


def row_label(row: Row) -> str:
    return f"{row.label} (published)" if row.published else row.label


def to_markdown(table: Table, with_ci: bool = False) -> str:
    headers = ["method"] + [" / ".join(column) for column in table.columns]
    lines = [f"**{table.title}**", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in table.rows:
        lines.append("| " + " | ".join([row_label(row)] + [cell.text(with_ci) for cell in row.cells]) + " |")
    lines += [""] + [f"- {note}" for note in table.notes]
    return "\n".join(lines).rstrip() + "\n"


def _latex_escape(text: str) -> str:
    for plain, escaped in (
        ("\\", r"\textbackslash{}"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("_", r"\_"),
        ("#", r"\#"),
    ):
        text = text.replace(plain, escaped)
    return text


def to_latex(table: Table, with_ci: bool = False) -> str:
    depth = max((len(column) for column in table.columns), default=0)
    header_lines = []
    for level in range(depth):
        spans: list[tuple[str, int, tuple[str, ...]]] = []
        for column in table.columns:
            name = column[level] if level < len(column) else ""
            prefix = column[: level + 1]
            if spans and spans[-1][0] == name and level < depth - 1 and spans[-1][2] == prefix:
                spans[-1] = (name, spans[-1][1] + 1, prefix)
            else:
                spans.append((name, 1, prefix))
        cells = [""] + [
            rf"\multicolumn{{{width}}}{{c}}{{{_latex_escape(name)}}}" if width > 1 else _latex_escape(name)
            for name, width, _ in spans
        ]
        header_lines.append(" & ".join(cells) + r" \\")
    body = [
        " & ".join(
            [_latex_escape(row_label(row))] + [_latex_escape(cell.text(with_ci)) for cell in row.cells]
        )
        + r" \\"
        for row in table.rows
    ]
    return (
        "\n".join(
            [
                r"\begin{table}[t]",
                r"\centering",
                rf"\caption{{{_latex_escape(table.title)}}}",
                r"\begin{tabular}{l" + "c" * len(table.columns) + "}",
                r"\toprule",
                *header_lines,
                r"\midrule",
                *body,
                r"\bottomrule",
                r"\end{tabular}",
                r"\end{table}",
            ]
        )
        + "\n"
    )


def to_csv(table: Table) -> str:
    """Long format, one line per cell, with every number separate (for plotting and diffing)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["method", "published", "column", "value", "ci_low", "ci_high", "n", "failures", "note"])
    for row in table.rows:
        for column, cell in zip(table.columns, row.cells, strict=True):
            writer.writerow(
                [
                    row.label,
                    row.published,
                    " / ".join(column),
                    cell.value,
                    cell.ci_low,
                    cell.ci_high,
                    cell.n,
                    cell.failures,
                    cell.note,
                ]
            )
    return buffer.getvalue()


RENDERERS = {"md": to_markdown, "latex": to_latex, "csv": lambda table, with_ci=False: to_csv(table)}
