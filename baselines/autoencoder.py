"""`autoencoder`: the ground-truth video through a checkpoint's latent codec, at its generation size.

Every diffusion method on that checkpoint decodes its videos through the same codec from latents of that
size, so this row is their ceiling: the fidelity (PSNR / SSIM) and the camera accuracy a pose estimator
can recover (registration, RotErr / TransErr) when the latents are exactly right. A model that scores
near it is limited by the codec, not by its denoiser."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from baselines.base import METHODS, Method, MethodRequirements
from baselines.motionflow_method import generation_size
from baselines.resize import fit_reference
from motionflow.camera.trajectory import Trajectory
from motionflow.checkpoints import DEFAULT_CHECKPOINT, checkpoint_path
from motionflow.models.inputs import image_to_tensor, video_to_uint8
from motionflow.models.motionflow import MotionFlowModel
from motionflow.models.video_denoiser import checkpoint_weights_hash
from motionflow.utils.io import content_hash


@METHODS.register("autoencoder")
class AutoencoderMethod(Method):
    name = "autoencoder"
    requirements = MethodRequirements(needs_ground_truth=True)

    def __init__(self, checkpoint_dir: str | Path | None = None, device: str | None = None):
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._model: MotionFlowModel | None = None
        self._weights_hash: str | None = None

    def folder(self) -> Path:
        """A MotionFlow checkpoint folder (the bundled default's when none is given)."""
        return self.checkpoint_dir if self.checkpoint_dir is not None else checkpoint_path(DEFAULT_CHECKPOINT)

    def check_available(self) -> None:
        self.fingerprint()

    def fingerprint(self) -> str:
        if self._weights_hash is None:
            self._weights_hash = checkpoint_weights_hash(self.folder())
        return content_hash(self.name, self._weights_hash)

    def model(self) -> MotionFlowModel:
        if self._model is None:
            self._model = MotionFlowModel.from_pretrained(self.folder(), device=self.device)
        return self._model

    def _generate(
        self, reference_image: np.ndarray, trajectory: Trajectory, seed: int, ground_truth: np.ndarray | None
    ) -> np.ndarray:
        model = self.model()
        size = generation_size(model.config.image_size, trajectory.image_size, model.size_multiple)
        frames = torch.stack([image_to_tensor(frame, size) for frame in ground_truth])[None]
        latents = model.encode_video(frames.to(device=model.device, dtype=model.dtype))
        video = video_to_uint8(model.decode_video(latents))[0]
        return np.stack([fit_reference(frame, trajectory.image_size) for frame in video])
