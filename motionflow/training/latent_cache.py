"""The frozen latent codec's latents of every cached training clip, encoded once per codec.

After the autoencoder phase the codec never changes, and a cached clip is the same at every visit, so
its latents are too; yet encoding 16 frames at 128x128 is half of a CPU training step of the small
configs (`python -m bench.benchmarks.training`). With `data.cache_latents`, the latents are computed
once, at the first phase that needs them, into a memory-mapped file next to the clip cache, named by a
hash of the codec's weights: every run on those clips and that codec (a base's pretraining, each
method's stages) shares it. They are encoded in float32 with the codec's posterior mean, exactly what
`AnimateDiffBackbone.encode_video` gives a training step, so a run trains the same with and without
the cache (up to the rounding of a different batch composition). A model conditioned on depth-warped
frames (`MotionFlowConfig.depth_warped_condition`) reads their latents from a second file, named by the
codec and the depth network, filled the same way."""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from rich.progress import Progress
from torch.utils.data import default_collate

from motionflow.camera.trajectory import Trajectory
from motionflow.models.latent_codec import LatentCodec
from motionflow.models.video_denoiser import AnimateDiffBackbone
from motionflow.pipeline import DepthEstimator, depth_warped_latents
from motionflow.training.data import CachedClipItems, ClipItems, batch_trajectories, frames_to_model_range
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
    `model`'s codec, filled first if it is not complete (by one process, under a file lock). A model that
    `takes_frame_latents` also gets "frame_latents" [C, F, h, w]: the clip's first frame forward-warped
    into each of its cameras through `depth_estimator`'s depth, encoded (`depth_warped_latents`), in a
    file named by the codec and the depth network (`depth_hash`)."""

    def __init__(
        self,
        clips: CachedClipItems,
        model: AnimateDiffBackbone,
        progress: bool = True,
        depth_estimator: DepthEstimator | None = None,
        depth_hash: str = "",
    ):
        super().__init__(clips.settings, clips.seed)
        self.clips = clips
        codec = codec_fingerprint(model.codec)[:16]
        stems = {"latents": f"latents-{codec}"}
        if model.takes_frame_latents:
            if depth_estimator is None or not depth_hash:
                raise ValueError(
                    "a model conditioned on depth-warped frames needs a depth estimator and its hash"
                )
            stems["frame_latents"] = f"frame-latents-{codec}-{depth_hash[:16]}"
        self.paths = {key: clips.folder / f"{stem}.npy" for key, stem in stems.items()}
        self._arrays: dict[str, np.ndarray] = {}
        encoders = {
            "latents": lambda items: model.encode_video(
                frames_to_model_range(items["frames"]).to(model.device, model.dtype)
            ),
            "frame_latents": lambda items: depth_warped_latents(
                model.codec,
                frames_to_model_range(items["frames"][:, 0]).to(model.device, model.dtype),
                batch_trajectories(items),
                depth_estimator,
            ),
        }
        with (clips.folder / ".latents.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for key, stem in stems.items():
                marker = clips.folder / f"{stem}.json"
                if not marker.is_file():
                    self._encode_all(self.paths[key], marker, encoders[key], progress)

    def _encode_all(
        self, path: Path, marker: Path, encode: Callable[[dict], torch.Tensor], progress: bool
    ) -> None:
        usable = [index for index in range(len(self.clips)) if index not in self.clips.problems]
        chunks = [usable[start : start + ENCODE_BATCH] for start in range(0, len(usable), ENCODE_BATCH)]
        latents: np.ndarray | None = None
        with Progress(disable=not progress) as bar:
            task = bar.add_task(f"encoding {len(usable)} clips ({path.stem})", total=len(usable))
            for chunk in chunks:
                items = default_collate([self.clips.item(index) for index in chunk])
                with torch.no_grad():
                    encoded = encode(items).float().cpu().numpy()
                if latents is None:
                    latents = np.lib.format.open_memmap(
                        path, mode="w+", dtype=np.float32, shape=(len(self.clips), *encoded.shape[1:])
                    )
                latents[chunk] = encoded
                bar.advance(task, len(chunk))
        if latents is not None:
            latents.flush()
        atomic_write_json(marker, {"clips": len(self.clips), "encoded": len(usable)})

    def _cached(self, key: str) -> np.ndarray:
        if key not in self._arrays:
            self._arrays[key] = np.load(self.paths[key], mmap_mode="r")
        return self._arrays[key]

    def __len__(self) -> int:
        return len(self.clips)

    def clip_name(self, index: int) -> str:
        return self.clips.clip_name(index)

    def clip(self, index: int) -> tuple[np.ndarray, Trajectory]:
        return self.clips.clip(index)

    def item(self, index: int) -> dict:
        cached = {key: torch.from_numpy(np.array(self._cached(key)[index])) for key in self.paths}
        return {**self.clips.item(index), **cached}

    def __getstate__(self) -> dict:
        """DataLoader workers open the memory maps themselves."""
        return {**self.__dict__, "_arrays": {}}
