from __future__ import annotations

import numpy as np
import pytest

from bench.runs.clips import DatasetSource, make_source
from motionflow.camera.sampling import BASIC_STRIDE
from motionflow.data.build import build_synthetic_dataset
from motionflow.training.config import HELD_OUT_SEED_OFFSET


def test_synthetic_plan_is_cheap_and_load_renders_the_sampled_frames():
    source = make_source("synthetic-outdoor")
    plans = source.plan(2, "difficult", 8, (64, 96), seed=5)
    assert [plan.clip_id for plan in plans] == ["outdoor-re10k-5", "outdoor-re10k-6"]
    clip = source.load(plans[0])
    assert clip.frames.shape == (8, 64, 96, 3)
    assert clip.trajectory.image_size == (64, 96)
    stride = np.diff(clip.trajectory.frame_indices)
    assert np.all(stride == stride[0]) and stride[0] > BASIC_STRIDE


def test_synthetic_test_scenes_start_at_the_seed_and_stay_below_the_held_out_scenes():
    source = make_source("synthetic-indoor")
    plans = source.plan(2, "basic", 8, (64, 64), seed=100)
    assert [plan.clip_id for plan in plans] == ["indoor-re10k-100", "indoor-re10k-101"]
    assert [plan.seed for plan in plans] == [100, 101]
    assert source.plan(1, "basic", 8, (64, 64), seed=HELD_OUT_SEED_OFFSET - 1)
    with pytest.raises(ValueError, match="held-out validation scenes start at 500"):
        source.plan(2, "basic", 8, (64, 64), seed=HELD_OUT_SEED_OFFSET - 1)


def test_synthetic_basic_and_difficult_share_the_scene_but_not_the_stride():
    source = make_source("synthetic-indoor")
    basic = source.load(source.plan(1, "basic", 6, (48, 48), 0)[0])
    difficult = source.load(source.plan(1, "difficult", 6, (48, 48), 0)[0])
    np.testing.assert_array_equal(basic.frames[0], difficult.frames[0])
    assert basic.trajectory.frame_indices[1] == BASIC_STRIDE
    assert difficult.trajectory.frame_indices[1] > BASIC_STRIDE


def test_bundled_clips_are_the_basic_set_and_difficult_is_a_reported_skip():
    source = make_source("re10k-bundled")
    assert all(not plan.skip_reason for plan in source.plan(6, "basic", 16, None, 0))
    skipped = source.plan(1, "difficult", 16, None, 0)[0]
    assert "basic stride" in skipped.skip_reason
    clip = source.load(source.plan(1, "basic", 12, (128, 192), 0)[0])
    assert clip.frames.shape == (12, 128, 192, 3)
    assert clip.trajectory.intrinsics[0, 0, 2] == pytest.approx(96.0)


def test_dataset_source_samples_long_clips_and_reports_short_ones(tmp_path):
    build_synthetic_dataset(
        tmp_path / "data",
        num_clips=1,
        seed=0,
        splits={"test": 1.0},
        num_frames=40,
        image_size=(48, 64),
        progress=False,
    )
    source = make_source(f"dataset:{tmp_path / 'data'}")
    assert isinstance(source, DatasetSource) and source.family == "re10k"
    too_long = source.plan(1, "basic", 16, None, 0)[0]
    assert "needs 121" in too_long.skip_reason
    plan = source.plan(1, "difficult", 5, (32, 48), 0)[0]
    assert not plan.skip_reason
    clip = source.load(plan)
    assert clip.frames.shape == (5, 32, 48, 3)
    assert list(clip.trajectory.frame_indices) == [0, 9, 18, 27, 36]


def test_unknown_source_lists_the_known_ones():
    with pytest.raises(KeyError, match="synthetic-indoor"):
        make_source("no-such-source")


def test_paper_sources_say_which_variable_points_at_the_data(monkeypatch, tmp_path):
    from bench.runs.clips import ClipSourceUnavailableError

    monkeypatch.delenv("MFBENCH_RE10K_ROOT", raising=False)
    with pytest.raises(ClipSourceUnavailableError, match=r"\$MFBENCH_RE10K_ROOT"):
        make_source("re10k-test")
    build_synthetic_dataset(
        tmp_path / "re10k",
        num_clips=1,
        seed=0,
        splits={"test": 1.0},
        num_frames=20,
        image_size=(32, 32),
        progress=False,
    )
    monkeypatch.setenv("MFBENCH_RE10K_ROOT", str(tmp_path / "re10k"))
    assert make_source("re10k-test").name == "re10k-test"
