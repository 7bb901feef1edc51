"""The paper's Tables 1-4 built from a run's records, and their renderings."""

from bench.tables.build import build_table
from bench.tables.layout import Cell, Row, Table

__all__ = ["Cell", "Row", "Table", "build_table"]
