from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from .helpers import RE10K_FILES


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(params=RE10K_FILES, ids=lambda path: path.stem)
def re10k_file(request: pytest.FixtureRequest) -> Path:
    return request.param
