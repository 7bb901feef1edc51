"""`mfbench pose` end to end and the batch runner: pose files, failures, cache, parallel workers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.cli import app
from bench.pose_runner import discover_videos, estimate_videos, read_record
from bench.sfm_adapters import create_estimator
from motionflow.data.synthetic import render_synthetic_clip
from motionflow.data.video_io import read_video, write_frames

from .helpers import RE10K_CLIPS

runner = CliRunner()


@pytest.fixture
def video_dir(tmp_path: Path) -> Path:
    """One real clip with its camera file, a folder of PNG frames, and a corrupt MP4."""
    videos = tmp_path / "videos"
    (videos / "generated").mkdir(parents=True)
    clip = RE10K_CLIPS[0]
    shutil.copy(clip, videos / clip.name)
    shutil.copy(clip.with_suffix(".txt"), videos / clip.with_suffix(".txt").name)
    write_frames(
        videos / "generated" / "orbit",
        render_synthetic_clip("indoor", "orbit", 10, (160, 160), seed=1).frames,
    )
    (videos / "generated" / "broken.mp4").write_bytes(b"not a video")
    return videos


def test_discovery_finds_files_and_frame_folders(video_dir: Path) -> None:
    names = [video.name for video in discover_videos(video_dir)]
    assert names == [RE10K_CLIPS[0].stem, "generated/broken", "generated/orbit"]
    assert discover_videos(video_dir, exclude=[video_dir / "generated"])[0].name == RE10K_CLIPS[0].stem


def test_pose_command_end_to_end_with_failures_and_cache(video_dir: Path) -> None:
    out = video_dir.parent / "poses"
    result = runner.invoke(app, ["pose", "--videos", str(video_dir), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "3 estimates: 2 ok, 1 failed" in result.output
    folder = out / "colmap"
    records = {path.name: read_record(path) for path in folder.rglob("*.json")}
    assert set(records) == {f"{RE10K_CLIPS[0].stem}.trial0.json", "orbit.trial0.json", "broken.trial0.json"}
    broken = records["broken.trial0.json"].estimate
    assert not broken.ok and broken.failure_reason.startswith("cannot read video")
    clip = records[f"{RE10K_CLIPS[0].stem}.trial0.json"]
    assert clip.estimate.ok and clip.estimate.num_registered == 16
    payload = json.loads((folder / f"{RE10K_CLIPS[0].stem}.trial0.json").read_text())
    assert (
        payload["estimate"]["frames"][3]["registered"] is True
        and len(payload["estimate"]["frames"][3]["c2w"]) == 4
    )
    modified = {path: path.stat().st_mtime_ns for path in folder.rglob("*.json")}

    again = runner.invoke(app, ["pose", "--videos", str(video_dir), "--out", str(out), "--jobs", "1"])
    assert again.exit_code == 0 and "3 from cache" in again.output
    assert modified == {path: path.stat().st_mtime_ns for path in folder.rglob("*.json")}


def test_known_intrinsics_come_from_the_camera_file_beside_each_video(tmp_path: Path) -> None:
    videos, frames = tmp_path / "videos", read_video(RE10K_CLIPS[0])[:8]
    write_frames(videos / "with_cameras", frames)
    write_frames(videos / "without_cameras", frames)
    lines = RE10K_CLIPS[0].with_suffix(".txt").read_text().splitlines()
    (videos / "with_cameras.txt").write_text("\n".join(lines[:9]) + "\n")
    arguments = [
        "pose",
        "--videos",
        str(videos),
        "--out",
        str(tmp_path / "poses"),
        "--known-intrinsics",
        "--jobs",
        "1",
    ]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    without = read_record(tmp_path / "poses" / "colmap" / "without_cameras.trial0.json").estimate
    assert not without.ok and "no camera file" in without.failure_reason
    with_cameras = read_record(tmp_path / "poses" / "colmap" / "with_cameras.trial0.json").estimate
    assert with_cameras.ok and with_cameras.settings["known_intrinsics"] is True
    assert with_cameras.intrinsics[0, 1, 1] == pytest.approx(0.844111024 * 256)


@pytest.mark.slow
def test_parallel_workers_and_trials_write_one_file_per_trial(tmp_path: Path) -> None:
    for seed in (0, 1):
        clip = render_synthetic_clip("indoor", "forward", 8, (128, 128), seed=seed)
        write_frames(tmp_path / "videos" / f"clip{seed}", clip.frames)
    estimator = create_estimator("colmap")
    outcomes = estimate_videos(
        discover_videos(tmp_path / "videos"), estimator, tmp_path / "poses", trials=2, jobs=2
    )
    assert [(outcome.video_name, outcome.trial) for outcome in outcomes] == [
        ("clip0", 0), ("clip0", 1), ("clip1", 0), ("clip1", 1)
    ]  # fmt: skip
    seeds = {read_record(outcome.path).seed for outcome in outcomes if outcome.video_name == "clip0"}
    assert seeds == {0, 1} and not any(outcome.cached for outcome in outcomes)


def test_commands_that_cannot_go_on_exit_non_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = runner.invoke(app, ["pose", "--videos", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "not a directory of videos" in missing.output
    empty = runner.invoke(app, ["pose", "--videos", str(tmp_path)])
    assert empty.exit_code == 1 and "no videos found" in empty.output
    monkeypatch.setenv("MFBENCH_SFM_SETTINGS", str(tmp_path / "none.json"))
    (tmp_path / "none.json").write_text("{}")
    monkeypatch.delenv("MFBENCH_VGGSFM_PYTHON", raising=False)
    unavailable = runner.invoke(app, ["pose", "--videos", str(tmp_path), "--estimator", "vggsfm"])
    assert unavailable.exit_code == 1 and "MFBENCH_VGGSFM_PYTHON" in unavailable.output
    unknown = runner.invoke(app, ["pose", "--videos", str(tmp_path), "--estimator", "nope"])
    assert unknown.exit_code == 1 and "known: colmap" in unknown.output


def test_a_batch_where_nothing_registers_is_recorded_and_exits_non_zero(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    (videos / "broken.mp4").write_bytes(b"not a video")
    result = runner.invoke(app, ["pose", "--videos", str(videos), "--jobs", "1"])
    assert result.exit_code == 1 and "no video registered with colmap" in result.output
    assert "1 estimates: 0 ok, 1 failed (100%)" in result.output
    record = read_record(videos / "poses" / "colmap" / "broken.trial0.json").estimate
    assert not record.ok and record.failure_reason.startswith("cannot read video")
