"""Every baseline on the shared backbone generates a video through the method registry, from a
checkpoint folder; missing or wrong checkpoints give clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from baseline_helpers import METHODS as BASELINES
from baseline_helpers import orbit_trajectory, randomize, reference_image, tiny_model

import motionflow.checkpoints
from baselines import METHODS
from baselines.generation import BaselinePipeline
from motionflow.errors import FrameCountError, MissingWeightsError, MotionFlowError
from motionflow.weights import WEIGHTS_ENV


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A trained-looking tiny checkpoint folder per method (its new layers non-zero)."""
    folders = {}
    for method in BASELINES:
        model, _ = tiny_model(method)
        randomize(model, [name for name, _ in model.stage_named_parameters(1)], std=0.05)
        folders[method] = model.save_pretrained(tmp_path_factory.mktemp("checkpoints") / method)
    return folders


@pytest.mark.parametrize("method", BASELINES)
def test_method_generates_a_video_of_the_trajectorys_size(method: str, checkpoints: dict[str, Path]) -> None:
    generator = METHODS.get(method)(checkpoints[method], steps=2)
    generator.check_available()
    trajectory = orbit_trajectory(frames=4, image_size=(48, 64))
    video = generator.generate(reference_image((48, 64)), trajectory, 4, seed=3)
    assert video.shape == (4, 48, 64, 3) and video.dtype == np.uint8
    assert np.array_equal(video, generator.generate(reference_image((48, 64)), trajectory, 4, seed=3))
    assert not np.array_equal(video, generator.generate(reference_image((48, 64)), trajectory, 4, seed=4))


def test_camera_methods_follow_the_camera(checkpoints: dict[str, Path]) -> None:
    pipeline = METHODS.get("motionctrl")(checkpoints["motionctrl"]).pipeline()
    image = reference_image((32, 32))
    first = pipeline(image, orbit_trajectory(radius=2.0), seed=0, steps=2)
    second = pipeline(image, orbit_trajectory(radius=6.0), seed=0, steps=2)
    assert not np.array_equal(first, second)


def test_the_camera_guidance_scale_weighs_the_camera_alone(checkpoints: dict[str, Path]) -> None:
    pipeline = METHODS.get("motionctrl")(checkpoints["motionctrl"]).pipeline()
    image, trajectory = reference_image((32, 32)), orbit_trajectory(frames=3)
    default = pipeline(image, trajectory, seed=0, steps=2, guidance_scale=2.0)
    assert np.array_equal(
        default, pipeline(image, trajectory, seed=0, steps=2, guidance_scale=2.0, camera_guidance_scale=2.0)
    )
    stronger = pipeline(image, trajectory, seed=0, steps=2, guidance_scale=2.0, camera_guidance_scale=6.0)
    assert not np.array_equal(default, stronger)
    camera_free = METHODS.get("animatediff")(checkpoints["animatediff"]).pipeline()
    assert np.array_equal(
        camera_free(image, trajectory, seed=0, steps=2),
        camera_free(image, trajectory, seed=0, steps=2, camera_guidance_scale=6.0),
    )


@pytest.mark.parametrize("method", ["animatediff", "cameractrl"])
def test_sampling_starts_from_the_reference_by_default(method: str, checkpoints: dict[str, Path]) -> None:
    """With and without the image-latent condition, the reference latent seeds the first step unless
    `initial_noise="gaussian"`."""
    pipeline = METHODS.get(method)(checkpoints[method]).pipeline()
    image, trajectory = reference_image((32, 32)), orbit_trajectory(frames=3)
    default = pipeline(image, trajectory, seed=0, steps=2)
    assert np.array_equal(default, pipeline(image, trajectory, seed=0, steps=2, initial_noise="reference"))
    assert not np.array_equal(default, pipeline(image, trajectory, seed=0, steps=2, initial_noise="gaussian"))


def test_requirements_and_fingerprint(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    assert METHODS.get("animatediff").requirements.uses_camera is False
    assert METHODS.get("cameractrl").requirements.weights == ("baseline-cameractrl",)
    assert METHODS.get("motionctrl").requirements.uses_camera is True
    fingerprint = METHODS.get("cameractrl")(checkpoints["cameractrl"]).fingerprint()
    assert fingerprint == METHODS.get("cameractrl")(checkpoints["cameractrl"]).fingerprint()
    assert fingerprint != METHODS.get("cameractrl")(checkpoints["cameractrl"], steps=10).fingerprint()
    from_noise = METHODS.get("cameractrl")(checkpoints["cameractrl"], initial_noise="gaussian")
    assert fingerprint != from_noise.fingerprint()
    model, _ = tiny_model("cameractrl", seed=9)
    other = model.save_pretrained(tmp_path / "other")
    assert fingerprint != METHODS.get("cameractrl")(other).fingerprint()


def test_missing_checkpoint_names_the_weights_and_where_they_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path))
    (tmp_path / "bundled").mkdir()
    monkeypatch.setattr(motionflow.checkpoints, "CHECKPOINTS_ROOT", tmp_path / "bundled")
    with pytest.raises(MissingWeightsError, match=r"baseline-cameractrl\+ic.*baselines/cameractrl\+ic"):
        METHODS.get("cameractrl+ic")().check_available()
    with pytest.raises(MissingWeightsError, match="not found"):
        METHODS.get("motionctrl")(tmp_path / "nowhere").check_available()


def test_checkpoint_of_another_method_is_refused(checkpoints: dict[str, Path]) -> None:
    # a MotionFlowError: the harness records the method as not computed instead of stopping
    with pytest.raises(MotionFlowError, match="holds a 'cameractrl' checkpoint, not 'cameractrl\\+ic'"):
        METHODS.get("cameractrl+ic")(checkpoints["cameractrl"]).check_available()


def test_too_many_frames_or_a_bad_size_are_refused(checkpoints: dict[str, Path]) -> None:
    pipeline: BaselinePipeline = METHODS.get("cameractrl")(checkpoints["cameractrl"]).pipeline()
    with pytest.raises(FrameCountError, match="at most 16"):
        pipeline(reference_image((32, 32)), orbit_trajectory(frames=17), steps=1)
    with pytest.raises(ValueError, match="multiple of 8"):
        pipeline(reference_image((32, 32)), orbit_trajectory(), steps=1, size=(36, 32))
