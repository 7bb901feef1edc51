from __future__ import annotations

import pytest

from bench.runs.suites import SourceSpec, Suite

TINY_SIZE = (128, 128)


@pytest.fixture
def tiny_suite() -> Suite:
    """Two synthetic indoor clips, basic set, the reference rows, COLMAP: every stage, in seconds."""
    return Suite(
        name="tiny",
        description="test suite",
        sources=(SourceSpec("synthetic-indoor", 2, TINY_SIZE),),
        methods=("oracle", "static"),
        trajectory_sets=("basic",),
        num_frames=10,
    )
