"""Training checkpoints in safetensors: model, optimizer (Adam moments and steps), RNG states, step.

    <phase>/checkpoint-<step>/
      model.safetensors            every parameter and persistent buffer of the model
      training_state.safetensors   optimizer state tensors + RNG states (+ the EMA's averaged parameters
                                   where the run keeps one); param groups, step and EMA counters as metadata

A checkpoint folder is written beside its final name and renamed, so an interrupted save never leaves a
checkpoint that a resume would trust."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers.training_utils import EMAModel
from safetensors.torch import load_file, save_file
from torch import nn

from motionflow.data.clips import atomic_directory

MODEL_FILE = "model.safetensors"
STATE_FILE = "training_state.safetensors"
CHECKPOINT_PREFIX = "checkpoint-"
EMA_PREFIX = "ema."
EMA_METADATA = "ema"


@dataclass(frozen=True)
class TrainingProgress:
    """Where a phase stands: optimizer steps done and training seconds spent (over all sessions)."""

    step: int
    seconds: float


def _rng_tensors() -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{index}"] = state
    kind, keys, position, has_gauss, cached = np.random.get_state()
    tensors["rng.numpy.keys"] = torch.from_numpy(np.asarray(keys, dtype=np.int64))
    metadata = {
        "rng.numpy": json.dumps([kind, int(position), int(has_gauss), float(cached)]),
        "rng.python": json.dumps(random.getstate(), default=list),
    }
    return tensors, metadata


def _restore_rng(tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    cuda_states = sorted(key for key in tensors if key.startswith("rng.cuda."))
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[key] for key in cuda_states])
    kind, position, has_gauss, cached = json.loads(metadata["rng.numpy"])
    keys = tensors["rng.numpy.keys"].numpy().astype(np.uint32)
    np.random.set_state((kind, keys, position, has_gauss, cached))
    version, state, gauss = json.loads(metadata["rng.python"])
    random.setstate((version, tuple(state), gauss))


def save_checkpoint(
    directory: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    progress: TrainingProgress,
    ema: EMAModel | None = None,
) -> Path:
    """Writes the checkpoint folder atomically; `model` is the unwrapped module."""
    directory = Path(directory)
    optimizer_state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    for index, state in optimizer_state["state"].items():
        for key, value in state.items():
            tensor = value if isinstance(value, torch.Tensor) else torch.tensor(value)
            tensors[f"optimizer.{index}.{key}"] = tensor.detach().contiguous().cpu()
    rng_tensors, metadata = _rng_tensors()
    tensors.update(rng_tensors)
    metadata.update(
        param_groups=json.dumps(optimizer_state["param_groups"]),
        step=str(progress.step),
        seconds=repr(progress.seconds),
    )
    if ema is not None:
        ema_state = ema.state_dict()
        for index, tensor in enumerate(ema_state.pop("shadow_params")):
            tensors[f"{EMA_PREFIX}{index}"] = tensor.detach().contiguous().cpu()
        metadata[EMA_METADATA] = json.dumps(ema_state)
    model_state = {name: value.detach().contiguous().cpu() for name, value in model.state_dict().items()}
    with atomic_directory(directory) as temporary:
        save_file(model_state, temporary / MODEL_FILE, metadata={"format": "pt"})
        save_file(tensors, temporary / STATE_FILE, metadata=metadata)
    return directory


def load_checkpoint(
    directory: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    restore_rng: bool = True,
    ema: EMAModel | None = None,
) -> TrainingProgress:
    """Restores model weights, optimizer state, `ema`'s averages (the checkpoint must hold them) and (by
    default) the RNG states; returns the progress."""
    directory = Path(directory)
    model.load_state_dict(load_file(directory / MODEL_FILE, device="cpu"), strict=True)
    with open(directory / STATE_FILE, "rb") as handle:
        header_size = int.from_bytes(handle.read(8), "little")
        metadata: dict[str, str] = json.loads(handle.read(header_size))["__metadata__"]
    tensors = load_file(directory / STATE_FILE, device="cpu")
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    param_groups = json.loads(metadata["param_groups"])
    for group in param_groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    optimizer.load_state_dict({"state": state, "param_groups": param_groups})
    if ema is not None:
        if EMA_METADATA not in metadata:
            raise ValueError(f"{directory}: the run keeps an EMA of its weights, this checkpoint holds none")
        shadow = [tensors[f"{EMA_PREFIX}{index}"] for index in range(len(ema.shadow_params))]
        ema.load_state_dict({**json.loads(metadata[EMA_METADATA]), "shadow_params": shadow})
    if restore_rng:
        _restore_rng(tensors, metadata)
    return TrainingProgress(step=int(metadata["step"]), seconds=float(metadata["seconds"]))


def checkpoint_folders(phase_directory: str | Path) -> list[Path]:
    """Complete checkpoint folders of a phase, oldest step first."""
    folders = [
        path
        for path in Path(phase_directory).glob(f"{CHECKPOINT_PREFIX}*")
        if path.is_dir() and path.name[len(CHECKPOINT_PREFIX) :].isdigit() and (path / STATE_FILE).is_file()
    ]
    return sorted(folders, key=lambda path: int(path.name[len(CHECKPOINT_PREFIX) :]))


def prune_checkpoints(phase_directory: str | Path, keep: int) -> None:
    for folder in checkpoint_folders(phase_directory)[:-keep]:
        shutil.rmtree(folder)
