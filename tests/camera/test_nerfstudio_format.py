from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from motionflow.camera.nerfstudio_format import (
    file_path_sort_key,
    read_transforms_json,
    write_transforms_json,
)
from motionflow.camera.poses import OPENGL_TO_OPENCV, c2w_to_w2c
from motionflow.camera.presets import make_preset
from motionflow.camera.re10k_format import read_re10k
from motionflow.errors import CameraFileError, FrameCountError

from .helpers import RE10K_FILES, RE10K_IMAGE_SIZE, random_c2w


def _gl_pose(position: tuple[float, float, float]) -> list[list[float]]:
    pose = np.eye(4)
    pose[:3, 3] = position
    return pose.tolist()


def _dl3dv_payload() -> dict:
    """A DL3DV-style file: global intrinsics and distortion, frames listed out of order."""
    return {
        "w": 960,
        "h": 540,
        "fl_x": 800.0,
        "fl_y": 790.0,
        "cx": 481.0,
        "cy": 269.0,
        "k1": 0.01,
        "k2": -0.002,
        "p1": 0.0,
        "p2": 0.0,
        "camera_model": "OPENCV",
        "frames": [
            {"file_path": "images/frame_10.png", "transform_matrix": _gl_pose((10.0, 0.0, 0.0))},
            {"file_path": "images/frame_2.png", "transform_matrix": _gl_pose((2.0, 0.0, 0.0))},
            {"file_path": "images/frame_1.png", "transform_matrix": _gl_pose((1.0, 0.0, 0.0))},
        ],
        "applied_transform": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]],
    }


def _write(tmp_path: Path, payload: object) -> Path:
    path = tmp_path / "transforms.json"
    path.write_text(json.dumps(payload))
    return path


def test_reads_dl3dv_layout(tmp_path):
    trajectory = read_transforms_json(_write(tmp_path, _dl3dv_payload()))
    assert trajectory.image_size == (540, 960)
    assert trajectory.metadata["file_paths"] == [
        "images/frame_1.png",
        "images/frame_2.png",
        "images/frame_10.png",
    ]
    np.testing.assert_array_equal(trajectory.c2w[:, 0, 3], [1.0, 2.0, 10.0])
    np.testing.assert_array_equal(trajectory.frame_indices, [0, 1, 2])
    np.testing.assert_array_equal(trajectory.intrinsics[0], [[800.0, 0, 481.0], [0, 790.0, 269.0], [0, 0, 1]])
    assert trajectory.metadata["distortion"] == {"k1": 0.01, "k2": -0.002, "p1": 0.0, "p2": 0.0}


def test_opengl_axes_become_opencv(tmp_path):
    """An OpenGL camera sees the point 4 units down its -z axis and 1 unit up (+y): in OpenCV axes the
    point is in front (z > 0) and above the centre (y < 0)."""
    trajectory = read_transforms_json(_write(tmp_path, _dl3dv_payload()))
    np.testing.assert_array_equal(trajectory.c2w[0, :3, :3], np.diag([1.0, -1.0, -1.0]))
    point_world = np.array([1.0, 1.0, -4.0, 1.0])
    np.testing.assert_allclose(c2w_to_w2c(trajectory.c2w[0])[0] @ point_world, [0.0, -1.0, 4.0, 1.0])


def test_per_frame_intrinsics_override_global(tmp_path):
    payload = _dl3dv_payload()
    payload["frames"][1].update({"fl_x": 900.0, "cy": 250.0})
    trajectory = read_transforms_json(_write(tmp_path, payload))
    np.testing.assert_array_equal(trajectory.intrinsics[:, 0, 0], [800.0, 900.0, 800.0])
    np.testing.assert_array_equal(trajectory.intrinsics[:, 1, 2], [269.0, 250.0, 269.0])


def test_file_path_sort_key_orders_numbers_numerically():
    paths = ["img/frame_10.png", "img/frame_9.png", "img/frame_100.png", "img/frame_09b.png"]
    assert sorted(paths, key=file_path_sort_key) == [
        "img/frame_9.png",
        "img/frame_09b.png",
        "img/frame_10.png",
        "img/frame_100.png",
    ]


def test_round_trip_with_axis_flip(rng, tmp_path):
    trajectory = make_preset("orbit_left+zoom_in", num_frames=5, image_size=(90, 160))
    trajectory = type(trajectory)(
        c2w=random_c2w(rng, 1)[0] @ trajectory.c2w,
        intrinsics=trajectory.intrinsics,
        image_size=trajectory.image_size,
    )
    frame_paths = [f"images/frame_{index:05d}.png" for index in range(1, 6)]
    path = write_transforms_json(tmp_path / "transforms.json", trajectory, frame_paths)

    payload = json.loads(path.read_text())
    stored = np.array([frame["transform_matrix"] for frame in payload["frames"]])
    np.testing.assert_array_equal(stored, trajectory.c2w @ OPENGL_TO_OPENCV)
    assert "fl_x" in payload["frames"][0], "zoom changes K per frame, so K is written per frame"

    back = read_transforms_json(path)
    np.testing.assert_array_equal(back.c2w, trajectory.c2w)
    np.testing.assert_array_equal(back.intrinsics, trajectory.intrinsics)
    assert back.image_size == trajectory.image_size
    assert back.metadata["file_paths"] == frame_paths


def test_shared_intrinsics_are_written_once(tmp_path):
    trajectory = read_re10k(RE10K_FILES[0], RE10K_IMAGE_SIZE)
    frame_paths = [f"images/frame_{index:05d}.png" for index in range(len(trajectory))]
    path = write_transforms_json(tmp_path / "transforms.json", trajectory, frame_paths)
    payload = json.loads(path.read_text())
    assert payload["fl_x"] == trajectory.intrinsics[0, 0, 0] and "fl_x" not in payload["frames"][0]
    assert (payload["w"], payload["h"]) == (384, 256)
    back = read_transforms_json(path)
    np.testing.assert_array_equal(back.c2w, trajectory.c2w)
    np.testing.assert_array_equal(back.intrinsics, trajectory.intrinsics)


def test_write_rejects_bad_frame_paths(tmp_path):
    trajectory = make_preset("pan_left", num_frames=3)
    with pytest.raises(FrameCountError, match="3 frames but 2 frame paths"):
        write_transforms_json(tmp_path / "transforms.json", trajectory, ["a1.png", "a2.png"])
    with pytest.raises(ValueError, match="sorted order"):
        write_transforms_json(tmp_path / "transforms.json", trajectory, ["a2.png", "a1.png", "a3.png"])
    assert not (tmp_path / "transforms.json").exists()


def _frame(index: int, **changes) -> dict:
    return {"file_path": f"images/frame_{index}.png", "transform_matrix": _gl_pose((index, 0, 0)), **changes}


def _reflected() -> list[list[float]]:
    pose = np.eye(4)
    pose[2, 2] = -1.0
    return pose.tolist()


MALFORMED = {
    "no-frames": ({"fl_x": 1.0}, "'frames' must be a non-empty list"),
    "empty-frames": ({"frames": []}, "'frames' must be a non-empty list"),
    "frame-not-object": ({"frames": [[1, 2]]}, "frames[0] must be an object"),
    "no-file-path": ({"frames": [{"transform_matrix": _gl_pose((0, 0, 0))}]}, "frames[0] has no file_path"),
    "no-matrix": ({"frames": [{"file_path": "a.png"}]}, "frames[0] (a.png): missing transform_matrix"),
    "matrix-strings": (
        {"frames": [_frame(1, transform_matrix=[["a", "b", "c", "d"]] * 4)]},
        "frames[0] (images/frame_1.png): transform_matrix is not a [F, 4] array of numbers",
    ),
    "matrix-shape": ({"frames": [_frame(1, transform_matrix=[[1, 0, 0], [0, 1, 0]])]}, "has shape [2, 3]"),
    "matrix-nan": ({"frames": [_frame(1), _frame(2, transform_matrix=[[float("nan")] * 4] * 4)]}, "NaN"),
    "not-rotation": (
        {"frames": [_frame(1, transform_matrix=(2 * np.eye(4)).tolist())]},
        "transform_matrix rotation is not orthonormal",
    ),
    "reflection": ({"frames": [_frame(1, transform_matrix=_reflected())]}, "(a reflection)"),
    "missing-intrinsics": ({"frames": [_frame(1)]}, "frames[0] (images/frame_1.png): no fl_x"),
    "bad-focal": ({"frames": [_frame(1, fl_x=-3.0)]}, "focal lengths must be positive"),
    "fractional-size": ({"frames": [_frame(1, w=10.5)]}, "w, h must be positive whole pixels"),
    "mixed-sizes": ({"frames": [_frame(1), _frame(2, w=100)]}, "frames have different image sizes"),
    "duplicate-paths": ({"frames": [_frame(1), _frame(1)]}, "two frames have the same file_path"),
    "fisheye": ({"camera_model": "OPENCV_FISHEYE", "frames": [_frame(1)]}, "not a pinhole model"),
    "top-level-list": ([1, 2, 3], "expected a JSON object at the top level, found list"),
}
INTRINSICS = {"fl_x": 50.0, "fl_y": 50.0, "cx": 32.0, "cy": 24.0, "w": 64, "h": 48}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_files(case, tmp_path):
    payload, problem = MALFORMED[case]
    if isinstance(payload, dict) and case != "missing-intrinsics":
        payload = {**INTRINSICS, **payload}
    path = _write(tmp_path, payload)
    with pytest.raises(CameraFileError) as caught:
        read_transforms_json(path)
    assert str(caught.value).startswith(f"{path}: "), str(caught.value)
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    "content, problem, line",
    [
        ('{\n  "frames": [\n    {"file_path": "a.png",}\n  ]\n}', "invalid JSON", 3),
        ("", "file is empty", None),
        ("\x00\x01binary", "binary file", None),
    ],
)
def test_unreadable_json(content, problem, line, tmp_path):
    path = tmp_path / "transforms.json"
    path.write_text(content)
    with pytest.raises(CameraFileError, match=problem) as caught:
        read_transforms_json(path)
    assert caught.value.line == line
