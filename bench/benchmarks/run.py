"""Wall time of `mfbench run --suite smoke` split by stage, and the share the harness itself costs.

"inner" is time inside the calls a stage exists for: the methods' `generate`, the pose estimator (its
per-video seconds divided by the worker count), the metric computations; "data" is loading the ground
truth (rendering the synthetic scenes, decoding dataset videos). The rest of a stage's wall time (PNG/MP4
encoding, hashing, reading, worker start-up, records, tables, report) is harness overhead; the target is
under 10% of the total."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.runs.layout import RunLayout
from bench.runs.runner import run_suite
from bench.runs.suites import SUITES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="smoke")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="mfbench-bench-run-") as scratch:
        started = time.perf_counter()
        layout = run_suite(
            SUITES.get(args.suite), Path(scratch), jobs=args.jobs, console=Console(stderr=True, quiet=True)
        )
        total = time.perf_counter() - started
        timings = json.loads(RunLayout(layout.root).timings_file().read_text())
    table = Table(title=f"mfbench run --suite {args.suite} (cold, {total:.1f} s)")
    for column in ("stage", "wall s", "inner s", "data s", "harness s", "harness % of total"):
        table.add_column(column, justify="right" if column != "stage" else "left")
    harness_total = 0.0
    for stage, timing in timings.items():
        harness = max(0.0, timing["wall_seconds"] - timing["inner_seconds"] - timing["data_seconds"])
        harness_total += harness
        table.add_row(
            stage,
            f"{timing['wall_seconds']:.1f}",
            f"{timing['inner_seconds']:.1f}",
            f"{timing['data_seconds']:.1f}",
            f"{harness:.1f}",
            f"{100 * harness / total:.1f}",
        )
    unaccounted = total - sum(timing["wall_seconds"] for timing in timings.values())
    table.add_row(
        "start-up and planning",
        f"{unaccounted:.1f}",
        "0.0",
        "0.0",
        f"{unaccounted:.1f}",
        f"{100 * unaccounted / total:.1f}",
    )
    harness_total += unaccounted
    console.print(table)
    console.print(f"harness share: {100 * harness_total / total:.1f}% of {total:.1f} s (target < 10%)")


if __name__ == "__main__":
    main()
