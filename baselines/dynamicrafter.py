"""`dynamicrafter`: DynamiCrafter (Xing et al., 2023), camera-free image-to-video, run by the official
scripts/evaluation/inference.py of a checkout (github.com/Doubiiu/DynamiCrafter); see baselines.external
for the settings. MFBENCH_DYNAMICRAFTER_RESOLUTION picks the model: 256 (256x256, default), 512
(320x512) or 1024 (576x1024), with the sampling options of the repository's scripts/run.sh. An empty
prompt (the default) runs it image-only (no --text_input)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from baselines.base import METHODS, MethodRequirements
from baselines.external import ExternalMethod, ExternalSettings, setting_name
from motionflow.weights import WeightSpec, register_weights

NAME = "dynamicrafter"
REFERENCE_NAME = "reference"
PLACEHOLDER_PROMPT = "none"
"""The script skips empty prompt lines; without --text_input this line is not used."""


def _weights(resolution: str, repository: str) -> WeightSpec:
    return register_weights(
        WeightSpec(
            name=f"dynamicrafter-{resolution}",
            relative_path=f"dynamicrafter/dynamicrafter_{resolution}_v1/model.ckpt",
            source=f"https://huggingface.co/Doubiiu/{repository} (model.ckpt)",
            used_by=f"baseline dynamicrafter (MFBENCH_DYNAMICRAFTER_RESOLUTION={resolution})",
        )
    )


MODELS = {
    "256": dict(weights=_weights("256", "DynamiCrafter"), size=(256, 256), frame_stride=3, extra=[]),
    "512": dict(
        weights=_weights("512", "DynamiCrafter_512"),
        size=(320, 512),
        frame_stride=24,
        extra=["--timestep_spacing", "uniform_trailing", "--guidance_rescale", "0.7", "--perframe_ae"],
    ),
    "1024": dict(
        weights=_weights("1024", "DynamiCrafter_1024"),
        size=(576, 1024),
        frame_stride=10,
        extra=["--timestep_spacing", "uniform_trailing", "--guidance_rescale", "0.7", "--perframe_ae"],
    ),
}


@METHODS.register(NAME)
class DynamiCrafterMethod(ExternalMethod):
    name = NAME
    entry_point = "scripts/evaluation/inference.py"
    default_prompt = ""
    source = "https://github.com/Doubiiu/DynamiCrafter"
    requirements = MethodRequirements(
        weights=(MODELS["256"]["weights"].name,), uses_camera=False, uses_text_prompt=True
    )

    def __init__(self, settings: ExternalSettings | None = None, resolution: str | None = None):
        super().__init__(settings)
        self.model_resolution = resolution or os.environ.get(setting_name(NAME, "resolution")) or "256"
        if self.model_resolution not in MODELS:
            raise ValueError(
                f"{setting_name(NAME, 'resolution')} must be one of {', '.join(MODELS)}, got {self.model_resolution!r}"
            )
        model = MODELS[self.model_resolution]
        self.weights = model["weights"]
        self.resolution = model["size"]
        self.default_config = f"configs/inference_{self.model_resolution}_v1.0.yaml"
        self.requirements = MethodRequirements(
            weights=(self.weights.name,), uses_camera=False, uses_text_prompt=True
        )

    def write_inputs(self, workdir: Path, reference_image: np.ndarray) -> None:
        prompts = workdir / "prompts"
        prompts.mkdir()
        Image.fromarray(reference_image).save(prompts / f"{REFERENCE_NAME}.png")
        (prompts / "prompts.txt").write_text((self.prompt or PLACEHOLDER_PROMPT) + "\n")

    def command(self, workdir: Path, seed: int, num_frames: int) -> list[str]:
        height, width = self.resolution
        model = MODELS[self.model_resolution]
        command = [
            str(self.python()), self.entry_point,
            "--seed", str(seed),
            "--ckpt_path", str(self.checkpoint_path()),
            "--config", str(self.config_path()),
            "--savedir", str(workdir / "output"),
            "--n_samples", "1", "--bs", "1",
            "--height", str(height), "--width", str(width),
            "--unconditional_guidance_scale", "7.5",
            "--ddim_steps", "50", "--ddim_eta", "1.0",
            "--prompt_dir", str(workdir / "prompts"),
            "--video_length", str(num_frames),
            "--frame_stride", str(model["frame_stride"]),
            *model["extra"],
        ]  # fmt: skip
        return [*command, "--text_input"] if self.prompt else command

    def output_video(self, workdir: Path) -> Path:
        """The script writes <savedir>/samples_separate/<image name>_sample0.mp4 (it derives the folder by
        replacing "samples" in the path, so the save folder's own path must not contain that word)."""
        return workdir / "output" / "samples_separate" / f"{REFERENCE_NAME}_sample0.mp4"
