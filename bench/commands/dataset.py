"""`mfbench dataset`: build synthetic datasets, export the bundled real clips, list a dataset folder."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench.commands.failure import command_error
from motionflow.data.build import (
    DEFAULT_PATH_WEIGHTS,
    DEFAULT_SPLITS,
    LAYOUTS,
    MANIFEST,
    build_synthetic_dataset,
)
from motionflow.data.bundled import export_bundled_re10k
from motionflow.data.clips import ClipInfo
from motionflow.data.datasets import open_dataset
from motionflow.data.synthetic import PATH_KINDS, SCENE_KINDS
from motionflow.errors import MotionFlowError

app = typer.Typer(
    help="Build, export and inspect datasets of clips (frames + cameras).", no_args_is_help=True
)
build_app = typer.Typer(help="Build a dataset.", no_args_is_help=True)
app.add_typer(build_app, name="build")

USER_ERRORS = (MotionFlowError, ValueError, FileNotFoundError)


def parse_size(text: str) -> tuple[int, int]:
    """'256x384' -> (256, 384), height first."""
    height, separator, width = text.lower().partition("x")
    try:
        size = (int(height), int(width))
    except ValueError:
        size = (0, 0)
    if not separator or min(size) < 1:
        raise typer.BadParameter(f"expected HxW with positive whole numbers, e.g. 256x384; got {text!r}")
    return size


def parse_weights(text: str, option: str) -> dict[str, float]:
    """'a=0.6,b=0.4' or 'a,b' (equal weights) -> {name: weight}."""
    weights = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, separator, value = item.partition("=")
        try:
            weights[name] = float(value) if separator else 1.0
        except ValueError:
            raise typer.BadParameter(f"{item!r}: weight is not a number", param_hint=option) from None
    if not weights:
        raise typer.BadParameter("expected NAME[=WEIGHT],...", param_hint=option)
    return weights


def _format_weights(weights: dict[str, float]) -> str:
    return ",".join(f"{name}={value:g}" for name, value in weights.items())


@build_app.command("synthetic")
def build_synthetic(
    out: Annotated[Path, typer.Option(help="Dataset folder (new or empty, or a partial build to resume).")],
    clips: Annotated[int, typer.Option(min=1, help="Number of clips over all splits.")] = 100,
    frames: Annotated[int, typer.Option(min=1, help="Frames per clip (the whole camera path).")] = 128,
    size: Annotated[str, typer.Option(help="Frame size HxW.")] = "256x256",
    seed: Annotated[int, typer.Option(min=0, help="Seed of the whole dataset.")] = 0,
    layout: Annotated[str, typer.Option(help=f"On-disk layout: {', '.join(LAYOUTS)}.")] = "re10k",
    splits: Annotated[str, typer.Option(help="Splits and fractions.")] = _format_weights(DEFAULT_SPLITS),
    scenes: Annotated[
        str | None,
        typer.Option(help=f"Scene kinds taken in turn, of {', '.join(SCENE_KINDS)} (default: by layout)."),
    ] = None,
    paths: Annotated[
        str, typer.Option(help=f"Path kinds and weights, of {', '.join(PATH_KINDS)}.")
    ] = _format_weights(DEFAULT_PATH_WEIGHTS),
    storage: Annotated[str, typer.Option(help="re10k layout: 'video' (MP4) or 'frames' (PNG).")] = "video",
) -> None:
    """Render synthetic clips with exact cameras into a RealEstate10K- or DL3DV-layout dataset."""
    console = Console()
    try:
        manifest_path = build_synthetic_dataset(
            out,
            num_clips=clips,
            seed=seed,
            splits=parse_weights(splits, "--splits"),
            layout=layout,
            num_frames=frames,
            image_size=parse_size(size),
            scenes=list(parse_weights(scenes, "--scenes")) if scenes else None,
            path_weights=parse_weights(paths, "--paths"),
            storage=storage,
            console=console,
        )
    except USER_ERRORS as error:
        raise command_error(error) from None
    manifest = json.loads(manifest_path.read_text())
    counts = Counter((clip["split"], clip["scene"], clip["path"]) for clip in manifest["clips"])
    table = Table(title=f"Synthetic dataset ({manifest['layout']} layout)")
    for column in ("split", "scene", "path", "clips"):
        table.add_column(column, justify="right" if column == "clips" else "left")
    for (split, scene, path), count in sorted(counts.items()):
        table.add_row(split, scene, path, str(count))
    console.print(table)
    console.print(f"manifest: {manifest_path}")


@app.command("bundled")
def export_bundled(
    out: Annotated[Path, typer.Option(help="Dataset folder to write (RealEstate10K layout).")],
    split: Annotated[str, typer.Option(help="Split folder name.")] = "test",
) -> None:
    """Export the six bundled real RealEstate10K clips (byte-exact MP4 + camera files, with attribution)."""
    try:
        camera_files = export_bundled_re10k(out, split=split)
    except USER_ERRORS + (OSError,) as error:
        raise command_error(error) from None
    Console().print(f"exported {len(camera_files)} clips to {out / split}")


@app.command("list")
def list_dataset(
    directory: Annotated[Path, typer.Argument(help="Dataset folder (RealEstate10K or DL3DV layout).")],
) -> None:
    """List the clips of a dataset with frame/camera counts; exits with 1 if any clip has a problem."""
    console = Console()
    try:
        datasets = open_dataset(directory)
    except USER_ERRORS as error:
        raise command_error(error) from None
    manifest_path = directory / MANIFEST
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        settings = manifest.get("settings", {})
        details = ", ".join(
            f"{key} {settings[key]}" for key in ("seed", "num_frames", "image_size") if key in settings
        )
        console.print(
            f"{manifest.get('kind', '?')} dataset, status {manifest.get('status', '?')}"
            + (f", {details}" if details else "")
        )
    problems = 0
    for dataset in datasets:
        infos = [dataset.inspect(name) for name in dataset.clip_names()]
        problems += sum(not info.ok for info in infos)
        console.print(_clip_table(f"{dataset.layout} layout, split {dataset.split or '-'}", infos))
    total = sum(len(dataset) for dataset in datasets)
    console.print(f"{total} clips, {problems} with problems")
    if problems:
        raise typer.Exit(code=1)


def _clip_table(title: str, infos: list[ClipInfo]) -> Table:
    table = Table(title=title)
    for column, justify in [("clip", "left"), ("frames", "right"), ("cameras", "right"), ("H x W", "right"),
                            ("status", "left")]:  # fmt: skip
        table.add_column(column, justify=justify)
    for info in infos:
        size = f"{info.image_size[0]}x{info.image_size[1]}" if info.image_size else "-"
        status = Text("ok", style="green") if info.ok else Text(info.problem, style="red")
        table.add_row(
            info.name,
            "-" if info.num_frames is None else str(info.num_frames),
            "-" if info.num_cameras is None else str(info.num_cameras),
            size,
            status,
        )
    return table
