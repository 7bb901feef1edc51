"""The report: one self-contained HTML page of a run (tables, videos side by side, trajectory plots,
failure lists). Everything is embedded (videos as base64 MP4, plots as inline SVG), so the file can be
mailed or archived and opened offline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from pathlib import Path

import numpy as np
from rich.progress import track

from bench.report.embed import data_uri, mp4_data_uri, png_data_uri
from bench.report.failures import failures_html
from bench.report.plots import Path3D, full_path, trajectory_plot_svg
from bench.report.registration import registration_table, run_registrations
from bench.report.run_contents import (
    Loaded,
    RunContents,
    ground_truth_trajectory,
    load_run,
    pose_trials,
    requested_trajectory,
)
from bench.report.tables_html import report_table_html, run_tables, table_to_html
from bench.runs.layout import CAMERA_FILE, FRAMES_DIR, GROUND_TRUTH, VIDEO_FILE, VideoKey
from bench.tables.still_camera import still_camera_table
from motionflow.data.video_io import read_video
from motionflow.errors import VideoError
from motionflow.utils.io import atomic_write_text

DEFAULT_MAX_CLIPS = 12
"""Clips shown with videos and plots. A 16-frame 256x384 clip (about 0.14 MB as base64 MP4) with three
methods and their trajectory plots (about 30 kB each) adds about 0.7 MB to the page."""
VIDEO_WIDTH_PX = 256
IMAGE_MIME_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

STYLE = f"""
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; background: #fff; }}
h1 {{ margin-bottom: 0.2em; }} h2 {{ border-bottom: 1px solid #ccc; margin-top: 1.6em; }}
table {{ border-collapse: collapse; margin: 0.6em 0; font-size: 0.85em; }}
th, td {{ border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }}
thead th {{ background: #f0f0f0; text-align: center; }}
table.results td, table.results th[scope="row"] {{ text-align: right; white-space: nowrap; }}
table.results th[scope="row"] {{ text-align: left; }}
table.results td.missing {{ white-space: normal; min-width: 8em; max-width: 16em; font-size: 0.9em; }}
.table-scroll {{ overflow-x: auto; }}
table.manifest table.manifest {{ margin: 0; font-size: 1em; }}
table.results caption {{ font-weight: bold; text-align: left; padding: 0.3em 0; }}
tr.published {{ font-style: italic; color: #555; }}
td.missing, .unavailable, .problem {{ color: #a33; }}
.clip {{ border-top: 1px solid #ddd; padding-top: 0.6em; }}
.videos, .plots {{ display: flex; flex-wrap: wrap; gap: 0.8em; align-items: flex-start; }}
figure {{ margin: 0; }} figcaption {{ font-size: 0.8em; max-width: 46em; }}
.videos figure {{ width: {VIDEO_WIDTH_PX}px; }} .videos video, .videos img {{ width: {VIDEO_WIDTH_PX}px; display: block; }}
.placeholder {{ width: {VIDEO_WIDTH_PX}px; height: 120px; background: #eee; color: #a33; font-size: 0.8em;
  display: flex; align-items: center; justify-content: center; text-align: center; }}
.plots svg {{ width: 600px; height: auto; }} .plots figure {{ width: 600px; }}
code {{ font-size: 0.85em; }}
"""


def write_report(
    run_dir: str | Path,
    out: str | Path | None = None,
    max_clips: int | None = DEFAULT_MAX_CLIPS,
    show_progress: bool = False,
) -> Path:
    """Writes the report of `run_dir` to `out` (default RUN/report.html) atomically; returns its path.

    `max_clips` caps the clips shown with videos and plots (None: all); tables and failure lists
    always cover the whole run. NotARunError / ReportError when the run cannot be read."""
    if max_clips is not None and max_clips < 0:
        raise ValueError(f"max_clips must be >= 0 or None, got {max_clips}")
    run = load_run(run_dir)
    target = Path(out) if out is not None else run.layout.report
    return atomic_write_text(target, render_report(run, max_clips, show_progress))


def render_report(
    run: RunContents, max_clips: int | None = DEFAULT_MAX_CLIPS, show_progress: bool = False
) -> str:
    shown = run.keys if max_clips is None else run.keys[:max_clips]
    anchors = {key: f"clip-{index}" for index, key in enumerate(shown)}
    clip_sections = [
        _clip_html(run, key, anchors[key])
        for key in track(shown, description="report: clips", disable=not show_progress)
    ]
    tables = "".join(report_table_html(entry) for entry in run_tables(run.records, run.records_note))
    tables += _registration_html(run)
    still_camera = still_camera_table(run.records)
    if still_camera is not None:
        tables += table_to_html(still_camera)
    if len(shown) < len(run.keys):
        clips_note = f"<p>Showing {len(shown)} of {len(run.keys)} clips (raise the cap with --max-clips).</p>"
    else:
        clips_note = "" if run.keys else "<p>The run has no clips yet.</p>"
    body = (
        _header_html(run, len(shown))
        + f'<h2 id="tables">Tables</h2>{tables}'
        + f'<h2 id="clips">Videos and trajectories</h2>{clips_note}{"".join(clip_sections)}'
        + f'<h2 id="failures">Failures</h2>{failures_html(run.records, anchors)}'
    )
    title = f"mfbench report: {escape(run.name)}"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{STYLE}</style></head>"
        f"<body><h1>{title}</h1>{body}</body></html>\n"
    )


def _registration_html(run: RunContents) -> str:
    registrations = run_registrations(run)
    if not registrations:
        return '<p class="unavailable">registered frames: not available (no pose estimates)</p>'
    return table_to_html(registration_table(registrations))


def _header_html(run: RunContents, clips_shown: int) -> str:
    records = run.records
    if len(records):
        counts = records["status"].value_counts().sort_index()
        records_text = (
            f"{len(records)} (" + ", ".join(f"{status} {count}" for status, count in counts.items()) + ")"
        )
    else:
        records_text = run.records_note
    summary = [
        ("run directory", str(run.layout.root.resolve())),
        ("clips", f"{len(run.keys)} ({clips_shown} shown)"),
        ("methods", ", ".join(run.methods) or "none"),
        ("pose estimators", ", ".join(run.estimators) or "none"),
        ("records", records_text),
    ]
    rows = "".join(f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>" for name, value in summary)
    html = f'<table class="summary">{rows}</table>'
    if run.manifest.problem:
        html += f'<p class="problem">{escape(run.manifest.problem)}</p>'
    elif run.manifest.value is not None:
        html += f'<h2 id="manifest">Manifest</h2>{_manifest_value_html(run.manifest.value)}'
    else:
        html += "<p>The run has no manifest.json.</p>"
    return html


def _manifest_value_html(value: object) -> str:
    """Objects as nested tables, lists of plain values inline, anything else as compact JSON."""
    if isinstance(value, dict):
        rows = "".join(
            f"<tr><th>{escape(str(name))}</th><td>{_manifest_value_html(item)}</td></tr>"
            for name, item in value.items()
        )
        return f'<table class="manifest">{rows}</table>'
    if isinstance(value, list) and all(not isinstance(item, (dict, list)) for item in value):
        return escape(", ".join(str(item) for item in value))
    if isinstance(value, list):
        return f"<code>{escape(json.dumps(value, sort_keys=True, default=str))}</code>"
    return escape(str(value))


def _clip_html(run: RunContents, key: VideoKey, anchor: str) -> str:
    layout = run.layout
    clip_dir = layout.clip_dir(key)
    figures = [
        _reference_frame_html(clip_dir),
        _video_html("ground truth", clip_dir / VIDEO_FILE),
        *(_video_html(method, layout.video_dir(method, key) / VIDEO_FILE) for method in run.methods),
    ]
    reference = ground_truth_trajectory(layout, key)
    plots = [_plot_html(run, GROUND_TRUTH, key, reference)]
    plots += [_plot_html(run, method, key, reference) for method in run.methods]
    title = escape(" / ".join(key.parts))
    return (
        f'<section class="clip" id="{anchor}"><h3>{title}</h3>'
        f'<div class="videos">{"".join(figures)}</div><div class="plots">{"".join(plots)}</div></section>'
    )


def _reference_frame_html(clip_dir: Path) -> str:
    """Frame 0 of the ground truth: the image every method starts from."""
    caption = "reference frame (ground truth frame 0)"
    frames_dir = clip_dir / FRAMES_DIR
    frame_files = (
        sorted(path for path in frames_dir.iterdir() if path.suffix.lower() in IMAGE_MIME_TYPES)
        if frames_dir.is_dir()
        else []
    )
    if frame_files:
        uri = data_uri(frame_files[0].read_bytes(), IMAGE_MIME_TYPES[frame_files[0].suffix.lower()])
    else:
        try:
            uri = png_data_uri(read_video(clip_dir / VIDEO_FILE)[0])
        except VideoError as error:
            return _placeholder(caption, f"no frames: {error}")
    return f'<figure><img src="{uri}" alt="{caption}"><figcaption>{caption}</figcaption></figure>'


def _video_html(label: str, path: Path) -> str:
    if not path.is_file():
        return _placeholder(label, f"no {VIDEO_FILE}")
    return (
        f'<figure><video src="{mp4_data_uri(path)}" autoplay loop muted playsinline preload="auto" '
        f'title="{escape(label)}"></video><figcaption>{escape(label)}</figcaption></figure>'
    )


def _placeholder(label: str, problem: str) -> str:
    return (
        f'<figure><div class="placeholder">{escape(problem)}</div>'
        f"<figcaption>{escape(label)}</figcaption></figure>"
    )


def _plot_html(run: RunContents, source: str, key: VideoKey, reference: Loaded) -> str:
    """Ground truth vs. every estimate of the video of `source`, with a caption per estimate."""
    source_label = "ground truth video" if source == GROUND_TRUTH else source
    trials = pose_trials(run.layout, source, key)
    requested = None if source == GROUND_TRUTH else requested_trajectory(run.layout, source, key)
    notes = (
        []
        if reference.value is not None
        else [f"ground truth trajectory: {reference.problem or 'no ' + CAMERA_FILE}"]
    )
    if requested is not None and requested.problem:
        notes.append(f"requested trajectory: {requested.problem}")
    estimates: list[Path3D] = []
    for trial in trials:
        label = f"{trial.estimator} #{trial.trial}"
        estimate = trial.estimate.value
        if estimate is None:
            notes.append(f"{label}: {trial.estimate.problem}")
            continue
        estimates.append(Path3D(label, estimate.c2w, estimate.registered))
        notes.append(_estimate_note(label, estimate.registered, estimate.failure_reason))
    if not trials:
        notes.append("no pose estimates")
    reference_path = None if reference.value is None else full_path("ground truth", reference.value.c2w)
    requested_path = _requested_path(requested, reference)
    title = f"{source_label}: {' / '.join(key.parts)}"
    if reference_path is None and requested_path is None and not estimates:
        svg = f'<div class="placeholder">{escape(title)}: no trajectory to draw</div>'
    else:
        svg = trajectory_plot_svg(title, reference_path, estimates, requested_path)
    items = "".join(f"<li>{escape(note)}</li>" for note in notes)
    return (
        f'<figure class="trajectory" data-source="{escape(source)}">{svg}'
        f"<figcaption><ul>{items}</ul></figcaption></figure>"
    )


def _requested_path(requested: Loaded | None, reference: Loaded) -> Path3D | None:
    """The trajectory a method was asked to follow, drawn only where it is not the ground truth."""
    if requested is None or requested.value is None:
        return None
    c2w = requested.value.c2w
    if (
        reference.value is not None
        and reference.value.c2w.shape == c2w.shape
        and np.allclose(reference.value.c2w, c2w)
    ):
        return None
    return full_path("requested", c2w)


def _estimate_note(label: str, registered: np.ndarray, failure_reason: str | None) -> str:
    note = f"{label}: {int(registered.sum())}/{len(registered)} frames registered"
    missing = np.flatnonzero(~registered)
    if len(missing):
        note += f" (not registered: {_frame_list(missing)})"
    if registered.any() and not registered[0]:
        note += f"; drawn relative to frame {int(np.flatnonzero(registered)[0])}"
    if failure_reason:
        note += f"; failed: {failure_reason}"
    return note


def _frame_list(indices: Sequence[int]) -> str:
    return ", ".join(str(int(index)) for index in indices)
