from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bench.report import NotARunError, ReportError, write_report
from bench.runs.layout import CAMERA_FILE, GROUND_TRUTH, VIDEO_FILE, RunLayout

from .html_parts import EXTERNAL_REFERENCE, clip_sections, embedded_videos, status_list
from .run_builder import ESTIMATOR, GROUND_TRUTH_TRIALS, KEYS, METHODS, UNREGISTERED_FRAMES, BuiltRun


def _copy_run(built_run: BuiltRun, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built_run.root, tmp_path / "run"))


def test_every_video_is_embedded_byte_for_byte(built_run: BuiltRun, report_html: str) -> None:
    layout = built_run.layout
    expected = []
    for key in KEYS:
        expected.append((layout.clip_dir(key) / VIDEO_FILE).read_bytes())
        expected += [(layout.video_dir(method, key) / VIDEO_FILE).read_bytes() for method in METHODS]
    assert embedded_videos(report_html) == expected
    for tag in re.findall(r"<video [^>]*>", report_html):
        assert all(attribute in tag for attribute in (" autoplay", " loop", " muted", " playsinline"))


def test_page_is_self_contained(report_html: str) -> None:
    assert EXTERNAL_REFERENCE.search(report_html) is None
    for external in ('<video src="https://x/v.mp4">', "<img src=v.png>", "background: url(http://x)"):
        assert EXTERNAL_REFERENCE.search(external) is not None
    assert report_html.count("data:image/png;base64,") == len(KEYS)


def test_clip_rows_show_reference_ground_truth_and_each_method(report_html: str) -> None:
    sections = clip_sections(report_html)
    assert len(sections) == len(KEYS)
    for section, key in zip(sections, KEYS, strict=True):
        assert " / ".join(key.parts) in section
        captions = re.findall(r"<figcaption>([^<]*)</figcaption>", section)
        assert captions == ["reference frame (ground truth frame 0)", "ground truth", *METHODS]


def test_each_video_has_a_trajectory_plot_with_its_estimates(report_html: str) -> None:
    for section in clip_sections(report_html):
        plots = re.findall(r'<figure class="trajectory" data-source="([^"]+)"><svg', section)
        assert plots == [GROUND_TRUTH, *METHODS]
        assert section.count("top view") == section.count("side view") == len(plots)
        ground_truth_plot = re.search(r'data-source="gt">.*?</figure>', section, flags=re.DOTALL).group(0)
        assert [
            f"{ESTIMATOR} #{trial}: 8/8 frames registered" for trial in range(GROUND_TRUTH_TRIALS)
        ] == re.findall(rf"{ESTIMATOR} #\d+: [^<(]*registered", ground_truth_plot)


def test_unregistered_frames_are_marked_and_listed(report_html: str) -> None:
    first_clip = clip_sections(report_html)[0]
    frames = ", ".join(str(frame) for frame in UNREGISTERED_FRAMES)
    assert f"6/8 frames registered (not registered: {frames})" in first_clip
    assert "0/8 frames registered" in first_clip
    assert "frame not registered" in first_clip
    ground_truth_plot = re.search(r'data-source="gt">.*?</figure>', first_clip, flags=re.DOTALL).group(0)
    assert "frame not registered" not in ground_truth_plot


def test_failure_lists_hold_every_record_without_a_value_and_its_reason(
    built_run: BuiltRun, report_html: str
) -> None:
    for status in ("failed", "not_computed", "undefined"):
        expected = built_run.records[built_run.records["status"] == status]
        listed = status_list(report_html, status)
        assert sorted((row[2], row[3], row[6], row[7]) for row in listed) == sorted(
            zip(expected["clip"], expected["method"], expected["metric"], expected["reason"], strict=True)
        )
        assert all(row[7] for row in listed)
    assert "2 of 8 frames not registered (frames 3, 4)" in report_html


def test_summary_and_manifest(built_run: BuiltRun, report_html: str) -> None:
    assert f"mfbench report: {built_run.root.name}" in report_html
    assert "failed 6, not_computed 4, ok 10, undefined 1" in report_html
    manifest = report_html[report_html.index('<h2 id="manifest">') : report_html.index('<h2 id="tables">')]
    assert "<th>suite</th><td>smoke</td>" in manifest
    assert "<th>seeds</th><td>0, 1</td>" in manifest
    assert '<th>settings</th><td><table class="manifest">' in manifest
    assert "<th>preset</th><td>motionflow</td>" in manifest
    assert (
        "<code>[{&quot;count&quot;: 2, &quot;source&quot;: &quot;synthetic-indoor&quot;}]</code>" in manifest
    )


def test_tables_section_lists_tables_1_to_4(report_html: str) -> None:
    tables = report_html[report_html.index('<h2 id="tables">') : report_html.index('<h2 id="clips">')]
    for number in (1, 2, 3, 4):
        assert f"table {number}: not available (" in tables or f"<caption>Table {number}:" in tables
    assert "<caption>Table 1:" in tables
    assert "<caption>Camera errors against a still camera" in tables


def test_max_clips_caps_the_clips_but_not_the_failure_lists(built_run: BuiltRun, tmp_path: Path) -> None:
    html = write_report(built_run.root, out=tmp_path / "one.html", max_clips=1).read_text(encoding="utf-8")
    assert len(clip_sections(html)) == 1
    assert "Showing 1 of 2 clips" in html
    failed = status_list(html, "failed")
    assert len(failed) == int((built_run.records["status"] == "failed").sum())
    assert 'href="#clip-0">room-0</a>' in html
    assert 'href="#clip-1"' not in html
    none_shown = write_report(built_run.root, out=tmp_path / "none.html", max_clips=0).read_text(
        encoding="utf-8"
    )
    assert clip_sections(none_shown) == [] and embedded_videos(none_shown) == []


def test_default_target_is_written_atomically(built_run: BuiltRun, tmp_path: Path) -> None:
    run = _copy_run(built_run, tmp_path)
    path = write_report(run, max_clips=1)
    assert path == run / "report.html"
    assert [p.name for p in run.iterdir() if p.name.startswith(".report")] == []
    before = path.read_bytes()
    (run / "records" / "records.parquet").write_bytes(b"not parquet")
    with pytest.raises(ReportError, match="cannot read the records"):
        write_report(run)
    assert path.read_bytes() == before


def test_records_without_the_record_columns_are_refused(built_run: BuiltRun, tmp_path: Path) -> None:
    run = _copy_run(built_run, tmp_path)
    built_run.records.drop(columns=["status", "reason"]).to_parquet(run / "records" / "records.parquet")
    with pytest.raises(ReportError, match="missing column.*status, reason"):
        write_report(run)


def test_missing_and_unreadable_files_are_shown_not_fatal(built_run: BuiltRun, tmp_path: Path) -> None:
    run = _copy_run(built_run, tmp_path)
    key = KEYS[0]
    layout = RunLayout(run)
    (layout.video_dir("static", key) / VIDEO_FILE).unlink()
    layout.pose_file(ESTIMATOR, "motionflow", key, 0).write_text("{truncated")
    (layout.clip_dir(key) / CAMERA_FILE).unlink()
    (layout.video_dir("motionflow", key) / CAMERA_FILE).unlink()
    layout.records_file().rename(layout.records_file(shard=(0, 2)))
    html = write_report(run, max_clips=None).read_text(encoding="utf-8")
    first_clip = clip_sections(html)[0]
    assert f'<div class="placeholder">no {VIDEO_FILE}</div><figcaption>static</figcaption>' in first_clip
    motionflow_plot = re.search(r'data-source="motionflow">.*?</figure>', first_clip, flags=re.DOTALL).group(
        0
    )
    assert "no trajectory to draw" in motionflow_plot and "<svg" not in motionflow_plot
    assert (
        f"colmap #0: {layout.pose_file(ESTIMATOR, 'motionflow', key, 0).name} is unreadable"
        in motionflow_plot
    )
    assert first_clip.count(f"ground truth trajectory: no {CAMERA_FILE}") == 1 + len(METHODS)
    assert first_clip.count("<svg") == 2
    assert len(embedded_videos(html)) == 2 * (1 + len(METHODS)) - 1
    assert (
        f"records.parquet does not exist (1 shard file(s) but no merged records: run `mfbench merge --run {run}`)"
        in html
    )
    assert html.count("not available (") == 4


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_a_directory_that_is_not_a_run_is_refused(tmp_path: Path, make: str) -> None:
    target = tmp_path / "nothing"
    if make == "empty":
        target.mkdir()
    with pytest.raises(
        NotARunError, match="no such directory" if make == "missing" else "not a run directory"
    ):
        write_report(target)
    assert not (target / "report.html").exists()


def test_records_file_is_read_not_rebuilt(built_run: BuiltRun, tmp_path: Path) -> None:
    """The failure list follows the records file, not the pose files: an edited reason shows up."""
    run = _copy_run(built_run, tmp_path)
    records = pd.read_parquet(run / "records" / "records.parquet")
    records.loc[records["status"] == "failed", "reason"] = "edited <reason>"
    records.to_parquet(run / "records" / "records.parquet", index=False)
    html = write_report(run, max_clips=0).read_text(encoding="utf-8")
    assert {row[7] for row in status_list(html, "failed")} == {"edited <reason>"}
    assert "edited &lt;reason&gt;" in html
