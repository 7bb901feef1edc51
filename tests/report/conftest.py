from __future__ import annotations

import pytest

from bench.report import write_report

from .run_builder import BuiltRun, build_run


@pytest.fixture(scope="session")
def built_run(tmp_path_factory: pytest.TempPathFactory) -> BuiltRun:
    """The small run every report test reads; tests that change a run work on a copy."""
    return build_run(tmp_path_factory.mktemp("report") / "run")


@pytest.fixture(scope="session")
def report_html(built_run: BuiltRun, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = write_report(
        built_run.root, out=tmp_path_factory.mktemp("report-out") / "report.html", max_clips=None
    )
    return path.read_text(encoding="utf-8")
