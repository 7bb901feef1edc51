"""Records of several runs of one suite drawn with different seeds, pooled as one larger sample.

One seed's sample of a suite is often too small to tell two checkpoints' camera errors apart; runs with
other `--seed`s add independent videos. Their records are pooled per video: each clip id is qualified by
its run's seed (the RealEstate10K clips are the same in every seed, their videos are not), and the
set-level rows (FID, KID, FVD over one run's videos) are left out, since they do not pool."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from bench.runs.artifacts import read_meta
from bench.runs.layout import SET_LEVEL_CLIP, RunLayout
from bench.runs.records import load_run_records
from bench.runs.runner import EXTENDABLE_SETTINGS, RunError, read_suite
from bench.runs.suites import Suite

POOLABLE_DIFFERENCES = ("seed", *EXTENDABLE_SETTINGS)
"""Suite settings runs may differ in and still be pooled: anything else (a sampler setting, the camera
preset) would mix different measurements under one method's name."""
CHECKED_BY_FINGERPRINT = ("checkpoints",)
"""Suite settings compared through what they select instead of how they are spelt: a method's videos
record its fingerprint (its weights' hash, its sampler settings), so two folders holding the same weights
pool, and one folder retrained between the runs does not."""


def pool_run_records(run_dirs: Sequence[str | Path]) -> pd.DataFrame:
    """The per-video records of `run_dirs`, clip ids qualified as `clip@seedN`."""
    if not run_dirs:
        raise RunError("no runs to pool")
    layouts = [RunLayout(Path(run_dir)) for run_dir in run_dirs]
    suites = [read_suite(layout) for layout in layouts]
    seeds = [suite.seed for suite in suites]
    if len(set(seeds)) != len(seeds):
        raise RunError(f"runs to pool must have different seeds (the same seed is the same sample): {seeds}")
    first = _fixed_settings(suites[0])
    first_fingerprints = _method_fingerprints(layouts[0])
    for layout, suite in zip(layouts[1:], suites[1:], strict=True):
        differing = sorted(key for key, value in _fixed_settings(suite).items() if first[key] != value)
        if differing:
            raise RunError(
                f"{layout.root} differs from {layouts[0].root} in {', '.join(differing)}; only runs of one "
                f"suite that differ in {', '.join(POOLABLE_DIFFERENCES)} pool"
            )
        _check_same_models(layouts[0], suites[0], first_fingerprints, layout, suite)
    frames = []
    for layout, seed in zip(layouts, seeds, strict=True):
        records = load_run_records(layout)
        per_video = records[records["clip"] != SET_LEVEL_CLIP]
        frames.append(per_video.assign(clip=per_video["clip"] + f"@seed{seed}"))
    return pd.concat(frames, ignore_index=True)


def _fixed_settings(suite: Suite) -> dict:
    ignored = (*POOLABLE_DIFFERENCES, *CHECKED_BY_FINGERPRINT)
    return {key: value for key, value in asdict(suite).items() if key not in ignored}


def _method_fingerprints(layout: RunLayout) -> dict[str, set[str]]:
    """Each generating method's fingerprints, as the meta files of its finished videos record them."""
    fingerprints: dict[str, set[str]] = {}
    for meta_file in layout.video_meta_files():
        meta = read_meta(meta_file.parent)
        if meta is not None and "fingerprint" in meta:
            fingerprints.setdefault(meta["method"], set()).add(meta["fingerprint"])
    return fingerprints


def _check_same_models(
    first_layout: RunLayout,
    first_suite: Suite,
    first_fingerprints: dict[str, set[str]],
    layout: RunLayout,
    suite: Suite,
) -> None:
    """RunError where a method generated in both runs has other fingerprints in `layout`, or where the
    suites give a method different checkpoint folders and a run holds no video of it to compare."""
    fingerprints = _method_fingerprints(layout)
    for method in sorted(first_fingerprints.keys() & fingerprints.keys()):
        if first_fingerprints[method] != fingerprints[method]:
            raise RunError(
                f"{layout.root} generated {method} with other weights or sampler settings than "
                f"{first_layout.root} (its videos' fingerprints differ); pooled, two models would count as one"
            )
    moved = {
        method
        for method in first_suite.checkpoints.keys() | suite.checkpoints.keys()
        if first_suite.checkpoints.get(method) != suite.checkpoints.get(method)
    }
    unverified = sorted(
        method for method in moved if method not in first_fingerprints or method not in fingerprints
    )
    if unverified:
        raise RunError(
            f"{layout.root} differs from {first_layout.root} in checkpoints for {', '.join(unverified)}, and "
            "one of them holds no video of it whose fingerprint could show the weights are the same"
        )
