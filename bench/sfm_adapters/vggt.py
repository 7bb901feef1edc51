"""VGGT (Wang et al., CVPR 2025), in this process when the `vggt` package is installed (or a checkout
is configured), with the checkpoint read from a local path.

Pipeline, as in VGGT's README: frames -> PNG -> `vggt.utils.load_fn.load_and_preprocess_images`
(mode "crop": width resized to 518, height to the nearest multiple of 14 keeping the aspect ratio,
then centre-cropped to 518 if taller) -> `VGGT` forward -> `pose_encoding_to_extri_intri`, which
gives world-to-camera extrinsics [S, 3, 4] (OpenCV axes) and K [S, 3, 3] in processed pixels. Here
they become camera-to-world and K in pixels of the input frames (undoing crop and resize).

VGGT is feed-forward: it always returns every frame, is deterministic, and reports no failure; the
adapter flags non-finite output and implausible focal lengths. Known intrinsics are not used."""

from __future__ import annotations

import importlib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np

from bench.sfm_adapters.base import (
    ESTIMATORS,
    EstimatorSettings,
    PoseEstimate,
    PoseEstimator,
    assemble_estimate,
    unavailable,
)
from bench.sfm_adapters.external import auto_device, require_checkpoint
from bench.sfm_adapters.settings import describe_setting, external_setting
from motionflow.camera.intrinsics import scale_intrinsics
from motionflow.camera.poses import as_pose_stack, w2c_to_c2w
from motionflow.data.video_io import frame_name, write_frames

PACKAGE_SOURCE = "https://github.com/facebookresearch/vggt (pip install -e a checkout)"
CHECKPOINT_SOURCE = "model.pt of the Hugging Face model facebook/VGGT-1B"
TARGET_WIDTH = 518
PATCH = 14


@dataclass(frozen=True)
class VggtSettings(EstimatorSettings):
    checkpoint: str | None = None
    package_dir: str | None = None
    device: str = "auto"


def processing_geometry(image_size: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """VGGT's "crop" preprocessing of a frame (H, W): the resized size (H1, 518) and the crop (top, height)."""
    height, width = image_size
    resized_height = round(height * (TARGET_WIDTH / width) / PATCH) * PATCH
    if resized_height > TARGET_WIDTH:
        return (resized_height, TARGET_WIDTH), ((resized_height - TARGET_WIDTH) // 2, TARGET_WIDTH)
    return (resized_height, TARGET_WIDTH), (0, resized_height)


def vggt_output_to_estimate(
    extrinsics_w2c: np.ndarray, processed_k: np.ndarray, image_size: tuple[int, int]
) -> PoseEstimate:
    """VGGT's extrinsics [S, 3, 4] (world-to-camera) and K [S, 3, 3] (processed pixels) -> PoseEstimate."""
    resized, (top, _) = processing_geometry(image_size)
    uncropped = np.array(processed_k, dtype=np.float64, copy=True)
    uncropped[:, 1, 2] += top
    frame_k = scale_intrinsics(np.nan_to_num(uncropped, nan=1.0), resized, image_size)
    finite = [
        bool(np.all(np.isfinite(e)) and np.all(np.isfinite(k)))
        for e, k in zip(extrinsics_w2c, processed_k, strict=True)
    ]
    c2w = {i: w2c_to_c2w(as_pose_stack(extrinsics_w2c[i]))[0] for i in range(len(finite)) if finite[i]}
    estimate = assemble_estimate("vggt", image_size, c2w, {i: frame_k[i] for i in c2w}, len(finite))
    bad = [i for i, ok in enumerate(finite) if not ok]
    if bad:
        estimate.failure_reason = f"VGGT returned non-finite cameras for frames {', '.join(map(str, bad))}"
    return estimate


@ESTIMATORS.register("vggt")
class VggtEstimator(PoseEstimator):
    name: ClassVar[str] = "vggt"
    is_stochastic: ClassVar[bool] = False
    settings_type: ClassVar[type[EstimatorSettings]] = VggtSettings
    settings: VggtSettings

    def __init__(self, settings: EstimatorSettings | None = None):
        super().__init__(settings)
        self._model: Any = None

    @classmethod
    def default_settings(cls) -> VggtSettings:
        return VggtSettings(
            checkpoint=external_setting("vggt", "checkpoint"), package_dir=external_setting("vggt", "dir")
        )

    def _modules(self) -> SimpleNamespace:
        if self.settings.package_dir is not None:
            checkout = str(Path(self.settings.package_dir).expanduser())
            if checkout not in sys.path:
                sys.path.insert(0, checkout)
        try:
            return SimpleNamespace(
                model=importlib.import_module("vggt.models.vggt"),
                load_fn=importlib.import_module("vggt.utils.load_fn"),
                pose_enc=importlib.import_module("vggt.utils.pose_enc"),
            )
        except ImportError as error:
            raise unavailable(
                self.name,
                f"the vggt package cannot be imported ({error})",
                PACKAGE_SOURCE,
                describe_setting("vggt", "dir"),
            ) from None

    def check_available(self) -> None:
        self._modules()
        require_checkpoint(self.name, self.settings.checkpoint, CHECKPOINT_SOURCE)

    def device(self) -> str:
        return auto_device(self.settings.device)

    def model(self) -> Any:
        import torch

        if self._model is None:
            self.check_available()
            model = self._modules().model.VGGT()
            state = torch.load(
                Path(self.settings.checkpoint).expanduser(), map_location="cpu", weights_only=True
            )
            model.load_state_dict(state)
            self._model = model.to(self.device()).eval()
        return self._model

    def _estimate(self, frames: np.ndarray, intrinsics: np.ndarray | None, seed: int) -> PoseEstimate:
        import torch

        modules, model, device = self._modules(), self.model(), self.device()
        image_size = (frames.shape[1], frames.shape[2])
        with tempfile.TemporaryDirectory(prefix="mfbench-vggt-") as folder:
            write_frames(folder, frames)
            loaded = modules.load_fn.load_and_preprocess_images(
                [str(Path(folder) / frame_name(i)) for i in range(len(frames))]
            )
        images = (loaded[0] if isinstance(loaded, tuple) else loaded).to(device)
        with torch.no_grad():
            predictions = model(images)
            extrinsics, processed_k = modules.pose_enc.pose_encoding_to_extri_intri(
                predictions["pose_enc"], images.shape[-2:]
            )
        estimate = vggt_output_to_estimate(
            extrinsics[0].double().cpu().numpy(), processed_k[0].double().cpu().numpy(), image_size
        )
        if intrinsics is not None:
            estimate.extra["known_intrinsics_ignored"] = True
        return estimate
