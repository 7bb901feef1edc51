import csv
import sys

import pytest
import torch

import bench.condition_use as condition_use_script
from motionflow.checkpoints import checkpoint_path
from motionflow.checkpoints.depth import frame_latents_depth_net
from motionflow.models.depth import DepthNet
from motionflow.training.condition_use import held_out_batch, measure_condition_use
from tests.training.helpers import DEPTH_WARPED_CONDITION, tiny_trainee


@pytest.fixture(scope="module")
def batch():
    return held_out_batch(num_clips=2, image_size=(32, 32), num_frames=4)


def by_condition(rows, condition):
    return [row for row in rows if row.condition == condition]


def test_a_fresh_model_ignores_the_camera_until_its_zero_initialised_projections_move(batch):
    model = tiny_trainee()
    fresh = measure_condition_use(model, batch, timesteps=(500,))
    camera = by_condition(fresh, "camera")
    assert camera[0].prediction_change == 0 and camera[0].loss_own == camera[0].loss_other
    torch.manual_seed(0)
    for name, parameter in model.named_parameters():
        if name.endswith(("reference_to_out.weight", "to_v_camera.weight")):
            parameter.data.normal_(0, 0.5)
    moved = by_condition(measure_condition_use(model, batch, timesteps=(200, 800)), "camera")
    assert [row.timestep for row in moved] == [200, 800]
    assert all(row.prediction_change > 1e-3 and row.loss_own != row.loss_other for row in moved)


def test_the_reference_image_is_measured_for_every_model_and_the_camera_only_where_there_is_one(batch):
    for method, conditions in (("motionflow", ["image", "camera"]), ("animatediff", ["image"])):
        rows = measure_condition_use(tiny_trainee(method), batch, timesteps=(500,))
        assert [row.condition for row in rows] == conditions
        image = by_condition(rows, "image")[0]
        assert image.prediction_change > 1e-4 and image.loss_own != image.loss_other != image.loss_dropped
        assert image.loss_gap == pytest.approx((image.loss_other - image.loss_own) / image.loss_own)


def test_a_single_clip_is_refused(batch):
    single = {key: value[:1] for key, value in batch.items()}
    with pytest.raises(ValueError, match="two clips"):
        measure_condition_use(tiny_trainee(), single)


def test_a_model_conditioned_on_depth_warped_frames_needs_the_depth_network_and_gets_the_bundled_one(batch):
    model = tiny_trainee(**DEPTH_WARPED_CONDITION)
    with pytest.raises(ValueError, match="depth estimator"):
        measure_condition_use(model, batch, timesteps=(500,))
    depth_net = frame_latents_depth_net(model)
    assert isinstance(depth_net, DepthNet) and frame_latents_depth_net(tiny_trainee()) is None
    rows = measure_condition_use(model, batch, timesteps=(500,), depth_estimator=depth_net)
    assert [row.condition for row in rows] == ["image", "camera"]
    assert all(row.loss_own > 0 and row.prediction_change > 0 for row in rows)


def test_the_condition_use_script_measures_the_bundled_depth_conditioned_checkpoint(tmp_path, monkeypatch):
    table = tmp_path / "condition_use.csv"
    folder = checkpoint_path("motionflow-small-depth-condition")
    arguments = [str(folder), "--clips", "2", "--image-size", "32", "--frames", "4", "--csv", str(table)]
    monkeypatch.setattr(sys, "argv", ["condition_use.py", *arguments])
    condition_use_script.main()
    with table.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["checkpoint"] for row in rows} == {folder.name}
    assert {row["condition"] for row in rows} == {"image", "camera"}
