"""An exponential moving average of a phase's trained parameters (`OptimSettings.ema_decay`).

The average smooths out the swings of the weights between steps at a constant learning rate; it is
what validation measures and what a phase saves. diffusers' EMAModel keeps the averages; this binds it
to the list of parameters it averages, so that swapping them in and out cannot pair the wrong tensors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from diffusers.training_utils import EMAModel
from torch import nn


class ParameterAverage:
    def __init__(self, parameters: list[nn.Parameter], decay: float):
        self.parameters = parameters
        self.average = EMAModel(parameters, decay=decay)

    def update(self) -> None:
        """Folds the parameters' current values in (after an optimizer step)."""
        self.average.step(self.parameters)

    def to(self, device: torch.device) -> None:
        self.average.to(device=device)

    def copy_to_parameters(self) -> None:
        self.average.copy_to(self.parameters)

    @contextmanager
    def swapped_in(self) -> Iterator[None]:
        """The parameters hold the averages inside the block, their own values again after it."""
        self.average.store(self.parameters)
        self.average.copy_to(self.parameters)
        try:
            yield
        finally:
            self.average.restore(self.parameters)
