from __future__ import annotations

import math

import pandas as pd
import pytest

from bench import regression
from bench.regression import compare, summarize
from tests.record_rows import record


def _summary(**changes) -> pd.DataFrame:
    rows = [
        dict(
            dataset="d",
            trajectory_set="basic",
            method="m",
            estimator="colmap",
            metric="RotErr",
            value=0.5,
            n=3,
            failures=1,
            status="ok",
        ),
        dict(
            dataset="d",
            trajectory_set="basic",
            method="m",
            estimator="",
            metric="psnr",
            value=20.0,
            n=4,
            failures=0,
            status="ok",
        ),
        dict(
            dataset="d",
            trajectory_set="all",
            method="m",
            estimator="",
            metric="fid",
            value=math.nan,
            n=4,
            failures=0,
            status="not_computed",
        ),
    ]
    for index, fields in changes.items():
        rows[int(index[1:])].update(fields)
    return pd.DataFrame(rows)


def test_identical_and_within_tolerance_summaries_agree():
    assert compare(_summary(), _summary()) == []
    assert compare(_summary(), _summary(r0={"value": 0.5 + 0.01})) == []


def test_pose_errors_may_move_by_a_tenth_between_machines_and_image_metrics_may_not():
    assert compare(_summary(r0={"value": 6.294}), _summary(r0={"value": 5.995})) == []
    assert compare(_summary(r0={"value": 6.0}), _summary(r0={"value": 6.0 * 1.11}))
    assert compare(_summary(), _summary(r1={"value": 20.0 * 1.01}))


def test_moved_values_changed_counts_and_statuses_are_reported():
    lines = [
        d.line()
        for d in compare(
            _summary(),
            _summary(r0={"value": 0.6}, r1={"n": 3, "failures": 1}, r2={"status": "ok", "value": 12.0}),
        )
    ]
    assert any("RotErr: value" in line and "expected 0.5, got 0.6" in line for line in lines)
    assert any("psnr: N / failures: expected 4 / 0, got 3 / 1" in line for line in lines)
    assert any("fid: status: expected not_computed, got ok" in line for line in lines)


def test_missing_and_new_numbers_are_reported():
    expected, actual = _summary(), _summary().iloc[:2]
    assert [d.what for d in compare(expected, actual)] == ["missing"]
    assert [d.what for d in compare(actual, expected)] == ["new"]


def test_summarize_counts_failures_and_uses_set_level_n():
    records = pd.DataFrame(
        [
            record(clip=clip, estimator="colmap", metric="RotErr", value=value, status=status, reason=reason)
            for clip, value, status, reason in [
                ("a", 0.2, "ok", ""),
                ("b", 0.4, "ok", ""),
                ("c", math.nan, "failed", "nothing"),
            ]
        ]
        + [record(trajectory_set="all", clip="*", metric="fid", value=30.0, n=32)]
    )
    summary = summarize(records).set_index("metric")
    assert summary.loc["RotErr", "value"] == pytest.approx(0.3)
    assert (summary.loc["RotErr", "n"], summary.loc["RotErr", "failures"]) == (2, 1)
    assert (summary.loc["fid", "value"], summary.loc["fid", "n"]) == (30.0, 32)


def test_update_needs_a_reason_and_records_it(tmp_path, monkeypatch):
    monkeypatch.setattr(regression, "STORED_DIR", tmp_path)
    with pytest.raises(ValueError, match="reason"):
        regression.update_stored("smoke", _summary(), " ")
    regression.update_stored("smoke", _summary(), "first numbers")
    assert compare(regression.read_stored("smoke"), _summary()) == []
    assert "first numbers" in (tmp_path / "CHANGES.md").read_text()


def test_stored_smoke_numbers_exist_and_cover_every_reference_row():
    stored = regression.read_stored("smoke")
    assert {"oracle", "static", "warp", "depth-warp"} <= set(stored["method"])
    assert {"RotErr", "TransErr", "psnr", "ssim"} <= set(stored["metric"])
