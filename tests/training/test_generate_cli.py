import json

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from bench.cli import app
from motionflow.camera.trajectory_files import load_trajectory, write_trajectory
from motionflow.data.video_io import read_frames, read_video
from tests.models.helpers import orbit_trajectory

runner = CliRunner()


def _inputs(tmp_path, frames=4, size=(48, 64)):
    image = tmp_path / "reference.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (*size, 3), dtype=np.uint8)).save(image)
    trajectory = orbit_trajectory(frames=frames, image_size=size)
    path = write_trajectory(tmp_path / "trajectory.json", trajectory)
    return image, path, trajectory


def test_generate_motionflow_from_an_image_and_a_trajectory_file(tmp_path):
    image, path, trajectory = _inputs(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["generate", "--image", str(image), "--trajectory", str(path), "--out", str(out), "--steps", "1"]
    )
    assert result.exit_code == 0, result.output
    folder = out / "reference"
    assert read_video(folder / "video.mp4").shape == (4, 48, 64, 3)
    assert read_frames(folder / "frames").shape == (4, 48, 64, 3)
    cameras = load_trajectory(folder / "cameras.txt", image_size=(48, 64))
    np.testing.assert_allclose(cameras.relative().c2w, trajectory.relative().c2w, atol=1e-5)
    listing = json.loads((out / "generations.json").read_text())
    assert listing["method"] == "motionflow" and len(listing["videos"]) == 1


def test_generate_works_for_any_registered_method_on_the_bundled_clips(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["generate", "--method", "oracle", "--dataset", "re10k", "--count", "1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    (folder,) = [path for path in out.iterdir() if path.is_dir()]
    generated, truth = read_video(folder / "video.mp4"), read_video(folder / "ground_truth.mp4")
    assert generated.shape == truth.shape == (16, 256, 384, 3)
    assert (folder / "cameras.txt").is_file() and (folder / "reference.png").is_file()


def test_an_unknown_method_fails_naming_the_known_ones(tmp_path):
    image, path, _ = _inputs(tmp_path)
    result = runner.invoke(
        app, ["generate", "--method", "nope", "--image", str(image), "--trajectory", str(path)]
    )
    assert result.exit_code == 1
    assert "nope" in result.output and "motionflow" in result.output


def test_an_option_the_method_does_not_take_is_refused(tmp_path):
    image, path, _ = _inputs(tmp_path)
    result = runner.invoke(
        app,
        ["generate", "--method", "static", "--image", str(image), "--trajectory", str(path), "--steps", "3"],
    )
    assert result.exit_code == 1
    assert "--steps" in result.output


def test_initial_noise_is_a_choice(tmp_path):
    image, path, _ = _inputs(tmp_path)
    out = tmp_path / "out"
    arguments = [
        "generate",
        "--image",
        str(image),
        "--trajectory",
        str(path),
        "--steps",
        "1",
        "--out",
        str(out),
    ]
    refused = runner.invoke(app, [*arguments, "--initial-noise", "uniform"])
    assert refused.exit_code == 2 and "reference, gaussian, warped" in refused.output
    assert not out.exists()
    assert runner.invoke(app, [*arguments, "--initial-noise", "gaussian"]).exit_code == 0
    assert read_video(out / "reference" / "video.mp4").shape == (4, 48, 64, 3)


def test_the_sampling_settings_are_recorded_with_the_generation_fingerprint(tmp_path):
    image, path, _ = _inputs(tmp_path)
    arguments = ["generate", "--image", str(image), "--trajectory", str(path), "--steps", "1"]
    records = []
    for name, extra in (("default", []), ("camera", ["--camera-guidance-scale", "6"])):
        result = runner.invoke(app, [*arguments, *extra, "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        records.append(json.loads((tmp_path / name / "generations.json").read_text()))
    assert records[0]["fingerprint"] != records[1]["fingerprint"]
    assert records[0]["sampling"]["camera_guidance_scale"] == records[0]["sampling"]["guidance_scale"] == 3.0
    assert records[1]["sampling"]["camera_guidance_scale"] == 6.0 and records[1]["sampling"]["steps"] == 1


def test_image_and_dataset_are_exclusive(tmp_path):
    image, path, _ = _inputs(tmp_path)
    result = runner.invoke(
        app, ["generate", "--image", str(image), "--trajectory", str(path), "--dataset", "re10k"]
    )
    assert result.exit_code != 0


def test_depth_warp_and_the_depth_warped_start_from_the_command_line(tmp_path):
    """The depth-warp row and MotionFlow from a depth-warped start both run on the bundled depth
    network; the depth-warped video of a moving camera is not the reference repeated."""
    image, path, _ = _inputs(tmp_path, frames=4, size=(64, 64))
    arguments = ["generate", "--image", str(image), "--trajectory", str(path)]
    warp = runner.invoke(app, [*arguments, "--method", "depth-warp", "--out", str(tmp_path / "warp")])
    assert warp.exit_code == 0, warp.output
    warped = read_video(tmp_path / "warp" / "reference" / "video.mp4")
    assert warped.shape == (4, 64, 64, 3)
    assert np.abs(warped[3].astype(int) - warped[0]).mean() > 5
    start = ["--initial-noise", "depth-warped", "--strength", "0.2", "--steps", "5"]
    result = runner.invoke(app, [*arguments, *start, "--out", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
    listing = json.loads((tmp_path / "model" / "generations.json").read_text())
    assert listing["sampling"]["initial_noise"] == "depth-warped" and listing["sampling"]["strength"] == 0.2
