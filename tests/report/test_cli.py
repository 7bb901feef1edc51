from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bench.cli import app

from .html_parts import clip_sections
from .run_builder import BuiltRun

runner = CliRunner()


def test_report_command_writes_the_page(built_run: BuiltRun, tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    result = runner.invoke(
        app, ["report", "--run", str(built_run.root), "--max-clips", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert len(clip_sections(out.read_text(encoding="utf-8"))) == 1


def test_report_command_refuses_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--run", str(tmp_path)])
    assert result.exit_code == 1
    assert "error:" in result.stderr and "is not a run directory" in result.stderr
    assert not (tmp_path / "report.html").exists()


def test_report_command_rejects_a_negative_cap(built_run: BuiltRun) -> None:
    result = runner.invoke(app, ["report", "--run", str(built_run.root), "--max-clips", "-1"])
    assert result.exit_code == 2
