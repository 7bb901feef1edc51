"""Frame strips: one clip of a run as a PNG grid, ground truth above each method's video (frames in
columns), a picture for papers and READMEs where the HTML page's videos cannot go."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from bench.runs.layout import FRAMES_DIR, GROUND_TRUTH, RunLayout, VideoKey
from motionflow.data.video_io import read_frames
from motionflow.errors import MotionFlowError
from motionflow.utils.io import atomic_path

LABEL_WIDTH = 150
ROW_GAP = 4


def strip_columns(num_frames: int, count: int) -> list[int]:
    """`count` frame indices spread evenly from the first to the last frame."""
    return sorted({round(index) for index in np.linspace(0, num_frames - 1, min(count, num_frames))})


def write_frame_strip(
    run_dir: str | Path,
    key: VideoKey,
    methods: Sequence[str],
    path: str | Path,
    columns: int = 6,
    height: int = 96,
) -> Path:
    """Writes a PNG: the ground truth and each method's video of clip `key` (rows, labelled), `columns`
    frames each, scaled to `height` pixels. MotionFlowError naming the folder if a video is missing."""
    layout = RunLayout(Path(run_dir))
    rows = []
    for source in (GROUND_TRUTH, *methods):
        folder = layout.source_dir(source, key) / FRAMES_DIR
        if not folder.is_dir():
            raise MotionFlowError(f"{folder}: no frames of {source} for {'/'.join(key.parts)} in this run")
        rows.append((source, read_frames(folder)))
    return render_frame_strip(
        [("ground truth" if source == GROUND_TRUTH else source, frames) for source, frames in rows],
        path,
        columns,
        height,
    )


def render_frame_strip(
    rows: Sequence[tuple[str, np.ndarray]], path: str | Path, columns: int = 6, height: int = 96
) -> Path:
    """Writes a PNG of labelled videos (uint8 [F, H, W, 3]), one row each: `columns` frames spread over
    the first row's length, scaled to `height` pixels."""
    indices = strip_columns(len(rows[0][1]), columns)
    frame_height, frame_width = rows[0][1].shape[1:3]
    width = round(frame_width * height / frame_height)
    canvas = Image.new("RGB", (LABEL_WIDTH + len(indices) * width, len(rows) * (height + ROW_GAP)), "white")
    draw = ImageDraw.Draw(canvas)
    for row, (label, frames) in enumerate(rows):
        top = row * (height + ROW_GAP)
        draw.text((6, top + height // 2 - 6), label, fill="black")
        for column, index in enumerate(indices):
            if index < len(frames):
                tile = Image.fromarray(frames[index]).resize((width, height), Image.Resampling.BILINEAR)
                canvas.paste(tile, (LABEL_WIDTH + column * width, top))
    with atomic_path(path) as temporary:
        canvas.save(temporary, format="PNG", optimize=True)
    return Path(path)
