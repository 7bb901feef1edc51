"""The pretraining stand-ins: the VAE and the video backbone trained before MotionFlow's two stages;
and the decoder fine-tune that can follow them.

The paper starts from SD1.5 (with its VAE) and AnimateDiff. Where no such weights exist, a small VAE
is trained first (configs with a VAE latent codec), then the small configuration's
UNet and motion modules are trained together as an image-to-video denoiser without camera
input: the AnimateDiff UNetMotionModel conditioned on the CLIP tokens of the reference image (the
same cross-attention context MotionFlow gives it) and, with the config's `image_latent_condition`,
on the reference latent concatenated to every frame. The trained UNet and motion adapter are then the
"pretrained" components MotionFlow is assembled from: the video network and, as in the paper, a copy
of the UNet as the reference motion network."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, MotionAdapter, UNet2DConditionModel
from safetensors.torch import load_file, save_file
from torch import nn

from motionflow.checkpoints.bundle import bundled_vae
from motionflow.errors import MissingWeightsError
from motionflow.models.components import MotionFlowComponents
from motionflow.models.config import MotionFlowConfig
from motionflow.models.latent_codec import VAECodec
from motionflow.models.video_denoiser import (
    AnimateDiffBackbone,
    VideoDenoiser,
    drop_condition,
    with_reference_latent,
)
from motionflow.utils.io import atomic_path

BACKBONE_WEIGHTS = "backbone.safetensors"
VAE_FOLDER = "vae"
MOTION_MODULES = "motion_modules."


class BackboneDenoiser(AnimateDiffBackbone):
    """UNetMotionModel + frozen CLIP image tokens + the latent codec: noise prediction without cameras."""

    camera_input_kind = None

    def __init__(self, config: MotionFlowConfig, components: MotionFlowComponents):
        super().__init__()
        components, config = components.fit(config)
        self.config = config
        self._assemble_backbone(config, components)

    def trainable_parameters(self) -> list[nn.Parameter]:
        self.requires_grad_(False)
        self.video_unet.requires_grad_(True)
        return list(self.video_unet.parameters())

    def forward(
        self,
        noisy_latents: torch.Tensor,
        timesteps: torch.Tensor,
        reference_image: torch.Tensor,
        plucker: torch.Tensor | None = None,
        *,
        drop_image: torch.Tensor | None = None,
        drop_camera: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The MotionFlowModel call signature; the cameras (`plucker`, `drop_camera`) are not used."""
        num_frames = noisy_latents.shape[2]
        reference = drop_condition(reference_image.to(self.dtype), drop_image)
        sample = noisy_latents.to(self.dtype)
        with torch.no_grad():
            tokens = self.image_encoder(reference)
            if self.config.image_latent_condition:
                sample = with_reference_latent(sample, self.codec.encode(reference))
        context = tokens.repeat_interleave(num_frames, dim=0)
        return self.video_unet(sample, timesteps, encoder_hidden_states=context).sample

    def save(self, directory: str | Path) -> Path:
        """backbone.safetensors + the MotionFlow config.json it belongs to."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = {name: tensor.detach().contiguous().cpu() for name, tensor in self.state_dict().items()}
        with atomic_path(directory / BACKBONE_WEIGHTS) as temporary:
            save_file(state, temporary, metadata={"format": "pt"})
        self.config.save(directory)
        return directory

    @classmethod
    def load(cls, directory: str | Path, components: MotionFlowComponents) -> BackboneDenoiser:
        """A backbone saved by `save`, assembled on `components` (their weights are replaced)."""
        directory = Path(directory)
        backbone = cls(MotionFlowConfig.load(directory), components)
        backbone.load_state_dict(load_file(directory / BACKBONE_WEIGHTS, device="cpu"), strict=True)
        return backbone

    def to_components(self, components: MotionFlowComponents) -> MotionFlowComponents:
        """`components` with the trained UNet, motion adapter and the CLIP encoder used in pretraining."""
        state = self.video_unet.state_dict()
        unet = UNet2DConditionModel.from_config(self.config.unet)
        unet.load_state_dict(
            {key: value for key, value in state.items() if MOTION_MODULES not in key}, strict=True
        )
        adapter = MotionAdapter.from_config(self.config.motion_adapter)
        adapter.load_state_dict(
            {key: value for key, value in state.items() if MOTION_MODULES in key}, strict=True
        )
        return replace(
            components, unet=unet, motion_adapter=adapter, image_encoder=self.image_encoder.encoder
        )


class AutoencoderTrainee(nn.Module):
    """The small VAE in training: L1 reconstruction of sampled frames + a small KL term (SD's VAE
    objective without its perceptual and adversarial terms, which need pretrained networks).

    The decoder reconstructs from the posterior mean, the latent the codec encodes to: decoding
    posterior samples, whose spread starts at 1, left a short run's reconstructions grey and blurred."""

    def __init__(self, vae: AutoencoderKL, frames_per_step: int, kl_weight: float):
        super().__init__()
        self.vae = vae
        self.frames_per_step = frames_per_step
        self.kl_weight = kl_weight

    def trainable_parameters(self) -> list[nn.Parameter]:
        self.requires_grad_(True)
        return list(self.parameters())

    def forward(self, frames: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """frames [B, F, 3, H, W] in [-1, 1] -> loss on `frames_per_step` random frames of the batch."""
        images = sample_frames(frames, self.frames_per_step, generator).to(self.vae.dtype)
        posterior = self.vae.encode(images).latent_dist
        reconstruction = self.vae.decode(posterior.mean).sample
        return F.l1_loss(reconstruction.float(), images.float()) + self.kl_weight * posterior.kl().mean()

    @torch.no_grad()
    def calibrate(self, frames: torch.Tensor) -> float:
        """Sets the VAE's scaling_factor to 1 / std of the latents of `frames` [N, 3, H, W] (unit-variance
        latents, as SD's 0.18215 gives its VAE), and returns it."""
        latents = self.vae.encode(frames.to(self.vae.dtype)).latent_dist.mode()
        scale = float(1.0 / latents.float().std())
        self.vae.register_to_config(scaling_factor=scale)
        return scale

    def save(self, directory: str | Path) -> Path:
        """The VAE as a diffusers AutoencoderKL folder (directory/vae)."""
        folder = Path(directory) / VAE_FOLDER
        self.vae.save_pretrained(folder, safe_serialization=True)
        return folder

    @staticmethod
    def load_vae(directory: str | Path) -> AutoencoderKL:
        return AutoencoderKL.from_pretrained(Path(directory) / VAE_FOLDER)


class DecoderTrainee(nn.Module):
    """The VAE decoder of a trained video model in fine-tuning, everything else frozen: L1 reconstruction
    of sampled frames from the posterior mean, the latent the codec encodes to.

    Not in the paper. The encoder, and with it every latent the model was trained on and its scale, stays
    as it is, so the model decodes with the new decoder without retraining (as SD's VAE decoder was
    fine-tuned after its diffusion models were trained). It raises what the codec reconstructs from the
    encoder's latents; latents a model samples far from those can decode no closer (TRAINING.md, "A
    fine-tuned decoder")."""

    def __init__(self, denoiser: VideoDenoiser, frames_per_step: int):
        super().__init__()
        if not isinstance(denoiser.codec, VAECodec):
            raise ValueError(
                f"the decoder phase needs a VAE latent codec, the model has {denoiser.codec.kind!r}"
            )
        self.denoiser = denoiser
        self.frames_per_step = frames_per_step

    @property
    def vae(self) -> AutoencoderKL:
        return self.denoiser.codec.vae

    def trainable_parameters(self) -> list[nn.Parameter]:
        self.requires_grad_(False)
        decoder_parts = [self.vae.decoder, self.vae.post_quant_conv]
        parameters = [p for part in decoder_parts if part is not None for p in part.parameters()]
        for parameter in parameters:
            parameter.requires_grad_(True)
        return parameters

    def forward(self, frames: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """frames [B, F, 3, H, W] in [-1, 1] -> L1 loss on `frames_per_step` random frames of the batch."""
        images = sample_frames(frames, self.frames_per_step, generator).to(self.vae.dtype)
        with torch.no_grad():
            latents = self.vae.encode(images).latent_dist.mean
        reconstruction = self.vae.decode(latents).sample
        return F.l1_loss(reconstruction.float(), images.float())


def sample_frames(frames: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    """`count` frames drawn without replacement from all frames of a batch [B, F, 3, H, W]."""
    flat = frames.flatten(0, 1)
    chosen = torch.randperm(len(flat), generator=generator)[: min(count, len(flat))].to(flat.device)
    return flat[chosen]


def load_autoencoder(source: str) -> AutoencoderKL:
    """The VAE a training config's `model.autoencoder` names: "bundled", an autoencoder phase's model
    folder (holding vae/) or a diffusers AutoencoderKL folder."""
    if source == "bundled":
        return bundled_vae()
    folder = Path(source).expanduser()
    if (folder / VAE_FOLDER / "config.json").is_file():
        folder = folder / VAE_FOLDER
    if not (folder / "config.json").is_file():
        raise MissingWeightsError(
            f"model.autoencoder {source!r}: no VAE there (expected a diffusers AutoencoderKL folder with "
            f"config.json, an autoencoder phase's model folder with {VAE_FOLDER}/, or 'bundled')"
        )
    return AutoencoderKL.from_pretrained(folder)
