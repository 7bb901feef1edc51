from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from bench.report import load_run
from bench.report.registration import (
    GROUND_TRUTH_LABEL,
    PARTS,
    part_shares,
    registration_table,
    run_registrations,
)
from bench.runs.layout import RunLayout

from .html_parts import table_rows
from .run_builder import ESTIMATOR, GROUND_TRUTH_TRIALS, KEYS, NUM_FRAMES, UNREGISTERED_FRAMES, BuiltRun


def _cells(table, label: str) -> dict[tuple[str, ...], object]:
    row = next(row for row in table.rows if row.label == label)
    return dict(zip(table.columns, row.cells, strict=True))


def test_quarters_split_the_frames_in_order() -> None:
    mask = np.array([True, False, True, True, False])
    assert part_shares(mask) == (0.6, 0.5, 1.0, 1.0, 0.0)
    assert part_shares(np.array([True, False, True]))[-1] is None


def test_table_of_the_built_run(built_run: BuiltRun) -> None:
    table = registration_table(run_registrations(load_run(built_run.root)))
    assert [row.label for row in table.rows] == [
        GROUND_TRUTH_LABEL,
        "MotionFlow",
        "static (reference repeated)",
    ]
    assert table.columns[: len(PARTS)] == [("Basic", "COLMAP", part) for part in PARTS]
    assert [column[0] for column in table.columns[len(PARTS) :]] == ["Difficult"] * len(PARTS)

    ground_truth = _cells(table, GROUND_TRUTH_LABEL)
    assert {cell.value for cell in ground_truth.values()} == {1.0}
    assert {cell.n for cell in ground_truth.values()} == {GROUND_TRUTH_TRIALS}

    motionflow = _cells(table, "MotionFlow")
    basic = [motionflow[("Basic", "COLMAP", part)].value for part in PARTS]
    registered = np.ones(NUM_FRAMES, dtype=bool)
    registered[list(UNREGISTERED_FRAMES)] = False  # frames 3 and 4 of 8: the second and third quarters
    assert basic == [0.75, 1.0, 0.5, 0.5, 1.0] == list(part_shares(registered))
    assert [motionflow[("Difficult", "COLMAP", part)].value for part in PARTS] == [1.0] * len(PARTS)
    assert {cell.value for cell in _cells(table, "static (reference repeated)").values()} == {0.0}


def test_unreadable_pose_files_are_counted_not_dropped(built_run: BuiltRun, tmp_path: Path) -> None:
    run = Path(shutil.copytree(built_run.root, tmp_path / "run"))
    RunLayout(run).pose_file(ESTIMATOR, "motionflow", KEYS[0], 0).write_text("{truncated")
    table = registration_table(run_registrations(load_run(run)))
    cell = _cells(table, "MotionFlow")[("Basic", "COLMAP", "all frames")]
    assert cell.missing and cell.text() == "n/a (fail 1/1)"


def test_a_method_without_estimates_for_a_set_is_not_run(built_run: BuiltRun, tmp_path: Path) -> None:
    run = Path(shutil.copytree(built_run.root, tmp_path / "run"))
    RunLayout(run).pose_file(ESTIMATOR, "static", KEYS[1], 0).unlink()
    table = registration_table(run_registrations(load_run(run)))
    cell = _cells(table, "static (reference repeated)")[("Difficult", "COLMAP", "last quarter")]
    assert cell.text() == "n/a (not run)"


def test_report_shows_the_table(report_html: str) -> None:
    tables = report_html[report_html.index('<h2 id="tables">') : report_html.index('<h2 id="clips">')]
    assert "<caption>Registered frames:" in tables
    assert all(f"<th>{part}</th>" in tables for part in PARTS)
    assert ["1.00 [1.00, 1.00] (N=2)"] * 2 * len(PARTS) in table_rows(tables)
