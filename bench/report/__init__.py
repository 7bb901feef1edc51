"""The HTML report of a run: `write_report(run_dir)` writes RUN/report.html (see bench.report.page)."""

from bench.report.page import DEFAULT_MAX_CLIPS, render_report, write_report
from bench.report.run_contents import NotARunError, ReportError, load_run
from bench.report.tables_html import table_to_html

__all__ = [
    "DEFAULT_MAX_CLIPS",
    "NotARunError",
    "ReportError",
    "load_run",
    "render_report",
    "table_to_html",
    "write_report",
]
