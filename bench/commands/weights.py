"""`mfbench weights list|verify|where`: the pretrained files the benchmark reads, and where from."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from baselines import METHODS
from motionflow.checkpoints import CHECKPOINTS_ROOT, bundled_checkpoints, checkpoint_path
from motionflow.checkpoints.depth import DEPTH_CHECKPOINT, depth_checkpoint_path, depth_weights_hash
from motionflow.models.video_denoiser import checkpoint_weights_hash
from motionflow.training.config import trained_method
from motionflow.weights import (
    DEFAULT_WEIGHTS_ROOT,
    WEIGHTS_ENV,
    WeightSpec,
    check_weights,
    registered_weights,
    weights_root,
)

SPEC_MODULES = ("bench.metrics.weight_specs", "motionflow.models.components", "baselines.checkpoint_keys")
"""Modules whose import registers WeightSpecs; every registered file is listed."""

app = typer.Typer(help="Pretrained weights: list them, verify checksums, show where they are read from.")

RootOption = Annotated[
    Path | None,
    typer.Option("--root", help=f"Weights root (default: ${WEIGHTS_ENV}, else {DEFAULT_WEIGHTS_ROOT})."),
]


def load_specs() -> list[WeightSpec]:
    for module in SPEC_MODULES:
        importlib.import_module(module)
    return registered_weights()


def _checksum_text(spec: WeightSpec) -> str:
    if spec.sha256:
        return spec.sha256
    if spec.sha256_prefix:
        return f"{spec.sha256_prefix}… (prefix)"
    return "-"


@app.command("list")
def list_command(root: RootOption = None) -> None:
    """Table of every registered file (name, file, size, SHA-256, source, present here?), then the
    bundled checkpoints."""
    load_specs()
    table = Table(title=f"weights under {weights_root(root)}")
    for column in ("name", "file", "size (bytes)", "sha256", "source", "present"):
        table.add_column(column, overflow="fold")
    for check in check_weights(root, verify=False):
        spec = check.spec
        size = str(spec.size_bytes) if spec.size_bytes is not None else ("folder" if spec.is_folder else "-")
        present = "yes" if check.present else "no"
        table.add_row(spec.name, spec.relative_path, size, _checksum_text(spec), spec.source, present)
    console = Console()
    console.print(table)
    console.print(bundled_checkpoints_table())


def bundled_checkpoints_table() -> Table:
    """The checkpoints shipped in the package: folder, the methods that run it by default (`--method`;
    else the method it was trained as), size and the hash run records name."""
    table = Table(title=f"bundled checkpoints under {CHECKPOINTS_ROOT}")
    for column in ("folder", "method", "size (MB)", "weights hash"):
        table.add_column(column, overflow="fold")
    for name in bundled_checkpoints():
        folder = checkpoint_path(name)
        methods = methods_running(name) or [trained_method(folder)]
        table.add_row(name, ", ".join(methods), _megabytes(folder), checkpoint_weights_hash(folder))
    depth_folder = depth_checkpoint_path()
    table.add_row(
        DEPTH_CHECKPOINT,
        "depth network (depth-warp)",
        _megabytes(depth_folder),
        depth_weights_hash(depth_folder),
    )
    return table


def methods_running(checkpoint: str) -> list[str]:
    """The registered methods whose default weights are the bundled folder `checkpoint`."""
    return [name for name in METHODS.names() if METHODS.get(name).bundled_checkpoint == checkpoint]


def _megabytes(folder: Path) -> str:
    """The size of every file under `folder`, in MB with one decimal."""
    return f"{sum(path.stat().st_size for path in folder.rglob('*') if path.is_file()) / 1e6:.1f}"


@app.command("verify")
def verify_command(root: RootOption = None) -> None:
    """Checks the size and SHA-256 of every present file; exits 1 if any does not match."""
    load_specs()
    console = Console()
    checks = check_weights(root, verify=True)
    for check in checks:
        if not check.present:
            status = "[yellow]missing[/]"
        elif check.problem:
            status = f"[red]MISMATCH[/] {check.problem}"
        elif check.verified:
            status = "[green]ok[/]"
        else:
            status = "present (no checksum registered)"
        console.print(f"{check.spec.name}: {status}", highlight=False)
    mismatched = [check for check in checks if check.problem]
    missing = [check for check in checks if not check.present]
    console.print(
        f"{len(checks) - len(missing)} of {len(checks)} present, {len(mismatched)} mismatched",
        highlight=False,
    )
    if mismatched:
        raise typer.Exit(code=1)


@app.command("where")
def where_command(root: RootOption = None) -> None:
    """The weights root, how to set it, and the expected path of every file."""
    load_specs()
    console = Console()
    if root is not None:
        origin = "--root"
    elif os.environ.get(WEIGHTS_ENV):
        origin = f"${WEIGHTS_ENV}"
    else:
        origin = "default"
    console.print(f"weights root: {weights_root(root)} (from {origin})", highlight=False)
    console.print(
        f"set it with `export {WEIGHTS_ENV}=/path/to/weights` or `--root`; files are never downloaded at run "
        "time: fetch each from its source and place it at the path below.",
        highlight=False,
    )
    for check in check_weights(root, verify=False):
        marker = "present" if check.present else "missing"
        console.print(
            f"{check.spec.name}: {check.path} ({marker}; source: {check.spec.source})",
            highlight=False,
            soft_wrap=True,
        )
