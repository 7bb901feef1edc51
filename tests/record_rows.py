"""Metric records for tests of the run, table and regression layers (bench.runs.layout.RECORD_COLUMNS)."""

from __future__ import annotations

import math


def record(**fields) -> dict:
    """One record row: a PSNR value of clip c0 of method `static` unless `fields` say otherwise."""
    base = dict(
        dataset="synthetic-indoor",
        family="re10k",
        trajectory_set="basic",
        clip="c0",
        method="static",
        estimator="",
        trial=0,
        metric="psnr",
        value=math.nan,
        status="ok",
        reason="",
        n=0,
    )
    return base | fields
