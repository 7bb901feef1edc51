"""Printing a results table (a pandas DataFrame) to the terminal."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table


def print_table(frame: pd.DataFrame, min_width: int = 140) -> None:
    """`frame` as a rich table, floats with 4 decimals."""
    table = Table(*(str(column) for column in frame.columns))
    for row in frame.itertuples(index=False):
        table.add_row(*(f"{value:.4f}" if isinstance(value, float) else str(value) for value in row))
    Console(width=max(Console().width, min_width)).print(table)
