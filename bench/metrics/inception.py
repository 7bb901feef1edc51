"""FID/KID features: pytorch-fid's InceptionV3 with the TF-ported FID weights, read from the weights root.

pytorch-fid builds this network in `fid_inception_v3()` and downloads its weights there; the same
architecture is assembled here from pytorch-fid's own blocks (torchvision's Inception v3 with 1008
classes, no aux head, and the FID-patched Mixed blocks), and the state dict is loaded from the local
file. Features are the 2048-d final average pool, computed as pytorch-fid does: frames in [0, 1],
resized to 299x299 (bilinear, align_corners=False), mapped to [-1, 1]."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_fid import inception as fid_inception
from torch import nn

from bench.metrics.base import (
    FEATURE_EXTRACTORS,
    FeatureExtractor,
    load_into,
    load_state_dict,
    resolve_weights_file,
    video_to_unit_tensor,
)
from bench.metrics.weight_specs import INCEPTION_FID

INCEPTION_INPUT_SIZE = 299


def fid_inception_architecture() -> nn.Module:
    """The network of pytorch-fid's `fid_inception_v3()`, without its weights."""
    inception = fid_inception._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    inception.Mixed_5b = fid_inception.FIDInceptionA(192, pool_features=32)
    inception.Mixed_5c = fid_inception.FIDInceptionA(256, pool_features=64)
    inception.Mixed_5d = fid_inception.FIDInceptionA(288, pool_features=64)
    inception.Mixed_6b = fid_inception.FIDInceptionC(768, channels_7x7=128)
    inception.Mixed_6c = fid_inception.FIDInceptionC(768, channels_7x7=160)
    inception.Mixed_6d = fid_inception.FIDInceptionC(768, channels_7x7=160)
    inception.Mixed_6e = fid_inception.FIDInceptionC(768, channels_7x7=192)
    inception.Mixed_7b = fid_inception.FIDInceptionE_1(1280)
    inception.Mixed_7c = fid_inception.FIDInceptionE_2(2048)
    return inception


class FIDInceptionPool(nn.Module):
    """InceptionV3 up to the final average pool: images [B, 3, H, W] in [0, 1] -> [B, 2048]."""

    def __init__(self, inception: nn.Module):
        super().__init__()
        self.layers = nn.Sequential(
            inception.Conv2d_1a_3x3,
            inception.Conv2d_2a_3x3,
            inception.Conv2d_2b_3x3,
            nn.MaxPool2d(kernel_size=3, stride=2),
            inception.Conv2d_3b_1x1,
            inception.Conv2d_4a_3x3,
            nn.MaxPool2d(kernel_size=3, stride=2),
            inception.Mixed_5b,
            inception.Mixed_5c,
            inception.Mixed_5d,
            inception.Mixed_6a,
            inception.Mixed_6b,
            inception.Mixed_6c,
            inception.Mixed_6d,
            inception.Mixed_6e,
            inception.Mixed_7a,
            inception.Mixed_7b,
            inception.Mixed_7c,
            nn.AdaptiveAvgPool2d(output_size=(1, 1)),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        size = (INCEPTION_INPUT_SIZE, INCEPTION_INPUT_SIZE)
        images = F.interpolate(images, size=size, mode="bilinear", align_corners=False)
        return self.layers(2.0 * images - 1.0).flatten(1)


def load_fid_inception(path: Path) -> FIDInceptionPool:
    inception = fid_inception_architecture()
    load_into(inception, load_state_dict(path), path, "pytorch-fid FID InceptionV3")
    return FIDInceptionPool(inception).eval()


@FEATURE_EXTRACTORS.register("inception_fid")
class InceptionFID(FeatureExtractor):
    name = "inception_fid"
    feature_dim = 2048
    unit = "frame"
    weights = (INCEPTION_FID.name,)

    def __init__(
        self,
        weights_root: str | Path | None = None,
        device: str | torch.device = "cpu",
        weights_file: str | Path | None = None,
        batch_size: int = 16,
    ):
        super().__init__(weights_root, device)
        path = resolve_weights_file(INCEPTION_FID.name, weights_root, weights_file)
        self.model = load_fid_inception(path).to(self.device)
        self.batch_size = batch_size

    @torch.no_grad()
    def features(self, video: np.ndarray) -> np.ndarray:
        frames = video_to_unit_tensor(video)
        batches = [
            self.model(frames[start : start + self.batch_size].to(self.device))
            for start in range(0, len(frames), self.batch_size)
        ]
        return torch.cat(batches).double().cpu().numpy()
