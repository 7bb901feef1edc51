import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch

from motionflow.camera.sampling import BASIC_STRIDE
from motionflow.data.build import build_synthetic_dataset
from motionflow.data.bundled import export_bundled_re10k
from motionflow.data.video_io import read_video, write_video
from motionflow.models.inputs import CAMERA_INPUT_KINDS, camera_input
from motionflow.training.config import DataSettings
from motionflow.training.data import (
    CachedClipItems,
    FolderClipItems,
    StepSampler,
    SyntheticClipItems,
    batch_inputs,
    clip_cache_folder,
)
from motionflow.training.trainer import train
from tests.training.helpers import tiny_training_config


@pytest.fixture
def re10k_folder(tmp_path):
    """The bundled clips in RealEstate10K layout; the first has a broken camera file, the second only
    8 frames (basic sampling of 2 frames needs 9)."""
    export_bundled_re10k(tmp_path, split="train")
    cameras, videos = tmp_path / "train" / "cameras", tmp_path / "train" / "videos"
    names = sorted(path.stem for path in cameras.glob("*.txt"))
    (cameras / f"{names[0]}.txt").write_text("https://example.com\n1 2 3 not numbers\n")
    short = cameras / f"{names[1]}.txt"
    short.write_text("\n".join(short.read_text().splitlines()[:9]) + "\n")
    write_video(videos / f"{names[1]}.mp4", read_video(videos / f"{names[1]}.mp4")[:8])
    return tmp_path, names


def folder_settings(root, **overrides):
    values = dict(
        source="folder",
        root=str(root),
        split="train",
        image_size=(32, 48),
        num_frames=2,
        sampling=("basic",),
        num_workers=0,
    )
    values.update(overrides)
    return DataSettings(**values)


def test_a_clip_with_a_bad_camera_file_is_skipped_with_a_warning_naming_it(re10k_folder):
    root, names = re10k_folder
    items = FolderClipItems(folder_settings(root), seed=0)
    with pytest.warns(UserWarning) as caught:
        item = items[0]
    assert names[0] in str(caught[0].message)
    assert item["frames"].shape == (2, 3, 32, 48) and item["frames"].dtype == torch.uint8
    assert item["c2w"].shape == (2, 4, 4) and item["intrinsics"].shape == (2, 3, 3)


def test_a_clip_with_too_few_frames_is_skipped_with_a_warning_naming_it(re10k_folder):
    root, names = re10k_folder
    items = FolderClipItems(folder_settings(root), seed=0)
    with pytest.warns(UserWarning, match=rf"{names[1]}.*{BASIC_STRIDE + 1} frames"):
        items[1]


def test_training_over_a_folder_with_bad_clips_completes(re10k_folder, tmp_path):
    root, names = re10k_folder
    config = tiny_training_config(
        [{"name": "stage1", "steps": 2, "learning_rate": 1e-4}],
        data={
            "source": "folder",
            "root": str(root),
            "split": "train",
            "num_frames": 2,
            "sampling": ["basic"],
        },
        optim={"batch_size": 3},
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train(config, tmp_path / "run", progress=False)
    assert result.model is not None
    skipped = " ".join(str(warning.message) for warning in caught)
    assert names[0] in skipped or names[1] in skipped


def test_when_every_clip_is_unusable_the_error_says_so(re10k_folder):
    root, _ = re10k_folder
    items = FolderClipItems(folder_settings(root, num_frames=16), seed=0)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="no usable clip"):
        items[0]


def test_synthetic_items_depend_only_on_seed_and_index():
    settings = DataSettings(image_size=(32, 32), num_frames=4, source_frames=40, num_workers=0)
    first = SyntheticClipItems(settings, seed=1)[5]
    again = SyntheticClipItems(settings, seed=1)[5]
    other = SyntheticClipItems(settings, seed=1)[6]
    assert torch.equal(first["frames"], again["frames"])
    assert not torch.equal(first["frames"], other["frames"])
    torch.testing.assert_close(first["c2w"][0], torch.eye(4), rtol=0, atol=1e-6)


def test_batch_inputs_equal_what_inference_computes_from_the_trajectory():
    """Training computes camera inputs batched (on the GPU); inference from a Trajectory: the same."""
    settings = DataSettings(image_size=(32, 32), num_frames=4, source_frames=40, num_workers=0)
    items = SyntheticClipItems(settings, seed=1)
    batch = torch.utils.data.default_collate([items[2], items[3]])
    for kind in CAMERA_INPUT_KINDS:
        frames, camera = batch_inputs(batch, torch.device("cpu"), kind)
        for row, index in enumerate((2, 3)):
            expected = camera_input(kind, items.clip(index)[1], (32, 32))
            torch.testing.assert_close(camera[row], expected, rtol=0, atol=2e-5)
    assert frames.shape == (2, 4, 3, 32, 32) and frames.min() >= -1 and frames.max() <= 1
    torch.testing.assert_close(frames[0], batch["frames"][0].float() / 127.5 - 1)
    assert batch_inputs(batch, torch.device("cpu"), None)[1] is None


def test_the_step_sampler_resumes_where_it_stopped_and_splits_processes():
    whole = list(StepSampler(7, 2, seed=(0, 1), start_step=0, end_step=6))
    tail = list(StepSampler(7, 2, seed=(0, 1), start_step=4, end_step=6))
    assert tail == whole[8:]
    assert sorted(whole[:7]) == list(range(7))
    rank0 = list(StepSampler(100, 2, seed=(0,), start_step=0, end_step=3, rank=0, world_size=2))
    rank1 = list(StepSampler(100, 2, seed=(0,), start_step=0, end_step=3, rank=1, world_size=2))
    assert not set(rank0) & set(rank1)
    assert np.array_equal(
        sorted(rank0 + rank1), sorted(StepSampler(100, 4, seed=(0,), start_step=0, end_step=3))
    )


def test_a_built_synthetic_dataset_in_dl3dv_layout_trains(tmp_path):
    build_synthetic_dataset(
        tmp_path / "dl3dv",
        num_clips=2,
        splits={"train": 1.0},
        layout="dl3dv",
        num_frames=12,
        image_size=(32, 32),
        progress=False,
    )
    settings = folder_settings(tmp_path / "dl3dv", image_size=(32, 32), num_frames=3, sampling=("difficult",))
    items = FolderClipItems(settings, seed=0)
    assert len(items) == 2
    item = items[1]
    assert item["frames"].shape == (3, 3, 32, 32) and item["c2w"].shape == (3, 4, 4)


def test_cached_clips_equal_the_rendered_ones(tmp_path):
    settings = DataSettings(
        image_size=(32, 32), num_frames=4, source_frames=40, num_clips=6, num_workers=2, cache=str(tmp_path)
    )
    cached = CachedClipItems(SyntheticClipItems(settings, seed=1), progress=False)
    rendered = SyntheticClipItems(settings, seed=1)
    for index in (0, 5):
        expected, actual = rendered[index], cached[index]
        assert expected.keys() == actual.keys() == {"frames", "c2w", "intrinsics"}
        for key in expected:
            torch.testing.assert_close(actual[key], expected[key], rtol=0, atol=1e-6)
    assert clip_cache_folder(settings, 1).parent == tmp_path


def test_a_filled_cache_is_read_not_rendered_again_and_other_settings_get_their_own(tmp_path, monkeypatch):
    settings = DataSettings(
        image_size=(32, 32), num_frames=4, source_frames=40, num_clips=2, num_workers=1, cache=str(tmp_path)
    )
    first = CachedClipItems(SyntheticClipItems(settings, seed=1), progress=False)[1]

    def no_rendering(self, index):
        raise AssertionError("the cache was filled already")

    monkeypatch.setattr(SyntheticClipItems, "clip", no_rendering)
    again = CachedClipItems(SyntheticClipItems(replace(settings, num_workers=3), seed=1), progress=False)[1]
    assert torch.equal(first["frames"], again["frames"])
    assert clip_cache_folder(replace(settings, num_frames=3), 1) != clip_cache_folder(settings, 1)
    assert clip_cache_folder(settings, 2) != clip_cache_folder(settings, 1)


def test_unusable_clips_stay_skipped_in_the_cache_with_their_names(re10k_folder, tmp_path):
    root, names = re10k_folder
    settings = folder_settings(root, cache=str(tmp_path / "cache"), num_workers=1)
    with pytest.warns(UserWarning, match=names[0]):
        items = CachedClipItems(FolderClipItems(settings, seed=0), progress=False)
    assert set(items.problems) == {0, 1}
    with pytest.warns(UserWarning, match=rf"{names[0]}.*"):
        item = items[0]
    torch.testing.assert_close(item["frames"], FolderClipItems(settings, seed=0)[2]["frames"])


def test_motion_variants_share_the_reference_frame_and_differ_in_their_cameras():
    settings = DataSettings(
        image_size=(32, 32), num_frames=4, source_frames=40, num_workers=0, motion_variants=4
    )
    items = SyntheticClipItems(settings, seed=1)
    variants = [items[index] for index in range(4, 8)]
    names = [items.clip_name(index) for index in range(4, 8)]
    assert names[0].endswith("-1001") and [name.removeprefix(names[0]) for name in names] == [
        "",
        "-mirror1",
        "-mirror2",
        "-mirror3",
    ]
    assert all(torch.equal(variant["frames"][0], variants[0]["frames"][0]) for variant in variants)
    last = torch.stack([variant["c2w"][-1, :3, 3] for variant in variants])
    signs = torch.tensor([[1, 1, 1], [-1, 1, 1], [1, 1, -1], [-1, 1, -1]], dtype=last.dtype)
    torch.testing.assert_close(last, last[0] * signs, rtol=1e-4, atol=1e-5)
    assert not torch.equal(variants[0]["frames"][-1], variants[3]["frames"][-1])
    assert items.clip_name(4) != SyntheticClipItems(replace(settings, motion_variants=1), seed=1).clip_name(4)


def test_motion_variants_are_one_to_four():
    for value in (0, 5):
        with pytest.raises(ValueError, match="motion_variants must be 1 to 4"):
            DataSettings(motion_variants=value)
    with pytest.raises(ValueError, match="synthetic source"):
        DataSettings(source="folder", root="clips", motion_variants=2)
