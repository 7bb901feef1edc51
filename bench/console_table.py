"""Printing a results table to the terminal, and saving it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table


def _cell(value: object) -> str:
    if value is pd.NA:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def print_table(frame: pd.DataFrame, min_width: int = 140) -> None:
    """`frame` as a rich table, floats with 4 decimals, missing values as "-"."""
    table = Table(*(str(column) for column in frame.columns))
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(value) for value in row))
    Console(width=max(Console().width, min_width)).print(table)


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    """The rows as a frame. A column of integers with gaps (None) stays integer (pandas would make it
    float and print a timestep 200 as 200.0)."""
    table = pd.DataFrame(rows)
    for column in table.columns:
        values = [row.get(column) for row in rows]
        if any(_is_integer(value) for value in values) and all(
            value is None or _is_integer(value) for value in values
        ):
            table[column] = table[column].astype("Int64")
    return table


def print_and_save(rows: list[dict], csv: Path | None = None) -> pd.DataFrame:
    """The rows as a table: printed, and written to `csv` when given."""
    table = rows_frame(rows)
    print_table(table)
    if csv is not None:
        table.to_csv(csv, index=False)
    return table
