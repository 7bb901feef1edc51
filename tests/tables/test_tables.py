from __future__ import annotations

import pandas as pd
import pytest

from bench.runs.layout import STILL_CAMERA
from bench.tables import build_table
from bench.tables.build import measured_cell
from bench.tables.layout import Cell, Table, to_csv, to_latex, to_markdown
from bench.tables.names import method_label
from tests.record_rows import record


@pytest.fixture
def records() -> pd.DataFrame:
    rows = []
    for clip, (rot, psnr) in {"c0": (0.2, 10.0), "c1": (0.4, 14.0), "c2": (None, 12.0)}.items():
        rows.append(record(clip=clip, method="motionflow", metric="psnr", value=psnr))
        if rot is None:
            rows.append(
                record(
                    clip=clip,
                    method="motionflow",
                    estimator="colmap",
                    metric="RotErr",
                    status="failed",
                    reason="no frame registered",
                )
            )
        else:
            rows.append(
                record(clip=clip, method="motionflow", estimator="colmap", metric="RotErr", value=rot)
            )
        rows.append(
            record(
                clip=clip,
                method="motionflow",
                metric="lpips",
                status="not_computed",
                reason="not computed: alexnet missing",
            )
        )
    rows.append(record(clip="*", method="motionflow", metric="fid", value=50.0, n=48, trajectory_set="basic"))
    rows.append(record(clip="*", method="motionflow", metric="fid", value=40.0, n=96, trajectory_set="all"))
    rows.append(
        record(dataset="synthetic-outdoor", family="dl3dv", clip="o0", method="motionflow", value=9.0)
    )
    return pd.DataFrame(rows)


def test_cell_is_the_mean_over_successful_videos_with_failures_counted(records):
    cell = measured_cell(
        records,
        "RotErr",
        method="motionflow",
        dataset="synthetic-indoor",
        trajectory_set="basic",
        estimator="colmap",
    )
    assert cell.value == pytest.approx(0.3) and cell.n == 2 and cell.failures == 1
    assert cell.ci_low <= 0.3 <= cell.ci_high
    assert "fail 1/3" in cell.text()


def test_trials_of_a_video_are_averaged_before_videos(records):
    extra = pd.DataFrame(
        [record(clip="c0", method="motionflow", estimator="colmap", metric="RotErr", value=0.4, trial=1)]
    )
    cell = measured_cell(
        pd.concat([records, extra]),
        "RotErr",
        method="motionflow",
        dataset="synthetic-indoor",
        estimator="colmap",
    )
    assert cell.value == pytest.approx((0.3 + 0.4) / 2) and cell.n == 2


def test_not_computed_and_not_run_are_said_not_printed_as_numbers(records):
    assert "alexnet missing" in measured_cell(records, "lpips", method="motionflow").text()
    assert measured_cell(records, "fvd", method="motionflow").text() == "n/a (not run)"


def test_set_level_metrics_pick_the_pooled_value_unless_a_set_is_named(records):
    pooled = measured_cell(records, "fid", method="motionflow", dataset="synthetic-indoor")
    assert (pooled.value, pooled.n) == (40.0, 96)
    basic = measured_cell(
        records, "fid", method="motionflow", dataset="synthetic-indoor", trajectory_set="basic"
    )
    assert (basic.value, basic.n) == (50.0, 48)
    doubled = pd.concat([records, records[records["metric"] == "fid"]])
    with pytest.raises(ValueError, match="expected one"):
        measured_cell(doubled, "fid", method="motionflow", dataset="synthetic-indoor")


def test_table1_lays_out_sets_and_estimators_and_marks_published_rows(records):
    table = build_table(1, records, with_paper=True)
    assert ("Basic", "COLMAP", "R-Err") in table.columns and ("Basic", "Dust3R", "T-Err") in table.columns
    measured = [row for row in table.rows if not row.published]
    assert [row.label for row in measured] == ["MotionFlow"]
    published = {row.label: row for row in table.rows if row.published}
    dust3r_basic_t = table.columns.index(("Basic", "Dust3R", "T-Err"))
    assert published["MotionFlow"].cells[dust3r_basic_t].value == pytest.approx(0.043)
    assert "(published)" in to_markdown(table)


def test_the_still_camera_is_a_table1_row_with_its_note_and_no_visual_row(records):
    still = record(method=STILL_CAMERA, estimator="colmap", metric="RotErr", value=0.9)
    with_still = pd.concat([records, pd.DataFrame([still])], ignore_index=True)
    table = build_table(1, with_still)
    label = method_label(STILL_CAMERA)
    assert [row.label for row in table.rows] == ["MotionFlow", label]
    assert table.rows[1].cells[table.columns.index(("Basic", "COLMAP", "R-Err"))].value == pytest.approx(0.9)
    assert any(note.startswith(label) for note in table.notes)
    for number in (2, 3):
        assert [row.label for row in build_table(number, with_still).rows] == ["MotionFlow"]
    assert not any("still camera" in note for note in build_table(1, records).notes)


def test_table3_has_a_column_group_per_dataset_with_its_family(records):
    table = build_table(3, records)
    assert {column[0] for column in table.columns} == {
        "synthetic-indoor (re10k)",
        "synthetic-outdoor (dl3dv)",
    }


def test_table4_rows_are_the_ablations_present(records):
    table = build_table(4, records, with_paper=True)
    assert [row.label for row in table.rows if not row.published] == ["Full Model"]
    assert [row.label for row in table.rows if row.published][-1] == "Full Model"


def test_unknown_table_number():
    with pytest.raises(ValueError, match="1-4"):
        build_table(5, pd.DataFrame())


def test_renderers_agree_on_the_numbers():
    table = Table("T", [("A", "x"), ("A", "y"), ("B", "x")])
    table.add_row("m", [Cell(1.5, 1.0, 2.0, 3, 1), Cell(note="weights missing"), Cell(2.25, digits=2)])
    markdown, latex, csv = to_markdown(table, with_ci=True), to_latex(table), to_csv(table)
    assert "1.500 [1.000, 2.000] (N=3, fail 1/4)" in markdown
    assert r"\multicolumn{2}{c}{A}" in latex and "n/a (weights missing)" in latex
    assert "m,False,A / x,1.5,1.0,2.0,3,1," in csv
    with pytest.raises(ValueError, match="2 cells"):
        table.add_row("short", [Cell(1.0), Cell(2.0)])


def test_long_reasons_become_one_footnote(records):
    table = build_table(2, records)
    lpips = table.columns.index(("Basic", "LPIPS"))
    assert table.rows[0].cells[lpips].text() == "n/a (see [1])"
    assert "[1] not computed: alexnet missing" in table.notes


def test_columns_no_source_provides_are_dropped(records):
    table = build_table(2, records)
    assert not any(column[0] == "Difficult" for column in table.columns)
    assert ("Basic", "FVD") not in table.columns  # no record of FVD at all
    assert ("Basic", "FID") in table.columns and ("Basic", "LPIPS") in table.columns  # not computed is kept


def test_table4_separates_datasets_for_set_level_metrics(records):
    two_datasets = pd.concat([records, records.assign(dataset="re10k-bundled")])
    table = build_table(4, two_datasets)
    fid = [column for column in table.columns if column[-1] == "FID"]
    assert {column[0] for column in fid} == {"re10k-bundled", "synthetic-indoor"}
    pooled = table.rows[0].cells[table.columns.index(("synthetic-indoor", "Visual Quality", "FID"))]
    assert (pooled.value, pooled.n) == (40.0, 96)
