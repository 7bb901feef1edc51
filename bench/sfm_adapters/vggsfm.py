"""VGGSfM (Wang et al., CVPR 2024) as a subprocess in the user's own VGGSfM environment.

VGGSfM v2 pins pycolmap 3.10 and needs a GPU, so it cannot share this environment. The adapter writes
the frames to `<scene>/images/00000.png ...` and runs, in the configured checkout,

    <vggsfm.python> demo.py SCENE_DIR=<scene> resume_ckpt=<vggsfm.checkpoint> shared_camera=True
        camera_type=SIMPLE_PINHOLE seed=<seed> query_method=aliked max_query_pts=2048 img_size=1024

VGGSfM writes a COLMAP sparse model (cameras/images/points3D .bin, world-to-camera poses, OpenCV
axes, cameras rescaled to the original image size, images named as the input files) under
`<scene>/sparse` (older versions: the scene folder itself, or `sparse/0`), which is read with
pycolmap and converted like COLMAP's own output (bench.sfm_adapters.colmap_model). Frames VGGSfM
filters out are unregistered. Its demo has no known-intrinsics mode: the adapter records that the
given intrinsics were not used."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from bench.sfm_adapters.base import (
    ESTIMATORS,
    EstimatorSettings,
    PoseEstimate,
    PoseEstimator,
    empty_estimate,
)
from bench.sfm_adapters.colmap_model import find_model_folder, read_model, reconstruction_to_estimate
from bench.sfm_adapters.external import require_checkout, require_checkpoint, require_python, run_tool
from bench.sfm_adapters.settings import external_setting
from motionflow.data.video_io import frame_name, write_frames

SOURCE = "https://github.com/facebookresearch/vggsfm (its own conda environment, see its README)"
CHECKPOINT_SOURCE = "vggsfm_v2_0_0.bin from the Hugging Face model facebook/VGGSfM"
MODEL_FOLDERS = ("sparse", "sparse/0", ".")


@dataclass(frozen=True)
class VggsfmSettings(EstimatorSettings):
    python: str | None = None
    checkout: str | None = None
    checkpoint: str | None = None
    camera_type: str = "SIMPLE_PINHOLE"
    query_method: str = "aliked"
    max_query_pts: int = 2048
    img_size: int = 1024
    timeout_s: float = 3600.0


@ESTIMATORS.register("vggsfm")
class VggsfmEstimator(PoseEstimator):
    name: ClassVar[str] = "vggsfm"
    is_stochastic: ClassVar[bool] = True
    settings_type: ClassVar[type[EstimatorSettings]] = VggsfmSettings
    settings: VggsfmSettings

    @classmethod
    def default_settings(cls) -> VggsfmSettings:
        return VggsfmSettings(
            python=external_setting("vggsfm", "python"),
            checkout=external_setting("vggsfm", "dir"),
            checkpoint=external_setting("vggsfm", "checkpoint"),
        )

    def check_available(self) -> None:
        require_python(self.name, self.settings.python, SOURCE)
        require_checkout(self.name, self.settings.checkout, "demo.py", SOURCE)
        require_checkpoint(self.name, self.settings.checkpoint, CHECKPOINT_SOURCE, folder_ok=False)

    def command(self, scene: Path, seed: int) -> list[str]:
        settings = self.settings
        return [
            str(Path(settings.python).expanduser()),
            "demo.py",
            f"SCENE_DIR={scene}",
            f"resume_ckpt={Path(settings.checkpoint).expanduser()}",
            "shared_camera=True",
            f"camera_type={settings.camera_type}",
            f"seed={seed}",
            f"query_method={settings.query_method}",
            f"max_query_pts={settings.max_query_pts}",
            f"img_size={settings.img_size}",
        ]

    def _estimate(self, frames: np.ndarray, intrinsics: np.ndarray | None, seed: int) -> PoseEstimate:
        self.check_available()
        image_size = (frames.shape[1], frames.shape[2])
        extra = {"known_intrinsics_ignored": True} if intrinsics is not None else {}
        with tempfile.TemporaryDirectory(prefix="mfbench-vggsfm-") as scene:
            scene = Path(scene)
            write_frames(scene / "images", frames)
            failure = run_tool(
                self.command(scene, seed),
                Path(self.settings.checkout).expanduser(),
                scene / "log.txt",
                self.settings.timeout_s,
            )
            return parse_vggsfm_output(scene, len(frames), image_size, failure, extra)


def parse_vggsfm_output(
    scene: Path,
    num_frames: int,
    image_size: tuple[int, int],
    failure: str | None = None,
    extra: dict | None = None,
) -> PoseEstimate:
    """The COLMAP model VGGSfM wrote under `scene` -> PoseEstimate (frames named 00000.png, ...)."""
    folder = find_model_folder(scene, MODEL_FOLDERS)
    if failure is not None or folder is None:
        reason = failure or f"VGGSfM wrote no COLMAP model under {scene} ({', '.join(MODEL_FOLDERS)})"
        return empty_estimate("vggsfm", num_frames, image_size, reason, extra=dict(extra or {}))
    names = [frame_name(index) for index in range(num_frames)]
    return reconstruction_to_estimate(read_model(folder), names, image_size, "vggsfm", extra=extra)
