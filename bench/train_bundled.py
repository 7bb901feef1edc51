"""Trains every bundled small checkpoint: the shared base (configs/small-base.toml), then MotionFlow-small,
its three Table 4 ablations and the baselines on that base, all at the same budget, the method runs
side by side (one process each: small models leave a GPU mostly idle, so they share it well).

    python bench/train_bundled.py --out runs --parallel 2 --bundle motionflow/checkpoints
    python bench/train_bundled.py --out runs/probe --num-clips 256 --steps pretrain=50,stage1=20,stage2=20

`--num-clips` and `--steps` override the configs (a quick trial of the whole schedule); the configs
used are written to OUT/configs/*.json. Prints each run's phases with steps per second and losses;
`--bundle DIR` then writes the compact checkpoint folders (float16, shared frozen weights) into DIR."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.bundle_run import bundle_run
from motionflow.training.config import load_training_config, merge_settings

BASE_CONFIG = "small-base"
METHOD_CONFIGS = (
    "motionflow-small",
    "motionflow-small-no-refnet",
    "motionflow-small-no-semantic",
    "motionflow-small-no-sd-init",
    "cameractrl-small",
    "cameractrl-ic-small",
    "motionctrl-small",
    "animatediff-small",
)
TRAIN_SCRIPT = (
    "import sys; from motionflow.training import load_training_config, train; "
    "train(load_training_config(sys.argv[1]), sys.argv[2], resume=True, progress=False)"
)


def overridden(name: str, out: Path, settings: dict[str, Any], steps: dict[str, int]) -> Path:
    """The settings of config `name` with `settings` merged in, `steps` per phase and `model.base` (if
    any) pointed at OUT's base run, written to OUT/configs/<name>.json."""
    values = merge_settings(load_training_config(name).to_dict(), settings)
    values["phases"] = [
        {**phase, "steps": steps.get(phase["name"], phase["steps"])} for phase in values["phases"]
    ]
    if values["model"]["base"]:
        values["model"]["base"] = str(out / BASE_CONFIG)
    path = out / "configs" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values, indent=2))
    return path


def parse_steps(text: str) -> dict[str, int]:
    """'pretrain=1000,stage2=500' as {phase: steps}."""
    return {key: int(value) for key, value in (item.split("=") for item in text.split(",") if item)}


def launch(config: Path, run: Path) -> subprocess.Popen:
    with (run.parent / f"{run.name}.log").open("w") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-c", TRAIN_SCRIPT, str(config), str(run)], stdout=log, stderr=subprocess.STDOUT
        )


def latest_step(run: Path) -> str:
    """'phase step' of the last logged optimizer step of a run, or '-' before its first."""
    losses = run / "losses.csv"
    if not losses.is_file():
        return "-"
    lines = losses.read_text().splitlines()
    return " ".join(lines[-1].split(",")[:2]) if len(lines) > 1 else "-"


def wait_reporting(runs: dict[str, subprocess.Popen], out: Path, every: float) -> list[str]:
    """Waits for the runs, printing each one's latest step every `every` seconds (a cut-off job still
    shows where each run was); returns the names of those that failed."""
    while True:
        try:
            for process in runs.values():
                process.wait(timeout=every)
            break
        except subprocess.TimeoutExpired:
            status = ", ".join(f"{name}: {latest_step(out / name)}" for name in runs)
            print(f"[{time.strftime('%H:%M:%S')}] {status}", flush=True)
    return [name for name, process in runs.items() if process.returncode != 0]


def phase_rows(run: Path) -> list[dict[str, Any]]:
    summary = run / "summary.json"
    if not summary.is_file():
        return []
    rows = []
    for phase, values in json.loads(summary.read_text())["phases"].items():
        rows.append(
            {
                "run": run.name,
                "phase": phase,
                "steps": values["steps"],
                "seconds": values["seconds"],
                "steps_per_s": values["steps"] / max(values["seconds"], 1e-9),
                "first_loss": values["first_loss_mean"],
                "last_loss": values["last_loss_mean"],
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--num-clips", type=int, default=None)
    parser.add_argument("--steps", default="", help="phase=steps,... overrides")
    parser.add_argument("--methods", default=",".join(METHOD_CONFIGS))
    parser.add_argument("--parallel", type=int, default=len(METHOD_CONFIGS), help="method runs at a time")
    parser.add_argument("--bundle", type=Path, default=None, help="write compact checkpoint folders here")
    parser.add_argument("--report-every", type=float, default=60.0, help="seconds between progress lines")
    args = parser.parse_args()
    steps = parse_steps(args.steps)
    settings = {} if args.num_clips is None else {"data": {"num_clips": args.num_clips}}
    out = args.out.resolve()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")

    started = time.monotonic()
    base = launch(overridden(BASE_CONFIG, out, settings, steps), out / BASE_CONFIG)
    if wait_reporting({BASE_CONFIG: base}, out, args.report_every):
        sys.exit(f"base run failed: see {out / BASE_CONFIG}.log")
    print(f"base done after {time.monotonic() - started:.0f} s", flush=True)
    methods = [name for name in args.methods.split(",") if name]
    failed = []
    for first in range(0, len(methods), args.parallel):
        wave = methods[first : first + args.parallel]
        runs = {name: launch(overridden(name, out, settings, steps), out / name) for name in wave}
        failed += wait_reporting(runs, out, args.report_every)
    print(f"all done after {time.monotonic() - started:.0f} s; failed: {failed or 'none'}", flush=True)
    print(
        f"{'run':30s} {'phase':12s} {'steps':>6s} {'s':>7s} {'steps/s':>8s} {'loss first':>10s} {'last':>7s}"
    )
    for name in (BASE_CONFIG, *methods):
        for row in phase_rows(out / name):
            print(
                f"{row['run']:30s} {row['phase']:12s} {row['steps']:6d} {row['seconds']:7.0f} "
                f"{row['steps_per_s']:8.2f} {row['first_loss']:10.4f} {row['last_loss']:7.4f}"
            )
    if args.bundle is not None:
        for name in methods:
            if name not in failed:
                bundle_run(out / name, args.bundle / name, args.bundle / "small-shared")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
