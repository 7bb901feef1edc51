"""LPIPS (Zhang et al. 2018) with the lpips package's AlexNet variant (v0.1), inputs mapped to [-1, 1].

The package ships its linear heads (`lpips/weights/v0.1/alex.pth`) and would fetch torchvision's
ImageNet AlexNet from the internet; here the package's network is built with a random backbone
(`pnet_rand=True`, no download) and the AlexNet weights are read from the weights root with
torch.load(weights_only=True), then copied into the package's backbone slices."""

from __future__ import annotations

import warnings
from pathlib import Path

import lpips
import numpy as np
import torch

from bench.metrics.base import (
    PAIRED_METRICS,
    PairedFrameMetric,
    load_into,
    load_state_dict,
    resolve_weights_file,
)
from bench.metrics.weight_specs import ALEXNET_LPIPS


def lpips_alexnet(alexnet_state: dict[str, torch.Tensor], path: Path) -> lpips.LPIPS:
    """The package's LPIPS(net="alex", version 0.1) with the given torchvision AlexNet state dict.

    The package's backbone holds torchvision's `alexnet().features` layers in slices (slice1 = layers
    0-1, slice2 = 2-4, ...) under their original indices, so `features.<i>.*` maps to `slice<k>.<i>.*`."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module="torchvision")
        model = lpips.LPIPS(net="alex", version="0.1", pretrained=True, pnet_rand=True, verbose=False)
    backbone_state = {}
    for slice_name, backbone_slice in model.net.named_children():
        for index in backbone_slice._modules:
            for parameter in ("weight", "bias"):
                key = f"features.{index}.{parameter}"
                if key in alexnet_state:
                    backbone_state[f"{slice_name}.{index}.{parameter}"] = alexnet_state[key]
    load_into(model.net, backbone_state, path, "torchvision AlexNet")
    return model.eval()


@PAIRED_METRICS.register("lpips")
class LPIPS(PairedFrameMetric):
    name = "lpips"
    higher_is_better = False
    weights = (ALEXNET_LPIPS.name,)

    def __init__(
        self,
        weights_root: str | Path | None = None,
        device: str | torch.device = "cpu",
        weights_file: str | Path | None = None,
        batch_size: int = 8,
    ):
        super().__init__(weights_root, device)
        path = resolve_weights_file(ALEXNET_LPIPS.name, weights_root, weights_file)
        self.model = lpips_alexnet(load_state_dict(path), path).to(self.device)
        self.batch_size = batch_size

    @torch.no_grad()
    def per_frame(self, generated: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
        values = []
        for start in range(0, len(generated), self.batch_size):
            end = start + self.batch_size
            a = generated[start:end].to(self.device, torch.float32) * 2.0 - 1.0
            b = reference[start:end].to(self.device, torch.float32) * 2.0 - 1.0
            values.append(self.model(a, b).flatten().double().cpu())
        return torch.cat(values).numpy()
