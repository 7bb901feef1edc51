"""The sampler options `mfbench generate` and `mfbench run` share (`motionflow.pipeline.SamplingOptions`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from motionflow.pipeline import SamplingOptions

Steps = Annotated[int | None, typer.Option(min=1, help="Sampling steps (diffusion methods).")]
GuidanceScale = Annotated[float | None, typer.Option(help="Classifier-free guidance scale.")]
CameraGuidanceScale = Annotated[
    float | None, typer.Option(help="Guidance scale of the camera condition (default: --guidance-scale).")
]
InitialNoise = Annotated[
    str | None,
    typer.Option(
        help="What sampling starts from (default: the method's own; reference for all but "
        "motionflow-depth-condition, which starts depth-warped): reference (the reference latent noised to "
        "the first step), gaussian (pure noise), warped (the reference latent seen from each frame's camera "
        "through the rotation-only homography, noised to the first step) or depth-warped (the reference "
        "forward-warped into each frame through the bundled depth network's estimate, encoded, noised to "
        "the first step; use with --strength below 1). Diffusion methods on the shared backbone."
    ),
]
Strength = Annotated[
    float | None,
    typer.Option(
        help="Share of the sampling steps that run, in (0, 1] (image-to-image strength; default 1, "
        "motionflow-depth-condition 0.4): below "
        "1 the first steps are skipped and more of the initial latent is kept (with --initial-noise "
        "warped or depth-warped, more of each frame's view of the reference). Diffusion methods on the "
        "shared backbone."
    ),
]


def sampling_settings(
    steps: int | None,
    guidance_scale: float | None,
    camera_guidance_scale: float | None,
    initial_noise: str | None,
    strength: float | None,
) -> dict[str, Any]:
    """The options given (None: the method's own), checked as `SamplingOptions` checks them."""
    given = {
        "steps": steps,
        "guidance_scale": guidance_scale,
        "camera_guidance_scale": camera_guidance_scale,
        "initial_noise": initial_noise,
        "strength": strength,
    }
    settings = {key: value for key, value in given.items() if value is not None}
    try:
        SamplingOptions(**settings)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    return settings
