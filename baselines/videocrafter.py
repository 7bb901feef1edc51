"""`videocrafter`: VideoCrafter1 image-to-video (Chen et al., 2023), camera-free, run by the official
scripts/evaluation/inference.py of a checkout (github.com/AILab-CVC/VideoCrafter) in `--mode i2v` with
the options of its scripts/run_image2video.sh (320x512, 50 DDIM steps, guidance 12); see
baselines.external for the settings. Its script drops empty prompts, so a neutral prompt is used unless
MFBENCH_VIDEOCRAFTER_PROMPT gives one. The frame count goes through `--frames` (a checkout from before
that option existed generates its model's 16 frames)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from baselines.base import METHODS, MethodRequirements
from baselines.external import ExternalMethod
from motionflow.weights import WeightSpec, register_weights

NAME = "videocrafter"
REFERENCE_NAME = "reference"

VIDEOCRAFTER_I2V = register_weights(
    WeightSpec(
        name="videocrafter1-i2v-512",
        relative_path="videocrafter/i2v_512_v1/model.ckpt",
        source="https://huggingface.co/VideoCrafter/Image2Video-512 (model.ckpt)",
        used_by="baseline videocrafter",
    )
)


@METHODS.register(NAME)
class VideoCrafterMethod(ExternalMethod):
    name = NAME
    entry_point = "scripts/evaluation/inference.py"
    weights = VIDEOCRAFTER_I2V
    default_config = "configs/inference_i2v_512_v1.0.yaml"
    default_prompt = "a video"
    resolution = (320, 512)
    source = "https://github.com/AILab-CVC/VideoCrafter"
    requirements = MethodRequirements(
        weights=(VIDEOCRAFTER_I2V.name,), uses_camera=False, uses_text_prompt=True
    )

    def write_inputs(self, workdir: Path, reference_image: np.ndarray) -> None:
        inputs = workdir / "inputs"
        inputs.mkdir()
        Image.fromarray(reference_image).save(inputs / f"{REFERENCE_NAME}.png")
        (inputs / "prompts.txt").write_text(self.prompt + "\n")

    def command(self, workdir: Path, seed: int, num_frames: int) -> list[str]:
        height, width = self.resolution
        return [
            str(self.python()), self.entry_point,
            "--seed", str(seed),
            "--mode", "i2v",
            "--ckpt_path", str(self.checkpoint_path()),
            "--config", str(self.config_path()),
            "--savedir", str(workdir / "output"),
            "--n_samples", "1", "--bs", "1",
            "--height", str(height), "--width", str(width),
            "--unconditional_guidance_scale", "12.0",
            "--ddim_steps", "50", "--ddim_eta", "1.0",
            "--prompt_file", str(workdir / "inputs" / "prompts.txt"),
            "--cond_input", str(workdir / "inputs"),
            "--fps", "8",
            "--frames", str(num_frames),
        ]  # fmt: skip

    def output_video(self, workdir: Path) -> Path:
        return workdir / "output" / f"{REFERENCE_NAME}.mp4"
