"""The report in a real browser (Debian's headless chromium): videos decode and play, plots are painted."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.report.page import VIDEO_WIDTH_PX
from bench.report.plots import ESTIMATE_COLOURS

from .run_builder import IMAGE_SIZE, KEYS, METHOD_COLOURS, METHODS

CHROMIUM = next((path for path in map(shutil.which, ("chromium", "chromium-browser")) if path), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium binary on PATH (Debian: apt-get install chromium): the browser check cannot run",
)

WINDOW = (1280, 4000)
VIDEO_COUNT = len(KEYS) * (1 + len(METHODS))
PLOT_COUNT = len(KEYS) * (1 + len(METHODS))

RENDER_CHECK = """<pre id="render-check">pending</pre><script>
setInterval(() => {
  const videos = [...document.querySelectorAll("video")].map((video) => ({
    readyState: video.readyState, width: video.videoWidth, height: video.videoHeight,
    error: video.error ? video.error.code : null }));
  const plots = [...document.querySelectorAll("figure.trajectory svg")].map((svg) => {
    const box = svg.getBoundingClientRect();
    return { width: box.width, height: box.height, paths: svg.querySelectorAll("path").length };
  });
  document.getElementById("render-check").textContent = JSON.stringify({ videos, plots });
}, 50);
</script>"""
"""Written into a copy of the report: the state of every video and plot, for --dump-dom to return."""


ATTEMPTS = 3
"""Headless chromium's virtual time can run out before a busy machine has decoded the videos, so a
check that fails is repeated with a fresh browser; a page whose videos cannot play fails every time."""


def _chromium(profile: Path, *arguments: str) -> str:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--virtual-time-budget=10000",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        *arguments,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _page(report_html: str, path: Path) -> str:
    path.write_text(report_html, encoding="utf-8")
    return path.resolve().as_uri()


def _render_state(url: str, tmp_path: Path) -> dict:
    for attempt in range(ATTEMPTS):
        dom = _chromium(tmp_path / f"profile-{attempt}", "--dump-dom", url)
        found = re.search(r'<pre id="render-check">(.*?)</pre>', dom, flags=re.DOTALL)
        state = json.loads(unescape(found.group(1)))
        if all(video["readyState"] >= 2 for video in state["videos"]):
            break
    return state


def test_every_video_decodes_and_every_plot_is_laid_out(report_html: str, tmp_path: Path) -> None:
    url = _page(report_html.replace("</body>", RENDER_CHECK + "</body>"), tmp_path / "check.html")
    state = _render_state(url, tmp_path)
    height, width = IMAGE_SIZE
    assert len(state["videos"]) == VIDEO_COUNT
    for video in state["videos"]:
        assert video["error"] is None and video["readyState"] >= 2, video
        assert (video["height"], video["width"]) == (height, width)
    assert len(state["plots"]) == PLOT_COUNT
    for plot in state["plots"]:
        assert plot["width"] > 300 and plot["height"] > 100 and plot["paths"] > 10, plot


def _pixels_near(image: np.ndarray, colour: tuple[int, int, int], tolerance: int) -> int:
    return int((np.abs(image.astype(np.int32) - np.array(colour)).max(axis=-1) <= tolerance).sum())


def _hex_colour(text: str) -> tuple[int, int, int]:
    return tuple(int(text[index : index + 2], 16) for index in (1, 3, 5))


def _painted_videos(image: np.ndarray) -> dict[str, int]:
    """Pixels of each method's flat colour: only its videos have it."""
    return {method: _pixels_near(image, colour, tolerance=40) for method, colour in METHOD_COLOURS.items()}


def test_screenshot_shows_the_videos_and_the_plots(report_html: str, tmp_path: Path) -> None:
    url = _page(report_html, tmp_path / "report.html")
    video_area = VIDEO_WIDTH_PX * VIDEO_WIDTH_PX * IMAGE_SIZE[0] // IMAGE_SIZE[1]
    for attempt in range(ATTEMPTS):
        screenshot = tmp_path / f"report-{attempt}.png"
        _chromium(tmp_path / f"profile-{attempt}", f"--screenshot={screenshot}", url)
        image = np.asarray(Image.open(screenshot).convert("RGB"))
        painted = _painted_videos(image)
        if all(pixels > 0.6 * video_area * len(KEYS) for pixels in painted.values()):
            break
    assert image.shape == (WINDOW[1], WINDOW[0], 3)
    assert image.reshape(-1, 3).std(axis=0).max() > 20, "the page is blank"
    for method, pixels in painted.items():
        assert pixels > 0.6 * video_area * len(KEYS), f"{method} videos not painted ({pixels} pixels)"
    estimate_line = _pixels_near(image, _hex_colour(ESTIMATE_COLOURS[0]), tolerance=30)
    assert estimate_line > 200, (
        f"trajectory plots not painted ({estimate_line} pixels of the estimate colour)"
    )
