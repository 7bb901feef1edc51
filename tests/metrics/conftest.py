"""Weight files of the right architectures with random parameters, written by the tests themselves."""

from __future__ import annotations

import warnings
from pathlib import Path

import lpips
import numpy as np
import pytest
import torch

from bench.metrics.inception import fid_inception_architecture
from bench.metrics.weight_specs import I3D_STYLEGAN_V


@pytest.fixture(autouse=True)
def isolated_weights_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test sees an empty weights root of its own, never the user's."""
    root = tmp_path / "weights"
    root.mkdir()
    monkeypatch.setenv("MFBENCH_WEIGHTS", str(root))
    return root


def random_video(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (frames, height, width, 3), dtype=np.uint8)


def package_lpips_with_random_backbone(seed: int = 0) -> lpips.LPIPS:
    """The lpips package's own model: its linear heads, a random AlexNet backbone (pnet_rand=True)."""
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        return lpips.LPIPS(net="alex", version="0.1", pretrained=True, pnet_rand=True, verbose=False).eval()


def alexnet_state_of(model: lpips.LPIPS) -> dict[str, torch.Tensor]:
    """The package model's backbone as a torchvision AlexNet state dict (`features.<i>.weight` ...)."""
    state = {}
    for backbone_slice in model.net.children():
        for index, layer in backbone_slice.named_children():
            for parameter, value in layer.named_parameters():
                state[f"features.{index}.{parameter}"] = value.detach().clone()
    return state


@pytest.fixture(scope="session")
def fid_inception_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised FID InceptionV3 state dict (~95 MB), saved once per session."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("inception") / "random_fid_inception.pth"
    torch.save(fid_inception_architecture().state_dict(), path)
    return path


class StandInI3D(torch.nn.Module):
    """A TorchScript stand-in with the call signature of StyleGAN-V's I3D, reporting how it was called:
    feature 0 = max input value, 1 = rescale, 2 = resize, 3 = return_features, 4 = clip length,
    5 = channels, 6 = per-clip mean (so different clips differ)."""

    def forward(
        self, x: torch.Tensor, rescale: bool = False, resize: bool = False, return_features: bool = False
    ) -> torch.Tensor:
        features = torch.zeros(x.shape[0], 400)
        features[:, 0] = x.amax(dim=(1, 2, 3, 4))
        features[:, 1] = float(rescale)
        features[:, 2] = float(resize)
        features[:, 3] = float(return_features)
        features[:, 4] = float(x.shape[2])
        features[:, 5] = float(x.shape[1])
        features[:, 6] = x.mean(dim=(1, 2, 3, 4))
        features[:, 7:] = x.mean(dim=(1, 2, 3, 4))[:, None] * torch.linspace(0.0, 1.0, 393)[None, :] ** 2
        return features


def write_stand_in_i3d(root: Path) -> Path:
    path = root / I3D_STYLEGAN_V.relative_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module="torch.jit")
        torch.jit.save(torch.jit.script(StandInI3D()), str(path))
    return path
