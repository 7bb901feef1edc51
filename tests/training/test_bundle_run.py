"""A training run bundled as a checkpoint folder, generating at the size asked for."""

import json

from bench.bundle_run import bundle_run
from motionflow.pipeline import MotionFlowPipeline
from motionflow.training import train
from tests.training.helpers import tiny_training_config


def test_a_bundled_run_keeps_its_records_and_generates_at_the_size_asked_for(tmp_path):
    config = tiny_training_config([{"name": "stage2", "steps": 1, "learning_rate": 1e-4}])
    run = train(config, tmp_path / "run", progress=False).out
    target = bundle_run(run, tmp_path / "package" / "tiny", tmp_path / "package" / "shared", (48, 40, 6))

    model_config = MotionFlowPipeline.from_pretrained(target).model.config
    assert (model_config.image_size, model_config.num_frames) == ((48, 40), 6)
    recorded = json.loads((target / "training_config.json").read_text())
    assert recorded["data"]["image_size"] == [32, 32] and recorded["data"]["num_frames"] == 4
    assert {"losses.csv", "summary.json", "training_curve.png", "shared_weights.json"} <= {
        path.name for path in target.iterdir()
    }
    same_size = bundle_run(run, tmp_path / "package" / "again", tmp_path / "package" / "shared")
    assert MotionFlowPipeline.from_pretrained(same_size).model.config.image_size == (32, 32)
