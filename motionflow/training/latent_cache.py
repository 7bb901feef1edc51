"""The frozen latent codec's latents of every cached training clip, encoded once per codec.

After the autoencoder phase the codec never changes, and a cached clip is the same at every visit, so
its latents are too; yet encoding 16 frames at 128x128 is half of a CPU training step of the small
configs (`python -m bench.benchmarks.training`). With `data.cache_latents`, the latents are computed
once, at the first phase that needs them, into a memory-mapped file next to the clip cache, named by a
hash of the codec's weights: every run on those clips and that codec (a base's pretraining, each
method's stages) shares it. They are encoded in float32 with the codec's posterior mean, exactly what
`AnimateDiffBackbone.encode_video` gives a training step, so a run trains the same with and without
the cache (up to the rounding of a different batch composition)."""

from __future__ import annotations

import fcntl
import hashlib

import numpy as np
import torch
from rich.progress import Progress

from motionflow.camera.trajectory import Trajectory
from motionflow.models.latent_codec import LatentCodec
from motionflow.models.video_denoiser import AnimateDiffBackbone
from motionflow.training.data import CachedClipItems, ClipItems, frames_to_model_range
from motionflow.utils.io import atomic_write_json, content_hash

ENCODE_BATCH = 8
"""Clips per codec call while filling."""


def codec_fingerprint(codec: LatentCodec) -> str:
    """SHA-256 over the codec's config (kind, factor, latent scale) and tensors (names, dtypes, shapes,
    bytes): another codec, another file."""
    digest = hashlib.sha256(content_hash(codec.codec_config()).encode())
    for name, tensor in sorted(codec.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class LatentClipItems(ClipItems):
    """The items of a clip cache with "latents" [C, F, h, w] (float32) added, from the latent file of
    `model`'s codec, filled first if it is not complete (by one process, under a file lock)."""

    def __init__(self, clips: CachedClipItems, model: AnimateDiffBackbone, progress: bool = True):
        super().__init__(clips.settings, clips.seed)
        self.clips = clips
        stem = f"latents-{codec_fingerprint(model.codec)[:16]}"
        self.path = clips.folder / f"{stem}.npy"
        self.marker = clips.folder / f"{stem}.json"
        self._latents: np.ndarray | None = None
        with (clips.folder / ".latents.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.marker.is_file():
                self._encode_all(model, progress)

    def _encode_all(self, model: AnimateDiffBackbone, progress: bool) -> None:
        usable = [index for index in range(len(self.clips)) if index not in self.clips.problems]
        chunks = [usable[start : start + ENCODE_BATCH] for start in range(0, len(usable), ENCODE_BATCH)]
        latents: np.ndarray | None = None
        with Progress(disable=not progress) as bar:
            task = bar.add_task(f"encoding {len(usable)} clips", total=len(usable))
            for chunk in chunks:
                frames = torch.stack([self.clips.item(index)["frames"] for index in chunk])
                frames = frames_to_model_range(frames).to(model.device, model.dtype)
                encoded = model.encode_video(frames).float().cpu().numpy()
                if latents is None:
                    latents = np.lib.format.open_memmap(
                        self.path, mode="w+", dtype=np.float32, shape=(len(self.clips), *encoded.shape[1:])
                    )
                latents[chunk] = encoded
                bar.advance(task, len(chunk))
        if latents is not None:
            latents.flush()
        atomic_write_json(self.marker, {"clips": len(self.clips), "encoded": len(usable)})

    def _cached(self) -> np.ndarray:
        if self._latents is None:
            self._latents = np.load(self.path, mmap_mode="r")
        return self._latents

    def __len__(self) -> int:
        return len(self.clips)

    def clip_name(self, index: int) -> str:
        return self.clips.clip_name(index)

    def clip(self, index: int) -> tuple[np.ndarray, Trajectory]:
        return self.clips.clip(index)

    def item(self, index: int) -> dict:
        return {**self.clips.item(index), "latents": torch.from_numpy(np.array(self._cached()[index]))}

    def __getstate__(self) -> dict:
        """DataLoader workers open the memory map themselves."""
        return {**self.__dict__, "_latents": None}
