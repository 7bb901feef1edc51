"""FVD features: I3D (Kinetics-400) on 16-frame clips, in the two variants the field uses.

- `i3d_stylegan_v` (default): StyleGAN-V's TorchScript I3D (`i3d_torchscript.pt`), a reproduction of the
  TF-Hub model of the original FVD code. Called as StyleGAN-V's `compute_fvd` calls it: clips
  [B, 3, T, H, W] with values in [0, 255], `rescale=True, resize=True, return_features=True`
  (the model rescales to [-1, 1] and resizes to 224x224 itself); 400-d features.
- `i3d_videogpt`: VideoGPT's PyTorch I3D (`i3d_pretrained_400.pt`, piergiaj/pytorch-i3d architecture),
  preprocessed as VideoGPT does: the shorter side resized to 224 (bilinear), centre crop 224x224,
  values in [-0.5, 0.5] (VideoGPT's published preprocessing, kept for comparability); the 400 logits
  averaged over time.

A video is cut into non-overlapping clips of 16 consecutive frames from frame 0; trailing frames that
do not fill a clip are not used, and a video shorter than 16 frames gives no clip."""

from __future__ import annotations

import math
import warnings
from abc import abstractmethod
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.metrics.base import (
    FEATURE_EXTRACTORS,
    FeatureExtractor,
    load_into,
    load_state_dict,
    resolve_weights_file,
)
from bench.metrics.weight_specs import I3D_STYLEGAN_V, I3D_VIDEOGPT
from motionflow.data.video_io import check_video_array
from motionflow.weights import WeightsFormatError

CLIP_LENGTH = 16
I3D_FEATURE_DIM = 400
I3D_INPUT_SIZE = 224


def video_clips(video: np.ndarray, clip_length: int = CLIP_LENGTH) -> np.ndarray:
    """uint8 [F, H, W, 3] -> [n_clips, clip_length, H, W, 3], non-overlapping from frame 0."""
    video = check_video_array(video)
    n_clips = len(video) // clip_length
    return video[: n_clips * clip_length].reshape(n_clips, clip_length, *video.shape[1:])


def clips_to_tensor(clips: np.ndarray) -> torch.Tensor:
    """uint8 [B, T, H, W, 3] -> float32 [B, 3, T, H, W] with values in [0, 255]."""
    return torch.from_numpy(np.ascontiguousarray(clips)).permute(0, 4, 1, 2, 3).float()


class _ClipExtractor(FeatureExtractor):
    """Shared loading of the one weights file (`weights[0]`) and batching over the clips of a video."""

    feature_dim = I3D_FEATURE_DIM
    unit = "clip"
    batch_size = 4

    def __init__(
        self,
        weights_root: str | Path | None = None,
        device: str | torch.device = "cpu",
        weights_file: str | Path | None = None,
    ):
        super().__init__(weights_root, device)
        self.model = self._load_model(resolve_weights_file(self.weights[0], weights_root, weights_file))

    @abstractmethod
    def _load_model(self, path: Path) -> nn.Module:
        """The network of a weights file, on `self.device` in eval mode."""

    @abstractmethod
    def _clip_features(self, clips: torch.Tensor) -> torch.Tensor:
        """float32 clips [B, 3, T, H, W] in [0, 255] -> features [B, feature_dim]."""

    @torch.no_grad()
    def features(self, video: np.ndarray) -> np.ndarray:
        clips = video_clips(video)
        batches = [
            self._clip_features(clips_to_tensor(clips[start : start + self.batch_size]).to(self.device))
            for start in range(0, len(clips), self.batch_size)
        ]
        if not batches:
            return np.zeros((0, self.feature_dim))
        return torch.cat(batches).double().cpu().numpy()


@FEATURE_EXTRACTORS.register("i3d_stylegan_v")
class StyleGANVI3D(_ClipExtractor):
    name = "i3d_stylegan_v"
    weights = (I3D_STYLEGAN_V.name,)

    def _load_model(self, path: Path) -> nn.Module:
        try:
            with warnings.catch_warnings():  # TorchScript is deprecated, but it is the format of this file
                warnings.filterwarnings("ignore", category=FutureWarning, module="torch.jit")
                return torch.jit.load(str(path), map_location=self.device).eval()
        except RuntimeError as error:
            raise WeightsFormatError(f"{path}: not a TorchScript model ({error})") from error

    def _clip_features(self, clips: torch.Tensor) -> torch.Tensor:
        features = self.model(clips, rescale=True, resize=True, return_features=True)
        if features.shape != (len(clips), self.feature_dim):
            raise WeightsFormatError(
                f"the I3D TorchScript model returned features of shape {tuple(features.shape)}, "
                f"expected ({len(clips)}, {self.feature_dim})"
            )
        return features


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow 'SAME' padding (front, back) of one dimension."""
    total = max(kernel - stride, 0) if size % stride == 0 else max(kernel - size % stride, 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel: tuple[int, int, int], stride: tuple[int, int, int]) -> torch.Tensor:
    (t_front, t_back), (h_front, h_back), (w_front, w_back) = (
        _same_padding(size, k, s) for size, k, s in zip(x.shape[2:], kernel, stride, strict=True)
    )
    return F.pad(x, (w_front, w_back, h_front, h_back, t_front, t_back))


class Unit3D(nn.Module):
    """Conv3d with TF 'SAME' padding, optional batch norm and ReLU (module names match pytorch-i3d)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: tuple[int, int, int] = (1, 1, 1),
        stride: tuple[int, int, int] = (1, 1, 1),
        batch_norm: bool = True,
        activation: bool = True,
        bias: bool = False,
    ):
        super().__init__()
        self.kernel, self.stride, self.activation = kernel, stride, activation
        self.conv3d = nn.Conv3d(in_channels, out_channels, kernel, stride=stride, padding=0, bias=bias)
        self.bn = nn.BatchNorm3d(out_channels, eps=1e-5, momentum=0.001) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(_pad_same(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.activation else x


class MaxPool3dSame(nn.Module):
    """Max pool with TF 'SAME' zero padding (inputs follow a ReLU, so zeros never win wrongly)."""

    def __init__(self, kernel: tuple[int, int, int], stride: tuple[int, int, int]):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(_pad_same(x, self.kernel, self.stride), self.kernel, self.stride)


class InceptionModule(nn.Module):
    def __init__(self, in_channels: int, channels: tuple[int, int, int, int, int, int]):
        super().__init__()
        self.b0 = Unit3D(in_channels, channels[0])
        self.b1a = Unit3D(in_channels, channels[1])
        self.b1b = Unit3D(channels[1], channels[2], kernel=(3, 3, 3))
        self.b2a = Unit3D(in_channels, channels[3])
        self.b2b = Unit3D(channels[3], channels[4], kernel=(3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_channels, channels[5])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1
        )


# (name, in_channels, branch channels) of the Inception modules, in order.
_MIXED = {
    "Mixed_3b": (192, (64, 96, 128, 16, 32, 32)),
    "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
    "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)),
    "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
    "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)),
    "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
    "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)),
    "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
    "Mixed_5c": (832, (384, 192, 384, 48, 128, 128)),
}


class InceptionI3d(nn.Module):
    """Inception-v1 I3D (Carreira & Zisserman 2017) as in piergiaj/pytorch-i3d and VideoGPT, with the
    same module names, so `i3d_pretrained_400.pt` loads strictly. Forward returns the class logits
    averaged over time, [B, num_classes], as VideoGPT's FVD uses them."""

    def __init__(self, num_classes: int = I3D_FEATURE_DIM, in_channels: int = 3):
        super().__init__()
        layers: dict[str, nn.Module] = {
            "Conv3d_1a_7x7": Unit3D(in_channels, 64, kernel=(7, 7, 7), stride=(2, 2, 2)),
            "MaxPool3d_2a_3x3": MaxPool3dSame((1, 3, 3), (1, 2, 2)),
            "Conv3d_2b_1x1": Unit3D(64, 64),
            "Conv3d_2c_3x3": Unit3D(64, 192, kernel=(3, 3, 3)),
            "MaxPool3d_3a_3x3": MaxPool3dSame((1, 3, 3), (1, 2, 2)),
        }
        for name in ("Mixed_3b", "Mixed_3c"):
            layers[name] = InceptionModule(*_MIXED[name])
        layers["MaxPool3d_4a_3x3"] = MaxPool3dSame((3, 3, 3), (2, 2, 2))
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            layers[name] = InceptionModule(*_MIXED[name])
        layers["MaxPool3d_5a_2x2"] = MaxPool3dSame((2, 2, 2), (2, 2, 2))
        for name in ("Mixed_5b", "Mixed_5c"):
            layers[name] = InceptionModule(*_MIXED[name])
        for name, layer in layers.items():
            self.add_module(name, layer)
        self.layer_names = tuple(layers)
        self.avg_pool = nn.AvgPool3d(kernel_size=(2, 7, 7), stride=(1, 1, 1))
        self.logits = Unit3D(1024, num_classes, batch_norm=False, activation=False, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in self.layer_names:
            x = getattr(self, name)(x)
        logits = self.logits(self.avg_pool(x))
        return logits.squeeze(4).squeeze(3).mean(dim=2)


def videogpt_preprocess(clips: torch.Tensor, size: int = I3D_INPUT_SIZE) -> torch.Tensor:
    """[B, 3, T, H, W] in [0, 255] -> [B, 3, T, size, size] in [-0.5, 0.5] (VideoGPT's `preprocess`)."""
    batch, channels, frames, height, width = clips.shape
    scale = size / min(height, width)
    target = (size, math.ceil(width * scale)) if height < width else (math.ceil(height * scale), size)
    images = clips.permute(0, 2, 1, 3, 4).reshape(batch * frames, channels, height, width) / 255.0
    images = F.interpolate(images, size=target, mode="bilinear", align_corners=False)
    top, left = (images.shape[2] - size) // 2, (images.shape[3] - size) // 2
    images = images[:, :, top : top + size, left : left + size]
    return images.reshape(batch, frames, channels, size, size).permute(0, 2, 1, 3, 4) - 0.5


def load_videogpt_i3d(path: Path) -> InceptionI3d:
    model = InceptionI3d()
    load_into(model, load_state_dict(path), path, "VideoGPT I3D (InceptionI3d, 400 classes)")
    return model.eval()


@FEATURE_EXTRACTORS.register("i3d_videogpt")
class VideoGPTI3D(_ClipExtractor):
    name = "i3d_videogpt"
    weights = (I3D_VIDEOGPT.name,)

    def _load_model(self, path: Path) -> nn.Module:
        return load_videogpt_i3d(path).to(self.device)

    def _clip_features(self, clips: torch.Tensor) -> torch.Tensor:
        return self.model(videogpt_preprocess(clips))
