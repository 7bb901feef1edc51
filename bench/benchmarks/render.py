"""Synthetic renderer benchmark: seconds per clip (scene set-up + ray casting) for a few configurations.

Run as `python -m bench.benchmarks.render`. Times are medians over seeds 0..N-1 after one untimed
warm-up (which loads the scikit-image pictures once per process); the renderer is numpy on one core."""

from __future__ import annotations

import time

from bench.benchmarks.camera import median_seconds
from motionflow.data.synthetic import render_synthetic_clip, synthetic_setup

CONFIGS = [
    ("indoor", "re10k", 16, (256, 256)),
    ("outdoor", "re10k", 16, (256, 256)),
    ("textureless", "re10k", 16, (256, 256)),
    ("indoor", "orbit", 16, (256, 384)),
    ("outdoor", "rotation", 16, (256, 384)),
    ("indoor", "re10k", 128, (256, 256)),
]
REPEATS = 5


def seconds_per_clip(
    scene: str, path: str, num_frames: int, image_size: tuple[int, int], setup_only: bool
) -> float:
    """Median over seeds: every repeat renders a different scene, as a dataset build does."""
    seeds = iter(range(REPEATS + 1))
    function = synthetic_setup if setup_only else render_synthetic_clip
    return median_seconds(lambda: function(scene, path, num_frames, image_size, next(seeds)), repeats=REPEATS)


def main() -> None:
    print(f"synthetic renderer, numpy, median over {REPEATS} seeds")
    print(
        f"{'scene':<12} {'path':<9} {'frames':>6} {'H x W':>9} {'clip s':>8} {'set-up s':>9} {'ms/frame':>9}"
    )
    started = time.perf_counter()
    for scene, path, num_frames, image_size in CONFIGS:
        total = seconds_per_clip(scene, path, num_frames, image_size, setup_only=False)
        setup = seconds_per_clip(scene, path, num_frames, image_size, setup_only=True)
        per_frame = (total - setup) / num_frames * 1e3
        size = f"{image_size[0]}x{image_size[1]}"
        print(
            f"{scene:<12} {path:<9} {num_frames:>6} {size:>9} {total:>8.2f} {setup:>9.2f} {per_frame:>9.1f}"
        )
    print(f"(benchmark took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
