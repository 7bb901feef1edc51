import numpy as np
import pytest
from PIL import Image

from baselines import create_method
from bench.camera_response import camera_response, mirrored_pairs, write_response_strip
from bench.report.strip import LABEL_WIDTH, ROW_GAP


@pytest.fixture(scope="module")
def pairs():
    return mirrored_pairs(scenes=2, image_size=(32, 32), num_frames=4)


def test_a_pair_shares_its_reference_frame_and_first_camera_and_then_moves_apart(pairs):
    for pair in pairs:
        (frames, mirrored_frames), (trajectory, mirrored) = pair.frames, pair.trajectories
        assert np.array_equal(frames[0], mirrored_frames[0])
        assert np.allclose(trajectory.c2w[0], mirrored.c2w[0])
        assert not np.allclose(trajectory.c2w[-1], mirrored.c2w[-1])
        assert np.abs(frames[-1].astype(int) - mirrored_frames[-1]).mean() > 1
    assert pairs[0].name != pairs[1].name


def test_static_does_not_respond_to_the_camera_and_the_oracle_responds_fully(pairs):
    static = camera_response(create_method("static"), pairs)
    oracle = camera_response(create_method("oracle"), pairs)
    assert static.ratio == 0.0 and np.all(static.generated == 0)
    assert oracle.ratio == pytest.approx(1.0) and np.allclose(oracle.generated, oracle.true)
    assert oracle.true[0] == 0 and oracle.true[1:].min() > 0
    assert oracle.agreement == pytest.approx(1.0) and np.all(oracle.own_error == 0)
    assert np.allclose(static.own_error[0], 0) and static.agreement == pytest.approx(0.0, abs=1e-12)


def test_the_bundled_motionflow_gives_each_clip_of_a_pair_its_own_video(pairs):
    response = camera_response(create_method("motionflow", steps=2), pairs[:1])
    assert response.generated.shape == (4,)
    assert response.generated[1:].min() > 0 and np.isfinite(response.ratio)


def test_the_strip_shows_each_pairs_true_and_generated_videos(pairs, tmp_path):
    response = camera_response(create_method("static"), pairs)
    assert len(response.videos) == len(pairs)
    assert np.array_equal(response.videos[0][1][-1], pairs[0].frames[1][0])
    path = tmp_path / "strips" / "static.png"
    write_response_strip("static", pairs, response, path, pairs_shown=1, columns=3)
    with Image.open(path) as strip:
        assert strip.height == 4 * (96 + ROW_GAP)
        assert strip.width == LABEL_WIDTH + 3 * 96
