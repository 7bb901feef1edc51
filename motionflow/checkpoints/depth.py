"""The bundled monocular depth network (`depth-small/`, `DepthNet.save_pretrained`), used by the
"depth-warped" initial noise and the `depth-warp` reference row; TRAINING.md says how it was trained."""

from __future__ import annotations

from pathlib import Path

from diffusers.utils import SAFETENSORS_WEIGHTS_NAME

from motionflow.checkpoints import CHECKPOINTS_ROOT
from motionflow.errors import MissingWeightsError
from motionflow.models.depth import DepthNet
from motionflow.pipeline import SamplingOptions
from motionflow.utils.io import sha256_file

DEPTH_CHECKPOINT = "depth-small"


def depth_checkpoint_path(folder: str | Path | None = None) -> Path:
    """`folder`, or the bundled depth network's; MissingWeightsError when it holds no weights."""
    folder = Path(folder) if folder is not None else CHECKPOINTS_ROOT / DEPTH_CHECKPOINT
    if not (folder / SAFETENSORS_WEIGHTS_NAME).is_file():
        raise MissingWeightsError(
            f"depth network weights not found: expected {folder / SAFETENSORS_WEIGHTS_NAME} (train one with "
            "`mfbench train-depth --out DIR`; the package ships one in motionflow/checkpoints/depth-small)"
        )
    return folder


def load_depth_net(folder: str | Path | None = None, device: str = "cpu") -> DepthNet:
    """The depth network in `folder` (default: the bundled one), in eval mode on `device`."""
    return DepthNet.from_pretrained(depth_checkpoint_path(folder)).to(device).eval()


def depth_weights_hash(folder: str | Path | None = None) -> str:
    return sha256_file(depth_checkpoint_path(folder) / SAFETENSORS_WEIGHTS_NAME)


def needs_depth(sampling: SamplingOptions, model_takes_frame_latents: bool = False) -> bool:
    """Whether a method's videos need the depth network: the sampler starts from depth-warped frames, or
    the model is conditioned on them (`MotionFlowConfig.depth_warped_condition`)."""
    return sampling.initial_noise == "depth-warped" or model_takes_frame_latents


def sampling_depth_hash(sampling: SamplingOptions, model_takes_frame_latents: bool = False) -> str:
    """What a method's videos depend on through the depth network: its weights' hash where they need
    it (`needs_depth`), else nothing."""
    return depth_weights_hash() if needs_depth(sampling, model_takes_frame_latents) else ""


def sampling_depth_net(
    sampling: SamplingOptions, device: str = "cpu", model_takes_frame_latents: bool = False
) -> DepthNet | None:
    """The bundled depth network where a method's videos need it (`needs_depth`), else None."""
    return load_depth_net(device=device) if needs_depth(sampling, model_takes_frame_latents) else None


def frame_latents_depth_net(model: object, device: str = "cpu") -> DepthNet | None:
    """The bundled depth network where `model` is conditioned on depth-warped frames
    (`takes_frame_latents`; the diagnostics on held-out clips warp each reference they try), else None."""
    return load_depth_net(device=device) if getattr(model, "takes_frame_latents", False) else None
