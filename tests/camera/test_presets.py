from __future__ import annotations

import numpy as np
import pytest

from motionflow.camera.poses import camera_centers, rotation_angle
from motionflow.camera.presets import (
    EXAMPLE_COMPOSITIONS,
    ORBIT_TARGET_DISTANCE,
    PRESETS,
    ROTATION_DEGREES,
    TRANSLATION_DISTANCE,
    ZOOM_FACTOR,
    make_preset,
    preset_names,
    write_presets,
)
from motionflow.camera.trajectory_files import load_trajectory
from motionflow.utils.registry import UnknownNameError

from .helpers import project

NAMES = [
    "pan_left",
    "pan_right",
    "tilt_up",
    "tilt_down",
    "dolly_in",
    "dolly_out",
    "truck_left",
    "truck_right",
    "pedestal_up",
    "pedestal_down",
    "orbit_left",
    "orbit_right",
    "zoom_in",
    "zoom_out",
]
AHEAD = np.array([[0.0, 0.0, 5.0]])
"""A point straight ahead of the first camera, beyond the orbit target."""


def test_registry_holds_every_named_motion():
    assert sorted(NAMES) == preset_names() == PRESETS.names()


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_starts_at_identity_with_default_intrinsics(name):
    trajectory = make_preset(name)
    assert len(trajectory) == 16 and trajectory.image_size == (256, 384)
    np.testing.assert_allclose(trajectory.c2w[0], np.eye(4), atol=1e-12)
    K = trajectory.intrinsics[0]
    assert K[0, 0] == K[1, 1], "square pixels"
    assert (K[0, 2], K[1, 2]) == (192.0, 128.0)
    assert np.rad2deg(2 * np.arctan(128 / K[1, 1])) == pytest.approx(60.0)
    assert trajectory.source == f"preset:{name}"
    np.testing.assert_array_equal(trajectory.frame_indices, np.arange(16))


def _forward(trajectory) -> np.ndarray:
    return trajectory.c2w[-1, :3, 2]


@pytest.mark.parametrize(
    "name, axis, sign",
    [("pan_left", 0, -1), ("pan_right", 0, 1), ("tilt_up", 1, -1), ("tilt_down", 1, 1)],
)
def test_rotations_turn_the_view_in_opencv_axes(name, axis, sign):
    trajectory = make_preset(name)
    forward = _forward(trajectory)
    assert np.sign(forward[axis]) == sign
    assert abs(forward[1 - axis]) < 1e-12
    np.testing.assert_allclose(camera_centers(trajectory.c2w), 0.0, atol=1e-15)
    angles = np.rad2deg(rotation_angle(np.eye(3), trajectory.c2w[:, :3, :3]))
    np.testing.assert_allclose(angles, np.linspace(0, ROTATION_DEGREES, 16), atol=1e-9)


@pytest.mark.parametrize(
    "name, direction",
    [
        ("dolly_in", (0, 0, 1)),
        ("dolly_out", (0, 0, -1)),
        ("truck_left", (-1, 0, 0)),
        ("truck_right", (1, 0, 0)),
        ("pedestal_up", (0, -1, 0)),
        ("pedestal_down", (0, 1, 0)),
    ],
)
def test_translations_move_along_frame_zero_axes(name, direction):
    trajectory = make_preset(name)
    expected = np.outer(np.linspace(0, TRANSLATION_DISTANCE, 16), direction)
    np.testing.assert_allclose(camera_centers(trajectory.c2w), expected, atol=1e-12)
    np.testing.assert_allclose(trajectory.c2w[:, :3, :3], np.tile(np.eye(3), (16, 1, 1)), atol=1e-15)


@pytest.mark.parametrize(
    "name, image_motion",
    [
        ("pan_left", (1, 0)),  # the scene slides right when the camera turns left
        ("pan_right", (-1, 0)),
        ("tilt_up", (0, 1)),  # and down when it tilts up
        ("truck_left", (1, 0)),
        ("pedestal_up", (0, 1)),
        ("pedestal_down", (0, -1)),
    ],
)
def test_scene_moves_the_way_a_viewer_expects(name, image_motion):
    trajectory = make_preset(name)
    first = project(trajectory.c2w[0], trajectory.intrinsics[0], AHEAD)[0]
    last = project(trajectory.c2w[-1], trajectory.intrinsics[-1], AHEAD)[0]
    assert tuple(np.sign(np.round(last - first, 9)).astype(int)) == image_motion


@pytest.mark.parametrize("name, grows", [("zoom_in", True), ("zoom_out", False)])
def test_zoom_changes_focal_length_only(name, grows):
    trajectory = make_preset(name)
    np.testing.assert_array_equal(trajectory.c2w, np.tile(np.eye(4), (16, 1, 1)))
    fx, fy = trajectory.intrinsics[:, 0, 0], trajectory.intrinsics[:, 1, 1]
    assert np.all(np.diff(fx) > 0) == grows and np.all(np.diff(fx) < 0) != grows
    np.testing.assert_array_equal(fx, fy)
    assert fx[-1] / fx[0] == pytest.approx(ZOOM_FACTOR if grows else 1 / ZOOM_FACTOR)
    np.testing.assert_array_equal(trajectory.intrinsics[:, :2, 2], np.tile([192.0, 128.0], (16, 1)))


def test_zoom_in_spreads_points_away_from_the_centre():
    trajectory = make_preset("zoom_in")
    off_centre = np.array([[1.0, 0.5, 5.0]])
    first = project(trajectory.c2w[0], trajectory.intrinsics[0], off_centre)[0] - [192, 128]
    last = project(trajectory.c2w[-1], trajectory.intrinsics[-1], off_centre)[0] - [192, 128]
    np.testing.assert_allclose(last, first * ZOOM_FACTOR)


@pytest.mark.parametrize("name, side", [("orbit_left", -1), ("orbit_right", 1)])
def test_orbit_keeps_the_target_centred(name, side):
    trajectory = make_preset(name)
    target = np.array([[0.0, 0.0, ORBIT_TARGET_DISTANCE]])
    for c2w, K in zip(trajectory.c2w, trajectory.intrinsics, strict=True):
        np.testing.assert_allclose(project(c2w, K, target)[0], [192.0, 128.0], atol=1e-9)
    centres = camera_centers(trajectory.c2w)
    np.testing.assert_allclose(np.linalg.norm(centres - target, axis=1), ORBIT_TARGET_DISTANCE)
    np.testing.assert_allclose(centres[:, 1], 0.0, atol=1e-12)
    assert np.all(np.sign(centres[1:, 0]) == side)
    arc = np.rad2deg(rotation_angle(np.eye(3), trajectory.c2w[-1, :3, :3]))
    assert arc == pytest.approx(ROTATION_DEGREES)


def test_composition_is_the_frame_by_frame_product():
    dolly, pan = make_preset("dolly_in"), make_preset("pan_left")
    composed = make_preset("dolly_in+pan_left")
    np.testing.assert_allclose(composed.c2w, dolly.c2w @ pan.c2w, atol=1e-15)
    np.testing.assert_allclose(camera_centers(composed.c2w), camera_centers(dolly.c2w), atol=1e-15)
    assert _forward(composed)[0] < 0
    # the other order moves along the turned axis, toward -x
    assert camera_centers(make_preset("pan_left+dolly_in").c2w)[-1, 0] < -0.1
    assert composed.metadata["preset"] == "dolly_in+pan_left"


def test_composition_with_zoom_and_spaces():
    composed = make_preset(" truck_right + zoom_out ")
    assert composed.source == "preset:truck_right+zoom_out"
    np.testing.assert_allclose(composed.intrinsics, make_preset("zoom_out").intrinsics)
    np.testing.assert_allclose(composed.c2w, make_preset("truck_right").c2w)


def test_magnitude_scales_every_motion():
    still = make_preset("orbit_left+dolly_in+zoom_in", magnitude=0.0)
    np.testing.assert_allclose(still.c2w, np.tile(np.eye(4), (16, 1, 1)), atol=1e-12)
    np.testing.assert_allclose(still.intrinsics, make_preset("pan_left").intrinsics[:1].repeat(16, 0))
    double = make_preset("pan_right", magnitude=2.0)
    assert np.rad2deg(rotation_angle(np.eye(3), double.c2w[-1, :3, :3])) == pytest.approx(
        2 * ROTATION_DEGREES
    )
    assert make_preset("zoom_in", magnitude=2.0).intrinsics[-1, 0, 0] == pytest.approx(
        ZOOM_FACTOR**2 * make_preset("zoom_in").intrinsics[0, 0, 0]
    )


def test_frame_count_and_size_options():
    trajectory = make_preset("orbit_right", num_frames=25, image_size=(64, 96), vertical_fov_degrees=40.0)
    assert len(trajectory) == 25 and trajectory.image_size == (64, 96)
    assert np.rad2deg(2 * np.arctan(32 / trajectory.intrinsics[0, 1, 1])) == pytest.approx(40.0)


def test_bad_names_and_arguments():
    with pytest.raises(UnknownNameError, match="unknown camera preset 'spin'; known: dolly_in"):
        make_preset("dolly_in+spin")
    with pytest.raises(ValueError, match="magnitude"):
        make_preset("pan_left", magnitude=-1.0)
    with pytest.raises(ValueError, match="num_frames"):
        make_preset("pan_left", num_frames=0)


@pytest.mark.parametrize("file_format, suffix", [("re10k", ".txt"), ("json", ".json")])
def test_write_presets_one_file_each(file_format, suffix, tmp_path):
    paths = write_presets(tmp_path, format=file_format)
    expected = sorted(f"{name}{suffix}" for name in [*NAMES, *EXAMPLE_COMPOSITIONS])
    assert sorted(path.name for path in paths) == sorted(p.name for p in tmp_path.iterdir()) == expected
    for path in paths:
        name = path.name.removesuffix(suffix)
        loaded = load_trajectory(path, image_size=(256, 384))
        reference = make_preset(name)
        # RealEstate10K prints nine decimals; the JSON form is exact
        atol = 1e-8 if file_format == "re10k" else 0.0
        np.testing.assert_allclose(loaded.c2w, reference.c2w, atol=atol, rtol=0)
        np.testing.assert_allclose(loaded.intrinsics, reference.intrinsics, atol=atol * 400, rtol=0)


def test_write_presets_selected_names_and_bad_format(tmp_path):
    paths = write_presets(tmp_path, format="json", names=["zoom_in+pan_left"], num_frames=8)
    assert [path.name for path in paths] == ["zoom_in+pan_left.json"]
    assert len(load_trajectory(paths[0])) == 8
    with pytest.raises(ValueError, match="unknown trajectory format 'csv'"):
        write_presets(tmp_path, format="csv")
