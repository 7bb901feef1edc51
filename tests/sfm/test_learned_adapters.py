"""DUSt3R, VGGSfM, ParticleSfM and VGGT adapters: output parsing and conversion on files in each tool's
real output format (written here), and DUSt3R end to end with a tiny randomly initialised model."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import numpy as np
import pycolmap
import pytest

from bench.sfm_adapters import create_estimator
from bench.sfm_adapters.dust3r import (
    intrinsics_to_frame,
    pair_indices,
    parse_model_constructor,
    processing_geometry,
)
from bench.sfm_adapters.particlesfm import parse_particlesfm_output
from bench.sfm_adapters.vggsfm import parse_vggsfm_output
from bench.sfm_adapters.vggt import processing_geometry as vggt_geometry
from bench.sfm_adapters.vggt import vggt_output_to_estimate
from motionflow.camera.intrinsics import intrinsics_matrix
from motionflow.camera.poses import c2w_to_w2c, look_at
from motionflow.data.video_io import write_frames

IMAGE_SIZE = (96, 144)
K = intrinsics_matrix(120.0, 120.0, 72.0, 48.0)


def _trajectory(num_frames: int) -> np.ndarray:
    return np.stack([look_at([0.2 * i, -0.1 * i, 0.05 * i], [0.0, 0.0, 6.0]) for i in range(num_frames)])


def write_colmap_model(
    folder: Path, c2w: np.ndarray, registered: list[int], camera_size: tuple[int, int], focal: float
) -> None:
    """A COLMAP sparse model as VGGSfM writes it (pycolmap.Reconstruction.write): world-to-camera poses,
    one shared SIMPLE_PINHOLE camera, images named 00000.png, ..., a few 3D points."""
    height, width = camera_size
    reconstruction = pycolmap.Reconstruction()
    camera = pycolmap.Camera.create_from_model_name(1, "SIMPLE_PINHOLE", focal, width, height)
    reconstruction.add_camera_with_trivial_rig(camera)
    for index in registered:
        image = pycolmap.Image(name=f"{index:05d}.png", camera_id=1, image_id=index + 1)
        reconstruction.add_image_with_trivial_frame(image, pycolmap.Rigid3d(c2w_to_w2c(c2w[index])[0][:3]))
    for point in np.random.default_rng(0).normal(size=(40, 3)) + [0.0, 0.0, 6.0]:
        reconstruction.add_point3D(point, pycolmap.Track())
    folder.mkdir(parents=True, exist_ok=True)
    reconstruction.write(str(folder))


def test_vggsfm_model_is_read_as_camera_to_world(tmp_path: Path) -> None:
    c2w = _trajectory(5)
    write_colmap_model(tmp_path / "sparse", c2w, registered=[0, 1, 3, 4], camera_size=(192, 288), focal=240.0)
    estimate = parse_vggsfm_output(tmp_path, 5, IMAGE_SIZE)
    assert estimate.registered.tolist() == [True, True, False, True, True]
    np.testing.assert_allclose(estimate.c2w[[0, 1, 3, 4]], c2w[[0, 1, 3, 4]], atol=1e-9)
    np.testing.assert_allclose(estimate.intrinsics[0], K, atol=1e-9)  # 192x288 camera rescaled to 96x144
    assert estimate.num_points == 40


def test_vggsfm_without_model_is_a_failure(tmp_path: Path) -> None:
    estimate = parse_vggsfm_output(tmp_path, 4, IMAGE_SIZE)
    assert not estimate.ok and "no COLMAP model" in estimate.failure_reason


def test_vggsfm_subprocess_end_to_end_with_a_stand_in_demo_script(tmp_path: Path) -> None:
    """The subprocess plumbing, run against a stand-in for VGGSfM's demo.py (this test's own script,
    not VGGSfM) that writes the model VGGSfM would: the arguments, the scene layout, the parsing."""
    checkout = tmp_path / "vggsfm"
    checkout.mkdir()
    (checkout / "demo.py").write_text(
        textwrap.dedent(
            """
            import sys, pycolmap
            args = dict(arg.split("=", 1) for arg in sys.argv[1:])
            assert args["shared_camera"] == "True" and args["seed"] == "7", args
            model = pycolmap.Reconstruction()
            model.add_camera_with_trivial_rig(pycolmap.Camera.create_from_model_name(1, "SIMPLE_PINHOLE", 120.0, 144, 96))
            for index in range(3):
                model.add_image_with_trivial_frame(
                    pycolmap.Image(name=f"{index:05d}.png", camera_id=1, image_id=index + 1),
                    pycolmap.Rigid3d(pycolmap.Rotation3d(), [float(index), 0.0, 0.0]),
                )
            import os
            os.makedirs(args["SCENE_DIR"] + "/sparse")
            model.write(args["SCENE_DIR"] + "/sparse")
            """
        )
    )
    checkpoint = tmp_path / "vggsfm_v2_0_0.bin"
    checkpoint.write_bytes(b"stand-in")
    estimator = create_estimator(
        "vggsfm", python=sys.executable, checkout=str(checkout), checkpoint=str(checkpoint)
    )
    frames = np.zeros((3, *IMAGE_SIZE, 3), dtype=np.uint8)
    estimate = estimator.estimate(frames, seed=7)
    assert estimate.registered.all()
    np.testing.assert_allclose(estimate.c2w[2, :3, 3], [-2.0, 0.0, 0.0])  # w2c t = (2, 0, 0), R = I
    assert "only 0 3D points" in estimate.failure_reason
    failing = create_estimator(
        "vggsfm", python=sys.executable, checkout=str(checkout), checkpoint=str(checkpoint)
    )
    assert "exited with code 1" in failing.estimate(frames, seed=1).failure_reason


def write_particlesfm_output(workspace: Path, c2w: np.ndarray, registered: list[int]) -> None:
    """What ParticleSfM's sfm/convert.py writes: np.savetxt of the 3x4 [R | t] world-to-camera matrix and
    of the 3x3 K, one file per registered image stem."""
    poses, intrinsics = (
        workspace / "colmap_outputs_converted" / "poses",
        workspace / "colmap_outputs_converted" / "intrinsics",
    )
    poses.mkdir(parents=True)
    intrinsics.mkdir(parents=True)
    for index in registered:
        np.savetxt(poses / f"{index:05d}.txt", c2w_to_w2c(c2w[index])[0][:3])
        np.savetxt(intrinsics / f"{index:05d}.txt", K)


def test_particlesfm_output_is_read_as_camera_to_world(tmp_path: Path) -> None:
    c2w = _trajectory(4)
    write_particlesfm_output(tmp_path, c2w, registered=[0, 1, 2])
    estimate = parse_particlesfm_output(tmp_path, 4, IMAGE_SIZE)
    assert estimate.registered.tolist() == [True, True, True, False]
    np.testing.assert_allclose(estimate.c2w[:3], c2w[:3], atol=1e-9)
    np.testing.assert_allclose(estimate.intrinsics[3], K)
    assert estimate.num_points is None


def test_particlesfm_malformed_file_is_a_failure_naming_it(tmp_path: Path) -> None:
    write_particlesfm_output(tmp_path, _trajectory(2), registered=[0, 1])
    (tmp_path / "colmap_outputs_converted" / "poses" / "00001.txt").write_text("1 2 3\n")
    estimate = parse_particlesfm_output(tmp_path, 2, IMAGE_SIZE)
    assert not estimate.ok and "00001.txt: shape (1, 3)" in estimate.failure_reason


def test_vggt_output_conversion_undoes_crop_and_resize() -> None:
    image_size = (720, 540)  # portrait: width to 518, height to 686 (multiple of 14), cropped to 518
    resized, (top, height) = vggt_geometry(image_size)
    assert resized == (686, 518) and (top, height) == (84, 518)
    c2w = _trajectory(3)
    frame_k = intrinsics_matrix(600.0, 600.0, 270.0, 360.0)
    scale_x, scale_y = 518 / 540, 686 / 720
    processed = intrinsics_matrix(600.0 * scale_x, 600.0 * scale_y, 270.0 * scale_x, 360.0 * scale_y - top)
    extrinsics = c2w_to_w2c(c2w)[:, :3, :]
    estimate = vggt_output_to_estimate(extrinsics, np.repeat(processed[None], 3, axis=0), image_size)
    assert estimate.failure_reason is None
    np.testing.assert_allclose(estimate.c2w, c2w, atol=1e-9)
    np.testing.assert_allclose(estimate.intrinsics[0], frame_k, atol=1e-9)
    extrinsics[1, 0, 0] = np.nan
    assert (
        "non-finite cameras for frames 1"
        in vggt_output_to_estimate(
            extrinsics, np.repeat(processed[None], 3, axis=0), image_size
        ).failure_reason
    )


def test_dust3r_pairs_are_a_non_cyclic_window_or_complete() -> None:
    window = pair_indices(5, "swin", 2)
    assert sorted(pair for pair in window if pair[0] < pair[1]) == [
        (0, 1),
        (0, 2),
        (1, 2),
        (1, 3),
        (2, 3),
        (2, 4),
        (3, 4),
    ]
    assert len(window) == 14 and (4, 0) not in window
    assert len(pair_indices(4, "complete", 1)) == 12
    with pytest.raises(ValueError, match="at least 2 frames"):
        pair_indices(1, "swin", 3)


def test_dust3r_model_description_is_parsed_without_eval() -> None:
    name, arguments = parse_model_constructor(
        "AsymmetricCroCo3DStereo(pos_embed='RoPE100', img_size=(512, 512), depth_mode=('exp', -inf, inf), enc_depth=24)"
    )
    assert name == "AsymmetricCroCo3DStereo"
    assert arguments["depth_mode"] == ("exp", -np.inf, np.inf) and arguments["img_size"] == (512, 512)
    with pytest.raises(ValueError, match="unsupported value"):
        parse_model_constructor("AsymmetricCroCo3DStereo(x=__import__('os'))")


def test_dust3r_intrinsics_map_back_to_frame_pixels() -> None:
    resized, crop = processing_geometry((256, 384), 512)
    assert resized == (341, 512) and crop == (2, 0, 336, 512)
    processed = intrinsics_matrix(256.0, 256.0, 256.0, 168.0)[None]
    frame = intrinsics_to_frame(processed, (256, 384), 512)[0]
    np.testing.assert_allclose(frame[0], [192.0, 0.0, 192.0])
    np.testing.assert_allclose(frame[1, 1:], [256.0 * 256 / 341, 170.0 * 256 / 341])


TINY_DUST3R = (
    "AsymmetricCroCo3DStereo(pos_embed='RoPE100', patch_embed_cls='ManyAR_PatchEmbed', img_size=(512, 512), "
    "head_type='linear', output_mode='pts3d', depth_mode=('exp', -inf, inf), conf_mode=('exp', 1, inf), "
    "enc_embed_dim=32, enc_depth=1, enc_num_heads=2, dec_embed_dim=32, dec_depth=1, dec_num_heads=2)"
)


@pytest.fixture(scope="module")
def tiny_dust3r_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised tiny DUSt3R saved in the released .pth layout {"args", "model"}."""
    pytest.importorskip(
        "mini_dust3r", reason="mini-dust3r is not installed (pip install --no-deps mini-dust3r ...)"
    )
    import torch
    from mini_dust3r.model import AsymmetricCroCo3DStereo

    torch.manual_seed(0)
    _, arguments = parse_model_constructor(TINY_DUST3R)
    arguments["patch_embed_cls"] = "PatchEmbedDust3R"
    model = AsymmetricCroCo3DStereo(**arguments)
    path = tmp_path_factory.mktemp("dust3r") / "tiny_dust3r.pth"
    torch.save({"args": argparse.Namespace(model=TINY_DUST3R), "model": model.state_dict()}, path)
    return path


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning")
def test_dust3r_runs_end_to_end_on_tiny_frames(tiny_dust3r_checkpoint: Path) -> None:
    """Integration, not accuracy: real loading, pairing, inference and global alignment on 3 frames."""
    estimator = create_estimator("dust3r", checkpoint=str(tiny_dust3r_checkpoint), niter=5, device="cpu")
    estimator.check_available()
    frames = np.random.default_rng(0).integers(0, 255, size=(3, 64, 96, 3), dtype=np.uint8)
    known = intrinsics_matrix(80.0, 80.0, 48.0, 32.0)
    with_known = estimator.estimate(frames, intrinsics=known)
    assert with_known.registered.all() and np.all(np.isfinite(with_known.c2w))
    np.testing.assert_allclose(with_known.intrinsics[:, 0, 0], 80.0, rtol=1e-2)
    folder = tiny_dust3r_checkpoint.parent / "frames"
    write_frames(folder, frames)
    loaded = estimator._modules().image.load_images(str(folder), size=512, verbose=False)
    assert with_known.extra["processed_image_size"] == loaded[0]["true_shape"][0].tolist()
    free = estimator.estimate(frames)  # this random model's focal estimate diverges: flagged, not silent
    assert not free.ok and "non-finite" in free.failure_reason
