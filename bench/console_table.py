"""Printing a results table to the terminal, and saving it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table


def print_table(frame: pd.DataFrame, min_width: int = 140) -> None:
    """`frame` as a rich table, floats with 4 decimals."""
    table = Table(*(str(column) for column in frame.columns))
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{value:.4f}" if isinstance(value, float) else str(value) for value in row))
    Console(width=max(Console().width, min_width)).print(table)


def print_and_save(rows: list[dict], csv: Path | None = None) -> pd.DataFrame:
    """The rows as a table: printed, and written to `csv` when given."""
    table = pd.DataFrame(rows)
    print_table(table)
    if csv is not None:
        table.to_csv(csv, index=False)
    return table
