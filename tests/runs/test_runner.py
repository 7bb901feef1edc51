from __future__ import annotations

import json
from dataclasses import asdict, replace

import pandas as pd
import pytest

from bench.metrics.camera import still_camera_metrics
from bench.pose_runner import read_record
from bench.report import load_run
from bench.runs.layout import GROUND_TRUTH, RECORD_COLUMNS, SET_LEVEL_CLIP, STILL_CAMERA, RunLayout, VideoKey
from bench.runs.records import load_run_records, merge_records
from bench.runs.runner import RunError, run_suite
from bench.runs.stages import generation_cache_key
from motionflow.pipeline import SamplingOptions
from tests.record_rows import record


def _meta(layout: RunLayout, method: str, key: VideoKey) -> dict:
    return json.loads((layout.video_dir(method, key) / "meta.json").read_text())


def test_run_end_to_end_resume_and_shards(tmp_path, tiny_suite):
    run_dir = tmp_path / "run"
    layout = run_suite(tiny_suite, run_dir)
    records = load_run_records(layout)
    assert list(records.columns) == list(RECORD_COLUMNS)

    camera = records[records["estimator"] == "colmap"]
    oracle = camera[camera["method"] == "oracle"]
    assert set(oracle["status"]) == {"ok"}
    assert oracle["value"].abs().max() == 0.0  # same estimator on the same frames: the error floor
    static = camera[camera["method"] == "static"]
    assert set(static["status"]) == {"failed"} and static["reason"].str.len().min() > 0
    still = camera[camera["method"] == STILL_CAMERA].set_index(["clip", "metric"])["value"]
    for key in load_run(layout.root).keys:
        reference = read_record(layout.pose_file("colmap", GROUND_TRUTH, key, 0)).estimate
        expected = still_camera_metrics(reference.c2w, reference.registered, "motionflow")
        for metric in ("RotErr", "TransErr"):
            assert still[(key.clip, metric)] == pytest.approx(expected.value(metric))
            assert expected.value(metric) > 0.1  # the ground truth moves; a still camera misses it
    assert set(records.loc[records["method"] == STILL_CAMERA, "estimator"]) == {"colmap"}
    assert "still camera" in (layout.tables_dir / "table1.md").read_text()
    assert "still camera" not in (layout.tables_dir / "table2.md").read_text()

    psnr = records[(records["metric"] == "psnr") & (records["method"] == "static")]
    assert len(psnr) == 2 and psnr["value"].between(5, 60).all()
    lpips = records[records["metric"] == "lpips"]
    assert set(lpips["status"]) <= {"ok", "not_computed"}
    fid = records[(records["metric"] == "fid") & (records["clip"] == SET_LEVEL_CLIP)]
    assert set(fid["trajectory_set"]) == {"basic", "all"} and set(fid["n"]) == {2}
    for name in ("table1", "table2", "table3", "table4", "registration", "still_camera"):
        assert (layout.tables_dir / f"{name}.md").is_file()
    registration = pd.read_csv(layout.tables_dir / "registration.csv")
    static_shares = registration[registration["method"] == "static (reference repeated)"]
    assert len(static_shares) and (static_shares["value"] == 0).all()

    key = VideoKey("synthetic-indoor", "basic", "indoor-re10k-0")
    before = _meta(layout, "static", key)
    pose_file = layout.pose_file("colmap", "static", key, 0)
    pose_mtime = pose_file.stat().st_mtime_ns
    run_suite(tiny_suite, run_dir)  # resume: nothing is recomputed
    assert _meta(layout, "static", key) == before
    assert pose_file.stat().st_mtime_ns == pose_mtime
    pd.testing.assert_frame_equal(load_run_records(layout), records)

    sharded = tmp_path / "sharded"
    for index in range(2):
        run_suite(tiny_suite, sharded, shard=(index, 2))
    from bench.runs.runner import finalize_run

    finalize_run(sharded)
    first = load_run_records(RunLayout(sharded))
    finalize_run(sharded)  # merging again changes nothing
    pd.testing.assert_frame_equal(load_run_records(RunLayout(sharded)), first)
    pd.testing.assert_frame_equal(first, records)


def test_a_run_directory_refuses_other_settings(tmp_path, tiny_suite):
    run_suite(replace(tiny_suite, sources=tiny_suite.sources[:0]), tmp_path)
    with pytest.raises(RunError, match="other settings"):
        run_suite(tiny_suite, tmp_path)


def test_a_run_gains_methods_without_recomputing_the_others(tmp_path, tiny_suite):
    first = replace(tiny_suite, methods=("static",))
    layout = run_suite(first, tmp_path)
    key = VideoKey("synthetic-indoor", "basic", "indoor-re10k-0")
    before = _meta(layout, "static", key)
    run_suite(replace(tiny_suite, methods=("warp",)), tmp_path)
    assert _meta(layout, "static", key) == before
    assert set(load_run_records(layout)["method"]) == {"static", "warp", STILL_CAMERA}
    manifest = json.loads(layout.manifest.read_text())
    assert manifest["suite"]["methods"] == ["static", "warp"]


def test_generation_cache_key_follows_the_method_fingerprint(tiny_suite):
    from baselines import METHODS
    from bench.runs.clips import make_source

    plan = make_source("synthetic-indoor").plan(1, "basic", 4, (32, 32), 0)[0]
    static = METHODS.get("static")()
    assert generation_cache_key(static, plan, 0) != generation_cache_key(static, plan, 1)
    assert generation_cache_key(static, plan, 0) != generation_cache_key(METHODS.get("warp")(), plan, 0)


def test_merge_keeps_the_latest_row_per_key():
    row = record(value=1.0)
    old = pd.DataFrame([row])
    new = pd.DataFrame([row | {"value": 2.0}])
    merged = merge_records([old, new])
    assert merged["value"].tolist() == [2.0]
    pd.testing.assert_frame_equal(merge_records([merged, new]), merged)


def test_unavailable_methods_and_estimators_are_recorded_as_not_computed(tmp_path, tiny_suite, monkeypatch):
    monkeypatch.delenv("MFBENCH_DUST3R_CHECKPOINT", raising=False)
    monkeypatch.delenv("MFBENCH_VIDEOCRAFTER_DIR", raising=False)
    suite = replace(
        tiny_suite,
        sources=(replace(tiny_suite.sources[0], count=1),),
        methods=("static", "videocrafter"),
        estimators=("colmap", "dust3r"),
    )
    records = load_run_records(run_suite(suite, tmp_path))
    dust3r = records[(records["estimator"] == "dust3r") & (records["method"] == "static")]
    assert (
        len(dust3r)
        and set(dust3r["status"]) == {"not_computed"}
        and dust3r["reason"].str.contains("dust3r").all()
    )
    videocrafter = records[records["method"] == "videocrafter"]
    assert set(videocrafter["status"]) == {"not_computed"}
    assert videocrafter["reason"].str.contains("unavailable").all()
    assert set(records.loc[records["method"] == "static", "metric"]) >= {"psnr", "ssim", "RotErr", "fid"}
    still = records[records["method"] == STILL_CAMERA]
    assert set(still.loc[still["estimator"] == "dust3r", "status"]) == {"not_computed"}
    assert set(still.loc[still["estimator"] == "colmap", "status"]) == {"ok"}


def _trained_model_suite(tmp_path, tiny_suite, **overrides):
    """One clip, `static` and `motionflow` from a saved tiny model (its folder, the suite), PSNR only."""
    from motionflow.pipeline import MotionFlowPipeline
    from tests.models.helpers import tiny_model

    folder = MotionFlowPipeline(tiny_model()).save_pretrained(tmp_path / "trained")
    suite = replace(
        tiny_suite,
        sources=(replace(tiny_suite.sources[0], count=1),),
        methods=("static", "motionflow"),
        estimators=(),
        paired_metrics=("psnr",),
        set_metrics=(),
        checkpoints={"motionflow": str(folder)},
        **overrides,
    )
    return folder, suite


def test_a_method_runs_from_the_checkpoint_folder_given(tmp_path, tiny_suite):
    from baselines import METHODS

    folder, suite = _trained_model_suite(tmp_path, tiny_suite)
    layout = run_suite(suite, tmp_path / "run")
    meta = _meta(layout, "motionflow", VideoKey("synthetic-indoor", "basic", "indoor-re10k-0"))
    assert meta["fingerprint"] == METHODS.get("motionflow")(checkpoint_dir=folder).fingerprint()
    psnr = load_run_records(layout).query("method == 'motionflow' and metric == 'psnr'")
    assert set(psnr["status"]) == {"ok"}
    assert json.loads(layout.manifest.read_text())["suite"]["checkpoints"] == {"motionflow": str(folder)}
    with pytest.raises(RunError, match="other settings"):
        run_suite(replace(suite, checkpoints={}), tmp_path / "run")


def test_sampler_settings_reach_the_methods_that_sample(tmp_path, tiny_suite):
    """A run's sampler settings replace the sampling methods' own (their fingerprints say so) and pass
    over the methods that do not sample; unknown settings or choices are refused before anything runs."""
    from baselines import METHODS

    sampling = {"initial_noise": "warped", "steps": 2, "strength": 0.5}
    folder, suite = _trained_model_suite(tmp_path, tiny_suite, sampling=sampling)
    layout = run_suite(suite, tmp_path / "run")
    key = VideoKey("synthetic-indoor", "basic", "indoor-re10k-0")
    expected = METHODS.get("motionflow")(checkpoint_dir=folder, **sampling).fingerprint()
    meta = _meta(layout, "motionflow", key)
    assert meta["fingerprint"] == expected
    assert meta["sampling"] == {**asdict(SamplingOptions()), **sampling}
    assert expected != METHODS.get("motionflow")(checkpoint_dir=folder, steps=2).fingerprint()
    assert set(load_run_records(layout).query("metric == 'psnr'")["status"]) == {"ok"}
    assert json.loads(layout.manifest.read_text())["suite"]["sampling"] == sampling
    with pytest.raises(RunError, match="other settings"):
        run_suite(replace(suite, sampling={}), tmp_path / "run")
    with pytest.raises(ValueError, match="unknown sampler settings eta"):
        replace(tiny_suite, sampling={"eta": 1.0})
    with pytest.raises(ValueError, match="reference, gaussian, warped"):
        replace(tiny_suite, sampling={"initial_noise": "uniform"})
    with pytest.raises(ValueError, match="strength must be in"):
        replace(tiny_suite, sampling={"strength": 0.0})


def test_checkpoints_are_refused_for_methods_that_do_not_run_or_take_none(tmp_path, tiny_suite):
    with pytest.raises(ValueError, match="does not run: motionflow"):
        replace(tiny_suite, checkpoints={"motionflow": str(tmp_path)})
    with pytest.raises(ValueError, match="'static' does not take"):
        run_suite(replace(tiny_suite, checkpoints={"static": str(tmp_path)}), tmp_path / "run")


def test_a_run_written_before_a_suite_field_existed_still_resumes(tmp_path, tiny_suite):
    suite = replace(tiny_suite, sources=tiny_suite.sources[:0])
    layout = run_suite(suite, tmp_path)
    manifest = json.loads(layout.manifest.read_text())
    del manifest["suite"]["checkpoints"]
    layout.manifest.write_text(json.dumps(manifest))
    run_suite(suite, tmp_path)
