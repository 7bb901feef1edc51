"""Dataset layouts on disk: bundled real clips, RealEstate10K and DL3DV readers/writers, synthetic builds."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from motionflow.camera.poses import OPENGL_TO_OPENCV
from motionflow.data import build as build_module
from motionflow.data.build import build_synthetic_dataset, split_counts
from motionflow.data.bundled import (
    BUNDLED_RE10K_DIR,
    bundled_clip_names,
    bundled_re10k_clips,
    export_bundled_re10k,
    load_bundled_clip,
)
from motionflow.data.clips import Clip, ClipError
from motionflow.data.datasets import detect_layout, open_dataset
from motionflow.data.dl3dv_dataset import Dl3dvDataset
from motionflow.data.re10k_dataset import Re10kDataset
from motionflow.data.synthetic import render_synthetic_clip
from motionflow.utils.io import sha256_file

BUNDLED = [
    "0bf152ef84195293",
    "0c11dbe781b1c11c",
    "0c9b371cc6225682",
    "0f47577ab3441480",
    "0f68374b76390082",
    "2f25826f0d0ef09a",
]


@pytest.fixture(scope="module")
def synthetic_clip() -> Clip:
    rendered = render_synthetic_clip("indoor", "re10k", num_frames=5, image_size=(32, 48), seed=3)
    return Clip("room", rendered.frames, rendered.trajectory)


def test_bundled_clips_load_with_intrinsics_in_pixels_of_their_frames():
    clips = bundled_re10k_clips()
    assert [clip.name for clip in clips] == BUNDLED == bundled_clip_names()
    for clip in clips:
        assert clip.frames.shape == (16, 256, 384, 3) and clip.frames.dtype == np.uint8
        first_line = (BUNDLED_RE10K_DIR / f"{clip.name}.txt").read_text().splitlines()[1].split()
        fx, fy, cx, cy = (float(value) for value in first_line[1:5])
        np.testing.assert_allclose(
            clip.trajectory.intrinsics[0, :2, :], [[fx * 384, 0, cx * 384], [0, fy * 256, cy * 256]]
        )
        w2c = np.vstack([np.array(first_line[7:], dtype=float).reshape(3, 4), [0, 0, 0, 1]])
        np.testing.assert_allclose(clip.trajectory.c2w[0] @ w2c, np.eye(4), atol=1e-12)


def test_unknown_bundled_clip_is_named():
    with pytest.raises(ClipError, match="'nope'.*0bf152ef84195293"):
        load_bundled_clip("nope")


def test_exported_bundled_clips_are_byte_exact_and_read_back(tmp_path):
    export_bundled_re10k(tmp_path, split="real")
    for name in BUNDLED:
        for folder, suffix in (("videos", ".mp4"), ("cameras", ".txt")):
            exported = tmp_path / "real" / folder / f"{name}{suffix}"
            assert sha256_file(exported) == sha256_file(BUNDLED_RE10K_DIR / f"{name}{suffix}")
    assert (tmp_path / "README.md").read_text().count("Attribution") == 1
    dataset = Re10kDataset(tmp_path, "real")
    loaded, bundled = dataset.load(BUNDLED[0]), load_bundled_clip(BUNDLED[0])
    np.testing.assert_array_equal(loaded.frames, bundled.frames)
    np.testing.assert_array_equal(loaded.trajectory.c2w, bundled.trajectory.c2w)
    assert detect_layout(tmp_path) == "re10k"


@pytest.mark.parametrize("storage", ["frames", "video"])
def test_re10k_layout_round_trip(tmp_path, synthetic_clip, storage):
    camera_file = Re10kDataset.write(tmp_path, "train", synthetic_clip, storage=storage)
    assert camera_file == tmp_path / "train" / "cameras" / "room.txt"
    assert Re10kDataset.splits(tmp_path) == ["train"]
    dataset = Re10kDataset(tmp_path, "train")
    assert dataset.clip_names() == ["room"]
    loaded = dataset.load("room")
    if storage == "frames":
        np.testing.assert_array_equal(loaded.frames, synthetic_clip.frames)
    else:
        assert np.abs(loaded.frames.astype(int) - synthetic_clip.frames).mean() < 4
    # The camera file prints nine decimals.
    np.testing.assert_allclose(loaded.trajectory.c2w, synthetic_clip.trajectory.c2w, atol=2e-8)
    np.testing.assert_allclose(loaded.trajectory.intrinsics, synthetic_clip.trajectory.intrinsics, atol=1e-6)
    info = dataset.inspect("room")
    assert info.ok and (info.num_frames, info.num_cameras, info.image_size) == (5, 5, (32, 48))


def test_re10k_video_storage_refuses_odd_sizes(tmp_path):
    rendered = render_synthetic_clip("textureless", "orbit", num_frames=2, image_size=(31, 48), seed=0)
    with pytest.raises(ValueError, match="even"):
        Re10kDataset.write(
            tmp_path, "train", Clip("odd", rendered.frames, rendered.trajectory), storage="video"
        )


def _broken_re10k_dataset(root, clip: Clip) -> Re10kDataset:
    """good, a truncated camera line, one camera too few, no video, no camera file."""
    for name in ("good", "bad_line", "short", "no_video", "no_cameras"):
        Re10kDataset.write(root, "test", Clip(name, clip.frames, clip.trajectory), storage="frames")
    cameras = root / "test" / "cameras"
    lines = (cameras / "bad_line.txt").read_text().splitlines()
    lines[3] = " ".join(lines[3].split()[:12])
    (cameras / "bad_line.txt").write_text("\n".join(lines) + "\n")
    (cameras / "short.txt").write_text(
        "\n".join((cameras / "short.txt").read_text().splitlines()[:-1]) + "\n"
    )
    for frame in (root / "test" / "frames" / "no_video").iterdir():
        frame.unlink()
    (root / "test" / "frames" / "no_video").rmdir()
    (cameras / "no_cameras.txt").unlink()
    return Re10kDataset(root, "test")


def test_re10k_broken_clips_are_named_and_can_be_skipped_explicitly(tmp_path, synthetic_clip):
    dataset = _broken_re10k_dataset(tmp_path, synthetic_clip)
    assert dataset.clip_names() == ["bad_line", "good", "no_cameras", "no_video", "short"]
    expected = {
        "bad_line": r".*/test/cameras/bad_line\.txt:4: expected 19 numbers, found 12",
        "short": "4 cameras but 5 frames",
        "no_video": "no video .*no_video.mp4 and no frame folder",
        "no_cameras": r"no camera file .*no_cameras\.txt",
    }
    for name, message in expected.items():
        with pytest.raises(ClipError, match=f"clip '{name}': {message}"):
            dataset.load(name)
        assert not dataset.inspect(name).ok
    assert dataset.inspect("short").problem == "4 cameras but 5 frames"
    assert dataset.inspect("good").ok

    with pytest.raises(ClipError, match="bad_line"):
        list(dataset.iter_clips())
    with pytest.warns(UserWarning, match="skipping clip") as caught:
        loaded = list(dataset.iter_clips(skip_invalid=True))
    assert [clip.name for clip in loaded] == ["good"]
    assert sum("skipping clip 'short': 4 cameras but 5 frames" in str(item.message) for item in caught) == 1
    assert sorted(error.clip for error in dataset.skipped) == sorted(expected)


def test_re10k_missing_split_lists_the_splits_found(tmp_path, synthetic_clip):
    Re10kDataset.write(tmp_path, "train", synthetic_clip, storage="frames")
    with pytest.raises(FileNotFoundError, match="splits found: train"):
        Re10kDataset(tmp_path, "validation")


def test_dl3dv_layout_round_trip_in_opengl_axes(tmp_path, synthetic_clip):
    scene = Dl3dvDataset.write(tmp_path, None, synthetic_clip)
    assert sorted(path.name for path in (scene / "images").iterdir())[:2] == [
        "frame_00001.png",
        "frame_00002.png",
    ]
    transforms = json.loads((scene / "transforms.json").read_text())
    stored = np.array(transforms["frames"][0]["transform_matrix"])
    np.testing.assert_allclose(stored, synthetic_clip.trajectory.c2w[0] @ OPENGL_TO_OPENCV, atol=1e-12)
    dataset = Dl3dvDataset(tmp_path)
    assert dataset.clip_names() == ["room"] and detect_layout(tmp_path) == "dl3dv"
    loaded = dataset.load("room")
    np.testing.assert_array_equal(loaded.frames, synthetic_clip.frames)
    np.testing.assert_allclose(loaded.trajectory.c2w, synthetic_clip.trajectory.c2w, atol=1e-12)
    np.testing.assert_allclose(loaded.trajectory.intrinsics, synthetic_clip.trajectory.intrinsics, atol=1e-12)
    assert dataset.inspect("room").ok


def test_dl3dv_missing_and_extra_frames_are_reported(tmp_path, synthetic_clip):
    for name in ("missing", "extra"):
        Dl3dvDataset.write(tmp_path, "test", Clip(name, synthetic_clip.frames, synthetic_clip.trajectory))
    (tmp_path / "test" / "missing" / "images" / "frame_00003.png").unlink()
    images = tmp_path / "test" / "extra" / "images"
    (images / "frame_00006.png").write_bytes((images / "frame_00001.png").read_bytes())
    dataset = Dl3dvDataset(tmp_path, "test")
    with pytest.raises(
        ClipError, match=r"clip 'missing': 1 frame file\(s\) listed in transforms.json are missing"
    ):
        dataset.load("missing")
    with pytest.raises(
        ClipError, match="clip 'extra': transforms.json lists 5 frames but images/ holds 1 more"
    ):
        dataset.load("extra")
    assert not dataset.inspect("missing").ok and not dataset.inspect("extra").ok


def test_split_counts_follow_the_fractions_and_fill_every_split():
    assert split_counts(10, {"train": 0.9, "test": 0.1}) == {"train": 9, "test": 1}
    assert split_counts(3, {"train": 0.9, "test": 0.1}) == {"train": 2, "test": 1}
    assert split_counts(7, {"a": 1, "b": 1, "c": 1}) == {"a": 3, "b": 2, "c": 2}


def _tiny_build(root, **overrides):
    settings = dict(num_clips=3, seed=5, num_frames=3, image_size=(24, 32), storage="frames", progress=False)
    return build_synthetic_dataset(root, **{**settings, **overrides})


def test_synthetic_build_is_deterministic_and_recorded(tmp_path):
    first = json.loads(_tiny_build(tmp_path / "a").read_text())
    second = json.loads(_tiny_build(tmp_path / "b").read_text())
    other = json.loads(_tiny_build(tmp_path / "c", seed=6).read_text())
    assert first == second and first["clips"] != other["clips"]
    assert first["status"] == "complete" and first["settings"]["seed"] == 5
    assert {clip["scene"] for clip in first["clips"]} == {"indoor", "outdoor"}
    assert [clip["split"] for clip in first["clips"]].count("test") == 1
    for clip in first["clips"]:
        relative = f"{clip['split']}/cameras/{clip['name']}.txt"
        assert (tmp_path / "a" / relative).read_bytes() == (tmp_path / "b" / relative).read_bytes()
        frame = f"{clip['split']}/frames/{clip['name']}/00002.png"
        assert (tmp_path / "a" / frame).read_bytes() == (tmp_path / "b" / frame).read_bytes()
    datasets = open_dataset(tmp_path / "a")
    assert [dataset.split for dataset in datasets] == ["test", "train"]
    assert sum(len(dataset) for dataset in datasets) == 3
    assert all(dataset.inspect(name).ok for dataset in datasets for name in dataset.clip_names())


def test_synthetic_build_in_dl3dv_layout_holds_outdoor_scenes(tmp_path):
    manifest = json.loads(_tiny_build(tmp_path, layout="dl3dv", num_clips=2).read_text())
    assert {clip["scene"] for clip in manifest["clips"]} == {"outdoor"}
    datasets = open_dataset(tmp_path)
    assert [(dataset.layout, dataset.split) for dataset in datasets] == [
        ("dl3dv", "test"),
        ("dl3dv", "train"),
    ]
    clip = datasets[1].load(datasets[1].clip_names()[0])
    assert clip.frames.shape == (3, 24, 32, 3)


def test_an_interrupted_build_leaves_no_partial_clip_and_resumes(tmp_path, monkeypatch):
    real_render = build_module.render_synthetic_clip
    calls = []

    def failing_render(*args):
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_render(*args)

    monkeypatch.setattr(build_module, "render_synthetic_clip", failing_render)
    with pytest.raises(KeyboardInterrupt):
        _tiny_build(tmp_path, layout="dl3dv")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "building"
    written = sorted(path.name for path in (tmp_path / "train").iterdir())
    assert written == sorted(clip["name"] for clip in manifest["clips"][:2]), (
        "two whole clips, no partial third"
    )
    first_frame = tmp_path / "train" / written[0] / "images" / "frame_00001.png"
    first_mtime = first_frame.stat().st_mtime_ns

    monkeypatch.setattr(build_module, "render_synthetic_clip", real_render)
    _tiny_build(tmp_path, layout="dl3dv")
    assert json.loads((tmp_path / "manifest.json").read_text())["status"] == "complete"
    assert first_frame.stat().st_mtime_ns == first_mtime, "complete clips are kept, not rendered again"
    assert sum(len(dataset) for dataset in open_dataset(tmp_path)) == 3
    assert not list(tmp_path.rglob(".*tmp*"))


def test_a_build_refuses_a_folder_holding_something_else(tmp_path):
    _tiny_build(tmp_path / "data")
    with pytest.raises(ValueError, match="other settings .*seed"):
        _tiny_build(tmp_path / "data", seed=9)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        _tiny_build(tmp_path / "other")
    with pytest.raises(ValueError, match="unknown scene kind 'castle'"):
        _tiny_build(tmp_path / "new", scenes=["castle"])
    with pytest.raises(ValueError, match="even image size"):
        _tiny_build(tmp_path / "new", image_size=(25, 32), storage="video")


def test_iterating_without_skipping_raises_no_warning_for_good_data(tmp_path, synthetic_clip):
    Re10kDataset.write(tmp_path, "train", synthetic_clip, storage="frames")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [clip.name for clip in Re10kDataset(tmp_path, "train")] == ["room"]
