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
from baselines.motionflow_method import CheckpointFolder, generation_size
from baselines.resize import fit_reference
from motionflow.camera.trajectory import Trajectory
from motionflow.models.inputs import image_to_tensor, video_to_uint8
from motionflow.models.motionflow import MotionFlowModel
from motionflow.utils.io import content_hash


@METHODS.register("autoencoder")
class AutoencoderMethod(CheckpointFolder, Method):
    name = "autoencoder"
    requirements = MethodRequirements(needs_ground_truth=True)

    def __init__(self, checkpoint_dir: str | Path | None = None, device: str | None = None):
        super().__init__(checkpoint_dir, device)
        self._model: MotionFlowModel | None = None

    def fingerprint(self) -> str:
        return content_hash(self.name, self.weights_hash())

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
