"""Trains a base and one method on it within a wall-clock budget (a lent GPU with fixed time): each run
trains in chunks of `optim.checkpoint_every` steps until its deadline, and a phase still unfinished
then ends at its latest checkpoint, the later phases dropped. Every phase's learning rate is constant
after warm-up, so that run is the one its config gives with the steps it reached, and its
`training_config.json` records them. Then the method's compact checkpoint folder, as train_bundled.

    python bench/train_timed.py --out runs/timed --base-seconds 250 --seconds 500 \\
        --set data.num_clips=2048 --set optim.batch_size=64 \\
        --steps pretrain=2000,stage1=150,stage2=20000 --bundle bundle

`--set KEY=VALUE` (a dotted settings key, a JSON value or a plain string) applies to both runs,
`--method-set` to the method's only; the configs used are written to OUT/configs/*.json."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.bundle_run import bundle_run
from bench.train_bundled import BASE_CONFIG, overridden, parse_steps
from motionflow.training import Trainer, TrainingConfig, load_training_config
from motionflow.training.config import TRAINING_CONFIG_FILE, merge_settings
from motionflow.training.trainer import MODEL_FOLDER
from motionflow.utils.io import atomic_write_json


def parse_assignments(items: list[str]) -> dict[str, Any]:
    """['optim.batch_size=64', 'data.cache=runs/c'] as nested settings ({'optim': {'batch_size': 64}, ...})."""
    settings: dict[str, Any] = {}
    for item in items:
        key, separator, text = item.partition("=")
        if not separator or not key:
            raise SystemExit(f"--set {item!r}: expected KEY=VALUE")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        for name in reversed(key.split(".")):
            value = {name: value}
        settings = merge_settings(settings, value)
    return settings


def ended_at_latest_checkpoint(config: TrainingConfig, reached: dict[str, int]) -> TrainingConfig:
    """`config` with each phase ending at the step it `reached` (a completed phase at its own steps, the
    first unfinished one at its latest checkpoint: `Trainer.resume_points`), the phases after the first
    unfinished one dropped, and a phase with no step reached dropped too."""
    phases = []
    for phase in config.to_dict()["phases"]:
        steps = reached[phase["name"]]
        if steps:
            phases.append({**phase, "steps": steps})
        if steps < phase["steps"]:
            break
    if not phases:
        raise ValueError("no phase reached a checkpoint before its deadline")
    return TrainingConfig.from_dict({**config.to_dict(), "phases": phases})


def train_until(config: TrainingConfig, run: Path, deadline: float) -> None:
    """Trains `config` into `run` until it is complete or the next chunk would pass `deadline`
    (time.monotonic), then completes it as ended at its latest checkpoint. The first chunk also renders
    and encodes the clips, so the time a chunk takes is read from the second on."""
    trainer = Trainer(config, run, resume=True, progress=False)
    chunk = config.optim.checkpoint_every
    for chunks in itertools.count(1):
        started = time.monotonic()
        if trainer.run(max_steps=chunk).complete:
            return
        now = time.monotonic()
        if chunks > 1 and now + (now - started) > deadline:
            break
    try:
        ended = ended_at_latest_checkpoint(config, trainer.resume_points())
    except ValueError as error:
        raise SystemExit(f"{run}: {error}") from None
    summary = ", ".join(f"{phase.name} {phase.steps}" for phase in ended.phases)
    print(f"{run.name}: deadline reached; ends at {summary} steps", flush=True)
    atomic_write_json(run / TRAINING_CONFIG_FILE, ended.to_dict())
    Trainer(ended, run, resume=True, progress=False).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--method", default="motionflow-small")
    parser.add_argument("--steps", default="", help="phase=steps,... overrides")
    parser.add_argument("--set", action="append", default=[], help="KEY=VALUE for both runs")
    parser.add_argument("--method-set", action="append", default=[], help="KEY=VALUE for the method")
    parser.add_argument("--base-seconds", type=float, required=True, help="the base's deadline")
    parser.add_argument("--seconds", type=float, required=True, help="the method's deadline")
    parser.add_argument("--bundle", type=Path, default=None, help="write the compact checkpoint here")
    args = parser.parse_args()
    started = time.monotonic()
    out, steps = args.out.resolve(), parse_steps(args.steps)
    settings = parse_assignments(args.set)
    method_settings = merge_settings(settings, parse_assignments(args.method_set))
    for name, these, seconds in (
        (BASE_CONFIG, settings, args.base_seconds),
        (args.method, method_settings, args.seconds),
    ):
        config = load_training_config(overridden(name, out, these, steps))
        train_until(config, out / name, started + seconds)
        print(f"[{time.monotonic() - started:.0f} s] {name} complete", flush=True)
    if not (out / args.method / MODEL_FOLDER).is_dir():
        sys.exit(f"{out / args.method}: no model was written")
    if args.bundle is not None:
        bundle_run(out / args.method, args.bundle / args.method, args.bundle / "small-shared")


if __name__ == "__main__":
    main()
