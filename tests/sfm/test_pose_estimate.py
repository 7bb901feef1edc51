"""PoseEstimate, the quality checks, the registry and the settings of external tools."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.sfm_adapters import ESTIMATORS, EstimatorUnavailableError, PoseEstimate, create_estimator
from bench.sfm_adapters.base import assemble_estimate, default_intrinsics, empty_estimate, quality_problems
from bench.sfm_adapters.colmap import ColmapSettings
from bench.sfm_adapters.settings import SettingsFileError, external_setting
from motionflow.camera.intrinsics import intrinsics_matrix
from motionflow.camera.poses import look_at


def _estimate(
    num_frames: int = 4, registered: list[bool] | None = None, num_points: int | None = 500
) -> PoseEstimate:
    poses = {i: look_at([0.1 * i, 0.0, 0.0], [0.0, 0.0, 5.0]) for i in range(num_frames)}
    if registered is not None:
        poses = {i: pose for i, pose in poses.items() if registered[i]}
    K = intrinsics_matrix(300.0, 310.0, 192.0, 128.0)
    return assemble_estimate(
        "colmap", (256, 384), poses, {i: K for i in poses}, num_frames, num_points=num_points
    )


def test_json_round_trip_is_exact_and_readable() -> None:
    estimate = _estimate(registered=[True, False, True, True])
    estimate.failure_reason = "1 of 4 frames not registered"
    estimate.extra = {"mapper": "global"}
    text = estimate.dumps()
    payload = json.loads(text)
    assert payload["frames"][1] == {
        "index": 1,
        "registered": False,
        "c2w": np.eye(4).tolist(),
        "K": payload["frames"][0]["K"],
    }
    assert payload["ok"] is False and payload["num_registered"] == 3
    restored = PoseEstimate.loads(text)
    np.testing.assert_array_equal(restored.c2w, estimate.c2w)
    np.testing.assert_array_equal(restored.intrinsics, estimate.intrinsics)
    np.testing.assert_array_equal(restored.registered, estimate.registered)
    assert restored.failure_reason == estimate.failure_reason and restored.extra == estimate.extra


def test_unregistered_frames_hold_identity_and_nearest_intrinsics() -> None:
    estimate = _estimate(registered=[False, True, True, False])
    np.testing.assert_array_equal(estimate.c2w[0], np.eye(4))
    np.testing.assert_array_equal(estimate.intrinsics[0], estimate.intrinsics[1])
    np.testing.assert_array_equal(estimate.intrinsics[3], estimate.intrinsics[2])


def test_nan_poses_are_rejected_and_non_finite_input_frames_become_unregistered() -> None:
    with pytest.raises(ValueError, match="NaN"):
        PoseEstimate(
            "colmap", np.full((2, 4, 4), np.nan), default_intrinsics((8, 8), 2), [False, False], (8, 8)
        )
    estimate = assemble_estimate("colmap", (8, 8), {0: np.eye(4), 1: np.full((4, 4), np.nan)}, {}, 2)
    assert estimate.registered.tolist() == [True, False]


def test_from_json_rejects_other_files() -> None:
    with pytest.raises(ValueError, match="format"):
        PoseEstimate.from_json({"format": "something-else"})


@pytest.mark.parametrize(
    ("registered", "num_points", "focal", "expected"),
    [
        ([True] * 4, 500, 300.0, None),
        ([False] * 4, 500, 300.0, "no frame registered"),
        ([True, True, False, True], 500, 300.0, "1 of 4 frames not registered (frames 2)"),
        ([True] * 4, 3, 300.0, "only 3 3D points"),
        ([True] * 4, 500, 20.0, "implausible focal length 20.0 px"),
        ([True] * 4, 500, 4000.0, "implausible focal length 4000.0 px"),
    ],
)
def test_quality_problems(
    registered: list[bool], num_points: int, focal: float, expected: str | None
) -> None:
    poses = {i: np.eye(4) for i, flag in enumerate(registered) if flag}
    K = intrinsics_matrix(focal, focal, 192.0, 128.0)
    estimate = assemble_estimate("colmap", (256, 384), poses, {i: K for i in poses}, 4, num_points=num_points)
    problems = quality_problems(estimate, ColmapSettings())
    if expected is None:
        assert problems == []
    else:
        assert any(expected in problem for problem in problems), problems


def test_invalid_rotation_is_a_problem() -> None:
    reflection = np.diag([1.0, 1.0, -1.0, 1.0])
    estimate = assemble_estimate("colmap", (256, 384), {0: np.eye(4), 1: reflection}, {}, 2, num_points=100)
    estimate.intrinsics[:] = intrinsics_matrix(300.0, 300.0, 192.0, 128.0)
    assert any(
        "invalid rotation in frames 1" in problem for problem in quality_problems(estimate, ColmapSettings())
    )


def test_empty_estimate_uses_the_given_or_default_intrinsics() -> None:
    failure = empty_estimate("colmap", 3, (100, 200), "no reconstruction")
    assert not failure.ok and failure.num_registered == 0
    np.testing.assert_allclose(failure.intrinsics[0], intrinsics_matrix(240.0, 240.0, 100.0, 50.0))


def test_registry_and_settings_overrides() -> None:
    assert {"colmap", "dust3r", "vggsfm", "particlesfm", "vggt"} <= set(ESTIMATORS.names())
    estimator = create_estimator("colmap", mapper="incremental", init_min_tri_angle=16.0)
    assert estimator.settings.mapper == "incremental" and estimator.is_stochastic
    with pytest.raises(KeyError, match="known: colmap"):
        create_estimator("no-such-estimator")
    with pytest.raises(ValueError, match="unknown settings"):
        create_estimator("colmap", no_such_setting=1)


def test_external_settings_from_environment_and_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_file = tmp_path / "sfm.toml"
    settings_file.write_text(
        '[dust3r]\ncheckpoint = "/models/dust3r.pth"\n[vggsfm]\npython = "/envs/vggsfm/bin/python"\n'
    )
    monkeypatch.setenv("MFBENCH_SFM_SETTINGS", str(settings_file))
    monkeypatch.delenv("MFBENCH_DUST3R_CHECKPOINT", raising=False)
    assert external_setting("dust3r", "checkpoint") == "/models/dust3r.pth"
    assert external_setting("vggt", "checkpoint") is None
    monkeypatch.setenv("MFBENCH_DUST3R_CHECKPOINT", "/elsewhere/ckpt.pth")
    assert external_setting("dust3r", "checkpoint") == "/elsewhere/ckpt.pth"
    assert create_estimator("dust3r").settings.checkpoint == "/elsewhere/ckpt.pth"
    settings_file.write_text("[dust3r\n")
    with pytest.raises(SettingsFileError, match="cannot parse"):
        external_setting("vggt", "checkpoint")


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("dust3r", "MFBENCH_DUST3R_CHECKPOINT"),
        ("vggsfm", "MFBENCH_VGGSFM_PYTHON"),
        ("particlesfm", "MFBENCH_PARTICLESFM_PYTHON"),
    ],
)
def test_missing_external_estimator_names_what_where_and_setting(
    name: str, variable: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MFBENCH_SFM_SETTINGS", str(tmp_path / "none.json"))
    (tmp_path / "none.json").write_text("{}")
    for key in ("DUST3R_CHECKPOINT", "DUST3R_DIR", "VGGSFM_PYTHON", "PARTICLESFM_PYTHON"):
        monkeypatch.delenv(f"MFBENCH_{key}", raising=False)
    estimator = create_estimator(name)
    if name == "dust3r":
        pytest.importorskip("mini_dust3r")
    with pytest.raises(EstimatorUnavailableError) as error:
        estimator.check_available()
    message = str(error.value)
    assert f"pose estimator {name!r} is unavailable" in message
    assert "Source: " in message and "github.com" in message and variable in message


def test_vggt_without_package_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MFBENCH_VGGT_DIR", raising=False)
    estimator = create_estimator("vggt", package_dir=None)
    try:
        import vggt  # noqa: F401
    except ImportError:
        with pytest.raises(EstimatorUnavailableError, match="vggt package cannot be imported"):
            estimator.check_available()
    else:
        pytest.skip("vggt is installed here")
