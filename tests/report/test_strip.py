from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from bench.cli import app
from bench.report.strip import LABEL_WIDTH, ROW_GAP, strip_columns, write_frame_strip
from bench.runs.layout import FRAMES_DIR, VideoKey
from motionflow.data.video_io import read_frames
from motionflow.errors import MotionFlowError

from .run_builder import BuiltRun

runner = CliRunner()


def _first_key(built_run: BuiltRun) -> VideoKey:
    meta = sorted(built_run.root.glob("clips/*/*/*"))[0]
    return VideoKey(*meta.relative_to(built_run.root / "clips").parts)


def _methods(built_run: BuiltRun, key: VideoKey) -> list[str]:
    return sorted(
        path.name
        for path in (built_run.root / "videos").iterdir()
        if (built_run.layout.video_dir(path.name, key) / FRAMES_DIR).is_dir()
    )


def test_columns_spread_from_the_first_to_the_last_frame() -> None:
    assert strip_columns(16, 6) == [0, 3, 6, 9, 12, 15]
    assert strip_columns(3, 6) == [0, 1, 2]


def test_the_strip_shows_ground_truth_then_each_method_frame_by_frame(
    built_run: BuiltRun, tmp_path: Path
) -> None:
    key = _first_key(built_run)
    methods = _methods(built_run, key)
    path = write_frame_strip(built_run.root, key, methods, tmp_path / "strip.png", columns=3, height=32)
    ground_truth = read_frames(built_run.layout.clip_dir(key) / FRAMES_DIR)
    width = round(ground_truth.shape[2] * 32 / ground_truth.shape[1])
    strip = np.asarray(Image.open(path).convert("RGB"))
    assert strip.shape == ((1 + len(methods)) * (32 + ROW_GAP), LABEL_WIDTH + 3 * width, 3)
    last = strip_columns(len(ground_truth), 3)[-1]
    expected = np.asarray(Image.fromarray(ground_truth[last]).resize((width, 32), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(strip[:32, LABEL_WIDTH + 2 * width :], expected)


def test_a_method_without_the_clip_is_named_in_the_error(built_run: BuiltRun, tmp_path: Path) -> None:
    with pytest.raises(MotionFlowError, match="no frames of no-such-method"):
        write_frame_strip(built_run.root, _first_key(built_run), ["no-such-method"], tmp_path / "strip.png")
    assert not (tmp_path / "strip.png").exists()


def test_report_command_writes_a_strip(built_run: BuiltRun, tmp_path: Path) -> None:
    key = _first_key(built_run)
    out = tmp_path / "strip.png"
    result = runner.invoke(
        app, ["report", "--run", str(built_run.root), "--strip", "/".join(key.parts), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert Image.open(out).height == (1 + len(_methods(built_run, key))) * (96 + ROW_GAP)
    bad = runner.invoke(app, ["report", "--run", str(built_run.root), "--strip", "only/two"])
    assert bad.exit_code == 1 and "DATASET/SET/CLIP" in bad.stderr
