from __future__ import annotations

import json

import numpy as np
import pytest

from motionflow.camera.json_format import write_trajectory_json
from motionflow.camera.nerfstudio_format import write_transforms_json
from motionflow.camera.presets import make_preset
from motionflow.camera.re10k_format import read_re10k
from motionflow.camera.trajectory_files import load_trajectory, write_trajectory
from motionflow.errors import CameraFileError

from .helpers import RE10K_FILES, RE10K_IMAGE_SIZE

FRAME_PATHS = [f"images/frame_{index:05d}.png" for index in range(4)]


@pytest.fixture
def trajectory():
    return make_preset("dolly_in+pan_right+zoom_in", num_frames=4, image_size=(60, 90))


def test_realestate10k_text(tmp_path):
    loaded = load_trajectory(RE10K_FILES[0], image_size=RE10K_IMAGE_SIZE)
    expected = read_re10k(RE10K_FILES[0], RE10K_IMAGE_SIZE)
    np.testing.assert_array_equal(loaded.c2w, expected.c2w)
    np.testing.assert_array_equal(loaded.intrinsics, expected.intrinsics)


def test_realestate10k_needs_image_size():
    with pytest.raises(CameraFileError, match="normalised intrinsics: pass the frames' image_size"):
        load_trajectory(RE10K_FILES[0])


@pytest.mark.parametrize("name", ["transforms.json", "scene_cameras.json", "directory"])
def test_transforms_json_by_name_content_or_directory(name, trajectory, tmp_path):
    file_name = "transforms.json" if name == "directory" else name
    write_transforms_json(tmp_path / file_name, trajectory, FRAME_PATHS)
    loaded = load_trajectory(tmp_path if name == "directory" else tmp_path / file_name)
    np.testing.assert_array_equal(loaded.c2w, trajectory.c2w)
    assert loaded.metadata["file_paths"] == FRAME_PATHS


def test_plain_json(trajectory, tmp_path):
    loaded = load_trajectory(write_trajectory_json(tmp_path / "path.json", trajectory))
    np.testing.assert_array_equal(loaded.c2w, trajectory.c2w)
    assert loaded.metadata == trajectory.metadata


def test_image_size_rescales_json_intrinsics(trajectory, tmp_path):
    path = write_trajectory_json(tmp_path / "path.json", trajectory)
    loaded = load_trajectory(path, image_size=(120, 180))
    assert loaded.image_size == (120, 180)
    np.testing.assert_allclose(loaded.intrinsics[:, :2], trajectory.intrinsics[:, :2] * 2)


@pytest.mark.parametrize(
    "name, content, problem",
    [
        (
            "cameras.npz",
            b"PK",
            "unknown trajectory file type '.npz'; expected .txt (RealEstate10K cameras), transforms.json",
        ),
        ("cameras", b"", "unknown trajectory file type '(no suffix)'"),
        ("other.json", b'{"poses": []}', "neither 'frames' (transforms.json) nor 'c2w'"),
    ],
)
def test_unknown_types(name, content, problem, tmp_path):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(CameraFileError) as caught:
        load_trajectory(tmp_path / name)
    assert problem in str(caught.value)


def test_directory_without_transforms(tmp_path):
    with pytest.raises(CameraFileError, match="directory has no transforms.json"):
        load_trajectory(tmp_path)


@pytest.mark.parametrize("suffix", [".txt", ".json"])
def test_write_trajectory_dispatches_on_suffix(suffix, trajectory, tmp_path):
    path = write_trajectory(tmp_path / f"path{suffix}", trajectory)
    loaded = load_trajectory(path, image_size=trajectory.image_size)
    np.testing.assert_allclose(loaded.c2w, trajectory.c2w, atol=1e-8)
    np.testing.assert_allclose(loaded.intrinsics, trajectory.intrinsics, rtol=1e-8)
    if suffix == ".json":
        assert json.loads(path.read_text())["format"] == "mfbench.trajectory"


def test_write_trajectory_refuses_unknown_or_transforms(trajectory, tmp_path):
    with pytest.raises(ValueError, match="write_transforms_json"):
        write_trajectory(tmp_path / "transforms.json", trajectory)
    with pytest.raises(ValueError, match="cannot tell the format"):
        write_trajectory(tmp_path / "path.csv", trajectory)
