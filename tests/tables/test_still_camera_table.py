from __future__ import annotations

import pandas as pd
import pytest

from bench.runs.layout import STILL_CAMERA
from bench.tables.layout import NOT_RUN, to_markdown
from bench.tables.still_camera import ALL_DATASETS, still_camera_table
from tests.record_rows import record


def camera_record(method: str, clip: str, value: float | None, dataset: str = "synthetic-indoor", **fields):
    status = {"status": "ok"} if value is not None else {"status": "failed", "reason": "no frame registered"}
    return record(
        dataset=dataset,
        clip=clip,
        method=method,
        estimator="colmap",
        metric="RotErr",
        value=float("nan") if value is None else value,
        **status,
        **fields,
    )


@pytest.fixture
def records() -> pd.DataFrame:
    still = {"c0": 2.0, "c1": 3.0, "c2": 1.0, "c3": None}
    model = {"c0": 1.0, "c1": 3.5, "c2": None, "c3": 0.5}
    rows = [camera_record(STILL_CAMERA, clip, value) for clip, value in still.items()]
    rows += [camera_record("motionflow", clip, value) for clip, value in model.items()]
    rows += [camera_record("static", clip, None) for clip in still]
    rows += [camera_record(STILL_CAMERA, "r0", 4.0, dataset="re10k-bundled")]
    rows += [camera_record("motionflow", "r0", 1.0, dataset="re10k-bundled")]
    rows += [camera_record("static", "r0", None, dataset="re10k-bundled")]
    rows.append(record(clip="c0", method="motionflow", metric="psnr", value=12.0))
    return pd.DataFrame(rows)


def _cells(table, label: str, dataset: str):
    row = next(row for row in table.rows if row.label == label)
    columns = [index for index, column in enumerate(table.columns) if column[0] == dataset]
    return [row.cells[index] for index in columns]


def test_differences_are_paired_on_the_videos_both_are_scored_on(records):
    table = still_camera_table(records)
    difference, lower, still = _cells(table, "MotionFlow", "synthetic-indoor")
    # c0: 1 - 2, c1: 3.5 - 3; c2 failed for the model (a failure), c3 has no still-camera value (skipped).
    assert difference.value == pytest.approx(-0.25) and difference.n == 2 and difference.failures == 1
    assert difference.ci_low <= -0.25 <= difference.ci_high
    assert lower.value == pytest.approx(0.5) and lower.n == 2
    # the still camera on the paired videos c0, c1 only: not on c2, which the model failed
    assert still.value == pytest.approx(2.5) and still.n == 2 and still.failures == 1
    pooled_difference, pooled_lower, pooled_still = _cells(table, "MotionFlow", ALL_DATASETS)
    assert pooled_difference.value == pytest.approx((-1.0 + 0.5 - 3.0) / 3) and pooled_difference.n == 3
    assert pooled_lower.value == pytest.approx(2 / 3)
    assert pooled_still.value == pytest.approx((2.0 + 3.0 + 4.0) / 3)


def test_a_method_that_never_registers_is_all_failures_and_the_still_camera_is_no_row(records):
    table = still_camera_table(records)
    static_difference, _, static_still = _cells(table, "static (reference repeated)", "synthetic-indoor")
    assert static_still.missing and static_still.failures == 3
    assert static_difference.missing and static_difference.failures == 3
    assert {row.label for row in table.rows} == {"MotionFlow", "static (reference repeated)"}
    assert "fail 3/3" in to_markdown(table)


def test_methods_without_camera_records_and_runs_without_a_still_camera(records):
    not_computed = records[records["method"] == "static"].assign(status="not_computed", reason="no dust3r")
    mixed = pd.concat([records[records["method"] != "static"], not_computed], ignore_index=True)
    table = still_camera_table(mixed)
    assert all(cell.note == NOT_RUN for cell in _cells(table, "static (reference repeated)", ALL_DATASETS))
    assert still_camera_table(records[records["method"] != STILL_CAMERA]) is None
