"""Latent codecs: images in [-1, 1] <-> the latent grid the UNets denoise.

`vae` wraps diffusers' AutoencoderKL (SD1.5's VAE in the full configuration); `pixel_unshuffle`
folds pixel space into channels, lossless and with nothing to train (the small configuration).
A codec is never trained by MotionFlow: its parameters are frozen."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL
from torch import nn

from motionflow.utils.registry import Registry


class LatentCodec(nn.Module, ABC):
    kind: str = ""

    def __init__(self, latent_channels: int, downsample_factor: int):
        super().__init__()
        self.latent_channels = latent_channels
        self.downsample_factor = downsample_factor

    @abstractmethod
    def encode(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """[N, 3, H, W] in [-1, 1] -> latents [N, C, H / f, W / f]. With a generator, a VAE samples its
        posterior; without, it takes the posterior mean (deterministic)."""

    @abstractmethod
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """[N, C, h, w] -> images [N, 3, h * f, w * f], roughly in [-1, 1]."""

    def codec_config(self) -> dict[str, Any]:
        return dict(
            type=self.kind, latent_channels=self.latent_channels, downsample_factor=self.downsample_factor
        )


LATENT_CODECS: Registry[type[LatentCodec]] = Registry("latent codec")


@LATENT_CODECS.register("pixel_unshuffle")
class PixelUnshuffleCodec(LatentCodec):
    kind = "pixel_unshuffle"

    def __init__(self, latent_channels: int, downsample_factor: int):
        if latent_channels != 3 * downsample_factor**2:
            raise ValueError(
                f"pixel_unshuffle by {downsample_factor} gives {3 * downsample_factor**2} channels, not {latent_channels}"
            )
        super().__init__(latent_channels, downsample_factor)

    def encode(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return F.pixel_unshuffle(images, self.downsample_factor)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(latents, self.downsample_factor)


@LATENT_CODECS.register("vae")
class VAECodec(LatentCodec):
    kind = "vae"

    def __init__(self, latent_channels: int, downsample_factor: int, vae: dict[str, Any] | AutoencoderKL):
        super().__init__(latent_channels, downsample_factor)
        self.vae = vae if isinstance(vae, AutoencoderKL) else AutoencoderKL.from_config(vae)
        if self.vae.config.latent_channels != latent_channels:
            raise ValueError(
                f"VAE has {self.vae.config.latent_channels} latent channels, config says {latent_channels}"
            )
        vae_factor = 2 ** (len(self.vae.config.block_out_channels) - 1)
        if vae_factor != downsample_factor:
            raise ValueError(f"VAE downsamples by {vae_factor}, config says {downsample_factor}")
        self.vae.requires_grad_(False)

    @property
    def _shift(self) -> float:
        return self.vae.config.shift_factor or 0.0

    def encode(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        posterior = self.vae.encode(images.to(self.vae.dtype)).latent_dist
        latents = posterior.mode() if generator is None else posterior.sample(generator)
        return (latents - self._shift) * self.vae.config.scaling_factor

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        latents = latents.to(self.vae.dtype) / self.vae.config.scaling_factor + self._shift
        return self.vae.decode(latents).sample

    def codec_config(self) -> dict[str, Any]:
        vae_config = {key: value for key, value in self.vae.config.items() if not key.startswith("_")}
        return dict(super().codec_config(), vae=vae_config)


def build_latent_codec(config: dict[str, Any], vae: AutoencoderKL | None = None) -> LatentCodec:
    """The codec a `latent_codec` config dict describes; `vae` supplies loaded weights for type "vae"."""
    settings = dict(config)
    codec_class = LATENT_CODECS.get(settings.pop("type"))
    if vae is not None:
        if codec_class is not VAECodec:
            raise ValueError(f"a VAE was given but the latent codec is {codec_class.kind!r}")
        settings["vae"] = vae
    return codec_class(**settings)
