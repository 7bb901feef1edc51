from __future__ import annotations

import numpy as np
import pytest

from motionflow.camera.re10k_format import read_re10k
from motionflow.camera.sampling import SAMPLERS, sample_basic, sample_difficult, sample_trajectory
from motionflow.camera.trajectory import Trajectory
from motionflow.errors import FrameCountError
from motionflow.utils.registry import UnknownNameError

from .helpers import RE10K_FILES, RE10K_IMAGE_SIZE, pinhole


def _clip(num_frames: int) -> Trajectory:
    """A clip whose camera i sits at x = i, so a sampled frame's source index can be read off its pose."""
    c2w = np.tile(np.eye(4), (num_frames, 1, 1))
    c2w[:, 0, 3] = np.arange(num_frames)
    return Trajectory(
        c2w=c2w,
        intrinsics=pinhole(100, 100, 64, 48),
        image_size=(96, 128),
        frame_indices=np.arange(num_frames),
        timestamps=1000 * np.arange(num_frames),
    )


def test_basic_takes_every_eighth_frame():
    sampled = sample_basic(_clip(200), 16)
    np.testing.assert_array_equal(sampled.frame_indices, 8 * np.arange(16))
    np.testing.assert_array_equal(sampled.c2w[:, 0, 3], 8 * np.arange(16))
    np.testing.assert_array_equal(sampled.timestamps, 8000 * np.arange(16))
    assert sampled.metadata["sampling"] == {"kind": "basic", "num_frames": 16, "stride": 8, "start": 0}


def test_basic_with_start_and_stride():
    sampled = sample_basic(_clip(50), 5, stride=3, start=7)
    np.testing.assert_array_equal(sampled.frame_indices, [7, 10, 13, 16, 19])


def test_basic_exactly_fitting_clip():
    """16 frames at stride 8 need 8 * 15 + 1 = 121 frames."""
    assert sample_basic(_clip(121), 16).frame_indices[-1] == 120
    with pytest.raises(FrameCountError, match="needs a clip of 121 frames; this one has 120"):
        sample_basic(_clip(120), 16)


def test_difficult_takes_the_largest_stride_that_fits():
    sampled = sample_difficult(_clip(200), 16)
    stride = (200 - 1) // 15
    assert stride == 13
    np.testing.assert_array_equal(sampled.frame_indices, 13 * np.arange(16))
    assert sampled.metadata["sampling"]["stride"] == 13
    with pytest.raises(FrameCountError):
        sample_basic(_clip(200), 16, stride=stride + 1)


def test_difficult_with_start():
    sampled = sample_difficult(_clip(100), 4, start=10)
    np.testing.assert_array_equal(sampled.frame_indices, [10, 39, 68, 97])


def test_difficult_too_short():
    with pytest.raises(FrameCountError, match="needs a clip of at least 16 frames; this one has 10"):
        sample_difficult(_clip(10), 16)
    with pytest.raises(
        FrameCountError, match="from frame 5 needs a clip of at least 21 frames; this one has 20"
    ):
        sample_difficult(_clip(20), 16, start=5)


def test_sampling_a_selection_keeps_source_indices():
    """Indices refer to the original clip even when the trajectory was already a selection of it."""
    selection = _clip(300).select(np.arange(50, 300))
    sampled = sample_basic(selection, 4)
    np.testing.assert_array_equal(sampled.frame_indices, [50, 58, 66, 74])
    np.testing.assert_array_equal(sampled.c2w[:, 0, 3], [50, 58, 66, 74])


def test_sample_trajectory_dispatches_by_name():
    assert SAMPLERS.names() == ["basic", "difficult"]
    np.testing.assert_array_equal(sample_trajectory(_clip(64), "basic", 8).frame_indices, 8 * np.arange(8))
    np.testing.assert_array_equal(
        sample_trajectory(_clip(64), "difficult", 8).frame_indices, 9 * np.arange(8)
    )
    with pytest.raises(UnknownNameError, match="known: basic, difficult"):
        sample_trajectory(_clip(64), "random", 8)


def test_bundled_clip():
    clip = read_re10k(RE10K_FILES[0], RE10K_IMAGE_SIZE)
    np.testing.assert_array_equal(sample_basic(clip, 2).frame_indices, [0, 8])
    np.testing.assert_array_equal(sample_difficult(clip, 4).frame_indices, [0, 5, 10, 15])
    with pytest.raises(FrameCountError, match="needs a clip of 121 frames; this one has 16"):
        sample_trajectory(clip, "basic", 16)


@pytest.mark.parametrize(
    "call",
    [
        lambda clip: sample_basic(clip, 0),
        lambda clip: sample_basic(clip, 4, stride=0),
        lambda clip: sample_basic(clip, 4, start=-1),
        lambda clip: sample_difficult(clip, 1),
        lambda clip: sample_difficult(clip, 4, start=-2),
    ],
)
def test_invalid_arguments(call):
    with pytest.raises(ValueError, match=">="):
        call(_clip(64))
