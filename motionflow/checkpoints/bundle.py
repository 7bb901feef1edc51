"""The compact form in which trained checkpoints are shipped: each folder keeps its trained tensors in
float16, and the frozen codec and CLIP image encoder, bit-identical in every checkpoint on one backbone,
are stored once in a file the folders share (`SharedWeights`; `VideoDenoiser` loads both)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from diffusers import AutoencoderKL
from safetensors.torch import load_file, save_file

from motionflow.checkpoints import DEFAULT_CHECKPOINT, checkpoint_path
from motionflow.models.video_denoiser import (
    FROZEN_PREFIXES,
    SHARED_WEIGHTS_NAME,
    WEIGHTS_NAME,
    SharedWeights,
    read_weights,
)
from motionflow.utils.io import atomic_path, sha256_file

SHARED_FILE_NAME = "frozen.safetensors"


def bundle_checkpoint(
    source: str | Path, target: str | Path, shared: str | Path, dtype: torch.dtype = torch.float16
) -> Path:
    """Copies the checkpoint folder `source` (a MotionFlow pipeline or baseline folder, self-contained or
    bundled) to the new folder `target`: model.safetensors without the frozen tensors, its floating ones
    cast to `dtype`; the frozen tensors, unchanged, in `shared`/frozen.safetensors (written if absent,
    else it must hold exactly these tensors), named with its SHA-256 by `target`/shared_weights.json;
    every other file of `source` as it is."""
    source, target, shared_file = Path(source), Path(target), Path(shared) / SHARED_FILE_NAME
    if target.exists():
        raise FileExistsError(f"{target} already exists; remove it to bundle {source} there")
    state = read_weights(source)
    frozen = {name: tensor for name, tensor in state.items() if name.startswith(FROZEN_PREFIXES)}
    if not frozen:
        raise ValueError(f"{source / WEIGHTS_NAME} holds no frozen tensors ({', '.join(FROZEN_PREFIXES)}*)")
    trained = {
        name: tensor.to(dtype) if tensor.is_floating_point() else tensor
        for name, tensor in state.items()
        if name not in frozen
    }
    store_shared_tensors(frozen, shared_file, source)

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        shutil.copytree(source, staging, ignore=_weight_files_of(source), dirs_exist_ok=True)
        save_file(trained, staging / WEIGHTS_NAME, metadata={"format": "pt"})
        relative = Path(os.path.relpath(shared_file.resolve(), target.resolve())).as_posix()
        SharedWeights(relative, sha256_file(shared_file)).write(staging)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def store_shared_tensors(frozen: dict[str, torch.Tensor], shared_file: Path, source: Path) -> None:
    """Writes `frozen` to `shared_file`, or checks that the existing file holds exactly these tensors."""
    if not shared_file.exists():
        with atomic_path(shared_file) as temporary:
            save_file(frozen, temporary, metadata={"format": "pt"})
        return
    stored = load_file(shared_file)
    differing = sorted(
        name
        for name in stored.keys() | frozen.keys()
        if name not in stored
        or name not in frozen
        or stored[name].dtype != frozen[name].dtype
        or not torch.equal(stored[name], frozen[name])
    )
    if differing:
        raise ValueError(
            f"{shared_file} holds other frozen tensors than {source} ({len(differing)} differ, e.g. "
            f"{differing[:3]}): the checkpoints were not trained on the same backbone"
        )


def _weight_files_of(source: Path) -> Callable[[str, list[str]], set[str]]:
    """copytree's ignore: the weight files at the top of `source` (written anew), nothing below."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        return {WEIGHTS_NAME, SHARED_WEIGHTS_NAME} & set(names) if Path(directory) == source else set()

    return ignore


VAE_PREFIX = "codec.vae."


def bundled_vae(checkpoint: str = DEFAULT_CHECKPOINT) -> AutoencoderKL:
    """The small VAE every bundled checkpoint decodes through (its config, calibrated scaling factor
    included, from `checkpoint`'s config.json; its tensors from the shared frozen file), for training
    new models on the same codec without an autoencoder phase."""
    folder = checkpoint_path(checkpoint)
    shared = SharedWeights.read(folder)
    if shared is None:
        raise ValueError(f"{folder} is not in the bundled form (no {SHARED_WEIGHTS_NAME})")
    codec = json.loads((folder / "config.json").read_text())["latent_codec"]
    if codec.get("type") != "vae":
        raise ValueError(f"{folder}: its latent codec is {codec.get('type')!r}, not a VAE")
    tensors = load_file(shared.verified_file(folder))
    vae = AutoencoderKL.from_config(codec["vae"])
    vae.load_state_dict(
        {name[len(VAE_PREFIX) :]: tensor for name, tensor in tensors.items() if name.startswith(VAE_PREFIX)}
    )
    return vae
