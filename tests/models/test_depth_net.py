"""The small depth network: output range, sizes, saving and loading, the sky read as infinity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionflow.models.depth import DepthNet


def _tiny(image_size: tuple[int, int] = (32, 32)) -> DepthNet:
    torch.manual_seed(0)
    return DepthNet(channels=(8, 16, 32), groups=4, image_size=image_size)


def test_inverse_depth_is_non_negative_at_the_input_size() -> None:
    model = _tiny()
    output = model(torch.rand(2, 3, 32, 48) * 2 - 1)
    assert output.shape == (2, 1, 32, 48)
    assert (output >= 0).all()
    with pytest.raises(ValueError, match="multiples of 4"):
        model(torch.zeros(1, 3, 30, 32))


def test_save_and_load_give_the_same_network(tmp_path) -> None:
    model = _tiny()
    model.save_pretrained(tmp_path)
    loaded = DepthNet.from_pretrained(tmp_path)
    images = torch.rand(1, 3, 32, 32) * 2 - 1
    torch.testing.assert_close(loaded(images), model(images))
    assert tuple(loaded.config.channels) == (8, 16, 32)


def test_estimated_depth_has_the_image_size_and_reads_the_sky_as_infinity() -> None:
    model = _tiny().eval()
    image = np.random.default_rng(0).integers(0, 256, size=(40, 60, 3), dtype=np.uint8)
    with torch.no_grad():
        model.head.bias.fill_(2.0)
    depth = model.estimate_depth(image)
    assert depth.shape == (40, 60) and depth.dtype == np.float32
    assert np.isfinite(depth).all() and (depth > 0).all()
    with torch.no_grad():
        model.head.bias.fill_(-40.0)
    assert np.isinf(model.estimate_depth(image)).all()
