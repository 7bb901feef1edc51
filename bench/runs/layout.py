"""Where every artefact of a run lives. Nothing else in the harness builds run paths by hand.

    RUN/
      manifest.json                                     versions, suite, settings, seeds, created
      clips/<dataset>/<set>/<clip>/                     the ground truth: video.mp4, frames/, camera.json
      videos/<method>/<dataset>/<set>/<clip>/           a generated video: video.mp4, frames/, camera.json, meta.json
      poses/<estimator>/<source>/<dataset>/<set>/<clip>.trial<k>.json
                                                        an estimate (bench.pose_runner.PoseRecord);
                                                        <source> is a method name or `gt`
      records/records[.shard-<i>-of-<n>].parquet        long-format metric records (see RECORD_COLUMNS)
      records/records.csv                               the same, merged, for spreadsheets
      tables/table<k>.{md,tex,csv}
      report.html
      timings.json                                      seconds per stage of the latest run call

`camera.json` is the trajectory in the plain JSON form (c2w OpenCV, K in pixels of the frames): for
the ground truth the annotation, for a generated video the trajectory the method was asked to follow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.pose_files import record_path

GROUND_TRUTH = "gt"
"""The `source` of poses estimated on ground-truth videos."""
STILL_CAMERA = "still-camera"
"""The `method` of the camera records a camera that does not move scores (identity poses, not estimated;
bench.metrics.camera.still_camera_metrics)."""

RECORD_COLUMNS = (
    "dataset",
    "family",
    "trajectory_set",
    "clip",
    "method",
    "estimator",
    "trial",
    "metric",
    "value",
    "status",
    "reason",
    "n",
)
"""One row per metric value. Camera metrics: one row per method x clip x set x estimator x trial x
metric (`still-camera` has camera records only). Visual paired metrics (PSNR, SSIM, LPIPS): estimator
"" and trial 0. Set-level metrics (FID, KID, FVD): clip "*", `n` the number of samples they were
computed over, and trajectory_set "all" for the value pooled over both sets of a dataset. `status` is
ok, failed, undefined or not_computed (bench.metrics.result.MetricStatus), with `reason` when not ok."""

SET_LEVEL_CLIP = "*"
"""The clip of set-level records (FID, KID, FVD over a set of videos)."""

RECORD_KEY = ("dataset", "trajectory_set", "clip", "method", "estimator", "trial", "metric")
"""Columns that identify a record: merging shards keeps one row per key."""


@dataclass(frozen=True)
class VideoKey:
    dataset: str
    trajectory_set: str
    clip: str

    @property
    def parts(self) -> tuple[str, str, str]:
        return self.dataset, self.trajectory_set, self.clip


@dataclass(frozen=True)
class RunLayout:
    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    def clip_dir(self, key: VideoKey) -> Path:
        return self.root.joinpath("clips", *key.parts)

    def video_dir(self, method: str, key: VideoKey) -> Path:
        return self.root.joinpath("videos", method, *key.parts)

    def clip_meta_files(self) -> list[Path]:
        """The meta files of the run's finished ground-truth clips."""
        return sorted(self.root.glob(f"clips/*/*/*/{META_FILE}"))

    def video_meta_files(self) -> list[Path]:
        """The meta files of the run's finished generated videos."""
        return sorted(self.root.glob(f"videos/*/*/*/*/{META_FILE}"))

    def source_dir(self, source: str, key: VideoKey) -> Path:
        """The ground-truth clip folder for `gt`, else the method's video folder."""
        return self.clip_dir(key) if source == GROUND_TRUTH else self.video_dir(source, key)

    @property
    def poses_dir(self) -> Path:
        return self.root / "poses"

    def pose_video_name(self, source: str, key: VideoKey) -> str:
        """The name the pose runner files a video's estimates under."""
        return "/".join((source, *key.parts))

    def pose_file(self, estimator: str, source: str, key: VideoKey, trial: int) -> Path:
        return record_path(self.poses_dir, estimator, self.pose_video_name(source, key), trial)

    @property
    def records_dir(self) -> Path:
        return self.root / "records"

    def records_file(self, shard: tuple[int, int] | None = None) -> Path:
        suffix = "" if shard is None else f".shard-{shard[0]}-of-{shard[1]}"
        return self.records_dir / f"records{suffix}.parquet"

    def timings_file(self, shard: tuple[int, int] | None = None) -> Path:
        """Wall and inner seconds per stage of the latest `run_suite` call (of this shard)."""
        suffix = "" if shard is None else f".shard-{shard[0]}-of-{shard[1]}"
        return self.root / f"timings{suffix}.json"

    @property
    def tables_dir(self) -> Path:
        return self.root / "tables"

    @property
    def report(self) -> Path:
        return self.root / "report.html"


VIDEO_FILE = "video.mp4"
FRAMES_DIR = "frames"
CAMERA_FILE = "camera.json"
META_FILE = "meta.json"
