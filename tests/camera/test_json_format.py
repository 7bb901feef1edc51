from __future__ import annotations

import json

import numpy as np
import pytest

from motionflow.camera.json_format import FORMAT_NAME, read_trajectory_json, write_trajectory_json
from motionflow.camera.trajectory import Trajectory
from motionflow.errors import CameraFileError

from .helpers import pinhole, random_c2w


def _trajectory(rng: np.random.Generator, num_frames: int = 4) -> Trajectory:
    intrinsics = np.stack([pinhole(*rng.uniform(50, 400, size=4)) for _ in range(num_frames)])
    return Trajectory(
        c2w=random_c2w(rng, num_frames),
        intrinsics=intrinsics,
        image_size=(240, 320),
        frame_indices=np.arange(num_frames) * 13 + 5,
        timestamps=1_700_000_000_000_001 + np.arange(num_frames) * 33_367,
        source="https://example.org/clip",
        metadata={"sampling": {"kind": "difficult", "stride": 13}, "note": "ünïcode"},
    )


def test_exact_round_trip(rng, tmp_path):
    trajectory = _trajectory(rng)
    back = read_trajectory_json(write_trajectory_json(tmp_path / "trajectory.json", trajectory))
    np.testing.assert_array_equal(back.c2w, trajectory.c2w)
    np.testing.assert_array_equal(back.intrinsics, trajectory.intrinsics)
    np.testing.assert_array_equal(back.frame_indices, trajectory.frame_indices)
    np.testing.assert_array_equal(back.timestamps, trajectory.timestamps)
    assert back.image_size == trajectory.image_size
    assert back.source == trajectory.source and back.metadata == trajectory.metadata


def test_optional_fields_round_trip_as_absent(rng, tmp_path):
    trajectory = Trajectory(c2w=random_c2w(rng, 2), intrinsics=pinhole(10, 10, 5, 5), image_size=(10, 10))
    back = read_trajectory_json(write_trajectory_json(tmp_path / "t.json", trajectory))
    assert (
        back.frame_indices is None and back.timestamps is None and back.source == "" and back.metadata == {}
    )


def test_file_is_self_describing(rng, tmp_path):
    payload = json.loads(write_trajectory_json(tmp_path / "t.json", _trajectory(rng)).read_text())
    assert payload["format"] == FORMAT_NAME
    assert "OpenCV" in payload["convention"]
    assert set(payload) >= {"c2w", "K", "image_size", "frame_indices", "timestamps", "source"}


def _rotated_frame(payload: dict) -> None:
    payload["c2w"][1][0][0] = 3.0


MALFORMED = {
    "missing-keys": (lambda payload: payload.pop("K"), "missing key(s): K"),
    "c2w-shape": (
        lambda payload: payload.update(c2w=[[1, 0, 0]]),
        "c2w has shape [1, 3], expected a [F, 4, 4]",
    ),
    "c2w-strings": (
        lambda payload: payload.update(c2w=[["x"] * 4] * 4),
        "c2w is not a [F, 4, 4] array of numbers",
    ),
    "not-rotation": (_rotated_frame, "c2w[1]: rotation is not orthonormal"),
    "nan-K": (lambda payload: payload["K"][0][0].__setitem__(0, float("nan")), "K contains NaN"),
    "K-count": (lambda payload: payload["K"].pop(), "4 poses but 3 intrinsics"),
    "image-size": (
        lambda payload: payload.update(image_size=[240.5, 320]),
        "image_size must be whole pixels",
    ),
    "indices-float": (lambda payload: payload.update(frame_indices=[0.5, 1, 2, 3]), "frame_indices must be"),
    "indices-length": (lambda payload: payload.update(timestamps=[1, 2]), "timestamps has shape (2,)"),
    "format": (lambda payload: payload.update(format="other"), "format is 'other'"),
    "version": (lambda payload: payload.update(version=7), "version 7 is not supported"),
    "metadata": (lambda payload: payload.update(metadata=[1]), "metadata must be an object"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_files(case, rng, tmp_path):
    corrupt, problem = MALFORMED[case]
    path = write_trajectory_json(tmp_path / "t.json", _trajectory(rng))
    payload = json.loads(path.read_text())
    corrupt(payload)
    path.write_text(json.dumps(payload))
    with pytest.raises(CameraFileError) as caught:
        read_trajectory_json(path)
    assert str(caught.value).startswith(f"{path}: ") and problem in str(caught.value), str(caught.value)
