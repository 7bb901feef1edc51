from __future__ import annotations

import io
from dataclasses import replace

import pandas as pd
import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.runs.layout import META_FILE, SET_LEVEL_CLIP, STILL_CAMERA, RunLayout, VideoKey
from bench.runs.pooling import pool_run_records
from bench.runs.records import records_frame, write_records
from bench.runs.runner import RunError, write_manifest
from bench.runs.suites import SUITES
from bench.tables.still_camera import ALL_DATASETS, still_camera_table
from motionflow.utils.io import atomic_write_json
from tests.record_rows import record

runner = CliRunner()


def _camera(method: str, clip: str, value: float) -> dict:
    return record(clip=clip, method=method, estimator="colmap", metric="RotErr", value=value)


def _run(root, seed: int, model_errors: dict[str, float], **settings) -> str:
    """A run directory holding a manifest and records only: still camera 2.0 on every clip."""
    layout = RunLayout(root)
    write_manifest(layout, replace(SUITES.get("smoke"), seed=seed, **settings))
    rows = [_camera(STILL_CAMERA, clip, 2.0) for clip in model_errors]
    rows += [_camera("motionflow", clip, value) for clip, value in model_errors.items()]
    rows.append(record(clip=SET_LEVEL_CLIP, method="motionflow", metric="fid", value=50.0, n=10))
    layout.records_dir.mkdir(parents=True)
    write_records(layout.records_file(), records_frame(rows))
    return str(root)


def _generated(run: str, fingerprint: str, method: str = "motionflow") -> str:
    """Gives the run a finished video of `method` whose meta records `fingerprint`."""
    directory = RunLayout(run).video_dir(method, VideoKey("synthetic-indoor", "basic", "c0"))
    directory.mkdir(parents=True)
    atomic_write_json(directory / META_FILE, {"method": method, "fingerprint": fingerprint})
    return run


def _difference(records):
    table = still_camera_table(records)
    row = next(row for row in table.rows if row.label == "MotionFlow")
    column = next(i for i, column in enumerate(table.columns) if column[0] == ALL_DATASETS)
    return row.cells[column]


def test_runs_with_other_seeds_pool_as_separate_videos_without_set_level_rows(tmp_path):
    first = _run(tmp_path / "a", 0, {"c0": 1.0, "c1": 3.0})
    second = _run(tmp_path / "b", 100, {"c0": 0.0, "c1": 1.0})
    pooled = pool_run_records([first, second])
    assert set(pooled["clip"]) == {"c0@seed0", "c1@seed0", "c0@seed100", "c1@seed100"}
    assert SET_LEVEL_CLIP not in {clip.split("@")[0] for clip in pooled["clip"]}
    difference = _difference(pooled)
    assert difference.n == 4 and difference.value == pytest.approx((-1.0 + 1.0 - 2.0 - 1.0) / 4)
    assert _difference(pool_run_records([first])).n == 2


def test_the_same_sample_twice_or_differently_measured_runs_are_refused(tmp_path):
    first = _run(tmp_path / "a", 0, {"c0": 1.0})
    with pytest.raises(RunError, match="different seeds"):
        pool_run_records([first, _run(tmp_path / "b", 0, {"c0": 1.0})])
    with pytest.raises(RunError, match="camera_preset"):
        pool_run_records([first, _run(tmp_path / "c", 100, {"c0": 1.0}, camera_preset="cami2v")])
    with pytest.raises(RunError, match="sampling"):
        pool_run_records([first, _run(tmp_path / "d", 200, {"c0": 1.0}, sampling={"steps": 5})])
    with pytest.raises(RunError, match="not a run directory"):
        pool_run_records([first, str(tmp_path / "missing")])
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    RunLayout(corrupt).manifest.write_text("{not json")
    with pytest.raises(RunError, match="is not a run manifest"):
        pool_run_records([first, str(corrupt)])


def test_still_camera_command_prints_the_pooled_table_and_fails_clearly(tmp_path):
    first = _run(tmp_path / "a", 0, {"c0": 1.0, "c1": 3.0})
    second = _run(tmp_path / "b", 100, {"c0": 0.0, "c1": 1.0})
    pooled = runner.invoke(app, ["still-camera", "--run", first, "--run", second, "--format", "csv"])
    assert pooled.exit_code == 0
    line = next(
        line for line in pooled.output.splitlines() if "all datasets" in line and "difference" in line
    )
    assert ",-0.75," in line and ",4," in line
    same = runner.invoke(app, ["still-camera", "--run", first, "--run", first])
    assert same.exit_code == 2 and "different seeds" in " ".join(same.output.split())


def test_table_command_pools_runs_per_video(tmp_path):
    """Table 1 over two seeds' runs: the mean over all four videos."""
    first = _run(tmp_path / "a", 0, {"c0": 1.0, "c1": 3.0})
    second = _run(tmp_path / "b", 100, {"c0": 0.0, "c1": 2.0})

    def motionflow_cell(*runs: str) -> pd.Series:
        arguments = [item for run in runs for item in ("--run", run)]
        result = runner.invoke(app, ["table", "1", *arguments, "--format", "csv"])
        assert result.exit_code == 0, result.output
        table = pd.read_csv(io.StringIO(result.output))
        return table[table["method"] == "MotionFlow"].iloc[0]

    pooled = motionflow_cell(first, second)
    assert (pooled["value"], pooled["n"]) == (1.5, 4)
    single = motionflow_cell(first)
    assert (single["value"], single["n"]) == (2.0, 2)
    refused = runner.invoke(app, ["table", "1", "--run", first, "--run", first])
    assert refused.exit_code == 2 and "different seeds" in " ".join(refused.output.split())


def test_runs_pool_by_the_weights_their_videos_were_generated_with_not_by_checkpoint_paths(tmp_path):
    """Two folders holding the same weights pool; one folder retrained between the runs does not; other
    folders with no video to compare are refused."""
    copied = {"checkpoints": {"motionflow": "runs/copy/model"}}
    first = _generated(_run(tmp_path / "a", 0, {"c0": 1.0}), "weights-1")
    same_weights = _generated(_run(tmp_path / "b", 100, {"c0": 0.0}, **copied), "weights-1")
    assert len(pool_run_records([first, same_weights])) == len(pool_run_records([first])) * 2
    retrained = _generated(_run(tmp_path / "c", 200, {"c0": 0.0}), "weights-2")
    with pytest.raises(RunError, match="motionflow with other weights"):
        pool_run_records([first, retrained])
    unverified = _run(tmp_path / "d", 300, {"c0": 0.0}, **copied)
    with pytest.raises(RunError, match="checkpoints for motionflow"):
        pool_run_records([first, unverified])
